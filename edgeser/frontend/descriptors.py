"""Voice descriptors per 10 ms frame: F0 and voicing, HNR, jitter, shimmer, loudness, spectral
balance and shape, formants (22 columns, `DESCRIPTOR_NAMES`). Definitions:
docs/voice-descriptors.md.

Two backends with the same numbers: ``cpp`` (the compiled extension) and ``numpy`` (the
reference, slow: tests and machines without the extension). ``EDGESER_BACKEND=numpy`` forces the
reference; ``numba`` (a front-end backend) computes descriptors with the reference too.

    from edgeser.frontend import descriptors
    d = descriptors.compute(x)                      # float32 [frames, 22]
    s = descriptors.DescriptorStream(); s.push(chunk); s.flush()
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterable

import numpy as np

from ._input import as_signal
from .descriptor_config import COLUMN, DESCRIPTOR_NAMES, DescriptorConfig

__all__ = [
    "COLUMN",
    "DESCRIPTOR_NAMES",
    "DescriptorConfig",
    "DescriptorStream",
    "backend",
    "compute",
    "compute_batch",
]

BACKENDS = ("cpp", "numpy")


@functools.cache
def _cpp():
    from .. import _frontend

    return _frontend


def _use_cpp(name: str | None) -> bool:
    requested = name or os.environ.get("EDGESER_BACKEND", "").strip().lower() or None
    if requested in (None, "cpp"):
        try:
            _cpp()
            return True
        except ImportError as exc:
            if requested == "cpp":
                raise ImportError(f"descriptor backend 'cpp' is not available: {exc}") from exc
            return False
    if requested in ("numpy", "numba"):
        return False
    raise ValueError(f"unknown descriptor backend {requested!r}; choose from {BACKENDS}")


def backend(name: str | None = None) -> str:
    """The backend that calls use ("cpp" or "numpy")."""
    return "cpp" if _use_cpp(name) else "numpy"


def cpp_options(cfg: DescriptorConfig):
    """The C++ mirror of `cfg` (edgeser._frontend.DescriptorOptions), field by field."""
    opts = _cpp().DescriptorOptions()
    for field in dataclasses.fields(cfg):
        setattr(opts, field.name, getattr(cfg, field.name))
    return opts


@functools.lru_cache(maxsize=16)
def _computer(cfg: DescriptorConfig):
    comp = _cpp().DescriptorComputer(cpp_options(cfg))
    if comp.analysis_length != cfg.analysis_length or comp.frame_shift != cfg.frame_shift:
        raise RuntimeError(
            f"edgeser._frontend frames descriptors differently from {cfg!r}; rebuild the extension"
        )
    return comp


def _cfg(cfg: DescriptorConfig | None) -> DescriptorConfig:
    if cfg is None:
        return DescriptorConfig()
    if not isinstance(cfg, DescriptorConfig):
        raise TypeError(f"cfg must be a DescriptorConfig, got {type(cfg).__name__}")
    return cfg


def compute(x, cfg: DescriptorConfig | None = None, *, backend: str | None = None) -> np.ndarray:
    """Descriptors of one signal at `cfg.sample_rate`: float32 [frames, 22] (no frames for a
    signal shorter than one 50 ms analysis frame)."""
    cfg = _cfg(cfg)
    sig = as_signal(x)
    if _use_cpp(backend):
        return _computer(cfg).compute(sig)
    from . import descriptors_reference

    return descriptors_reference.compute(sig, cfg)


def compute_batch(
    signals: Iterable,
    cfg: DescriptorConfig | None = None,
    *,
    num_threads: int = 1,
    backend: str | None = None,
) -> list[np.ndarray]:
    """`compute` of many signals; the cpp backend spreads them over `num_threads` threads."""
    cfg = _cfg(cfg)
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
    sigs = [as_signal(x) for x in signals]
    if _use_cpp(backend):
        return _computer(cfg).compute_batch(sigs, num_threads)
    from . import descriptors_reference

    return descriptors_reference.compute_batch(sigs, cfg)


class DescriptorStream:
    """Streaming descriptors: `push(chunk)` returns the rows completed so far (two frames late:
    the F0 smoothing looks ahead), `flush()` the rest; together they equal `compute` of the
    whole signal, whatever the chunk sizes."""

    def __init__(self, cfg: DescriptorConfig | None = None, *, backend: str | None = None):
        self.cfg = _cfg(cfg)
        if _use_cpp(backend):
            self.backend = "cpp"
            self._impl = _cpp().DescriptorStream(_computer(self.cfg))
        else:
            from . import descriptors_reference

            self.backend = "numpy"
            self._impl = descriptors_reference.make_stream(self.cfg)

    @property
    def dim(self) -> int:
        return len(DESCRIPTOR_NAMES)

    def push(self, chunk) -> np.ndarray:
        return self._impl.push(as_signal(chunk, allow_empty=True))

    def flush(self) -> np.ndarray:
        return self._impl.flush()
