"""Model families, one module each, behind one registry.

A `ModelSpec` (name, input shape, classes, hyper-parameters, ensemble members) rebuilds the same
network anywhere, e.g. in the conversion subprocess with a fixed batch of 1. With `members` > 1
it is an ensemble in one graph: `members` copies of the network side by side on the same input,
their probabilities averaged, so the runtime runs it as one model (one TFLite, one call).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import cnn_lstm, dycnn, linear, resse_cnn1d, speech_gate, tfcnn

# name -> (builder, default features, whether the model reads frame windows)
MODELS: dict[str, tuple[Callable[..., Any], str, bool]] = {
    "resse_cnn1d": (resse_cnn1d.build_resse_cnn1d, "egemaps", False),
    "cnn1d": (resse_cnn1d.build_cnn1d, "egemaps", False),
    "linear": (linear.build_linear, "gemaps", False),
    "cnn_lstm_1d": (cnn_lstm.build_cnn_lstm_1d, "mfcc", True),
    "cnn_lstm_2d": (cnn_lstm.build_cnn_lstm_2d, "log_mel", True),
    "speech_gate": (speech_gate.build_speech_gate_cnn, "log_mel", True),
    "dycnn_bilstm": (dycnn.build_dycnn_bilstm, "mfcc", True),
    "tfcnn": (tfcnn.build_tfcnn, "spectrogram+log_mel", True),
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
    members: int = 1

    def __post_init__(self) -> None:
        check_model(self.name)
        if isinstance(self.members, bool) or not isinstance(self.members, int) or self.members < 1:
            raise ValueError(f"ModelSpec.members={self.members!r}: must be a positive integer")

    @property
    def member(self) -> ModelSpec:
        """One member of the ensemble (the spec itself when there is one)."""
        return ModelSpec(self.name, self.input_shape, self.n_classes, dict(self.hparams))

    def build(self, batch_size: int | None = None):
        builder = MODELS[self.name][0]
        if self.members == 1:
            return builder(
                tuple(self.input_shape), self.n_classes, batch_size=batch_size, **self.hparams
            )
        import keras

        inp = keras.Input(tuple(self.input_shape), batch_size=batch_size, name="features")
        outs = []
        for i in range(self.members):
            net = builder(
                tuple(self.input_shape), self.n_classes, batch_size=batch_size, **self.hparams
            )
            net.name = member_name(i)
            outs.append(net(inp))
        out = keras.layers.Average(name="probs_mean", dtype="float32")(outs)
        return keras.Model(inp, out, name=f"{self.name}_x{self.members}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input_shape": list(self.input_shape),
            "n_classes": self.n_classes,
            "hparams": dict(self.hparams),
            "members": self.members,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSpec:
        return cls(
            d["name"],
            tuple(d["input_shape"]),
            int(d["n_classes"]),
            dict(d["hparams"]),
            int(d.get("members", 1)),
        )


def member_name(i: int) -> str:
    """Layer name of ensemble member `i` inside a `ModelSpec.build()` graph."""
    return f"member_{i}"
