"""Helpers of the runtime tests: deterministic speech-like audio, encoding, child processes.

Shared by the tests and by the tiny-model builder (which imports only `speechlike`).
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
LABELS = ("anger", "happiness", "neutral", "sadness")  # of the tiny test bundles
RATE = 16000  # of the tiny test bundles


def speechlike(seconds: float, seed: int = 0, rate: int = 16000, level: float = 0.1) -> np.ndarray:
    """Harmonic 'voice' with a wandering pitch and syllable-rate loudness (dipping about 20 dB
    between syllables, as real speech does), plus faint noise.

    `level` scales the voice (0.1 gives frames around -25 dBFS, like read speech).
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(round(seconds * rate))) / rate
    f0 = 120 + 60 * rng.random() + 25 * np.sin(2 * np.pi * (0.5 + rng.random()) * t)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = sum((0.6 / k) * np.sin(k * phase + rng.random()) for k in range(1, 12))
    envelope = 0.1 + 0.9 * np.sin(2 * np.pi * (3 + 2 * rng.random()) * t) ** 2
    x = level * envelope * voice + 0.02 * level * rng.standard_normal(len(t))
    return x.astype(np.float32)


def noise(seconds: float, dbfs: float, seed: int = 0, rate: int = 16000) -> np.ndarray:
    """White noise with an RMS level of `dbfs`."""
    rng = np.random.default_rng(seed)
    return (10 ** (dbfs / 20) * rng.standard_normal(int(round(seconds * rate)))).astype(np.float32)


def encode(x: np.ndarray, rate: int = RATE, fmt: str = "WAV", subtype: str | None = None) -> bytes:
    """Audio file bytes (WAV, FLAC, OGG) of samples `x` ([n] or [n, channels])."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, x, rate, format=fmt, subtype=subtype)
    return buf.getvalue()


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for child processes that import edgeser from this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.update(extra)
    return env
