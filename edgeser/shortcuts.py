"""`edgeser.predict` and `edgeser.load_model`: one call, with a Recognizer cached per model."""

from __future__ import annotations

import functools
import os
from typing import Any

from . import registry
from .prediction import Prediction
from .recognizer import Recognizer


@functools.lru_cache(maxsize=8)
def _cached_recognizer(model: str, num_threads: int, models_dir: str) -> Recognizer:
    return Recognizer(model, num_threads=num_threads, models_dir=models_dir)


def shared_recognizer(model: Any = "default", num_threads: int = 1) -> Recognizer:
    """A cached Recognizer per (model, threads, models folder), loaded on first use.

    Recognizers are thread-safe, so one per model serves every caller; a `ModelBundle` (not
    hashable by content) gets a fresh Recognizer each time.
    """
    key = os.fspath(model) if isinstance(model, os.PathLike) else model
    if not isinstance(key, str):
        return Recognizer(model, num_threads=num_threads)
    return _cached_recognizer(key, num_threads, str(registry.models_dir()))


def predict(
    source: Any, sample_rate: int | None = None, *, model: Any = "default", num_threads: int = 1
) -> Prediction:
    """One-call recognition with a cached Recognizer: `edgeser.predict("clip.wav")`."""
    return shared_recognizer(model, num_threads).predict(source, sample_rate)


def load_model(path: Any, **kwargs: Any) -> Recognizer:
    """A Recognizer for a bundle file exported by `train` (or any model name)."""
    return Recognizer(path, **kwargs)
