"""Run reports: JSON (protocol, corpus, config, seed, git commit, metrics) and PNG plots
(confusion matrix, accuracy and loss per epoch)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

REPORT_FILE = "report.json"  # what `evaluate` writes in its output folder
EVALUATION_DIR = "evaluation"  # where `python -m train run` puts its evaluation


def git_commit(root: Path | None = None) -> str:
    root = root or Path(__file__).resolve().parent.parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(
    cm: Sequence[Sequence[int]], labels: Sequence[str], title: str, path: Path
) -> Path:
    plt = _plt()
    cm = np.asarray(cm, dtype=np.float64)
    rows = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(labels), 0.8 + 0.8 * len(labels)))
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(
                j,
                i,
                f"{int(cm[i, j])}",
                ha="center",
                va="center",
                color="white" if rows[i, j] > 0.5 else "black",
                fontsize=8,
            )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_curves(
    histories: Mapping[str, Mapping[str, Sequence[float]]], metric: str, path: Path
) -> Path:
    """One line per fold of `metric` (training) and, dashed, its validation counterpart."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4))
    val_key = {"accuracy": "val_WA", "loss": "val_loss"}.get(metric, f"val_{metric}")
    for i, (fold, h) in enumerate(histories.items()):
        color = f"C{i % 10}"
        if metric in h:
            ax.plot(range(1, len(h[metric]) + 1), h[metric], color=color, lw=1, label=fold)
        if val_key in h:
            ax.plot(range(1, len(h[val_key]) + 1), h[val_key], color=color, lw=1, ls="--")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(
        f"{metric} per epoch (solid: train windows, dashed: validation utterances)", fontsize=9
    )
    if len(histories) <= 12:
        ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_json(path: str | Path, data: Mapping[str, Any]) -> Path:
    """`data` as indented JSON at `path` (folders created; numpy values and paths allowed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False, default=_jsonable) + "\n")
    return path


def _jsonable(v):
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, Path):
        return str(v)
    raise TypeError(f"not JSON serialisable: {type(v).__name__}")
