"""The openSMILE pipeline: one functional vector per clip -> the model -> a `Prediction`."""

from __future__ import annotations

import sys
import threading

import numpy as np

from ..audio import Audio
from ..errors import BundleError
from ..feature_configs import OpenSmileFeatures
from ..interpreter import IncompatibleRuntimeError
from ..opensmile_sets import make_smile
from ..prediction import Prediction
from . import LoadedModel
from .whole_clip import predict_whole_clip


def check_tensorflow_free(source: str, name: str, runtime: str | None = None) -> None:
    """Refuse, with an edgeser error, what would make openSMILE abort the whole process
    (`malloc(): invalid size`): TensorFlow as the model's runtime, or TensorFlow imported in this
    process before openSMILE was (seen with opensmile 2.6 and TensorFlow 2.21)."""
    what = f"{source}: model {name!r} reads openSMILE features, and openSMILE aborts the process"
    if runtime == "tensorflow":
        raise IncompatibleRuntimeError(
            f"{what} once TensorFlow is loaded in it: use runtime='auto', 'litert' or "
            "'tflite_runtime' for openSMILE models"
        )
    if "tensorflow" in sys.modules and "opensmile" not in sys.modules:
        raise IncompatibleRuntimeError(
            f"{what} when TensorFlow was imported before it, as it was here: load openSMILE "
            "models in a process without TensorFlow, or import opensmile before tensorflow"
        )


class OpenSmilePipeline:
    """Clip -> voice gate -> openSMILE functionals (`features.select` of them) -> the model.

    openSMILE's `Smile` is not re-entrant, so calls to it are serialised; the rest is shared
    freely between threads.
    """

    def __init__(self, model: LoadedModel, features: OpenSmileFeatures):
        self.model = model
        self.features = features
        check_tensorflow_free(model.source, model.name, model.runner.runtime)
        self._smile = make_smile(
            features.opensmile_set, needed_by=f"{model.source}: model {model.name!r}"
        )
        self._smile_lock = threading.Lock()
        self._select = (
            None if features.select is None else np.asarray(features.select, dtype=np.intp)
        )

    def vector(self, samples: np.ndarray) -> np.ndarray:
        """The functional vector the model reads (before normalisation)."""
        m, f = self.model, self.features
        with self._smile_lock:
            table = self._smile.process_signal(samples, m.sample_rate)
        vec = np.asarray(table, dtype=np.float32).reshape(-1)
        if vec.size != f.source_dim:
            raise BundleError(
                f"{m.source}: openSMILE {f.opensmile_set} gave {vec.size} "
                f"values, the bundle describes {f.source_dim}"
            )
        return vec if self._select is None else vec[self._select]

    def predict(self, clip: Audio) -> Prediction:
        return predict_whole_clip(self.model, clip, self.vector)
