"""Fixtures of the training tests: a tiny synthetic CSV-manifest corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

# `train` (project root, not in the wheel) is importable through pytest's `pythonpath` setting.
from train_support import SPEAKERS, TONES, tone, write_wav


@pytest.fixture(scope="session")
def synthetic_csv(tmp_path_factory) -> Path:
    """manifest.csv with 3 speakers x 2 labels x 3 clips (one at 8 kHz) and one broken file."""
    root = tmp_path_factory.mktemp("synthetic_corpus")
    rows = ["path,label,speaker"]
    seed = 0
    for spk in SPEAKERS:
        for label, freq in TONES.items():
            for n in range(3):
                sr = 8000 if (spk, label, n) == ("s1", "low", 0) else 16000
                rel = f"{spk}/{label}_{n}.wav"
                write_wav(root / rel, tone(freq, 1.0 + 0.2 * n, sr, seed), sr)
                rows.append(f"{rel},{label},{spk}")
                seed += 1
    (root / "broken.wav").write_bytes(b"this is not audio")
    rows.append("broken.wav,low,s1")
    (root / "manifest.csv").write_text("\n".join(rows) + "\n")
    return root / "manifest.csv"
