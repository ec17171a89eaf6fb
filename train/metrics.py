"""Classification metrics used in SER papers: WA, UA (mean per-class recall), macro-F1."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts [true, predicted]."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return cm


def scores(y_true: np.ndarray, y_pred: np.ndarray, labels: Sequence[str]) -> dict[str, Any]:
    """WA (accuracy), UA (mean recall over classes present), macro-F1, per-class recall, CM."""
    n = len(labels)
    cm = confusion(y_true, y_pred, n)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    tp = np.diag(cm).astype(np.float64)
    present = support > 0
    recall = np.divide(tp, support, out=np.zeros(n), where=present)
    precision = np.divide(tp, predicted, out=np.zeros(n), where=predicted > 0)
    f1 = np.divide(
        2 * precision * recall, precision + recall, out=np.zeros(n), where=(precision + recall) > 0
    )
    total = int(cm.sum())
    return {
        "n": total,
        "WA": float(tp.sum() / total) if total else 0.0,
        "UA": float(recall[present].mean()) if present.any() else 0.0,
        "macro_F1": float(f1[present].mean()) if present.any() else 0.0,
        "per_class_recall": {lab: float(recall[i]) for i, lab in enumerate(labels) if present[i]},
        "confusion": cm.tolist(),
    }


def scores_by_group(
    y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray, labels: Sequence[str]
) -> dict[str, Any]:
    """n / WA / UA / macro-F1 of each group (e.g. test corpus) and the unweighted mean WA / UA
    over the groups."""
    out: dict[str, Any] = {}
    for g in np.unique(groups):
        m = groups == g
        s = scores(y_true[m], y_pred[m], labels)
        out[str(g)] = {k: s[k] for k in ("n", "WA", "UA", "macro_F1")}
    out["mean"] = {q: round(float(np.mean([v[q] for v in out.values()])), 4) for q in ("WA", "UA")}
    return out
