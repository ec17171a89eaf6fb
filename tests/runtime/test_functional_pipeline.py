"""The functional feature family (bundle format 5): edgeser's own voice functionals per clip,
no openSMILE, level-independent by construction."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from edgeser.bundle import FORMAT_VERSION, ModelBundle
from edgeser.errors import BundleError
from edgeser.feature_configs import FunctionalFeatures, features_from_dict
from edgeser.frontend import functionals
from edgeser.frontend.descriptor_config import DescriptorConfig

from .support import speechlike, subprocess_env


def test_functional_features_validate_and_round_trip():
    spec = FunctionalFeatures(feature_set=functionals.SET_V1, select=(0, 3, 7))
    assert spec.dim == 3 and spec.source_dim == functionals.set_dim(functionals.SET_V1)
    assert spec.min_format_version == 10 == FORMAT_VERSION  # the descriptors' floors
    assert spec.names == tuple(functionals.FEATURE_SETS[functionals.SET_V1][i] for i in (0, 3, 7))
    assert features_from_dict(spec.to_dict()) == spec
    d = spec.to_dict()
    with pytest.raises(BundleError, match="feature_set"):
        features_from_dict({**d, "feature_set": "edgeser-gemaps-v9"})
    with pytest.raises(BundleError, match="descriptors"):
        features_from_dict({**d, "descriptors": {**d["descriptors"], "lpc_order": 2}})
    with pytest.raises(BundleError, match="unknown DescriptorConfig fields"):
        features_from_dict({**d, "descriptors": {**d["descriptors"], "bogus": 1}})
    with pytest.raises(BundleError, match="past the"):
        FunctionalFeatures(feature_set=functionals.SET_V1, select=(0, 500))
    with pytest.raises(BundleError, match="functional features only"):
        features_from_dict({"type": "frontend", "feature_set": functionals.SET_V1})
    with pytest.raises(BundleError, match="select must be 4"):
        features_from_dict({**d, "dim": 4})
    whole = FunctionalFeatures(feature_set=functionals.SET_V1).to_dict()
    with pytest.raises(BundleError, match="has 76 functionals"):
        features_from_dict({**whole, "dim": 4})


def test_an_older_gemaps_bundle_round_trips_with_format_5_and_its_floors(bundle_dir):
    b = ModelBundle.load(bundle_dir / "tiny_gemaps.edgeser")
    assert isinstance(b.meta.features, FunctionalFeatures) and b.meta.format_version == 5
    assert b.meta.features.descriptors == DescriptorConfig.pre_format_10()
    assert "power_floor" not in b.meta.to_dict()["features"]["descriptors"]
    assert ModelBundle.from_bytes(b.to_bytes()).meta.features == b.meta.features


def test_functional_model_predicts_and_matches_its_own_vector(recognizers):
    r = recognizers("tiny_gemaps")
    x = speechlike(3.0, seed=21)
    p = r.predict(x, sample_rate=16000)
    assert p.is_speech and p.label in r.labels
    vec = functionals.extract(x, cfg=DescriptorConfig.pre_format_10())  # the bundle's floors
    assert not np.array_equal(vec, functionals.extract(x))
    m = r.pipeline.model
    probs = m.score(m.normalise(vec)[None, :])[0]
    assert max(abs(p.scores[k] - float(v)) for k, v in zip(r.labels, probs)) < 1e-6


def test_large_set_model_predicts_its_own_vector(recognizers):
    """A bundle of the larger set (edgeser-large-v2) runs through the same pipeline."""
    r = recognizers("tiny_large")
    assert r.pipeline.features.feature_set == functionals.SET_LARGE_V2
    assert r.bundle.meta.format_version == 10  # the descriptors' floors; older: "upgrade"
    old = DescriptorConfig.pre_format_10()
    assert FunctionalFeatures(functionals.SET_V1, old).min_format_version == 5
    assert FunctionalFeatures(functionals.SET_LARGE_V1, old).min_format_version == 9
    x = speechlike(3.0, seed=23)
    p = r.predict(x, sample_rate=16000)
    assert p.is_speech and p.label in r.labels
    m = r.pipeline.model
    vec = functionals.extract(x, functionals.SET_LARGE_V2)
    probs = m.score(m.normalise(vec)[None, :])[0]
    assert max(abs(p.scores[k] - float(v)) for k, v in zip(r.labels, probs)) < 1e-6


@pytest.mark.parametrize("model", ["tiny_gemaps", "tiny_large"])
@pytest.mark.parametrize("gain_db", [-30.0, -10.0, 6.0])
def test_functional_prediction_does_not_depend_on_the_input_level(recognizers, model, gain_db):
    r = recognizers(model)
    x = speechlike(3.0, seed=22)
    a = r.predict(x, sample_rate=16000)
    b = r.predict(x * np.float32(10 ** (gain_db / 20)), sample_rate=16000)
    assert a.label == b.label
    assert max(abs(a.scores[k] - b.scores[k]) for k in r.labels) < 0.02


def test_functional_model_says_no_speech_for_silence(recognizers):
    p = recognizers("tiny_gemaps").predict(np.zeros(32000, np.float32), sample_rate=16000)
    assert not p.is_speech and p.label is None


def test_predict_path_of_a_functional_model_imports_no_heavy_module(bundle_dir):
    code = (
        "import sys, numpy as np, edgeser\n"
        f"r = edgeser.Recognizer({str(bundle_dir / 'tiny_gemaps.edgeser')!r})\n"
        "t = np.arange(32000) / 16000\n"
        "f0 = 140 + 30 * np.sin(2 * np.pi * 1.5 * t)\n"
        "ph = 2 * np.pi * np.cumsum(f0) / 16000\n"
        "env = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t)\n"
        "x = sum(np.sin(k * ph) / k for k in range(1, 12)) * env\n"
        "r.predict((0.1 * x).astype(np.float32), sample_rate=16000)\n"
        "heavy = [m for m in ('tensorflow', 'opensmile', 'pandas', 'librosa', 'numba', 'scipy')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "HEAVY []" in out.stdout


def test_descriptor_rate_must_match_the_model():
    with pytest.raises(BundleError, match="Hz"):
        from edgeser.pipelines.functionals import FunctionalPipeline

        class _Model:
            source, name, sample_rate = "x", "m", 16000

        FunctionalPipeline(
            _Model(),  # type: ignore[arg-type]
            FunctionalFeatures(
                functionals.SET_V1, DescriptorConfig(sample_rate=8000, formant_max_hz=4000.0)
            ),
        )
