"""The functional pipeline: one vector of edgeser's own voice functionals per clip -> the model
-> a `Prediction`. Pure edgeser (C++ front end + NumPy): no openSMILE, pandas or TensorFlow."""

from __future__ import annotations

import numpy as np

from ..audio import Audio
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

    def vector(self, samples: np.ndarray) -> np.ndarray:
        """The functional vector the model reads (before normalisation)."""
        f = self.features
        vec = functionals.extract(samples, f.feature_set, f.descriptors, backend=self.backend)
        if vec.size != f.source_dim:
            raise BundleError(
                f"{f.feature_set} gave {vec.size} values, the bundle says {f.source_dim}"
            )
        return vec if self._select is None else vec[self._select]

    def predict(self, clip: Audio) -> Prediction:
        return predict_whole_clip(self.model, clip, self.vector)
