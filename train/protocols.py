"""Evaluation protocols: how utterances are split into train / validation / test folds.

The validation part (early stopping, model selection) is always drawn from the fold's training
part, so a test speaker (LOSO) or test utterance never influences training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

PROTOCOLS = ("loso", "random", "kfold")


@dataclass(frozen=True)
class Fold:
    """Index arrays into a `FeatureTable`; `name` says what is held out."""

    name: str
    train: np.ndarray
    val: np.ndarray
    test: np.ndarray


def _stratified_take(idx: np.ndarray, y: np.ndarray, fraction: float,
                     rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
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


def validation_split(train: np.ndarray, y: np.ndarray, speakers: np.ndarray,
                     fraction: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Validation from the training part: whole speakers when there are >= 4 of them (so early
    stopping measures speaker independence), else a stratified share of utterances."""
    spk = np.unique(speakers[train])
    if len(spk) >= 4:
        n_val = max(1, int(round(fraction * len(spk))))
        val_spk = rng.choice(spk, size=n_val, replace=False)
        is_val = np.isin(speakers[train], val_spk)
        return train[~is_val], train[is_val]
    return _stratified_take(train, y, fraction, rng)


def loso(y: np.ndarray, speakers: np.ndarray, val_fraction: float, seed: int) -> list[Fold]:
    """Leave one speaker out: one fold per speaker."""
    rng = np.random.default_rng(seed)
    everyone = np.arange(len(y))
    folds = []
    for s in np.unique(speakers):
        test = everyone[speakers == s]
        tr, val = validation_split(everyone[speakers != s], y, speakers, val_fraction, rng)
        folds.append(Fold(f"speaker {s}", tr, val, test))
    return folds


def random_split(y: np.ndarray, val_fraction: float, test_fraction: float,
                 seed: int) -> list[Fold]:
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


def make_folds(protocol: str, y: np.ndarray, speakers: np.ndarray, *, k: int = 10,
               val_fraction: float = 0.1, test_fraction: float = 0.1, seed: int = 0) -> list[Fold]:
    if protocol == "loso":
        if len(np.unique(speakers)) < 2:
            raise ValueError("leave-one-speaker-out needs at least two speakers")
        return loso(y, speakers, val_fraction, seed)
    if protocol == "random":
        return random_split(y, val_fraction, test_fraction, seed)
    if protocol == "kfold":
        return kfold(y, k, val_fraction, seed)
    raise ValueError(f"unknown protocol {protocol!r}; choose from {PROTOCOLS}")
