"""Evaluation protocols: how utterances are split into train / validation / test folds.

The validation part (early stopping, model selection) is always drawn from the fold's training
part, so a test speaker (LOSO) or test utterance never influences training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROTOCOLS = ("loso", "random", "kfold", "loco", "group_kfold")


@dataclass(frozen=True)
class Fold:
    """Index arrays into a `FeatureTable`; `name` says what is held out."""

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _stratified_take(
    idx: np.ndarray, y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Split `idx` into (rest, taken) with about `fraction` of each class taken (>= 1 each)."""
    taken = []
    for c in np.unique(y[idx]):
        members = rng.permutation(idx[y[idx] == c])
        k = int(round(fraction * len(members)))
        k = min(max(k, 1), len(members) - 1) if len(members) > 1 else 0
        taken.extend(members[:k].tolist())
    taken_arr = np.array(sorted(taken), dtype=np.int64)
    rest = np.setdiff1d(idx, taken_arr)
    return rest, taken_arr


def validation_split(
    train: np.ndarray,
    y: np.ndarray,
    speakers: np.ndarray,
    fraction: float,
    rng: np.random.Generator,
    groups: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Validation from the training part: whole speakers when there are >= 4 of them (so early
    stopping measures speaker independence; with several corpora in `groups`, speakers of each
    corpus), else a stratified share of utterances."""
    spk = np.unique(speakers[train])
    if groups is not None and len(np.unique(groups[train])) > 1:
        # several corpora: the same share of speakers from each (at least one), so early
        # stopping sees every training corpus
        val_spk = []
        for g in np.unique(groups[train]):
            gs = np.unique(speakers[train][groups[train] == g])
            if len(gs) >= 2:
                n_val = max(1, int(round(fraction * len(gs))))
                val_spk.extend(rng.choice(gs, size=n_val, replace=False).tolist())
        is_val = np.isin(speakers[train], val_spk)
        return train[~is_val], train[is_val]
    if len(spk) >= 4:
        n_val = max(1, int(round(fraction * len(spk))))
        val_spk = rng.choice(spk, size=n_val, replace=False)
        is_val = np.isin(speakers[train], val_spk)
        return train[~is_val], train[is_val]
    return _stratified_take(train, y, fraction, rng)


def leave_one_out(
    y: np.ndarray,
    units: np.ndarray,
    what: str,
    speakers: np.ndarray,
    val_fraction: float,
    seed: int,
    groups: np.ndarray | None = None,
) -> list[Fold]:
    """One fold per distinct value of `units` (a speaker: LOSO; a corpus: LOCO), validation
    speakers drawn from the rest."""
    rng = np.random.default_rng(seed)
    everyone = np.arange(len(y))
    folds = []
    for s in np.unique(units):
        test = everyone[units == s]
        tr, val = validation_split(everyone[units != s], y, speakers, val_fraction, rng, groups)
        folds.append(Fold(f"{what} {s}", tr, val, test))
    return folds


def loso(
    y: np.ndarray,
    speakers: np.ndarray,
    val_fraction: float,
    seed: int,
    groups: np.ndarray | None = None,
) -> list[Fold]:
    """Leave one speaker out: one fold per speaker."""
    return leave_one_out(y, speakers, "speaker", speakers, val_fraction, seed, groups)


def loco(
    y: np.ndarray, speakers: np.ndarray, groups: np.ndarray, val_fraction: float, seed: int
) -> list[Fold]:
    """Leave one corpus out: train on the others, test on every utterance of one corpus."""
    if len(np.unique(groups)) < 2:
        raise ValueError("leave-one-corpus-out needs at least two corpora")
    return leave_one_out(y, groups, "corpus", speakers, val_fraction, seed, groups)


def group_kfold(
    y: np.ndarray, speakers: np.ndarray, groups: np.ndarray, k: int, val_fraction: float, seed: int
) -> list[Fold]:
    """Speaker-group k-fold: each corpus' speakers dealt in turn to k groups (shuffled), one
    group tested per fold, so every fold tests unseen speakers of (nearly) every corpus."""
    if k < 2:
        raise ValueError(f"k-fold needs k >= 2, got {k}")
    rng = np.random.default_rng(seed)
    assign: dict[str, int] = {}
    offset = 0
    for g in np.unique(groups):
        spk = rng.permutation(np.unique(speakers[groups == g]))
        for i, s in enumerate(spk):
            assign[s] = (offset + i) % k
        offset += len(spk)
    fold_of = np.array([assign[s] for s in speakers])
    if len(np.unique(fold_of)) < k:
        raise ValueError(f"speaker-group {k}-fold needs at least {k} speakers")
    folds = []
    for i in range(k):
        test = np.flatnonzero(fold_of == i)
        tr, val = validation_split(
            np.flatnonzero(fold_of != i), y, speakers, val_fraction, rng, groups
        )
        folds.append(Fold(f"speaker group {i + 1}/{k}", tr, val, test))
    return folds


def random_split(y: np.ndarray, val_fraction: float, test_fraction: float, seed: int) -> list[Fold]:
    """One stratified random split (speakers shared between parts: NOT speaker independent)."""
    rng = np.random.default_rng(seed)
    rest, test = _stratified_take(np.arange(len(y)), y, test_fraction, rng)
    tr, val = _stratified_take(rest, y, val_fraction / (1.0 - test_fraction), rng)
    return [Fold("random split", tr, val, test)]


def kfold(y: np.ndarray, k: int, val_fraction: float, seed: int) -> list[Fold]:
    """Stratified k-fold over utterances; validation stratified from each training part."""
    if k < 2:
        raise ValueError(f"k-fold needs k >= 2, got {k}")
    rng = np.random.default_rng(seed)
    assign = np.empty(len(y), dtype=np.int64)
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        assign[members] = np.arange(len(members)) % k
    folds = []
    for i in range(k):
        test = np.flatnonzero(assign == i)
        tr, val = _stratified_take(np.flatnonzero(assign != i), y, val_fraction, rng)
        folds.append(Fold(f"fold {i + 1}/{k}", tr, val, test))
    return folds


def make_folds(
    protocol: str,
    y: np.ndarray,
    speakers: np.ndarray,
    *,
    k: int = 10,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
    seed: int = 0,
    groups: np.ndarray | None = None,
) -> list[Fold]:
    """The folds of `protocol`; `groups` = corpus of each utterance (loco, group_kfold)."""
    if groups is None:
        groups = np.zeros(len(y), dtype=np.int64)
    if protocol == "loso":
        if len(np.unique(speakers)) < 2:
            raise ValueError("leave-one-speaker-out needs at least two speakers")
        return loso(y, speakers, val_fraction, seed, groups)
    if protocol == "loco":
        return loco(y, speakers, groups, val_fraction, seed)
    if protocol == "group_kfold":
        return group_kfold(y, speakers, groups, k, val_fraction, seed)
    if protocol == "random":
        return random_split(y, val_fraction, test_fraction, seed)
    if protocol == "kfold":
        return kfold(y, k, val_fraction, seed)
    raise ValueError(f"unknown protocol {protocol!r}; choose from {PROTOCOLS}")
