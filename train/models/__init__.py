"""Model families, one module each, behind one registry.

A `ModelSpec` (name, input shape, classes, hyper-parameters) rebuilds the same network anywhere,
e.g. in the conversion subprocess with a fixed batch of 1.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from . import cnn_lstm, resse_cnn1d

# name -> (builder, default features, whether the model reads frame windows)
MODELS: dict[str, tuple[Callable[..., Any], str, bool]] = {
    "resse_cnn1d": (resse_cnn1d.build_resse_cnn1d, "egemaps", False),
    "cnn1d": (resse_cnn1d.build_cnn1d, "egemaps", False),
    "cnn_lstm_1d": (cnn_lstm.build_cnn_lstm_1d, "mfcc", True),
    "cnn_lstm_2d": (cnn_lstm.build_cnn_lstm_2d, "log_mel", True),
}


def check_model(name: str) -> str:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose from {sorted(MODELS)}")
    return name


def default_features(name: str) -> str:
    return MODELS[check_model(name)][1]


def reads_windows(name: str) -> bool:
    return MODELS[check_model(name)][2]


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a model: registry name, input shape, classes, hparams."""

    name: str
    input_shape: tuple[int, ...]
    n_classes: int
    hparams: dict[str, Any] = field(default_factory=dict)

    def build(self, batch_size: int | None = None):
        builder = MODELS[check_model(self.name)][0]
        return builder(tuple(self.input_shape), self.n_classes, batch_size=batch_size,
                       **self.hparams)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "input_shape": list(self.input_shape),
                "n_classes": self.n_classes, "hparams": dict(self.hparams)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "ModelSpec":
        return cls(d["name"], tuple(d["input_shape"]), int(d["n_classes"]), dict(d["hparams"]))
