"""The "cpp" front-end backend: thin glue over the compiled extension `edgeser._frontend`.

Importing this module raises ImportError when the extension is not built, which makes
`edgeser.frontend` fall back to the Numba or NumPy backend. Signals arrive already validated
(float32, 1-D, C-contiguous, see `_input.as_signal`) and are read in place by C++, which
releases the GIL while it computes.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np

from .. import _frontend
from .config import FrontendConfig, check_kind

NAME = "cpp"


def options(cfg: FrontendConfig) -> _frontend.FrontendOptions:
    """The C++ mirror of `cfg`, field by field."""
    opts = _frontend.FrontendOptions()
    for field in dataclasses.fields(cfg):
        setattr(opts, field.name, getattr(cfg, field.name))
    return opts


@functools.lru_cache(maxsize=64)
def computer(cfg: FrontendConfig, kind: str) -> _frontend.FeatureComputer:
    """The (immutable, thread-safe) C++ feature computer for one config and kind, cached."""
    check_kind(kind)
    comp = _frontend.FeatureComputer(options(cfg), kind)
    derived = {
        "frame_length": cfg.frame_length,
        "frame_shift": cfg.frame_shift,
        "fft_size": cfg.fft_size,
        "dim": cfg.feature_dim(kind),
    }
    for name, expected in derived.items():
        got = getattr(comp, name)
        if got != expected:
            raise RuntimeError(
                f"edgeser._frontend computes {name}={got} for {cfg!r}, but the "
                f"config says {expected}; rebuild the extension"
            )
    return comp


def compute(x: np.ndarray, cfg: FrontendConfig, kind: str) -> np.ndarray:
    return computer(cfg, kind).compute(x)


def compute_batch(
    signals: Sequence[np.ndarray], cfg: FrontendConfig, kind: str, num_threads: int = 1
) -> list:
    return computer(cfg, kind).compute_batch(list(signals), num_threads)


def make_stream(cfg: FrontendConfig, kind: str) -> _frontend.FrameStream:
    """A C++ FrameStream: `push(float32 chunk) -> [n, dim]`, `flush() -> [n, dim]`."""
    cfg.require_streamable()
    return _frontend.FrameStream(computer(cfg, kind))
