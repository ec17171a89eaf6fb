"""Feature-family configs (`edgeser.feature_configs`) and the openSMILE set-up they rely on."""

from __future__ import annotations

import sys

import pytest

from edgeser import registry
from edgeser.errors import BundleError, MissingDependencyError
from edgeser.feature_configs import (
    FEATURE_FAMILIES,
    FrontendFeatures,
    OpenSmileFeatures,
    features_from_dict,
)
from edgeser.frontend import FrontendConfig
from edgeser.opensmile_sets import OPENSMILE_DIMS, make_smile


def test_every_bundled_model_round_trips_through_its_family():
    for info in registry.models():
        f = registry.resolve(info.name).meta.features
        assert FEATURE_FAMILIES[f.type] is type(f)
        assert features_from_dict(f.to_dict()) == f
        assert f.input_shape[-1] == f.dim == f.to_dict()["dim"]


def test_dims_are_derived_not_trusted():
    f = FrontendFeatures(
        frontend=FrontendConfig(n_mels=24), kind="log_mel", window_frames=10, hop_frames=5
    )
    assert f.dim == 24 and f.input_shape == (1, 10, 24)
    with pytest.raises(BundleError, match="dim 40 does not match"):
        features_from_dict({**f.to_dict(), "dim": 40})
    s = OpenSmileFeatures("ComParE_2016")
    assert s.dim == s.source_dim == OPENSMILE_DIMS["ComParE_2016"] and s.input_shape == (1, 6373)


@pytest.mark.parametrize(
    "d, match",
    [
        ({"type": "mystery"}, "unknown feature type 'mystery'"),
        ({"type": "opensmile", "opensmile_set": "eGeMAPSv02", "hop": 3}, "unknown field 'hop'"),
        ({"type": "frontend", "kind": "log_mel", "window_frames": 5}, "FrontendConfig"),
        ([1, 2], "JSON object"),
    ],
)
def test_bad_feature_headers_are_refused_by_name(d, match):
    with pytest.raises(BundleError, match=match):
        features_from_dict(d)


def test_combined_kind_family_needs_format_6_and_a_plain_front_end():
    f = FrontendFeatures(FrontendConfig(), "spectrogram+log_mel", window_frames=150, hop_frames=50)
    assert f.dim == 257 + 40 and f.input_shape == (1, 150, 297) and f.min_format_version == 6
    assert features_from_dict(f.to_dict()) == f
    with pytest.raises(BundleError, match="without deltas and CMVN"):
        FrontendFeatures(FrontendConfig(deltas=2), "spectrogram+log_mel", 150, 50)
    with pytest.raises(BundleError, match="kind in"):
        FrontendFeatures(FrontendConfig(), "mfcc+log_mel", 150, 50)


@pytest.mark.parametrize("frames", [0, -1, True, 2.0])
def test_window_sizes_must_be_positive_integers(frames):
    with pytest.raises(BundleError, match="positive integer window_frames"):
        FrontendFeatures(FrontendConfig(), "log_mel", window_frames=frames, hop_frames=1)


def test_missing_and_broken_opensmile_are_told_apart(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "opensmile", None)  # import fails: not installed
    with pytest.raises(MissingDependencyError, match="not installed"):
        make_smile("eGeMAPSv02")
    fake = tmp_path / "opensmile"  # installed, but one of its own imports fails
    fake.mkdir()
    (fake / "__init__.py").write_text("import edgeser_no_such_dependency_xyz\n")
    monkeypatch.delitem(sys.modules, "opensmile")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingDependencyError, match="cannot be imported.*no_such_dependency"):
        make_smile("eGeMAPSv02")
    with pytest.raises(ValueError, match="unknown openSMILE set"):
        make_smile("GeMAPS")
