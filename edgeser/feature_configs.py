"""What a model reads: one config type per feature family, each stored in the bundle header.

A family is a frozen dataclass with a `type` tag (the header's ``features.type``), its own
validated fields, and the same small interface: `dim`, `input_shape`, `source_dim`,
`min_format_version`, `describe()`, `to_dict()` / `from_dict()`. `BundleMeta.features` holds one
of them; `features_from_dict` picks the family from the tag. A new family (edgeser functionals,
a cascade of two models) is a new type here plus a pipeline in `edgeser.pipelines`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Union

import numpy as np

from .calibration import CalibrationPrior
from .errors import BundleError
from .frontend.config import COMBINED_KINDS, KINDS, FrontendConfig
from .frontend.descriptor_config import DescriptorConfig
from .frontend.functionals import FEATURE_SETS, SET_LARGE_V1, SET_LARGE_V2
from .opensmile_sets import OPENSMILE_DIMS, OPENSMILE_SETS
from .windows import WINDOW_NORMS, feature_windows, floor_depths


@dataclass(frozen=True)
class FrontendFeatures:
    """edgeser's front end (`frontend` config, feature `kind`, or a combined kind such as
    "spectrogram+log_mel", the TF-CNN's two inputs side by side), cut into windows of
    `window_frames` frames every `hop_frames` frames: model input [1, window_frames, dim].

    `window_norm` "mean" subtracts each window's own per-dimension mean after normalisation
    (`edgeser.windows.feature_windows`): the model does not see the input level.
    `window_floor_db` (log-mel only; 0 = off) floors every band of a window at that many dB
    below its loudest frame in the window, so silence and digital zeros look the same at
    any input level (with "mean": exact level invariance down to the front end's log_floor).
    """

    type: ClassVar[str] = "frontend"
    frontend: FrontendConfig
    kind: str
    window_frames: int
    hop_frames: int
    window_norm: str = "none"
    window_floor_db: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.frontend, FrontendConfig):
            raise BundleError("frontend features need a FrontendConfig")
        kinds = (*KINDS, *COMBINED_KINDS)
        if self.kind not in kinds:
            raise BundleError(f"frontend features need a kind in {kinds}, got {self.kind!r}")
        try:
            self.frontend.feature_dim(self.kind)
        except ValueError as exc:
            raise BundleError(str(exc)) from None
        for name in ("window_frames", "hop_frames"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise BundleError(f"frontend features need a positive integer {name}")
        if self.window_norm not in WINDOW_NORMS:
            raise BundleError(f"window_norm must be one of {WINDOW_NORMS}")
        fl = self.window_floor_db
        if isinstance(fl, bool) or not isinstance(fl, int | float) or not math.isfinite(fl):
            raise BundleError(f"window_floor_db must be a finite number of dB, got {fl!r}")
        if fl < 0 or fl > 200:
            raise BundleError(f"window_floor_db={fl!r}: must be 0 (off) or up to 200 dB")
        if fl and (self.kind != "log_mel" or self.frontend.deltas or self.frontend.cmvn != "none"):
            raise BundleError(
                "window_floor_db applies to log-mel energies only (kind log_mel, no deltas, "
                f"no CMVN); got kind {self.kind!r}, deltas {self.frontend.deltas}, "
                f"cmvn {self.frontend.cmvn!r}"
            )

    @property
    def dim(self) -> int:
        return self.frontend.feature_dim(self.kind)

    def windows(
        self,
        z: np.ndarray,
        std: np.ndarray,
        hop: int | None = None,
        starts: list[int] | None = None,
    ) -> np.ndarray:
        """The model's windows of normalised frames `z` (`std`: the normaliser's, which the
        floor depth needs), every `hop` frames (default `hop_frames`) or at `starts`."""
        depth = None
        if self.window_floor_db:
            cfg = self.frontend
            depth = floor_depths(self.window_floor_db, cfg.log_type, cfg.power, std)
        w = self.window_frames
        return feature_windows(
            z, w, self.hop_frames if hop is None else hop, self.window_norm, depth, starts
        )

    @property
    def source_dim(self) -> int:
        return self.dim

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, self.window_frames, self.dim)

    @property
    def min_format_version(self) -> int:
        if self.window_floor_db or self.kind in COMBINED_KINDS:
            return 6
        return 3 if self.window_norm != "none" else 1

    def describe(self) -> str:
        cfg = self.frontend
        return (
            f"{self.kind} ({self.dim} dims, {cfg.frame_length_ms:g} ms / "
            f"{cfg.frame_shift_ms:g} ms frames at {cfg.sample_rate} Hz), windows of "
            f"{self.window_frames} frames every {self.hop_frames}"
            + (
                f", each band floored {self.window_floor_db:g} dB below its window peak"
                if self.window_floor_db
                else ""
            )
            + (", each mean-normalised (level-independent)" if self.window_norm == "mean" else "")
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "dim": self.dim,
            "kind": self.kind,
            "frontend": self.frontend.to_dict(),
            "window_frames": self.window_frames,
            "hop_frames": self.hop_frames,
        }
        if self.window_norm != "none":  # absent = "none": older runtimes read the bundle
            d["window_norm"] = self.window_norm
        if self.window_floor_db:  # absent = 0 (off), likewise
            d["window_floor_db"] = self.window_floor_db
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FrontendFeatures:
        d = _fields(
            d,
            cls.type,
            {"kind", "frontend", "window_frames", "hop_frames", "window_norm", "window_floor_db"},
        )
        if not isinstance(d.get("frontend"), Mapping):
            raise BundleError("frontend features need a FrontendConfig")
        norm = d.pop("window_norm", None)
        spec = cls(
            frontend=FrontendConfig.from_dict(d.pop("frontend")),
            window_norm="none" if norm is None else norm,
            **d,
        )
        return spec


@dataclass(frozen=True)
class OpenSmileFeatures:
    """One openSMILE functional vector of `opensmile_set` per clip: model input [1, dim].

    `select` (optional, ascending indices into that vector) names the functionals the model
    reads. Needs the `opensmile` extra at predict time.
    """

    type: ClassVar[str] = "opensmile"
    opensmile_set: str
    select: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.opensmile_set not in OPENSMILE_SETS:
            raise BundleError(f"opensmile_set must be one of {OPENSMILE_SETS}")
        _check_select(self.select, self.source_dim, self.opensmile_set)

    @property
    def source_dim(self) -> int:
        """Length of the whole functional vector (before `select`)."""
        return OPENSMILE_DIMS[self.opensmile_set]

    @property
    def dim(self) -> int:
        return self.source_dim if self.select is None else len(self.select)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, self.dim)

    @property
    def min_format_version(self) -> int:
        return 2 if self.select is not None else 1

    def describe(self) -> str:
        chosen = "" if self.select is None else " selected"
        return f"openSMILE {self.opensmile_set} functionals ({self.dim}{chosen} dims) per clip"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "dim": self.dim,
            "opensmile_set": self.opensmile_set,
        }
        if self.select is not None:
            d["select"] = list(self.select)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> OpenSmileFeatures:
        dim = d.get("dim")
        d = _fields(d, cls.type, {"opensmile_set", "select"})
        select = _select_from(d.get("select"), dim)
        return cls(opensmile_set=d.get("opensmile_set") or "", select=select)


# Bundle format version that introduced each functional set after the first (format 5).
SET_FORMAT_VERSION = {SET_LARGE_V1: 9, SET_LARGE_V2: 10}


@dataclass(frozen=True)
class FunctionalFeatures:
    """One vector of edgeser's own functionals (`feature_set`, e.g. ``edgeser-gemaps-v1``) over
    the voice descriptors of `descriptors` per clip: model input [1, dim]. No openSMILE.

    `select` (optional, ascending indices into the set) names the functionals the model reads.
    `speaker_calibration` (optional, format 8): the model was trained on vectors z-scored per
    speaker (`edgeser.calibration`); this is the population prior a speaker's running
    calibration starts from (over all `source_dim` values, before `select`).
    """

    type: ClassVar[str] = "functionals"
    feature_set: str
    descriptors: DescriptorConfig = DescriptorConfig()
    select: tuple[int, ...] | None = None
    speaker_calibration: CalibrationPrior | None = None

    def __post_init__(self) -> None:
        if self.feature_set not in FEATURE_SETS:
            raise BundleError(
                f"feature_set must be one of {sorted(FEATURE_SETS)}, got {self.feature_set!r} "
                "(a newer edgeser may know it)"
            )
        if not isinstance(self.descriptors, DescriptorConfig):
            raise BundleError("functional features need a DescriptorConfig")
        _check_select(self.select, self.source_dim, self.feature_set)
        cal = self.speaker_calibration
        if cal is not None:
            if not isinstance(cal, CalibrationPrior):
                raise BundleError("speaker_calibration must be a CalibrationPrior")
            if cal.dim != self.source_dim:
                raise BundleError(
                    f"speaker_calibration has {cal.dim} values, {self.feature_set} has "
                    f"{self.source_dim}"
                )

    @property
    def source_dim(self) -> int:
        return len(FEATURE_SETS[self.feature_set])

    @property
    def dim(self) -> int:
        return self.source_dim if self.select is None else len(self.select)

    @property
    def names(self) -> tuple[str, ...]:
        names = FEATURE_SETS[self.feature_set]
        return names if self.select is None else tuple(names[i] for i in self.select)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return (1, self.dim)

    @property
    def min_format_version(self) -> int:
        """5, or the version that introduced the set, calibration or descriptor field the
        bundle uses."""
        calibrated = 5 if self.speaker_calibration is None else 8
        return max(
            calibrated,
            SET_FORMAT_VERSION.get(self.feature_set, 5),
            self.descriptors.min_format_version,
        )

    def describe(self) -> str:
        chosen = "" if self.select is None else " selected"
        calibrated = "" if self.speaker_calibration is None else ", speaker-calibrated"
        return (
            f"{self.feature_set} functionals ({self.dim}{chosen} dims) per clip, over edgeser's "
            f"voice descriptors at {self.descriptors.sample_rate} Hz{calibrated}"
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "type": self.type,
            "dim": self.dim,
            "feature_set": self.feature_set,
            "descriptors": self.descriptors.to_dict(),
        }
        if self.select is not None:
            d["select"] = list(self.select)
        if self.speaker_calibration is not None:
            d["speaker_calibration"] = self.speaker_calibration.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> FunctionalFeatures:
        dim = d.get("dim")
        d = _fields(d, cls.type, {"feature_set", "descriptors", "select", "speaker_calibration"})
        if not isinstance(d.get("descriptors"), Mapping):
            raise BundleError("functional features need a descriptors object")
        try:
            descriptors = DescriptorConfig.from_dict(d["descriptors"])
        except (TypeError, ValueError) as exc:
            raise BundleError(f"bad descriptors config: {exc}") from None
        cal = d.get("speaker_calibration")
        return cls(
            feature_set=d.get("feature_set") or "",
            descriptors=descriptors,
            select=_select_from(d.get("select"), dim),
            speaker_calibration=None if cal is None else CalibrationPrior.from_dict(cal),
        )


FeatureSpec = Union[FrontendFeatures, OpenSmileFeatures, FunctionalFeatures]  # noqa: UP007
FEATURE_FAMILIES: dict[str, Any] = {
    FrontendFeatures.type: FrontendFeatures,
    OpenSmileFeatures.type: OpenSmileFeatures,
    FunctionalFeatures.type: FunctionalFeatures,
}
# fields that belong to one family only: naming the family beats "unknown field"
_FAMILY_OF_FIELD = {
    "window_norm": "front-end feature windows",
    "window_floor_db": "front-end feature windows",
    "window_frames": "front-end feature windows",
    "select": "opensmile and functional features",
    "opensmile_set": "opensmile features",
    "feature_set": "functional features",
    "descriptors": "functional features",
    "speaker_calibration": "functional features",
}


def features_from_dict(d: Mapping[str, Any]) -> FeatureSpec:
    """The feature config of a bundle header's ``features`` object (validated)."""
    if not isinstance(d, Mapping):
        raise BundleError("features must be a JSON object")
    family = FEATURE_FAMILIES.get(d.get("type"))  # type: ignore[arg-type]
    if family is None:
        raise BundleError(
            f"unknown feature type {d.get('type')!r} ({' | '.join(FEATURE_FAMILIES)})"
        )
    spec = family.from_dict(d)
    dim = d.get("dim")
    if dim is not None and dim != spec.dim:
        if isinstance(spec, (OpenSmileFeatures, FunctionalFeatures)) and spec.select is None:
            set_name = getattr(spec, "opensmile_set", None) or getattr(spec, "feature_set", "")
            raise BundleError(
                f"{set_name} has {spec.source_dim} functionals, the "
                f"features say {dim} (and select none)"
            )
        raise BundleError(f"feature dim {dim} does not match the features ({spec.dim})")
    return spec


def _fields(d: Mapping[str, Any], family: str, allowed: set[str]) -> dict[str, Any]:
    """`d` without its type tag and dim (derived), refusing fields of another family."""
    out = {k: v for k, v in d.items() if k not in ("type", "dim")}
    for key in out:
        if key not in allowed:
            other = _FAMILY_OF_FIELD.get(key)
            raise BundleError(
                f"{key} applies to {other} only"
                if other
                else f"unknown field {key!r} in {family} features"
            )
    return out


def _check_select(sel: Any, size: int, set_name: str) -> None:
    """`select` is None or ascending non-negative indices below `size`."""
    if sel is None:
        return
    if (
        not isinstance(sel, tuple)
        or not sel
        or any(isinstance(i, bool) or not isinstance(i, int) for i in sel)
        or sel[0] < 0
        or any(b <= a for a, b in zip(sel, sel[1:]))
    ):
        raise BundleError(
            f"select must be {len(sel) if isinstance(sel, tuple) else ''}"
            " ascending non-negative integer indices (one per model "
            "input)"
        )
    if sel[-1] >= size:
        raise BundleError(f"select index {sel[-1]} is past the {size} functionals of {set_name}")


def _select_from(select: Any, dim: Any) -> tuple[int, ...] | None:
    """A header's `select` list as a tuple (checked against the header's dim)."""
    if select is None:
        return None
    if not isinstance(select, (list, tuple)) or (isinstance(dim, int) and len(select) != dim):
        raise BundleError(
            f"select must be {dim} ascending non-negative integer indices (one per model input)"
        )
    return tuple(select)
