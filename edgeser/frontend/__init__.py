"""Audio front end: samples -> spectrogram / log-mel / MFCC features, batch and streaming.

A combined kind (`COMBINED_KINDS`, e.g. ``"spectrogram+log_mel"`` for the TF-CNN) is its parts
side by side, the spectrogram log-compressed like the mel bands; it streams like the others.

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
from .config import COMBINED_KINDS, KINDS, PRESETS, FrontendConfig, kind_parts

__all__ = [
    "FrontendConfig",
    "PRESETS",
    "KINDS",
    "COMBINED_KINDS",
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
    parts = _parts(cfg, kind)
    impl, sig = _resolve(backend), as_signal(x)
    return _join(cfg, parts, [impl.compute(sig, cfg, part) for part in parts])


def _parts(cfg: FrontendConfig, kind: str) -> tuple[str, ...]:
    """The base kinds of `kind`, checked against `cfg` (a combined kind needs no deltas/CMVN)."""
    parts = kind_parts(kind)
    cfg.feature_dim(kind)
    return parts


def _join(cfg: FrontendConfig, parts: Sequence[str], arrays: Sequence[np.ndarray]) -> np.ndarray:
    """One kind's frames as they are; a combined kind's parts side by side, the spectrogram
    log-compressed (float32, the config's floor and log type)."""
    if len(parts) == 1:
        return arrays[0]
    out = []
    for part, f in zip(parts, arrays):
        if part == "spectrogram":
            f = np.maximum(f, np.float32(cfg.log_floor))
            f = 10.0 * np.log10(f) if cfg.log_type == "db" else np.log(f)
        out.append(np.asarray(f, dtype=np.float32))
    return np.concatenate(out, axis=1)


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
    parts = _parts(cfg, kind)
    if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
        raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
    sigs: Sequence[np.ndarray] = [as_signal(x) for x in signals]
    impl = _resolve(backend)
    per_part = [impl.compute_batch(sigs, cfg, part, num_threads) for part in parts]
    return [_join(cfg, parts, frames) for frames in zip(*per_part)]


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
        self._parts = _parts(self.cfg, kind)
        self.kind = kind
        impl = _resolve(backend)
        self.backend = impl.NAME
        # a combined kind has no deltas, so its parts' streams emit the same frames per push
        self._impls = [impl.make_stream(self.cfg, part) for part in self._parts]

    @property
    def dim(self) -> int:
        return self.cfg.feature_dim(self.kind)

    def push(self, chunk) -> np.ndarray:
        sig = as_signal(chunk, allow_empty=True)
        return _join(self.cfg, self._parts, [s.push(sig) for s in self._impls])

    def flush(self) -> np.ndarray:
        return _join(self.cfg, self._parts, [s.flush() for s in self._impls])
