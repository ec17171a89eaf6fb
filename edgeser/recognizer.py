"""The recognizer: audio in, `Prediction` out, for whole clips, long recordings and live streams.

A Recognizer loads a bundle, starts its TFLite runner and puts the pipeline of the bundle's
feature family (`edgeser.pipelines`) behind one API; it never branches on the family itself.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from . import audio as audio_io
from . import registry
from .audio import AudioLimits
from .bundle import ModelBundle
from .calibration import SpeakerCalibration, check_calibration
from .errors import BundleError
from .feature_configs import OpenSmileFeatures
from .interpreter import ModelRunner
from .pipelines import LoadedModel, make_pipeline
from .pipelines.frontend import FrontendPipeline
from .pipelines.opensmile import check_tensorflow_free
from .prediction import Prediction
from .speech_detector import SpeechDetector
from .stream import RecognizerStream
from .vad import VadConfig

_DEFAULT_VAD = VadConfig()
_DEFAULT_LIMITS = AudioLimits()


class Recognizer:
    """A loaded model, reused across calls and safe to share between threads.

        r = Recognizer("default", num_threads=1)
        r.predict("clip.wav"); r.timeline(x, sample_rate=16000); s = r.stream(sample_rate=48000)

    model: a bundled model name, "default", a bundle path, or a `ModelBundle`.
    vad: thresholds of the voice gate, or None to score every window.
    runtime: "auto" | "litert" | "tflite_runtime" | "tensorflow".
    backend: force a front-end backend ("cpp" | "numba" | "numpy"); None picks the fastest.
    """

    def __init__(
        self,
        model: Any = "default",
        *,
        num_threads: int = 1,
        runtime: str = "auto",
        vad: VadConfig | None = _DEFAULT_VAD,
        limits: AudioLimits = _DEFAULT_LIMITS,
        xnnpack: bool = True,
        max_batch: int = 32,
        backend: str | None = None,
        models_dir: str | os.PathLike | None = None,
    ):
        if vad is not None and not isinstance(vad, VadConfig):
            raise TypeError(f"vad must be a VadConfig or None, got {type(vad).__name__}")
        if not isinstance(limits, AudioLimits):
            raise TypeError(f"limits must be an AudioLimits, got {type(limits).__name__}")
        self.bundle: ModelBundle = registry.resolve(model, models_dir)
        meta = self.bundle.meta
        self.name = meta.name
        self.labels = tuple(meta.labels)
        self.sample_rate = int(meta.sample_rate)
        self.features = meta.features
        if isinstance(self.features, OpenSmileFeatures):  # before the runner loads TensorFlow
            check_tensorflow_free(self.bundle.source, self.name, runtime)
        self.vad = vad
        self.limits = limits
        self.backend = backend
        runner = ModelRunner(
            self.bundle.model,
            runtime=runtime,
            num_threads=num_threads,
            xnnpack=xnnpack,
            max_batch=max_batch,
            source=self.bundle.source,
        )
        self._runner = runner
        expected = tuple(self.features.input_shape[1:])
        if tuple(runner.input.shape[1:]) != expected:
            raise BundleError(
                f"{self.bundle.source}: the model reads input "
                f"{list(runner.input.shape)} but the metadata describes "
                f"[n, {', '.join(map(str, expected))}]"
            )
        if runner.output.shape[-1] != meta.output_dim:
            what = (
                f"for {len(self.labels)} labels"
                if meta.head is None
                else f"where its head needs {meta.output_dim} ({meta.head.describe()})"
            )
            raise BundleError(
                f"{self.bundle.source}: the model has {runner.output.shape[-1]} outputs {what}"
            )
        self.detector = self._load_detector(runtime, backend, models_dir)
        loaded = LoadedModel(
            name=self.name,
            source=self.bundle.source,
            labels=self.labels,
            sample_rate=self.sample_rate,
            norm_mean=np.asarray(meta.norm_mean, dtype=np.float32),
            norm_std=np.asarray(meta.norm_std, dtype=np.float32),
            runner=runner,
            vad=vad,
            limits=limits,
            detector=self.detector,
            head=meta.head,
        )
        self._pipeline = make_pipeline(loaded, self.features, backend=backend)

    def _load_detector(
        self, runtime: str, backend: str | None, models_dir: str | os.PathLike | None
    ) -> SpeechDetector | None:
        """The learned voice gate the bundle names, unless the gate (or that part) is off."""
        name = self.bundle.meta.speech_detector
        if self.vad is None or not self.vad.speech_detector or name is None:
            return None
        det = SpeechDetector(
            registry.resolve_detector(name, models_dir),
            threshold=self.vad.speech_threshold,
            runtime=runtime,
            backend=backend,
        )
        if det.sample_rate != self.sample_rate:
            raise BundleError(
                f"{self.bundle.source}: speech detector {name!r} runs at {det.sample_rate} Hz, "
                f"the model at {self.sample_rate} Hz"
            )
        return det

    @property
    def pipeline(self):
        """The pipeline of the model's feature family (`edgeser.pipelines`)."""
        return self._pipeline

    @property
    def runtime(self) -> str:
        return self._runner.runtime

    @property
    def num_threads(self) -> int:
        return self._runner.num_threads

    @property
    def info(self) -> registry.ModelInfo:
        return registry.ModelInfo.from_bundle(self.bundle)

    def __repr__(self) -> str:
        return (
            f"Recognizer({self.name!r}, labels={list(self.labels)}, "
            f"quantization={self.bundle.meta.quantization!r}, runtime={self.runtime!r})"
        )

    def load_audio(self, source: Any, sample_rate: int | None = None) -> audio_io.Audio:
        """Decode/convert and resample `source` to the model rate (see `edgeser.audio.load`)."""
        return audio_io.load(source, sample_rate, target_rate=self.sample_rate, limits=self.limits)

    def predict(
        self,
        source: Any,
        sample_rate: int | None = None,
        *,
        calibration: SpeakerCalibration | None = None,
    ) -> Prediction:
        """The emotion of a whole clip (path, bytes, file-like, or array with `sample_rate`).

        `calibration` (speaker-calibrated models only, see `new_calibration`): the speaker's
        running calibration; a speech clip is added to it before it is scored.
        """
        clip = self.load_audio(source, sample_rate)
        if calibration is None:
            return self._pipeline.predict(clip)
        check_calibration(calibration)
        if not getattr(self._pipeline, "calibrated", False):
            raise ValueError(
                f"{self.name!r} was not trained with speaker calibration; "
                "predict without calibration="
            )
        return self._pipeline.predict(clip, calibration)

    def predict_batch(
        self,
        sources: Iterable[Any],
        sample_rate: int | None = None,
        *,
        calibration: SpeakerCalibration | None = None,
    ) -> list[Prediction]:
        """`predict` over several inputs (`sample_rate` applies to the arrays among them);
        with `calibration`, in order, every clip calibrating the ones after it."""
        return [self.predict(s, sample_rate, calibration=calibration) for s in sources]

    @property
    def calibrated(self) -> bool:
        """Whether the model reads speaker-calibrated features (`new_calibration`)."""
        return bool(getattr(self._pipeline, "calibrated", False))

    def new_calibration(self) -> SpeakerCalibration:
        """A fresh running calibration for one speaker (or one microphone session).

        Pass it to every `predict` of that speaker: each speech clip updates it, so the model
        reads "higher than this speaker usually is" rather than "high". It starts from the
        training population; without one, every clip is scored as a speaker's first.
        Keep one per speaker; it is not shared between threads.
        """
        if not self.calibrated:
            raise ValueError(
                f"{self.name!r} was not trained with speaker calibration "
                f"({self.features.describe()})"
            )
        return self._pipeline.new_calibration()

    def timeline(self, source: Any, sample_rate: int | None = None) -> list[Prediction]:
        """One Prediction per feature window over a long recording, with start_s/end_s.

        Windows without speech come back with label None; the average of the speech windows'
        scores is what `predict` returns for the same audio.
        """
        pipeline = self._windowed("timeline")
        return pipeline.timeline(self.load_audio(source, sample_rate))

    def stream(self, sample_rate: int | None = None) -> RecognizerStream:
        """A live stream at `sample_rate` (default: the model rate); see `RecognizerStream`."""
        return RecognizerStream(self._windowed("streaming"), sample_rate)

    def _windowed(self, what: str) -> FrontendPipeline:
        if not isinstance(self._pipeline, FrontendPipeline):
            raise ValueError(
                f"{what} needs a model over front-end feature windows; "
                f"{self.name!r} reads {self.features.describe()} (use predict)"
            )
        return self._pipeline
