"""Speaker calibration: z-score a model's functional vectors with the speaker's own statistics.

Voice functionals differ more between speakers (and microphones) than between a speaker's
emotions: a high pitch is a child, a woman or an excited man. A model trained on vectors that
were z-scored per speaker reads "higher than this speaker usually is" instead, which carries
across speakers, corpora and languages far better. At prediction time nobody has the user's
labelled audio, but every clip the user speaks is unlabelled audio of that speaker:
`SpeakerCalibration` keeps running statistics of them, starting from the training
population's (`prior_mean`, `prior_std`, worth `prior_count` clips), so the first clip is
normalised with the population and every later one more and more with the speaker's own.

Training uses the same class: each training speaker is normalised with the statistics of all
of that speaker's clips (`normalise_groups`), and the evaluation replays every test speaker's
clips one by one through a fresh `SpeakerCalibration`, as a device would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import BundleError

MIN_STD = 1e-6  # a dimension with less spread than this keeps the population's scale


@dataclass(frozen=True)
class CalibrationPrior:
    """The training population's statistics of the raw vectors, and how many clips they are
    worth against the speaker's own (stored in the bundle)."""

    mean: tuple[float, ...]
    std: tuple[float, ...]
    count: float = 4.0

    def __post_init__(self) -> None:
        if len(self.mean) != len(self.std) or not self.mean:
            raise BundleError("a calibration prior needs one mean and one std per dimension")
        values = (*self.mean, *self.std)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise BundleError("calibration prior statistics must be finite numbers")
        if min(self.std) <= 0:
            raise BundleError("calibration prior std must be positive")
        c = self.count
        if isinstance(c, bool) or not isinstance(c, int | float) or not 0 < c <= 1e6:
            raise BundleError(f"calibration prior count must be in (0, 1e6], got {c!r}")

    @property
    def dim(self) -> int:
        return len(self.mean)

    @classmethod
    def of(cls, vectors: np.ndarray, count: float = 4.0) -> CalibrationPrior:
        """The prior of a training set's raw vectors [n, dim]."""
        x = np.asarray(vectors, dtype=np.float64)
        std = x.std(axis=0)
        std = np.where(std > MIN_STD, std, 1.0)
        return cls(tuple(map(float, x.mean(axis=0))), tuple(map(float, std)), float(count))

    def to_dict(self) -> dict[str, Any]:
        return {"mean": list(self.mean), "std": list(self.std), "count": self.count}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CalibrationPrior:
        if not isinstance(d, Mapping) or set(d) - {"mean", "std", "count"}:
            raise BundleError("speaker_calibration needs exactly mean, std and count")
        mean, std = d.get("mean"), d.get("std")
        if not isinstance(mean, list) or not isinstance(std, list):
            raise BundleError("speaker_calibration mean and std must be lists of numbers")
        return cls(tuple(mean), tuple(std), d.get("count", 4.0))


class SpeakerCalibration:
    """Running statistics of one speaker's vectors, shrunk towards a population prior.

    With n clips seen (k = `prior.count`), mean = (n * speaker mean + k * prior mean) / (n + k)
    and variance = (n * speaker variance + k * prior variance) / (n + k), the speaker's variance
    taken about its own mean: no clip count is too small, and the speaker's own statistics take
    over as the clips add up. One object per speaker (or per microphone
    session): it is the only state, owned by the caller, never shared behind their back.
    """

    def __init__(self, prior: CalibrationPrior):
        self.prior = prior
        self._mean0 = np.asarray(prior.mean, dtype=np.float64)
        self._var0 = np.asarray(prior.std, dtype=np.float64) ** 2
        self.count = 0
        self._sum = np.zeros(prior.dim)
        self._sumsq = np.zeros(prior.dim)

    def update(self, vector: np.ndarray) -> None:
        """Add one clip's raw vector (non-finite values are ignored: they carry no statistics)."""
        v = np.asarray(vector, dtype=np.float64).reshape(-1)
        if v.shape != (self.prior.dim,):
            raise ValueError(f"calibration: expected {self.prior.dim} values, got {v.size}")
        if not np.isfinite(v).all():
            return
        self.count += 1
        self._sum += v
        self._sumsq += v * v

    def update_all(self, vectors: np.ndarray) -> None:
        """`update` with every row of `vectors` [n, dim]."""
        for v in np.atleast_2d(vectors):
            self.update(v)

    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, std) to normalise with now."""
        n, k = self.count, self.prior.count
        if n == 0:
            return self._mean0, np.sqrt(self._var0)
        m_s = self._sum / n
        v_s = np.maximum(self._sumsq / n - m_s * m_s, 0.0)
        mean = (n * m_s + k * self._mean0) / (n + k)
        # the speaker's spread about its own mean, shrunk towards the population's spread
        std = np.sqrt((n * v_s + k * self._var0) / (n + k))
        return mean, np.where(std > MIN_STD, std, np.sqrt(self._var0))

    def normalise(self, vector: np.ndarray) -> np.ndarray:
        """`vector` z-scored with the current statistics (float64)."""
        mean, std = self.statistics()
        return (np.asarray(vector, dtype=np.float64) - mean) / std


def check_calibration(value: object) -> SpeakerCalibration:
    """`value` if it is a SpeakerCalibration (the `calibration=` argument of predict)."""
    if not isinstance(value, SpeakerCalibration):
        raise TypeError(f"calibration must be a SpeakerCalibration, got {type(value).__name__}")
    return value


def normalise_groups(
    vectors: np.ndarray, groups: np.ndarray, prior: CalibrationPrior | None = None
) -> np.ndarray:
    """Every group's (speaker's) vectors z-scored with the statistics of all of that group's
    clips: how training speakers are calibrated. With `prior`, through a `SpeakerCalibration`
    that has seen them all (what a device reaches); without, the plain z-score."""
    x = np.asarray(vectors, dtype=np.float64)
    out = np.empty_like(x)
    for g in np.unique(groups):
        m = groups == g
        if prior is None:
            std = x[m].std(axis=0)
            out[m] = (x[m] - x[m].mean(axis=0)) / np.where(std > MIN_STD, std, 1.0)
            continue
        cal = SpeakerCalibration(prior)
        cal.update_all(x[m])
        out[m] = cal.normalise(x[m])
    return out


def replay_groups(
    vectors: np.ndarray, groups: np.ndarray, prior: CalibrationPrior, seed: int = 0
) -> np.ndarray:
    """Every group's vectors normalised as a device calibrating on the fly would: the clips of
    each speaker in a seeded random order, each added to a fresh `SpeakerCalibration` and then
    normalised with it (the clip at hand is unlabelled audio of the speaker too)."""
    x = np.asarray(vectors, dtype=np.float64)
    out = np.empty_like(x)
    rng = np.random.default_rng(seed)
    for g in np.unique(groups):
        cal = SpeakerCalibration(prior)
        for i in rng.permutation(np.flatnonzero(groups == g)):
            cal.update(x[i])
            out[i] = cal.normalise(x[i])
    return out
