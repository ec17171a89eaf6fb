"""The model-bundle format: one self-describing file shared by `train` (writes) and the runtime.

Layout (all little-endian):

    b"EDGESER\\x00"            8-byte magic
    uint32 header_length       length of the UTF-8 JSON header
    header JSON                metadata (see `BundleMeta`), including "checksum"
    model bytes                the TFLite flatbuffer

``checksum`` is the SHA-256 of the canonical header JSON without the checksum field followed by
the model bytes, so a flipped byte anywhere is detected. ``format_version`` is an integer; a
runtime refuses bundles with a newer version than `FORMAT_VERSION`. The ``features`` object is
one feature family's config (`edgeser.feature_configs`), tagged by its ``type``. Version 2 added
`features.select` (the model reads a chosen subset of the openSMILE functionals); version 3 added
`features.window_norm` (each window is mean-normalised before the model: level invariance);
version 4 added `speech_detector` (the learned voice gate the model runs behind); version 5 added
the `functionals` feature family (edgeser's own voice functionals, no openSMILE); version 6 added
`features.window_floor_db` (each band of a window floored below its window peak) and the
combined front-end kind "spectrogram+log_mel" (the TF-CNN's input); version 7 added `head`
(what follows the graph after window averaging: a multi-level cascade, `edgeser.heads`);
version 8 added `features.speaker_calibration` (functional vectors z-scored with the speaker's
own running statistics, `edgeser.calibration`); version 9 added the functional set
``edgeser-large-v1``; version 10 added the descriptors' `power_floor` and `spectrum_floor`
(a stored descriptors config without them means the old floors, 1e-10 and 1e-12). A
bundle is written with the lowest version that describes it, so bundles without these stay
readable by older runtimes, and an older runtime refuses a bundle whose features it cannot
compute.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BundleError, BundleVersionError
from .feature_configs import FeatureSpec, FrontendFeatures, features_from_dict
from .heads import OutputHead, head_from_dict

FORMAT_VERSION = 10
MAGIC = b"EDGESER\x00"
SUFFIX = ".edgeser"
QUANTIZATIONS = ("int8", "float32")


@dataclass(frozen=True)
class BundleMeta:
    """Everything the runtime needs besides the model bytes."""

    name: str
    labels: tuple[str, ...]
    sample_rate: int
    features: FeatureSpec  # one config type per feature family (`edgeser.feature_configs`)
    norm_mean: tuple[float, ...]
    norm_std: tuple[float, ...]
    quantization: str
    training: Mapping[str, Any] = field(default_factory=dict)  # corpus, protocol, metrics, ...
    description: str = ""
    format_version: int = FORMAT_VERSION
    # name of the learned voice gate (`edgeser.speech_detector`) the model was meant to run
    # behind: a bundle under the models folder's detectors/; None = the loudness gate only
    speech_detector: str | None = None
    # what turns the window-averaged outputs into label scores; None = the graph's softmax
    # over `labels` (a cascade's graph returns both stages' probabilities, `edgeser.heads`)
    head: OutputHead | None = None

    @property
    def min_format_version(self) -> int:
        """The lowest bundle format version that can describe this bundle."""
        return max(
            self.features.min_format_version,
            4 if self.speech_detector else 1,
            7 if self.head is not None else 1,
        )

    @property
    def output_dim(self) -> int:
        """Values the graph returns per window."""
        return len(self.labels) if self.head is None else self.head.output_dim

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise BundleError("bundle name must be a non-empty string")
        if len(self.labels) < 2 or len(set(self.labels)) != len(self.labels):
            raise BundleError("labels must be at least two distinct names")
        if self.quantization not in QUANTIZATIONS:
            raise BundleError(f"quantization must be one of {QUANTIZATIONS}")
        if len(self.norm_mean) != self.features.dim or len(self.norm_std) != self.features.dim:
            raise BundleError(f"normalisation statistics must have {self.features.dim} values")
        if any(not s > 0 for s in self.norm_std):
            raise BundleError("normalisation std values must be positive")
        if self.speech_detector is not None and (
            not isinstance(self.speech_detector, str)
            or not self.speech_detector
            or any(c in self.speech_detector for c in "/\\")
            or self.speech_detector.startswith(".")
        ):
            raise BundleError("speech_detector must be a plain bundle name (no path)")
        if self.head is not None:
            self.head.check_labels(self.labels)
        if not self.min_format_version <= self.format_version <= FORMAT_VERSION:
            raise BundleError(
                f"format_version {self.format_version} cannot describe these "
                f"features (needs {self.min_format_version}.."
                f"{FORMAT_VERSION})"
            )
        if (
            isinstance(self.features, FrontendFeatures)
            and self.features.frontend.sample_rate != self.sample_rate
        ):
            raise BundleError("front-end sample rate differs from the bundle sample rate")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "name": self.name,
            "description": self.description,
            "labels": list(self.labels),
            "sample_rate": self.sample_rate,
            "features": self.features.to_dict(),
            "input_shape": list(self.features.input_shape),
            "norm_mean": _float32_values(self.norm_mean),
            "norm_std": _float32_values(self.norm_std),
            "quantization": self.quantization,
            "training": dict(self.training),
            **({"speech_detector": self.speech_detector} if self.speech_detector else {}),
            **({"head": self.head.to_dict()} if self.head is not None else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BundleMeta:
        d = dict(d)
        d.pop("input_shape", None)
        return cls(
            name=d["name"],
            labels=tuple(d["labels"]),
            sample_rate=int(d["sample_rate"]),
            features=features_from_dict(d["features"]),
            norm_mean=tuple(d["norm_mean"]),
            norm_std=tuple(d["norm_std"]),
            quantization=d["quantization"],
            training=d.get("training", {}),
            description=d.get("description", ""),
            speech_detector=d.get("speech_detector"),
            head=head_from_dict(d.get("head")),
            format_version=int(d["format_version"]),
        )


def _float32_values(values) -> list[float]:
    """The runtime applies the statistics in float32, so store each as the shortest decimal that
    reads back to the same float32 (about half the text of a float64 repr; 6373-dim ComParE
    statistics were 240 KB of header)."""
    return [float(str(v)) for v in np.asarray(values, dtype=np.float32)]


def _canonical(header: Mapping[str, Any]) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _checksum(header: Mapping[str, Any], model: bytes) -> str:
    h = hashlib.sha256(_canonical({k: v for k, v in header.items() if k != "checksum"}))
    h.update(model)
    return h.hexdigest()


@dataclass(frozen=True)
class ModelBundle:
    """A TFLite model with its metadata; `to_bytes`/`from_bytes` and `save`/`load` round-trip."""

    meta: BundleMeta
    model: bytes
    source: str = "<memory>"

    @property
    def size_bytes(self) -> int:
        return len(self.model)

    def to_bytes(self) -> bytes:
        header = self.meta.to_dict()
        header["checksum"] = _checksum(header, self.model)
        raw = _canonical(header)
        return MAGIC + struct.pack("<I", len(raw)) + raw + self.model

    def save(self, path: str | os.PathLike) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(self.to_bytes())
        os.replace(tmp, path)
        return path

    @classmethod
    def from_bytes(cls, data: bytes, source: str = "<bytes>") -> ModelBundle:
        def fail(why: str) -> BundleError:
            return BundleError(f"{source}: not a valid edgeser model bundle: {why}")

        if len(data) < len(MAGIC) + 4 or data[: len(MAGIC)] != MAGIC:
            raise fail("missing the EDGESER header (wrong file type?)")
        (n,) = struct.unpack_from("<I", data, len(MAGIC))
        start = len(MAGIC) + 4
        if n == 0 or start + n > len(data):
            raise fail("truncated header")
        try:
            header = json.loads(data[start : start + n].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise fail(f"corrupt header ({exc})") from None
        if not isinstance(header, dict):
            raise fail("header is not a JSON object")
        version = header.get("format_version")
        if not isinstance(version, int):
            raise fail("header has no integer format_version")
        if version > FORMAT_VERSION:
            raise BundleVersionError(
                f"{source}: bundle format version {version} is newer than this edgeser reads "
                f"({FORMAT_VERSION}); upgrade edgeser"
            )
        model = bytes(data[start + n :])
        if not model:
            raise fail("no model bytes after the header")
        if header.get("checksum") != _checksum(header, model):
            raise fail("checksum mismatch (file corrupt or modified)")
        try:
            meta = BundleMeta.from_dict(header)
        except BundleError as exc:
            raise fail(str(exc)) from None
        except (KeyError, TypeError, ValueError) as exc:
            raise fail(f"bad metadata ({type(exc).__name__}: {exc})") from None
        return cls(meta=meta, model=model, source=source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> ModelBundle:
        path = Path(path)
        try:
            if not stat.S_ISREG(path.stat().st_mode):  # a FIFO or device would block or not end
                raise BundleError(f"{path}: not a regular file, so not a model bundle")
            data = path.read_bytes()
        except OSError as exc:
            raise BundleError(f"{path}: cannot read model bundle: {exc.strerror or exc}") from None
        return cls.from_bytes(data, source=str(path))
