"""The openSMILE functional sets a model may read, and the one place that sets openSMILE up.

Both the runtime (`edgeser.pipelines.opensmile`) and training (`train.features`) build their
extractor here, so a model is always fed the functionals it was trained on.
"""

from __future__ import annotations

from typing import Any

from .errors import MissingDependencyError

# functionals per clip of each set, and its member of `opensmile.FeatureSet` (opensmile 2.x)
OPENSMILE_DIMS = {"eGeMAPSv02": 88, "ComParE_2016": 6373, "IS09_emotion": 384}
OPENSMILE_MEMBERS = {
    "eGeMAPSv02": "eGeMAPSv02",
    "ComParE_2016": "ComParE_2016",
    "IS09_emotion": "IS09",
}
OPENSMILE_SETS = tuple(OPENSMILE_DIMS)


def make_smile(set_name: str, needed_by: str = "this model") -> Any:
    """An `opensmile.Smile` computing the functionals of `set_name` once per signal.

    The opensmile package is optional (`edgeser[opensmile]`); when its import fails the error
    says whether it is missing or installed but broken (e.g. a pandas/pyarrow built for another
    numpy), instead of calling a broken install "not installed".
    """
    if set_name not in OPENSMILE_SETS:
        raise ValueError(f"unknown openSMILE set {set_name!r}; choose from {OPENSMILE_SETS}")
    try:
        import opensmile
    except ModuleNotFoundError as exc:
        if exc.name not in (None, "opensmile"):
            raise _broken(needed_by, exc) from None
        raise MissingDependencyError(
            f"{needed_by} reads openSMILE features and the opensmile package is not installed: "
            "pip install edgeser[opensmile]"
        ) from None
    except ImportError as exc:
        raise _broken(needed_by, exc) from None
    return opensmile.Smile(
        feature_set=opensmile.FeatureSet[OPENSMILE_MEMBERS[set_name]],
        feature_level=opensmile.FeatureLevel.Functionals,
    )


def _broken(needed_by: str, exc: ImportError) -> MissingDependencyError:
    return MissingDependencyError(
        f"{needed_by} reads openSMILE features, but the installed opensmile package cannot be "
        f"imported ({type(exc).__name__}: {exc}); reinstall it: pip install edgeser[opensmile]"
    )
