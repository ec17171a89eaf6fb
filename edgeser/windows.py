"""Cutting a feature sequence into the fixed-size windows a model reads.

Training and the runtime both call `feature_windows`, so the model sees at predict time exactly
the windows it was trained and evaluated on.
"""

from __future__ import annotations

import math

import numpy as np


def standardise(feats: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """(feats - mean) / std in float32: a bundle's training normalisation (float32 statistics)."""
    return ((feats - mean) / std).astype(np.float32, copy=False)


def window_starts(num_frames: int, window: int, hop: int) -> list[int]:
    """Start frames: every `hop` frames, plus one aligned to the end so no frame is dropped.

    A sequence shorter than `window` gives one window at 0 (padded by `feature_windows`).
    """
    if window < 1 or hop < 1:
        raise ValueError("window and hop must be positive")
    if num_frames <= window:
        return [0] if num_frames > 0 else []
    starts = list(range(0, num_frames - window + 1, hop))
    if starts[-1] + window < num_frames:
        starts.append(num_frames - window)
    return starts


WINDOW_NORMS = ("none", "mean")


def floor_depths(floor_db: float, log_type: str, power: float, std: np.ndarray) -> np.ndarray:
    """`floor_db` (dB of power) in the units of each normalised log-mel dimension: the front
    end's log (`log_type`, of power^(`power`/2)) divided by the normaliser's `std`."""
    per_db = (1.0 if log_type == "db" else math.log(10.0) / 10.0) * power / 2.0
    return (floor_db * per_db / np.asarray(std, dtype=np.float64)).astype(np.float32)


def feature_windows(
    feats: np.ndarray,
    window: int,
    hop: int,
    norm: str = "none",
    floor_depth: np.ndarray | None = None,
    starts: list[int] | None = None,
) -> np.ndarray:
    """[frames, dim] -> [n_windows, window, dim] float32; short input is zero-padded at the end.

    The windows start every `hop` frames (`window_starts`), or at the given `starts` (then
    `hop` is unused; a window past the end is zero-padded the same way).

    Call it on normalised features so that zero padding means "the training mean".
    `floor_depth` (per dimension, see `floor_depths`) first raises every value of a window to
    at least its dimension's maximum in that window minus the depth: a per-window, per-band
    dynamic range. Silence (digital zeros, a muted microphone) then sits the same distance
    below the speech around it at any input level, where an absolute log floor would move it
    relative to the speech with every dB of gain.
    `norm="mean"` subtracts from each window the per-dimension mean of its own (real) frames:
    for log-mel features a gain or a fixed channel colouring adds a constant per band, so the
    window the model sees does not change with the input level or microphone. A window only
    depends on its own frames, so a stream and an offline call give the same windows.
    """
    if norm not in WINDOW_NORMS:
        raise ValueError(f"unknown window norm {norm!r}; choose from {WINDOW_NORMS}")
    feats = np.asarray(feats, dtype=np.float32)
    depth = None if floor_depth is None else np.asarray(floor_depth, dtype=np.float32)
    if depth is not None and depth.shape != (feats.shape[1],):
        raise ValueError(f"floor_depth needs one value per dimension ({feats.shape[1]})")
    if starts is None:
        starts = window_starts(feats.shape[0], window, hop)
    out = np.zeros((len(starts), window, feats.shape[1]), dtype=np.float32)
    for i, s in enumerate(starts):
        seg = feats[s : s + window]
        if depth is not None:
            seg = np.maximum(seg, seg.max(axis=0) - depth)
        if norm == "mean":
            seg = seg - seg.mean(axis=0, dtype=np.float64).astype(np.float32)
        out[i, : seg.shape[0]] = seg
    return out
