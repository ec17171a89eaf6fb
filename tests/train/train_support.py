"""Helpers of the training tests (imported as `train_support`; this folder is not a package so
that `tests/train` does not shadow the `train` package): synthetic tones, wav writing, the
datasets folder and running the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from train.shared_data import datasets_dir

ROOT = Path(__file__).resolve().parents[2]
SPEAKERS = ("s1", "s2", "s3")
TONES = {"high": 1800.0, "low": 250.0}


def corpus_or_skip(name: str) -> Path:
    path = datasets_dir() / name
    if not (path / "manifest.csv").is_file():
        pytest.skip(f"real corpus {name!r} not found at {path} (set EDGESER_DATASETS)")
    return path


def tone(freq: float, seconds: float, sr: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = 0.3 * np.sin(2 * np.pi * freq * (1 + 0.05 * rng.standard_normal()) * t)
    x += 0.1 * np.sin(2 * np.pi * 2 * freq * t)
    return (x + 0.01 * rng.standard_normal(len(t))).astype(np.float32)


def write_wav(path: Path, x: np.ndarray, sr: int) -> Path:
    import soundfile as sf

    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), x, sr, subtype="PCM_16")
    return path


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    proc = subprocess.run(
        [sys.executable, "-m", "train", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"python -m train {' '.join(args)} failed ({proc.returncode}):\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    return proc
