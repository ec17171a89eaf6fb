"""Late fusion of evaluated models: a weighted mean of their utterance probabilities.

Each input is an `evaluate` output folder (its `predictions.npz` holds every fold's test
probabilities keyed by utterance). The models must cover the same utterances with the same
labels; weights are given, never fitted on the test predictions, so the fused figure stays
under the protocol of its inputs.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import scores, scores_by_group
from .recipe import PREDICTIONS_FILE
from .report import REPORT_FILE


def load_predictions(run: Path, quantization: str = "float") -> dict[str, Any]:
    path = Path(run) / PREDICTIONS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{run}: no {PREDICTIONS_FILE}; evaluate the model first")
    z = np.load(path)
    key = "probs" if quantization == "float" else "probs_int8"
    if key not in z.files:
        raise ValueError(f"{path}: no {quantization} probabilities (was int8 evaluated?)")
    report = json.loads((Path(run) / REPORT_FILE).read_text())
    # older files lack "corpora": a key starts with its corpus ("emodb/03a01Fa.wav")
    corpora = (
        z["corpora"] if "corpora" in z.files else np.array([k.split("/")[0] for k in z["keys"]])
    )
    return {
        "keys": z["keys"],
        "corpora": corpora,
        "y": z["y"],
        "labels": tuple(z["labels"].tolist()),
        "probs": z[key].astype(np.float64),
        "protocol": report["protocol"],
        "corpus": report["corpus"],
        "model": report["model"],
    }


def _base(protocol: str) -> str:
    return protocol.split("+")[0]


def fused_protocol(protocols: Sequence[str]) -> str:
    """The protocol of a fusion: the members' folds, plus every test-side statistic any member
    used (e.g. "loco" and "loco+running_speaker_norm" fuse under the latter)."""
    extras = sorted({x for p in protocols for x in p.split("+")[1:]})
    return "+".join([_base(protocols[0]), *extras])


def fuse(
    runs: Sequence[Path], weights: Sequence[float] | None = None, quantization: str = "float"
) -> dict[str, Any]:
    """Scores of the weighted mean of the runs' probabilities (default: equal weights)."""
    if len(runs) < 2:
        raise ValueError("fusion needs at least two evaluated runs")
    weights = list(weights) if weights else [1.0] * len(runs)
    if len(weights) != len(runs) or any(w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(
            f"need {len(runs)} non-negative weights with a positive sum, got {weights}"
        )
    preds = [load_predictions(r, quantization) for r in runs]
    first = preds[0]
    order = np.argsort(first["keys"])
    y = first["y"][order]
    labels = first["labels"]
    corpora = first["corpora"][order]
    pooled = len(np.unique(corpora)) > 1  # also per corpus and their mean (e.g. LOCO)
    fused = np.zeros_like(first["probs"][order])
    members, members_per_corpus = {}, {}
    for run, p, w in zip(runs, preds, weights):
        if p["labels"] != first["labels"]:
            raise ValueError(f"{run}: labels {p['labels']} differ from {first['labels']}")
        if (_base(p["protocol"]), p["corpus"]) != (_base(first["protocol"]), first["corpus"]):
            raise ValueError(
                f"{run}: {p['corpus']}/{p['protocol']} differs from "
                f"{first['corpus']}/{first['protocol']}"
            )
        o = np.argsort(p["keys"])
        if not np.array_equal(p["keys"][o], first["keys"][order]):
            raise ValueError(f"{run}: tested on different utterances than {runs[0]}")
        fused += w * p["probs"][o]
        members[str(run)] = scores(y, p["probs"][o].argmax(1), labels)["UA"]
        if pooled:
            members_per_corpus[str(run)] = scores_by_group(
                y, p["probs"][o].argmax(1), corpora, labels
            )
    y_fused = (fused / sum(weights)).argmax(1)
    out = {
        "corpus": first["corpus"],
        "protocol": fused_protocol([p["protocol"] for p in preds]),
        "quantization": quantization,
        "runs": [str(r) for r in runs],
        "models": [p["model"] for p in preds],
        "weights": weights,
        "members": members,
        "fused": scores(y, y_fused, labels),
    }
    if pooled:
        out["members_per_corpus"] = members_per_corpus
        out["per_corpus"] = scores_by_group(y, y_fused, corpora, labels)
    return out
