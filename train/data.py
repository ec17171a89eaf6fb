"""From a feature table to model inputs: normalisation fitted on training data, fixed-size
windows (`edgeser.windows.feature_windows`, the runtime's own function), and the utterance-level
average of window probabilities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgeser.windows import feature_windows, floor_depths

from .features import FeatureTable


@dataclass(frozen=True)
class Normaliser:
    """Per-dimension mean/std over all frames (or vectors) of the training utterances, and
    optionally which dimensions to keep (`keep`, ascending indices; None = all)."""

    mean: np.ndarray
    std: np.ndarray
    keep: np.ndarray | None = None

    @classmethod
    def fit(
        cls, feats: list[np.ndarray], labels: np.ndarray | None = None, select: int = 0
    ) -> Normaliser:
        """Statistics of `feats`; with `select` > 0, first keep the `select` functionals that
        best separate `labels` (largest one-way ANOVA F), fitted on these utterances only."""
        allf = np.concatenate([np.atleast_2d(f) for f in feats]).astype(np.float64)
        keep = None
        if select:
            if labels is None or len(labels) != len(allf):
                raise ValueError("feature selection needs one label per functional vector")
            if select > allf.shape[1]:
                raise ValueError(f"cannot select {select} of {allf.shape[1]} feature dimensions")
            keep = select_by_f_score(allf, np.asarray(labels), select)
            allf = allf[:, keep]
        std = allf.std(axis=0)
        std = np.where(std > 1e-6, std, 1.0)
        return cls(allf.mean(axis=0).astype(np.float32), std.astype(np.float32), keep)

    def __call__(self, f: np.ndarray) -> np.ndarray:
        if self.keep is not None:
            f = f[..., self.keep]
        return ((f - self.mean) / self.std).astype(np.float32)


def f_scores(x: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """One-way ANOVA F statistic of every column of `x` [n, dims] across the label groups
    (0 for a column that is constant; non-finite values count as 0)."""
    x = np.nan_to_num(np.asarray(x, np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    classes = np.unique(labels)
    if len(classes) < 2 or len(x) <= len(classes):
        raise ValueError("F scores need at least two classes and more vectors than classes")
    grand = x.mean(axis=0)
    between = np.zeros(x.shape[1])
    within = np.zeros(x.shape[1])
    for c in classes:
        xc = x[labels == c]
        mc = xc.mean(axis=0)
        between += len(xc) * (mc - grand) ** 2
        within += ((xc - mc) ** 2).sum(axis=0)
    between /= len(classes) - 1
    within /= len(x) - len(classes)
    scale = np.maximum(np.abs(grand), 1.0) ** 2 * 1e-24  # round-off level of a constant column
    return np.where(between > scale, between / np.maximum(within, scale), 0.0)


def select_by_f_score(x: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Ascending indices of the `k` columns with the largest F score (ties: lower index)."""
    order = np.argsort(-f_scores(x, labels), kind="stable")
    return np.sort(order[:k])


@dataclass
class Examples:
    """Model inputs `x`, window labels `y`, and `owner[i]` = utterance position of example i."""

    x: np.ndarray
    y: np.ndarray
    owner: np.ndarray
    utt_y: np.ndarray
    w: np.ndarray | None = None  # per-example training weight (None = all equal)

    @property
    def n_utterances(self) -> int:
        return len(self.utt_y)


def make_examples(
    table: FeatureTable,
    idx: np.ndarray,
    norm: Normaliser,
    window: int = 0,
    hop: int = 0,
    window_norm: str = "none",
    floor_db: float = 0.0,
) -> Examples:
    """Windows of normalised frames (sequence features) or normalised vectors (functionals);
    `floor_db`: the window floor of log-mel frames (`edgeser.windows.floor_depths`)."""
    depth = None
    if floor_db:
        fe = table.choice.frontend
        if fe is None:
            raise ValueError("a window floor needs front-end features")
        depth = floor_depths(floor_db, fe.log_type, fe.power, norm.std)
    xs, owner = [], []
    for pos, i in enumerate(idx):
        f = norm(table.feats[i])
        w = (
            feature_windows(f, window, hop, window_norm, depth)
            if table.choice.is_sequence
            else f[None, :]
        )
        xs.append(w)
        owner.append(np.full(len(w), pos, dtype=np.int64))
    owner_arr = np.concatenate(owner)
    utt_y = table.y[idx]
    return Examples(np.concatenate(xs), utt_y[owner_arr], owner_arr, utt_y)


def balance_weights(y: np.ndarray, groups: np.ndarray | None, n_classes: int) -> np.ndarray:
    """Per-example weights that give every (group, class) cell present the same total weight
    (groups None: every class), scaled to mean 1. With groups = corpora this is the
    per-corpus and per-class balancing of multi-corpus training."""
    cells = y if groups is None else np.unique(groups, return_inverse=True)[1] * n_classes + y
    _, inverse, counts = np.unique(cells, return_inverse=True, return_counts=True)
    w = 1.0 / counts[inverse]
    return (w * (len(w) / w.sum())).astype(np.float32)


def utterance_probs(window_probs: np.ndarray, owner: np.ndarray, n_utts: int) -> np.ndarray:
    """Mean of the window probabilities of each utterance, [n_utts, classes]."""
    out = np.zeros((n_utts, window_probs.shape[1]), dtype=np.float64)
    np.add.at(out, owner, window_probs)
    counts = np.bincount(owner, minlength=n_utts)[:, None]
    return out / np.maximum(counts, 1)
