"""Per-window mean normalisation (bundle format 3): the input level and a fixed channel
colouring do not change what the model sees, offline or streamed."""

from __future__ import annotations

import numpy as np
import pytest

from edgeser.bundle import FORMAT_VERSION, ModelBundle
from edgeser.errors import BundleError
from edgeser.feature_configs import FrontendFeatures, features_from_dict
from edgeser.frontend import FrontendConfig
from edgeser.windows import feature_windows

from .support import speechlike
from .test_recognizer import assert_same_windows, run_stream


def test_mean_norm_removes_a_constant_per_band_and_keeps_the_windows():
    rng = np.random.default_rng(0)
    f = rng.standard_normal((230, 6)).astype(np.float32)
    offset = rng.standard_normal(6).astype(np.float32) * 5
    a = feature_windows(f, 100, 50, "mean")
    b = feature_windows(f + offset, 100, 50, "mean")
    np.testing.assert_allclose(a, b, atol=1e-5)
    assert np.abs(a.mean(axis=1)).max() < 1e-5  # each window has zero mean per band
    plain = feature_windows(f, 100, 50)
    assert plain.shape == a.shape and not np.allclose(plain, a)
    with pytest.raises(ValueError, match="window norm"):
        feature_windows(f, 100, 50, "max")


def test_short_input_is_normalised_over_its_real_frames_only():
    f = np.full((30, 3), 7.0, np.float32)
    w = feature_windows(f, 100, 50, "mean")
    assert w.shape == (1, 100, 3) and np.abs(w).max() == 0.0


def test_bundle_with_window_norm_needs_format_3():
    spec = FrontendFeatures(
        kind="log_mel",
        frontend=FrontendConfig(),
        window_frames=100,
        hop_frames=50,
        window_norm="mean",
    )
    assert spec.min_format_version == 3 <= FORMAT_VERSION
    off = FrontendFeatures(
        kind="log_mel",
        frontend=FrontendConfig(),
        window_frames=100,
        hop_frames=50,
        window_norm="none",
    )
    assert off.min_format_version == 1 and "window_norm" not in off.to_dict()
    with pytest.raises(BundleError, match="window_norm"):
        FrontendFeatures(
            kind="log_mel",
            frontend=FrontendConfig(),
            window_frames=100,
            hop_frames=50,
            window_norm="peak",
        )
    with pytest.raises(BundleError, match="front-end"):
        features_from_dict(
            {"type": "opensmile", "dim": 88, "opensmile_set": "eGeMAPSv02", "window_norm": "mean"}
        )


def test_window_norm_round_trips_through_the_bundle(bundle_dir):
    b = ModelBundle.load(bundle_dir / "tiny_wnorm.edgeser")
    assert b.meta.features.window_norm == "mean" and b.meta.format_version == 3
    again = ModelBundle.from_bytes(b.to_bytes())
    assert again.meta.features == b.meta.features


@pytest.mark.parametrize("gain_db", [-40.0, -30.0, -20.0, -6.0, 6.0])
def test_prediction_does_not_depend_on_the_input_level(recognizers, gain_db):
    r = recognizers("tiny_wnorm")
    x = speechlike(3.0, seed=11)
    want = r.predict(x, sample_rate=16000)
    got = r.predict(x * np.float32(10 ** (gain_db / 20)), sample_rate=16000)
    assert got.is_speech and want.is_speech and got.label == want.label
    assert max(abs(got.scores[k] - want.scores[k]) for k in r.labels) < 1e-3


def test_without_window_norm_the_level_does_matter(recognizers):
    """The check above can fail: the same audio 30 dB quieter moves a plain model's scores."""
    r = recognizers("tiny_float")
    x = speechlike(3.0, seed=11)
    a, b = r.predict(x, sample_rate=16000), r.predict(x * np.float32(10**-1.5), sample_rate=16000)
    assert max(abs(a.scores[k] - b.scores[k]) for k in r.labels) > 1e-2


def test_a_fixed_channel_colouring_barely_moves_the_scores(recognizers):
    r = recognizers("tiny_wnorm")
    x = speechlike(3.0, seed=12)
    tilted = np.convolve(x, [1.0, -0.6], mode="same").astype(np.float32)  # high-pass tilt
    a, b = r.predict(x, sample_rate=16000), r.predict(tilted, sample_rate=16000)
    plain = recognizers("tiny_float")
    c, d = plain.predict(x, sample_rate=16000), plain.predict(tilted, sample_rate=16000)
    moved = max(abs(a.scores[k] - b.scores[k]) for k in r.labels)
    moved_plain = max(abs(c.scores[k] - d.scores[k]) for k in r.labels)
    assert moved < moved_plain


@pytest.mark.parametrize("chunk", [160, 1234, 10**7])
def test_stream_equals_timeline_with_window_norm(recognizers, long_audio, chunk):
    r = recognizers("tiny_wnorm")
    want = r.timeline(long_audio, sample_rate=16000)
    got = run_stream(r.stream(sample_rate=16000), long_audio, chunk)
    assert_same_windows(got, want, 1e-5)
