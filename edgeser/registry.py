"""The models shipped inside the package (`edgeser/models/*.edgeser`) and name resolution.

A model is named by its file stem or its bundle name; "default" means the name written in
`edgeser/models/DEFAULT`; anything that looks like a path is loaded as a bundle file. The
environment variable EDGESER_MODELS_DIR (or a `models_dir` argument) points the registry at
another folder, which tests use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .bundle import SUFFIX, ModelBundle
from .errors import BundleError

ENV_MODELS_DIR = "EDGESER_MODELS_DIR"
DEFAULT_ALIAS = "default"
DEFAULT_FILE = "DEFAULT"


@dataclass(frozen=True)
class ModelInfo:
    """What `edgeser.models()` lists: a bundle's metadata without its interpreter."""

    name: str
    path: str
    labels: tuple[str, ...]
    sample_rate: int
    features: str  # short summary, e.g. "frontend log_mel x40, windows of 100 frames"
    quantization: str
    size_bytes: int  # TFLite model bytes
    description: str = ""
    training: Mapping[str, Any] = field(default_factory=dict)
    is_default: bool = False
    head: str = ""  # what follows the graph, e.g. a cascade's S and stages ("" for none)

    @property
    def corpus(self) -> Any:
        return self.training.get("corpus")

    @property
    def protocol(self) -> Any:
        return self.training.get("protocol")

    @property
    def metrics(self) -> Any:
        return self.training.get("metrics")

    @classmethod
    def from_bundle(cls, bundle: ModelBundle, is_default: bool = False) -> ModelInfo:
        meta = bundle.meta
        return cls(
            name=meta.name,
            path=bundle.source,
            labels=tuple(meta.labels),
            sample_rate=meta.sample_rate,
            features=describe_features(bundle),
            quantization=meta.quantization,
            size_bytes=bundle.size_bytes,
            description=meta.description,
            training=dict(meta.training),
            is_default=is_default,
            head="" if meta.head is None else meta.head.describe(),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "labels": list(self.labels),
            "sample_rate": self.sample_rate,
            "features": self.features,
            "quantization": self.quantization,
            "size_bytes": self.size_bytes,
            "description": self.description,
            "training": dict(self.training),
            "is_default": self.is_default,
            **({"head": self.head} if self.head else {}),
        }


def describe_features(bundle: ModelBundle) -> str:
    return bundle.meta.features.describe()


def models_dir(override: str | os.PathLike | None = None):
    """The folder to scan: `override`, else $EDGESER_MODELS_DIR, else the package data."""
    if override is not None:
        return Path(override)
    env = os.environ.get(ENV_MODELS_DIR, "").strip()
    if env:
        return Path(env)
    return resources.files("edgeser").joinpath("models")


def _bundle_files(folder) -> list:
    try:
        entries = list(folder.iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(
        (e for e in entries if e.name.endswith(SUFFIX) and e.is_file()), key=lambda e: e.name
    )


def _load(entry) -> ModelBundle:
    try:
        data = entry.read_bytes()
    except OSError as exc:
        raise BundleError(f"{entry}: cannot read model bundle: {exc.strerror or exc}") from None
    return ModelBundle.from_bytes(data, source=str(entry))


def default_name(models_dir_override: str | os.PathLike | None = None) -> str | None:
    """The name written in the models folder's DEFAULT file, or None if there is none."""
    entry = models_dir(models_dir_override).joinpath(DEFAULT_FILE)
    try:
        text = entry.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise BundleError(f"{entry}: cannot read ({exc.strerror or exc})") from None
    return text.splitlines()[0].strip() if text else None


def _is_default(bundle: ModelBundle, default: str | None) -> bool:
    if default is None:
        return False
    file_name = os.path.basename(bundle.source)
    return default in (bundle.meta.name, file_name, file_name[: -len(SUFFIX)])


def models(models_dir_override: str | os.PathLike | None = None) -> list[ModelInfo]:
    """Every bundle in the models folder with its metadata (a corrupt bundle raises)."""
    default = default_name(models_dir_override)
    return [
        ModelInfo.from_bundle(b, is_default=_is_default(b, default))
        for b in map(_load, _bundle_files(models_dir(models_dir_override)))
    ]


def describe(
    model: Any = DEFAULT_ALIAS, models_dir_override: str | os.PathLike | None = None
) -> ModelInfo:
    """`ModelInfo` of one model (name, "default" or path), marked if it is the default."""
    bundle = resolve(model, models_dir_override)
    return ModelInfo.from_bundle(
        bundle, is_default=_is_default(bundle, default_name(models_dir_override))
    )


def _has_directory(name: str) -> bool:
    return os.sep in name or (os.altsep is not None and os.altsep in name)


def resolve(
    model: Any = DEFAULT_ALIAS, models_dir_override: str | os.PathLike | None = None
) -> ModelBundle:
    """A `ModelBundle` from a bundle, a path, a bundled model name or "default"."""
    if isinstance(model, ModelBundle):
        return model
    if isinstance(model, os.PathLike):
        return ModelBundle.load(model)
    if not isinstance(model, str) or not model.strip():
        raise BundleError(f"model must be a name, a path or a ModelBundle, got {model!r}")
    name = model.strip()
    folder = models_dir(models_dir_override)
    if name == DEFAULT_ALIAS:
        chosen = default_name(models_dir_override)
        if chosen is None:
            raise BundleError(
                f"no default model is bundled yet ({folder}/{DEFAULT_FILE} is "
                "missing): pass a model name or the path of a .edgeser bundle"
            )
        name = chosen
    if Path(name).is_file() or _has_directory(name):
        return ModelBundle.load(name)  # a missing path fails here, naming the file
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
    entry = folder.joinpath(stem + SUFFIX)
    if entry.is_file():
        return _load(entry)
    for other in _bundle_files(folder):
        bundle = _load(other)
        if bundle.meta.name == stem:
            return bundle
    known = [e.name[: -len(SUFFIX)] for e in _bundle_files(folder)]
    raise BundleError(
        f"unknown model {name!r}: not a file and not in {folder} "
        f"(available: {', '.join(known) or 'none'})"
    )


DETECTORS_DIR = "detectors"  # learned voice gates, beside the models (not listed as models)


def resolve_detector(
    name: str, models_dir_override: str | os.PathLike | None = None
) -> ModelBundle:
    """The speech-detector bundle `name` names: in the models folder's `detectors/`, else in
    the package's own (so models in another folder still find the bundled gate)."""
    folders = [
        models_dir(models_dir_override).joinpath(DETECTORS_DIR),
        resources.files("edgeser") / "models" / DETECTORS_DIR,
    ]
    for folder in folders:
        entry = folder.joinpath(name + SUFFIX)
        if entry.is_file():
            return _load(entry)
    raise BundleError(
        f"speech detector {name!r} is not installed (looked in "
        f"{', '.join(str(f) for f in folders)}); pass VadConfig(speech_detector=False) to "
        "gate by loudness only"
    )
