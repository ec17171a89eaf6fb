"""Per-window mean normalisation (bundle format 3): the input level and a fixed channel
colouring do not change what the model sees, offline or streamed."""

from __future__ import annotations

import numpy as np
import pytest

from edgeser.bundle import FORMAT_VERSION, ModelBundle
from edgeser.errors import BundleError
from edgeser.feature_configs import FrontendFeatures, features_from_dict
from edgeser.frontend import FrontendConfig
from edgeser.windows import feature_windows, floor_depths

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


# ---- window floor (bundle format 6) ---------------------------------------------------------
def with_digital_silence(seconds: float, seed: int) -> np.ndarray:
    """Speech-like audio with stretches of exact zeros (a muted microphone, RAVDESS-style
    trimmed pauses): an absolute log floor moves these relative to the speech with the gain."""
    x = speechlike(seconds, seed=seed)
    n = len(x)
    for a in (0.15, 0.5, 0.8):
        x[int(a * n) : int((a + 0.08) * n)] = 0.0
    return x


def test_window_floor_raises_each_band_to_its_peak_minus_the_depth():
    rng = np.random.default_rng(1)
    f = rng.standard_normal((120, 4)).astype(np.float32) * 3
    f[10:20, 2] = -50.0  # a deep hole in one band
    depth = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    w = feature_windows(f, 100, 100, "none", depth)
    seg = f[:100]
    np.testing.assert_array_equal(w[0], np.maximum(seg, seg.max(axis=0) - depth))
    assert (w[0].min(axis=0) >= seg.max(axis=0) - depth - 1e-6).all()
    assert w[0][15, 2] == seg[:, 2].max() - 3.0
    with pytest.raises(ValueError, match="one value per dimension"):
        feature_windows(f, 100, 100, "none", depth[:3])


def test_windows_at_given_starts_equal_those_cut_one_by_one():
    """The runtime cuts only the windows the voice gate kept, all at once (`starts`): the
    same windows, padding past the end included, as cutting each on its own."""
    rng = np.random.default_rng(2)
    f = rng.standard_normal((230, 4)).astype(np.float32)
    depth = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    starts = [0, 50, 130, 200]  # the last runs 70 frames past the end
    got = feature_windows(f, 100, 50, "mean", depth, starts=starts)
    for i, s in enumerate(starts):
        np.testing.assert_array_equal(
            got[i], feature_windows(f[s : s + 100], 100, 100, "mean", depth)[0]
        )
    assert (got[3, 30:] == 0).all()


@pytest.mark.parametrize(
    ("log_type", "power", "per_db"),
    [("natural", 2.0, np.log(10) / 10), ("db", 2.0, 1.0), ("natural", 1.0, np.log(10) / 20)],
)
def test_floor_depth_is_the_db_figure_in_normalised_log_units(log_type, power, per_db):
    std = np.array([1.0, 2.0, 0.5], np.float32)
    got = floor_depths(60.0, log_type, power, std)
    np.testing.assert_allclose(got, 60.0 * per_db / std, rtol=1e-6)


def test_bundle_with_a_window_floor_needs_format_6_and_log_mel_energies():
    def spec(**kw):
        base = dict(
            kind="log_mel",
            frontend=FrontendConfig(),
            window_frames=100,
            hop_frames=50,
            window_norm="mean",
        )
        return FrontendFeatures(**{**base, **kw})

    s = spec(window_floor_db=60.0)
    assert s.min_format_version == 6 <= FORMAT_VERSION
    assert s.to_dict()["window_floor_db"] == 60.0 and "60 dB" in s.describe()
    assert features_from_dict(s.to_dict()) == s
    assert "window_floor_db" not in spec().to_dict() and spec().min_format_version == 3
    for bad, match in [
        (dict(window_floor_db=-1.0), "window_floor_db"),
        (dict(window_floor_db=float("nan")), "window_floor_db"),
        (dict(window_floor_db=True), "window_floor_db"),
        (dict(window_floor_db=1e9), "window_floor_db"),
        (dict(window_floor_db=60.0, kind="mfcc"), "log-mel"),
        (dict(window_floor_db=60.0, frontend=FrontendConfig(deltas=1)), "log-mel"),
    ]:
        with pytest.raises(BundleError, match=match):
            spec(**bad)
    with pytest.raises(BundleError, match="front-end"):
        features_from_dict(
            {"type": "opensmile", "dim": 88, "opensmile_set": "eGeMAPSv02", "window_floor_db": 6}
        )


def test_an_older_runtime_refuses_a_floored_bundle(bundle_dir):
    b = ModelBundle.load(bundle_dir / "tiny_wfloor.edgeser")
    assert b.meta.format_version == 6 and b.meta.features.window_floor_db == 60.0
    assert ModelBundle.from_bytes(b.to_bytes()).meta.features == b.meta.features
    d = b.meta.features.to_dict()
    d.pop("window_floor_db")  # what a format-5 runtime would have to assume: no floor
    assert features_from_dict(d) != b.meta.features


@pytest.mark.parametrize("gain_db", [-40.0, -30.0, -10.0, 6.0])
def test_window_floor_makes_silence_level_independent(recognizers, gain_db):
    r = recognizers("tiny_wfloor")
    x = with_digital_silence(3.0, seed=13)
    want = r.predict(x, sample_rate=16000)
    got = r.predict(x * np.float32(10 ** (gain_db / 20)), sample_rate=16000)
    assert got.is_speech and want.is_speech and got.windows == want.windows
    assert max(abs(got.scores[k] - want.scores[k]) for k in r.labels) < 1e-4


def test_without_the_floor_digital_silence_moves_the_windows():
    """The check above can fail: with mean normalisation alone, zeros sit at the absolute log
    floor while the speech moves with the gain, so the windows change."""
    cfg = FrontendConfig(log_floor=1e-20)
    x = with_digital_silence(3.0, seed=13)
    std = np.full(cfg.n_mels, 2.0, np.float32)

    def windows(sig, floor_db):
        from edgeser import frontend

        z = ((frontend.features(sig, cfg, "log_mel") - 1.0) / std).astype(np.float32)
        spec = FrontendFeatures(cfg, "log_mel", 100, 50, "mean", floor_db)
        return spec.windows(z, std)

    quiet = x * np.float32(10**-1.5)
    assert np.abs(windows(x, 0.0) - windows(quiet, 0.0)).max() > 1.0
    assert np.abs(windows(x, 60.0) - windows(quiet, 60.0)).max() < 1e-4


@pytest.mark.parametrize("chunk", [160, 1234, 10**7])
def test_stream_equals_timeline_with_window_floor(recognizers, long_audio, chunk):
    r = recognizers("tiny_wfloor")
    x = long_audio.copy()
    x[len(x) // 3 : len(x) // 3 + 8000] = 0.0
    want = r.timeline(x, sample_rate=16000)
    got = run_stream(r.stream(sample_rate=16000), x, chunk)
    assert_same_windows(got, want, 1e-5)
