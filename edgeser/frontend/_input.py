"""Input checks shared by every backend, so bad audio fails the same way everywhere."""

from __future__ import annotations

import numpy as np


def as_signal(x, *, allow_empty: bool = False) -> np.ndarray:
    """Return `x` as a 1-D C-contiguous float32 array, or raise a clear TypeError/ValueError.

    Float32 C-contiguous input is returned as is (no copy); other real dtypes are converted
    once, without rescaling (int16 stays in the int16 range).
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(
            "expected a 1-D numeric array of samples, got "
            f"{type(x).__name__}; decode audio files with edgeser.audio.load first"
        )
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and similar
        raise TypeError(f"expected a 1-D numeric array of samples: {exc}") from None
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise TypeError(f"expected real numeric samples, got dtype {arr.dtype}")
    if arr.ndim != 1:
        if arr.ndim == 2 and min(arr.shape) <= 8:
            raise ValueError(
                f"expected mono 1-D samples, got shape {arr.shape}: mix the "
                "channels down first (e.g. x.mean(axis=1))"
            )
        raise ValueError(f"expected 1-D samples, got an array of shape {arr.shape}")
    if arr.size == 0 and not allow_empty:
        raise ValueError("empty signal: no samples to analyse")
    out = np.ascontiguousarray(arr, dtype=np.float32)
    if out.size and not np.isfinite(out).all():
        bad = int(np.count_nonzero(~np.isfinite(out)))
        raise ValueError(f"signal contains {bad} NaN or infinite sample(s)")
    return out
