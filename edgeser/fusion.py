"""Late fusion on the device: several models' clip probabilities, averaged with fixed weights.

Models over different features make different mistakes: a log-mel network hears spectral
colour, a voice-functional model pitch, loudness and voice quality. The weighted mean of their
probabilities is often better than either (docs/experiments.md#late-fusion). The weights are
given, fixed before any test, never fitted on a user's audio. The clip is decoded once; each
member runs its own front end, voice gate and model on it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .audio import Audio
from .calibration import SpeakerCalibration, check_calibration
from .pipelines import whole_clip_fields
from .prediction import Prediction
from .recognizer import Recognizer


class FusedRecognizer:
    """Recognizers over the same labels (in any order) and sample rate, fused.

        r = FusedRecognizer(["six-core-cnn_lstm_2d-int8",
                             "six-core-resse_cnn1d-gemaps-calibrated-int8"])
        me = r.new_calibration()                 # when a member is speaker-calibrated
        r.predict("clip.wav", calibration=me)

    members: Recognizers, or anything `Recognizer` loads (built with `recognizer_options`).
    weights: one non-negative weight per member (default: equal).
    A clip is speech only if every member's voice gate says so (otherwise the result is "no
    speech", as the most cautious member decides).
    """

    def __init__(
        self,
        members: Sequence[Any],
        weights: Sequence[float] | None = None,
        **recognizer_options: Any,
    ):
        if isinstance(members, str | bytes) or len(members) < 2:
            raise ValueError("fusion needs at least two models")
        self.members = tuple(
            m if isinstance(m, Recognizer) else Recognizer(m, **recognizer_options) for m in members
        )
        first = self.members[0]
        for m in self.members[1:]:
            if set(m.labels) != set(first.labels):
                raise ValueError(
                    f"{m.name!r} predicts {list(m.labels)}, {first.name!r} {list(first.labels)}: "
                    "fused models need the same labels"
                )
            if m.sample_rate != first.sample_rate:
                raise ValueError(
                    f"{m.name!r} runs at {m.sample_rate} Hz, {first.name!r} at "
                    f"{first.sample_rate} Hz: fused models need the same rate"
                )
        self.weights = _check_weights(weights, len(self.members))
        calibrated = [m for m in self.members if m.calibrated]
        if len(calibrated) > 1:
            raise ValueError(
                "at most one fused model may be speaker-calibrated: "
                + ", ".join(repr(m.name) for m in calibrated)
            )
        self._calibrated = calibrated[0] if calibrated else None
        self.labels = first.labels
        self.sample_rate = first.sample_rate
        self.name = " + ".join(m.name for m in self.members)

    def __repr__(self) -> str:
        return f"FusedRecognizer({[m.name for m in self.members]!r}, weights={self.weights!r})"

    def load_audio(self, source: Any, sample_rate: int | None = None) -> Audio:
        """Decode/convert and resample `source` once for every member."""
        return self.members[0].load_audio(source, sample_rate)

    @property
    def calibrated(self) -> bool:
        """Whether a member reads speaker-calibrated features (`new_calibration`)."""
        return self._calibrated is not None

    def new_calibration(self) -> SpeakerCalibration:
        """A fresh running calibration for the calibrated member (one per speaker)."""
        if self._calibrated is None:
            raise ValueError(f"none of {self.name!r} was trained with speaker calibration")
        return self._calibrated.new_calibration()

    def predict(
        self,
        source: Any,
        sample_rate: int | None = None,
        *,
        calibration: SpeakerCalibration | None = None,
    ) -> Prediction:
        """The fused emotion of a whole clip; `calibration` goes to the calibrated member."""
        if calibration is not None:
            check_calibration(calibration)
            if self._calibrated is None:
                raise ValueError(
                    f"none of {self.name!r} was trained with speaker calibration; "
                    "predict without calibration="
                )
        clip = self.load_audio(source, sample_rate)
        preds = [  # the decoded clip passes through each member's loader untouched
            m.predict(clip, calibration=calibration if m is self._calibrated else None)
            for m in self.members
        ]
        timings = dict(clip.timings)  # decoded and resampled once
        for p in preds:
            for stage, seconds in p.timings.items():
                if stage not in clip.timings:
                    timings[stage] = timings.get(stage, 0.0) + seconds
        common = whole_clip_fields(clip, self.name, timings)
        silent = next((p for p in preds if not p.is_speech), None)
        if silent is not None:
            return Prediction.no_speech(reason=silent.reason, **common)
        fused = np.zeros(len(self.labels))
        for p, w in zip(preds, self.weights):
            fused += w * np.array([p.scores[label] for label in self.labels])
        return Prediction.from_scores(
            self.labels,
            fused / sum(self.weights),
            windows=max(p.windows for p in preds),
            **common,
        )

    def predict_batch(
        self,
        sources: Iterable[Any],
        sample_rate: int | None = None,
        *,
        calibration: SpeakerCalibration | None = None,
    ) -> list[Prediction]:
        """`predict` over several inputs, in order (each clip calibrating the ones after it)."""
        return [self.predict(s, sample_rate, calibration=calibration) for s in sources]


def _check_weights(weights: Sequence[float] | None, n: int) -> tuple[float, ...]:
    if weights is None:
        return (1.0,) * n
    w = tuple(weights)
    if (
        len(w) != n
        or any(isinstance(v, bool) or not isinstance(v, int | float) for v in w)
        or not all(math.isfinite(v) and v >= 0 for v in w)
        or sum(w) <= 0
    ):
        raise ValueError(f"need {n} finite non-negative weights with a positive sum, got {w!r}")
    return tuple(float(v) for v in w)
