"""From a feature table to model inputs: normalisation fitted on training data, fixed-size
windows (`edgeser.windows.feature_windows`, the runtime's own function), and the utterance-level
average of window probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeser.windows import feature_windows

from .features import FeatureTable


@dataclass(frozen=True)
class Normaliser:
    """Per-dimension mean/std over all frames (or vectors) of the training utterances."""

    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, feats: list[np.ndarray]) -> "Normaliser":
        allf = np.concatenate([np.atleast_2d(f) for f in feats]).astype(np.float64)
        std = allf.std(axis=0)
        std = np.where(std > 1e-6, std, 1.0)
        return cls(allf.mean(axis=0).astype(np.float32), std.astype(np.float32))

    def __call__(self, f: np.ndarray) -> np.ndarray:
        return ((f - self.mean) / self.std).astype(np.float32)


@dataclass
class Examples:
    """Model inputs `x`, window labels `y`, and `owner[i]` = utterance position of example i."""

    x: np.ndarray
    y: np.ndarray
    owner: np.ndarray
    utt_y: np.ndarray

    @property
    def n_utterances(self) -> int:
        return len(self.utt_y)


def make_examples(table: FeatureTable, idx: np.ndarray, norm: Normaliser,
                  window: int = 0, hop: int = 0) -> Examples:
    """Windows of normalised frames (sequence features) or normalised vectors (functionals)."""
    xs, owner = [], []
    for pos, i in enumerate(idx):
        f = norm(table.feats[i])
        w = feature_windows(f, window, hop) if table.choice.is_sequence else f[None, :]
        xs.append(w)
        owner.append(np.full(len(w), pos, dtype=np.int64))
    owner_arr = np.concatenate(owner)
    utt_y = table.y[idx]
    return Examples(np.concatenate(xs), utt_y[owner_arr], owner_arr, utt_y)


def utterance_probs(window_probs: np.ndarray, owner: np.ndarray, n_utts: int) -> np.ndarray:
    """Mean of the window probabilities of each utterance, [n_utts, classes]."""
    out = np.zeros((n_utts, window_probs.shape[1]), dtype=np.float64)
    np.add.at(out, owner, window_probs)
    counts = np.bincount(owner, minlength=n_utts)[:, None]
    return out / np.maximum(counts, 1)
