"""Audio front end: samples -> spectrogram / log-mel / MFCC features, batch and streaming.

One entry point, three interchangeable backends with the same numbers:
``cpp`` (the compiled extension `edgeser._frontend`), ``numba`` (fallback when the extension
cannot be imported) and ``numpy`` (the reference). `backend()` names the active one; the
environment variable ``EDGESER_BACKEND`` forces one. Every call returns float32
``[frames, dims]``.

    from edgeser import frontend
    cfg = frontend.FrontendConfig(n_mels=40, n_mfcc=13, deltas=2)
    frontend.mfcc(x, cfg)                      # [frames, 39]
    s = frontend.FrameStream(cfg, kind="mfcc"); s.push(chunk); s.flush()
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Iterable, Sequence

import numpy as np

from ._input import as_signal
from .config import KINDS, PRESETS, FrontendConfig, check_kind

__all__ = [
    "FrontendConfig",
    "PRESETS",
    "KINDS",
    "FrameStream",
    "backend",
    "available_backends",
    "features",
    "spectrogram",
    "log_mel",
    "mfcc",
    "features_batch",
    "mfcc_batch",
    "log_mel_batch",
]

BACKENDS = ("cpp", "numba", "numpy")
_MODULES = {"cpp": "._cpp_backend", "numba": "._numba_backend", "numpy": ".reference"}


@functools.cache
def _import_backend(name: str):
    return importlib.import_module(_MODULES[name], __name__)


def _resolve(name: str | None):
    """The backend module to use: `name`, else $EDGESER_BACKEND, else cpp -> numba -> numpy."""
    requested = name or os.environ.get("EDGESER_BACKEND", "").strip().lower() or None
    if requested is not None:
        if requested not in BACKENDS:
            raise ValueError(f"unknown front-end backend {requested!r}; choose from {BACKENDS}")
        try:
            return _import_backend(requested)
        except ImportError as exc:
            raise ImportError(f"front-end backend {requested!r} is not available: {exc}") from exc
    for candidate in BACKENDS:
        try:
            return _import_backend(candidate)
        except ImportError:
            continue
    raise ImportError("no front-end backend available")  # numpy always imports


def backend(name: str | None = None) -> str:
    """Name of the backend that calls use ("cpp", "numba" or "numpy")."""
    return _resolve(name).NAME


def available_backends() -> list[str]:
    out = []
    for candidate in BACKENDS:
        try:
            _import_backend(candidate)
        except ImportError:
            continue
        out.append(candidate)
    return out


def _cfg(cfg: FrontendConfig | None) -> FrontendConfig:
    if cfg is None:
        return FrontendConfig()
    if not isinstance(cfg, FrontendConfig):
        raise TypeError(f"cfg must be a FrontendConfig, got {type(cfg).__name__}")
    return cfg


def features(
    x, cfg: FrontendConfig | None = None, kind: str = "mfcc", *, backend: str | None = None
) -> np.ndarray:
    """Features of one signal: float32 [frames, cfg.feature_dim(kind)]."""
    cfg = _cfg(cfg)
    check_kind(kind)
    return _resolve(backend).compute(as_signal(x), cfg, kind)


def spectrogram(x, cfg: FrontendConfig | None = None, **kw) -> np.ndarray:
    return features(x, cfg, "spectrogram", **kw)


def log_mel(x, cfg: FrontendConfig | None = None, **kw) -> np.ndarray:
    return features(x, cfg, "log_mel", **kw)


def mfcc(x, cfg: FrontendConfig | None = None, **kw) -> np.ndarray:
    return features(x, cfg, "mfcc", **kw)


def features_batch(
    signals: Iterable,
    cfg: FrontendConfig | None = None,
    kind: str = "mfcc",
    *,
    num_threads: int = 1,
    backend: str | None = None,
) -> list[np.ndarray]:
    """Features of many signals; the cpp backend spreads them over `num_threads` threads."""
    cfg = _cfg(cfg)
    check_kind(kind)
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
    sigs: Sequence[np.ndarray] = [as_signal(x) for x in signals]
    return _resolve(backend).compute_batch(sigs, cfg, kind, num_threads)


def mfcc_batch(signals: Iterable, cfg: FrontendConfig | None = None, **kw) -> list[np.ndarray]:
    return features_batch(signals, cfg, "mfcc", **kw)


def log_mel_batch(signals: Iterable, cfg: FrontendConfig | None = None, **kw) -> list[np.ndarray]:
    return features_batch(signals, cfg, "log_mel", **kw)


class FrameStream:
    """Streaming features: `push(chunk)` returns the frames completed so far, `flush()` the rest.

    The concatenation of every output equals the offline result on the concatenated input,
    whatever the chunk sizes. With deltas, frames are emitted `deltas * delta_window` frames late
    (they need future context); `flush()` ends the utterance and emits them.
    """

    def __init__(
        self, cfg: FrontendConfig | None = None, kind: str = "mfcc", *, backend: str | None = None
    ):
        self.cfg = _cfg(cfg)
        self.kind = check_kind(kind)
        impl = _resolve(backend)
        self.backend = impl.NAME
        self._impl = impl.make_stream(self.cfg, kind)

    @property
    def dim(self) -> int:
        return self.cfg.feature_dim(self.kind)

    def push(self, chunk) -> np.ndarray:
        return self._impl.push(as_signal(chunk, allow_empty=True))

    def flush(self) -> np.ndarray:
        return self._impl.flush()
