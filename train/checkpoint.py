"""Per-fold checkpoints of `evaluate`, so a long run that is stopped continues where it was.

A leave-one-corpus-out run of the default recipe takes one to two hours on two cores; when it
is killed after four folds, `--resume` keeps those four instead of training them again. Each
finished fold writes `<out>/checkpoints/<NN-fold>.npz`: its test utterances, float (and int8)
utterance probabilities, report row and training history, with the configuration that made
them. A checkpoint is only reused when that configuration and the fold's test utterances are
the ones of the run being resumed; anything else is an error, never a silent mix of runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHECKPOINTS_DIR = "checkpoints"
# Fields of TrainConfig that do not change what a fold computes.
IGNORED_FIELDS = frozenset({"data", "cache", "device", "cpu_replicas"})


class CheckpointMismatch(ValueError):
    """A checkpoint exists but was written by a different configuration or fold."""


@dataclass(frozen=True)
class FoldCheckpoint:
    """What one finished fold contributes to the run's report and predictions."""

    test_keys: tuple[str, ...]
    probs_float: np.ndarray
    probs_int8: np.ndarray | None
    row: dict[str, Any]
    history: dict[str, Any]


def _fingerprint(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if k not in IGNORED_FIELDS}


def checkpoint_path(out: Path, slug: str) -> Path:
    return Path(out) / CHECKPOINTS_DIR / f"{slug}.npz"


def save_checkpoint(path: Path, config: dict[str, Any], ck: FoldCheckpoint) -> None:
    """Write atomically (temporary file, then rename): a kill mid-write leaves no checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "config": _fingerprint(config),
        "row": ck.row,
        "history": ck.history,
    }
    extra = {} if ck.probs_int8 is None else {"probs_int8": ck.probs_int8.astype(np.float32)}
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(
        tmp,
        meta=np.array(json.dumps(meta, sort_keys=True, default=str)),
        test_keys=np.array(ck.test_keys, dtype=str),
        probs_float=ck.probs_float.astype(np.float32),
        **extra,
    )
    tmp.replace(path)


def load_checkpoint(
    path: Path, config: dict[str, Any], test_keys: tuple[str, ...]
) -> FoldCheckpoint | None:
    """The fold's checkpoint, None when there is none; CheckpointMismatch when it is another
    run's (different settings or test utterances)."""
    if not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        keys = tuple(str(k) for k in z["test_keys"])
        probs_float = np.asarray(z["probs_float"])
        probs_int8 = np.asarray(z["probs_int8"]) if "probs_int8" in z.files else None
    want = json.loads(json.dumps(_fingerprint(config), sort_keys=True, default=str))
    differ = sorted(
        k for k in set(want) | set(meta["config"]) if want.get(k) != meta["config"].get(k)
    )
    if differ:
        raise CheckpointMismatch(
            f"{path} was written with other settings ({', '.join(differ)}); "
            "resume with the same options or choose a new --out"
        )
    if keys != tuple(test_keys):
        raise CheckpointMismatch(
            f"{path} holds another test part than this fold's ({len(keys)} utterances "
            f"against {len(test_keys)}): the data changed; choose a new --out"
        )
    return FoldCheckpoint(keys, probs_float, probs_int8, meta["row"], meta["history"])
