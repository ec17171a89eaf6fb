"""edgeser: speech emotion recognition for small devices.

    import edgeser
    p = edgeser.predict("clip.wav")           # p.label, p.confidence, p.scores, p.timings
    r = edgeser.Recognizer("default")         # load once, reuse (thread-safe)
    r.timeline(x, sample_rate=16000); s = r.stream(sample_rate=48000)
    edgeser.models()                          # bundled models and their metadata

`import edgeser` is cheap: the names below load their modules (numpy, the TFLite runtime) on
first use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "predict": ("shortcuts", "predict"),
    "load_model": ("shortcuts", "load_model"),
    "Recognizer": ("recognizer", "Recognizer"),
    "FusedRecognizer": ("fusion", "FusedRecognizer"),
    "RecognizerStream": ("stream", "RecognizerStream"),
    "Prediction": ("prediction", "Prediction"),
    "models": ("registry", "models"),
    "ModelInfo": ("registry", "ModelInfo"),
    "VadConfig": ("vad", "VadConfig"),
    "SpeakerCalibration": ("calibration", "SpeakerCalibration"),
    "AudioLimits": ("audio", "AudioLimits"),
    "ModelBundle": ("bundle", "ModelBundle"),
    "FrontendFeatures": ("feature_configs", "FrontendFeatures"),
    "OpenSmileFeatures": ("feature_configs", "OpenSmileFeatures"),
    "EdgeserError": ("errors", "EdgeserError"),
    "AudioError": ("errors", "AudioError"),
    "AudioDecodeError": ("errors", "AudioDecodeError"),
    "BundleError": ("errors", "BundleError"),
    "BundleVersionError": ("errors", "BundleVersionError"),
    "MissingDependencyError": ("errors", "MissingDependencyError"),
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'edgeser' has no attribute {name!r}") from None
    return getattr(importlib.import_module(f".{module}", __name__), attr)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
