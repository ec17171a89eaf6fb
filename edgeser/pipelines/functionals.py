"""The functional pipeline: one vector of edgeser's own voice functionals per clip -> the model
-> a `Prediction`. Pure edgeser (C++ front end + NumPy): no openSMILE, pandas or TensorFlow."""

from __future__ import annotations

import numpy as np

from ..audio import Audio
from ..calibration import SpeakerCalibration
from ..errors import BundleError
from ..feature_configs import FunctionalFeatures
from ..frontend import functionals
from ..prediction import Prediction
from . import LoadedModel
from .whole_clip import predict_whole_clip


class FunctionalPipeline:
    """Clip -> voice gate -> descriptors -> functionals (`features.select` of them) -> model."""

    def __init__(
        self, model: LoadedModel, features: FunctionalFeatures, backend: str | None = None
    ):
        if features.descriptors.sample_rate != model.sample_rate:
            raise BundleError(
                f"{model.source}: the descriptors run at {features.descriptors.sample_rate} Hz, "
                f"the model at {model.sample_rate} Hz"
            )
        self.model = model
        self.features = features
        self.backend = backend
        self._select = (
            None if features.select is None else np.asarray(features.select, dtype=np.intp)
        )

    @property
    def calibrated(self) -> bool:
        """Whether the model reads speaker-calibrated vectors (`edgeser.calibration`)."""
        return self.features.speaker_calibration is not None

    def new_calibration(self) -> SpeakerCalibration:
        """A fresh speaker calibration (the population prior) for this model."""
        prior = self.features.speaker_calibration
        if prior is None:
            raise ValueError(
                f"{self.model.name!r} was not trained with speaker calibration "
                "(its bundle has no speaker_calibration prior)"
            )
        return SpeakerCalibration(prior)

    def vector(
        self, samples: np.ndarray, calibration: SpeakerCalibration | None = None
    ) -> np.ndarray:
        """The functional vector the model reads (before normalisation). A speaker-calibrated
        model adds the clip to `calibration` (a fresh one when None) and reads the vector
        z-scored with it."""
        f = self.features
        vec = functionals.extract(samples, f.feature_set, f.descriptors, backend=self.backend)
        if vec.size != f.source_dim:
            raise BundleError(
                f"{f.feature_set} gave {vec.size} values, the bundle says {f.source_dim}"
            )
        if self.calibrated:
            cal = calibration if calibration is not None else self.new_calibration()
            if cal.prior != f.speaker_calibration:
                raise ValueError(
                    "this calibration was made for another model (its prior differs); "
                    "use recognizer.new_calibration()"
                )
            cal.update(vec)
            vec = cal.normalise(vec).astype(np.float32)
        elif calibration is not None:
            raise ValueError(f"{self.model.name!r} was not trained with speaker calibration")
        return vec if self._select is None else vec[self._select]

    def predict(self, clip: Audio, calibration: SpeakerCalibration | None = None) -> Prediction:
        return predict_whole_clip(self.model, clip, lambda s: self.vector(s, calibration))
