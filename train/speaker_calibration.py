"""Speaker calibration in training and evaluation (`TrainConfig.speaker_norm`).

The arithmetic is the runtime's own (`edgeser.calibration`): training speakers are z-scored
with the statistics of all their clips (shrunk towards the population prior exactly as a
device's calibration would be after that many clips); test speakers are either replayed clip
by clip through a fresh `SpeakerCalibration` ("running", what a device does) or given all of
their clips at once ("full", the upper bound). The prior is fitted on each fold's training
part only.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from edgeser.calibration import CalibrationPrior, normalise_groups, replay_groups

from .features import FeatureTable


def prior_of(table: FeatureTable, idx: np.ndarray) -> CalibrationPrior:
    """The population prior of the raw vectors of utterances `idx`."""
    return CalibrationPrior.of(_matrix(table)[idx])


def _matrix(table: FeatureTable) -> np.ndarray:
    if table.choice.is_sequence:
        raise ValueError(
            f"speaker calibration z-scores functional vectors; {table.choice.label} are "
            "frame features"
        )
    return np.stack([np.asarray(f, np.float64).reshape(-1) for f in table.feats])


def calibrated(
    table: FeatureTable, prior: CalibrationPrior, mode: str, seed: int = 0
) -> FeatureTable:
    """`table` with every speaker's vectors calibrated: "full" (all of the speaker's clips)
    or "running" (replayed in a seeded order, each clip normalised once it is added)."""
    x = _matrix(table)
    if mode == "running":
        out = replay_groups(x, table.speakers, prior, seed)
    elif mode == "full":
        out = normalise_groups(x, table.speakers, prior)
    else:
        raise ValueError(f"unknown speaker calibration {mode!r}")
    feats = [row.astype(np.float32) for row in out]
    return dataclasses.replace(table, feats=feats)


def calibrated_fold(
    mode: str,
    table: FeatureTable,
    copies: list[FeatureTable],
    train_idx: np.ndarray,
    seed: int,
) -> tuple[FeatureTable, list[FeatureTable], FeatureTable, CalibrationPrior | None]:
    """(training table, training copies, table for validation and test parts, prior) of one
    fold; with `mode` "none" the tables as they are."""
    if mode == "none":
        return table, copies, table, None
    prior = prior_of(table, train_idx)
    train = calibrated(table, prior, "full")
    return (
        train,
        [calibrated(c, prior, "full") for c in copies],
        calibrated(table, prior, mode, seed),
        prior,
    )
