"""Where the research data lives: the corpora and noise folders beside the project.

One lookup for training, benchmarks and tests: ``$EDGESER_DATASETS`` / ``$EDGESER_NOISE`` when
set, else ``<project>/../shared/datasets`` and ``<project>/../shared/noise``. Nothing from these
folders is ever copied into the project.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_VARS = {"datasets": "EDGESER_DATASETS", "noise": "EDGESER_NOISE"}


def shared_dir(kind: str) -> Path:
    """The `kind` ("datasets" | "noise") folder: its environment variable, else ../shared/."""
    if kind not in ENV_VARS:
        raise ValueError(f"unknown shared folder {kind!r}; choose from {tuple(ENV_VARS)}")
    env = os.environ.get(ENV_VARS[kind], "").strip()
    return Path(env) if env else PROJECT_ROOT.parent / "shared" / kind


def datasets_dir() -> Path:
    """The folder holding one folder per corpus."""
    return shared_dir("datasets")


def noise_dir() -> Path:
    """The noise recordings and room impulse responses used for augmentation."""
    return shared_dir("noise")
