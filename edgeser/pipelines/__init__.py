"""One pipeline per feature family: how a clip becomes model input and a `Prediction`.

`LoadedModel` is what every family shares (labels, the training normalisation, the runner, the
voice gate, input limits); `make_pipeline` picks the family's pipeline from the bundle's
feature config. The Recognizer owns one pipeline and never branches on the family itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..audio import Audio, AudioLimits
from ..feature_configs import FeatureSpec, FrontendFeatures, FunctionalFeatures, OpenSmileFeatures
from ..heads import OutputHead, make_prediction, output_dim
from ..interpreter import ModelRunner
from ..prediction import Prediction
from ..speech_detector import SpeechDetector
from ..vad import VadConfig
from ..windows import standardise


@dataclass(frozen=True)
class LoadedModel:
    """A bundle's model with what scoring it needs, whatever its features."""

    name: str
    source: str
    labels: tuple[str, ...]
    sample_rate: int
    norm_mean: np.ndarray  # float32 [dim]
    norm_std: np.ndarray  # float32 [dim]
    runner: ModelRunner
    vad: VadConfig | None
    limits: AudioLimits
    detector: SpeechDetector | None = None  # the learned voice gate, when the model names one
    head: OutputHead | None = None  # what follows the graph (`edgeser.heads`); None: softmax

    @property
    def output_dim(self) -> int:
        """Values the graph returns per input."""
        return output_dim(self.labels, self.head)

    def prediction(self, outputs: np.ndarray, **kw: Any) -> Prediction:
        """The Prediction of (window-averaged) model outputs, through the head if any."""
        return make_prediction(self.labels, self.head, outputs, **kw)

    def normalise(self, feats: np.ndarray) -> np.ndarray:
        """(features - norm_mean) / norm_std with the bundle's training statistics."""
        return standardise(feats, self.norm_mean, self.norm_std)

    def score(self, inputs: np.ndarray) -> np.ndarray:
        """Normalised model inputs [n, ...] -> [n, output_dim] outputs (probabilities)."""
        return self.runner.run(inputs, None if self.head is None else self.head.output_groups)

    def common(self, clip: Audio, timings: dict[str, float]) -> dict[str, Any]:
        """The `Prediction` fields of a whole-clip result."""
        return whole_clip_fields(clip, self.name, timings)


def whole_clip_fields(clip: Audio, model: str, timings: dict[str, float]) -> dict[str, Any]:
    """The `Prediction` fields of a result over the whole of `clip` (any model, or a fusion)."""
    return dict(
        source=clip.source,
        model=model,
        duration_s=clip.duration_s,
        start_s=0.0,
        end_s=clip.duration_s,
        timings=timings,
        warnings=clip.warnings,
    )


def make_pipeline(model: LoadedModel, features: FeatureSpec, backend: str | None = None):
    """The pipeline of `features`' family (`backend`: front-end backend, or None for the
    fastest; front-end and functional features)."""
    if isinstance(features, FrontendFeatures):
        from .frontend import FrontendPipeline

        return FrontendPipeline(model, features, backend=backend)
    if isinstance(features, OpenSmileFeatures):
        from .opensmile import OpenSmilePipeline

        return OpenSmilePipeline(model, features)
    if isinstance(features, FunctionalFeatures):
        from .functionals import FunctionalPipeline

        return FunctionalPipeline(model, features, backend=backend)
    raise TypeError(f"no pipeline for features of type {type(features).__name__}")
