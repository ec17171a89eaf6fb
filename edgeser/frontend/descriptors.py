"""Voice descriptors per 10 ms frame: F0 and voicing, HNR, jitter, shimmer, loudness, spectral
balance and shape, formants (22 columns, `DESCRIPTOR_NAMES`). Definitions:
docs/voice-descriptors.md.

Three backends with the same numbers: ``cpp`` (the compiled extension), ``numba`` (the fallback
when the extension cannot be imported: `_numba_descriptors`, with numba's per-frame kernels and
NumPy's FFT and eigenvalues) and ``numpy`` (the reference, slow: tests and machines with
neither). Without a name, calls take cpp, else numba, else numpy; ``EDGESER_BACKEND`` (shared
with the front end) or ``backend=`` forces one, and a forced backend that cannot be imported
raises ImportError, as in the front end (``numba`` without numba installed is an error, not the
reference).

    from edgeser.frontend import descriptors
    d = descriptors.compute(x)                      # float32 [frames, 22]
    s = descriptors.DescriptorStream(); s.push(chunk); s.flush()
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
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

BACKENDS = ("cpp", "numba", "numpy")
_MODULES = {"numba": "._numba_descriptors", "numpy": ".descriptors_reference"}


@functools.cache
def _cpp():
    from .. import _frontend

    return _frontend


def _import_backend(name: str):
    """The extension (cpp) or the backend module (numba, numpy); ImportError when missing."""
    if name == "cpp":
        return _cpp()
    return importlib.import_module(_MODULES[name], __package__)


def _resolve(name: str | None) -> str:
    """The backend to use: `name`, else $EDGESER_BACKEND, else cpp -> numba -> numpy."""
    requested = name or os.environ.get("EDGESER_BACKEND", "").strip().lower() or None
    if requested is not None:
        if requested not in BACKENDS:
            raise ValueError(f"unknown descriptor backend {requested!r}; choose from {BACKENDS}")
        try:
            _import_backend(requested)
        except ImportError as exc:
            raise ImportError(f"descriptor backend {requested!r} is not available: {exc}") from exc
        return requested
    for candidate in BACKENDS:
        try:
            _import_backend(candidate)
        except ImportError:
            continue
        return candidate
    raise ImportError("no descriptor backend available")  # numpy always imports


def backend(name: str | None = None) -> str:
    """The backend that calls use ("cpp", "numba" or "numpy"): `name` if given (ImportError if
    it cannot be imported), else $EDGESER_BACKEND, else the first of cpp, numba, numpy that
    imports."""
    return _resolve(name)


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
    name = _resolve(backend)
    if name == "cpp":
        return _computer(cfg).compute(sig)
    return _import_backend(name).compute(sig, cfg)


def compute_batch(
    signals: Iterable,
    cfg: DescriptorConfig | None = None,
    *,
    num_threads: int = 1,
    backend: str | None = None,
) -> list[np.ndarray]:
    """`compute` of many signals; the cpp and numba backends spread them over `num_threads`
    threads."""
    cfg = _cfg(cfg)
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
    sigs = [as_signal(x) for x in signals]
    name = _resolve(backend)
    if name == "cpp":
        return _computer(cfg).compute_batch(sigs, num_threads)
    return _import_backend(name).compute_batch(sigs, cfg, num_threads)


class DescriptorStream:
    """Streaming descriptors: `push(chunk)` returns the rows completed so far (two frames late:
    the F0 smoothing looks ahead), `flush()` the rest; together they equal `compute` of the
    whole signal, whatever the chunk sizes."""

    def __init__(self, cfg: DescriptorConfig | None = None, *, backend: str | None = None):
        self.cfg = _cfg(cfg)
        self.backend = _resolve(backend)
        if self.backend == "cpp":
            self._impl = _cpp().DescriptorStream(_computer(self.cfg))
        else:
            self._impl = _import_backend(self.backend).make_stream(self.cfg)

    @property
    def dim(self) -> int:
        return len(DESCRIPTOR_NAMES)

    def push(self, chunk) -> np.ndarray:
        return self._impl.push(as_signal(chunk, allow_empty=True))

    def flush(self) -> np.ndarray:
        return self._impl.flush()
