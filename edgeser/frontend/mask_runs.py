"""Runs of set values in a frame mask (voiced, active), shared by the functional sets (the
NumPy side of csrc/mask_runs.h)."""

from __future__ import annotations

import numpy as np


def mask_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True in a boolean vector, in order."""
    if not mask.any():
        return []
    m = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(m))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))
