"""Bundled-model registry and bundle loading: names, "default", paths, and broken bundles."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import numpy as np
import pytest

import edgeser
from edgeser import registry
from edgeser.bundle import MAGIC, ModelBundle
from edgeser.errors import BundleError, BundleVersionError
from edgeser.recognizer import Recognizer

from .support import LABELS, ROOT


def test_models_lists_every_bundle_with_metadata(models_dir):
    found = edgeser.models(models_dir)
    names = {m.name for m in found}
    assert {"tiny_float", "tiny_int8", "tiny_fixed", "tiny_logits"} <= names
    q = next(m for m in found if m.name == "tiny_int8")
    assert q.labels == LABELS and q.quantization == "int8" and q.sample_rate == 16000
    assert q.size_bytes == len(ModelBundle.load(models_dir / "tiny_int8.edgeser").model)
    assert "log_mel" in q.features and "100 frames" in q.features
    assert q.corpus == "synthetic" and q.protocol and q.metrics == {"WA": 0.25, "UA": 0.25}
    assert not any(m.is_default for m in found)
    assert json.loads(json.dumps(q.to_dict()))["name"] == "tiny_int8"


def test_default_resolves_through_the_default_file(models_dir):
    with pytest.raises(BundleError, match="no default model"):
        registry.resolve("default", models_dir)
    (models_dir / "DEFAULT").write_text("tiny_int8\n")
    assert registry.resolve("default", models_dir).meta.name == "tiny_int8"
    assert [m.name for m in registry.models(models_dir) if m.is_default] == ["tiny_int8"]
    assert registry.describe("default", models_dir).is_default
    r = Recognizer("default", models_dir=models_dir)
    assert r.name == "tiny_int8"


def test_environment_variable_points_at_another_models_folder(models_dir, monkeypatch):
    monkeypatch.setenv(registry.ENV_MODELS_DIR, str(models_dir))
    assert registry.models_dir() == models_dir
    assert registry.resolve("tiny_float").meta.name == "tiny_float"
    assert {m.name for m in edgeser.models()} >= {"tiny_float"}


def test_names_paths_and_bundles(models_dir, tmp_path):
    b = registry.resolve("tiny_float", models_dir)
    assert registry.resolve("tiny_float.edgeser", models_dir).meta.name == "tiny_float"
    assert registry.resolve(b) is b
    # by the name inside the bundle even when the file is called otherwise
    (models_dir / "tiny_float.edgeser").rename(models_dir / "renamed.edgeser")
    assert registry.resolve("tiny_float", models_dir).meta.name == "tiny_float"
    outside = tmp_path / "elsewhere" / "mine.edgeser"
    b.save(outside)
    assert registry.resolve(str(outside), models_dir).meta.name == "tiny_float"
    assert registry.resolve(outside, models_dir).meta.name == "tiny_float"
    with pytest.raises(BundleError, match="unknown model 'nope'.*available: .*tiny_int8"):
        registry.resolve("nope", models_dir)
    with pytest.raises(BundleError, match="missing.edgeser"):
        registry.resolve(str(tmp_path / "missing.edgeser"), models_dir)
    with pytest.raises(BundleError, match="model must be"):
        registry.resolve(42, models_dir)


def test_normalisation_statistics_round_trip_exactly_in_float32(models_dir, tmp_path):
    """Statistics are stored as the shortest decimals of their float32 values: what the runtime
    applies (float32) is bit-identical after a save/load, for tiny and huge magnitudes too."""
    import numpy as np

    b = registry.resolve("tiny_float", models_dir)
    dim = b.meta.features.dim
    rng = np.random.default_rng(3)
    mean = (rng.standard_normal(dim) * 10.0 ** rng.integers(-30, 30, dim)).astype(np.float32)
    std = (rng.uniform(0.1, 10, dim) * 10.0 ** rng.integers(-30, 30, dim)).astype(np.float32)
    meta = dataclasses.replace(b.meta, norm_mean=tuple(mean.tolist()), norm_std=tuple(std.tolist()))
    back = ModelBundle.load(ModelBundle(meta, b.model).save(tmp_path / "stats.edgeser")).meta
    assert np.array_equal(np.asarray(back.norm_mean, np.float32), mean)
    assert np.array_equal(np.asarray(back.norm_std, np.float32), std)


def test_empty_or_absent_models_folder(tmp_path):
    assert registry.models(tmp_path) == []
    assert registry.models(tmp_path / "absent") == []
    with pytest.raises(BundleError, match="available: none"):
        registry.resolve("anything", tmp_path)


def test_feature_selection_is_validated_and_versioned(models_dir, tmp_path):
    """`features.select` (format version 2) names which functionals the model reads; bundles
    without it keep format version 1 so older runtimes still read them."""
    from edgeser.bundle import FORMAT_VERSION
    from edgeser.feature_configs import OpenSmileFeatures, features_from_dict

    def smile(**d):
        return features_from_dict({"type": "opensmile", "opensmile_set": "eGeMAPSv02", **d})

    spec = OpenSmileFeatures(opensmile_set="eGeMAPSv02", select=(0, 4, 87))
    assert spec.dim == 3
    assert features_from_dict(json.loads(json.dumps(spec.to_dict()))) == spec
    assert spec.min_format_version == 2 <= FORMAT_VERSION
    assert smile(dim=88).min_format_version == 1
    for bad in ([0, 4], [4, 0, 87], [0, 0, 1], [-1, 2, 3], [0, 1.0, 2], [0, True, 2]):
        with pytest.raises(BundleError, match="select must be 3 ascending"):
            smile(dim=3, select=bad)
    with pytest.raises(BundleError, match="select index 88 is past the 88 functionals"):
        smile(dim=2, select=[3, 88])
    with pytest.raises(BundleError, match="has 88 functionals, the features say 87"):
        smile(dim=87)
    front = registry.resolve("tiny_float", models_dir).meta.features
    with pytest.raises(
        BundleError, match="select applies to opensmile and functional features only"
    ):
        features_from_dict({**front.to_dict(), "select": list(range(front.dim))})
    meta = registry.resolve("tiny_float", models_dir).meta
    smile_meta = dataclasses.replace(
        meta, features=spec, norm_mean=(0.0,) * 3, norm_std=(1.0,) * 3, format_version=2
    )
    back = ModelBundle.from_bytes(ModelBundle(smile_meta, b"model").to_bytes())
    assert back.meta.features.select == (0, 4, 87) and back.meta.format_version == 2
    with pytest.raises(BundleError, match="format_version 1 cannot describe"):
        dataclasses.replace(smile_meta, format_version=1)


# ---- broken bundles -----------------------------------------------------------------------------
def _rewrite_header(data: bytes, **changes) -> bytes:
    (n,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4
    header = json.loads(data[start : start + n])
    header.update(changes)
    raw = json.dumps(header).encode()
    return MAGIC + struct.pack("<I", len(raw)) + raw + data[start + n :]


@pytest.mark.parametrize(
    "damage,error,match",
    [
        ("flip_model_byte", BundleError, "checksum mismatch"),
        ("flip_header_byte", BundleError, "not a valid edgeser model bundle"),
        ("wrong_magic", BundleError, "missing the EDGESER header"),
        ("truncated", BundleError, "not a valid edgeser model bundle"),
        ("newer_version", BundleVersionError, "newer than this edgeser reads"),
    ],
)
def test_broken_bundles_raise_naming_the_file(models_dir, damage, error, match):
    path = models_dir / "tiny_float.edgeser"
    data = bytearray(path.read_bytes())
    if damage == "flip_model_byte":
        data[-200] ^= 0x01
    elif damage == "flip_header_byte":
        data[len(MAGIC) + 4 + 20] ^= 0x01
    elif damage == "wrong_magic":
        data[: len(MAGIC)] = b"NOTOURS\x00"
    elif damage == "truncated":
        del data[len(data) // 3 :]
    elif damage == "newer_version":
        data = bytearray(_rewrite_header(bytes(data), format_version=99))
    bad = models_dir / "broken.edgeser"
    bad.write_bytes(bytes(data))
    with pytest.raises(error, match=match) as info:
        Recognizer(bad)
    assert str(bad) in str(info.value)
    with pytest.raises(error):
        registry.models(models_dir)  # listing reads it too, and says which file


def test_model_that_contradicts_its_metadata_is_rejected(models_dir):
    good = ModelBundle.load(models_dir / "tiny_float.edgeser")
    three = dataclasses.replace(good.meta, labels=("a", "b", "c"))
    path = ModelBundle(meta=three, model=good.model).save(models_dir / "three.edgeser")
    with pytest.raises(BundleError, match="4 outputs for 3 labels"):
        Recognizer(path)
    not_tflite = ModelBundle(meta=good.meta, model=b"\x00" * 64).save(models_dir / "junk.edgeser")
    with pytest.raises(BundleError, match="junk.edgeser.*cannot be loaded"):
        Recognizer(not_tflite)


# ---- the real bundled model ---------------------------------------------------------------------
PACKAGE_MODELS = ROOT / "edgeser" / "models"


@pytest.mark.skipif(
    not (PACKAGE_MODELS / "DEFAULT").exists(),
    reason="no trained default model bundled yet (edgeser/models/DEFAULT absent)",
)
def test_bundled_default_model_loads_and_predicts(monkeypatch):
    from .support import speechlike

    monkeypatch.delenv(registry.ENV_MODELS_DIR, raising=False)
    info = registry.describe("default")
    assert info.is_default and Path(info.path).parent == PACKAGE_MODELS
    assert info.training, "the default model must say what it was trained on"
    r = Recognizer("default")
    p = r.predict(speechlike(2.0, seed=1, rate=r.sample_rate), sample_rate=r.sample_rate)
    assert p.label in r.labels


@pytest.mark.skipif(
    not (PACKAGE_MODELS / "six-core-resse_cnn1d-gemaps-calibrated-int8.edgeser").is_file(),
    reason="the speaker-calibrated model is not bundled",
)
def test_bundled_calibrated_model_calibrates_on_speech_only():
    """Its calibration counts the speech clips a speaker gives it, and changes the scores."""
    from edgeser.recognizer import Recognizer

    from .support import speechlike

    r = Recognizer(str(PACKAGE_MODELS / "six-core-resse_cnn1d-gemaps-calibrated-int8.edgeser"))
    assert r.calibrated and r.bundle.meta.format_version == 10  # calibration (8), floors (10)
    me = r.new_calibration()
    clips = [speechlike(2.0, seed=s) for s in range(4)]
    preds = [r.predict(c, 16000, calibration=me) for c in clips]
    assert me.count == sum(p.is_speech for p in preds)
    r.predict(np.zeros(16000, np.float32), 16000, calibration=me)  # silence: no statistics
    assert me.count == sum(p.is_speech for p in preds)
    assert me.count >= 2, "the voice gate should pass these speech-like clips"
    if me.count >= 2:
        first = r.predict(clips[-1], 16000)
        assert first.scores != pytest.approx(preds[-1].scores, abs=1e-6)
