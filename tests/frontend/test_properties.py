"""Hypothesis properties over random configs, signal lengths and chunkings, on every backend."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from edgeser import frontend
from edgeser.frontend import FrontendConfig, reference

KINDS = ("spectrogram", "log_mel", "mfcc")
RATES = (8000, 11025, 16000, 22050, 44100, 48000)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@st.composite
def configs(draw, streamable: bool = False) -> FrontendConfig:
    """Any valid config with frames of 2..1200 samples (invalid combinations are rejected).

    `streamable`: no CMVN (per-utterance statistics cannot stream).
    """
    rate = draw(st.sampled_from(RATES))
    length = draw(st.integers(2, 1200))
    shift = draw(st.integers(1, 2 * length))
    nyq = rate / 2.0
    n_mels = draw(st.integers(1, 64))
    fmin = draw(st.sampled_from([0.0, 20.0, 133.33]))
    fields = dict(
        sample_rate=rate,
        frame_length_ms=1000.0 * length / rate,
        frame_shift_ms=1000.0 * shift / rate,
        n_fft=draw(st.one_of(st.just(0), st.integers(length, length + 300))),
        window=draw(st.sampled_from(["hamming", "hann", "povey", "rectangular"])),
        preemphasis=draw(st.sampled_from([0.0, 0.97]) | st.floats(0.0, 0.99)),
        remove_dc=draw(st.booleans()),
        n_mels=n_mels,
        n_mfcc=draw(st.integers(1, n_mels)),
        fmin=fmin,
        fmax=draw(st.sampled_from([0.0, -0.05 * nyq, 0.8 * nyq])),
        mel_scale=draw(st.sampled_from(["htk", "slaney"])),
        mel_norm=draw(st.sampled_from(["none", "slaney"])),
        triangle_domain=draw(st.sampled_from(["hz", "mel"])),
        power=draw(st.sampled_from([1.0, 2.0])),
        log_type=draw(st.sampled_from(["natural", "db"])),
        log_floor=draw(st.sampled_from([1e-10, 1.1920928955078125e-07, 1e-3])),
        lifter=draw(st.sampled_from([0.0, 22.0]) | st.floats(1.0, 40.0)),
        deltas=draw(st.integers(0, 2)),
        delta_window=draw(st.integers(1, 3)),
        cmvn="none" if streamable else draw(st.sampled_from(["none", "mean", "meanvar"])),
        vtlp_alpha=draw(st.sampled_from([1.0, 0.9, 1.1]) | st.floats(0.8, 1.2)),
        vtlp_high_hz=0.6 * nyq,
    )
    try:
        cfg = FrontendConfig(**fields)
    except ValueError:
        assume(False)
    assume(cfg.frame_length == length and cfg.frame_shift == shift)
    return cfg


@st.composite
def signals(draw, min_len: int = 1, max_len: int = 4000) -> np.ndarray:
    """Random float32 signals: noise, tones plus noise, or sparse clicks, at varied levels."""
    n = draw(st.integers(min_len, max_len))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    gain = draw(st.sampled_from([1e-3, 1.0, 3e4]))
    style = draw(st.sampled_from(["noise", "tone", "clicks"]))
    t = np.arange(n)
    if style == "noise":
        x = rng.standard_normal(n)
    elif style == "tone":
        x = np.sin(2 * np.pi * rng.uniform(0.001, 0.5) * t) + 0.1 * rng.standard_normal(n)
    else:
        x = np.where(rng.random(n) < 0.01, rng.uniform(-1, 1, n), 0.0)
    return (gain * x).astype(np.float32)


@SETTINGS
@given(cfg=configs(), x=signals(), kind=st.sampled_from(KINDS))
def test_backends_match_reference(fast_backend_name, features_match, cfg, x, kind):
    got = frontend.features(x, cfg, kind, backend=fast_backend_name)
    want = reference.compute(x, cfg, kind)
    features_match(got, want, kind, f"{fast_backend_name}, {cfg}")


@SETTINGS
@given(cfg=configs(), n=st.integers(0, 5000), kind=st.sampled_from(KINDS))
def test_shape_is_frames_by_feature_dim(backend_name, cfg, n, kind):
    """Frames are every shift-spaced window that fits in the signal (snip edges)."""
    x = np.random.default_rng(n).standard_normal(max(n, 1))[:n].astype(np.float32)
    fits = len(range(0, n - cfg.frame_length + 1, cfg.frame_shift))
    assert cfg.num_frames(n) == fits
    if n == 0:
        return  # an empty signal is an error, tested in test_inputs
    out = frontend.features(x, cfg, kind, backend=backend_name)
    assert out.shape == (fits, cfg.feature_dim(kind)) and out.dtype == np.float32
    assert np.isfinite(out).all()


@SETTINGS
@given(cfg=configs(), x=signals(max_len=3000), kind=st.sampled_from(KINDS))
def test_dropping_one_shift_of_samples_drops_one_frame(backend_name, cfg, x, kind):
    """Frames depend only on their own samples: x[shift:] gives the same frames minus the first."""
    cfg = cfg.replace(deltas=0, cmvn="none")
    assume(cfg.num_frames(len(x)) >= 2)
    full = frontend.features(x, cfg, kind, backend=backend_name)
    tail = frontend.features(x[cfg.frame_shift :], cfg, kind, backend=backend_name)
    np.testing.assert_allclose(tail, full[1:], rtol=1e-6, atol=1e-6 * np.abs(full).max())


@SETTINGS
@given(
    cfg=configs(streamable=True),
    x=signals(min_len=0, max_len=3000),
    kind=st.sampled_from(KINDS),
    cuts=st.lists(st.integers(0, 3000), max_size=12),
)
def test_streaming_equals_offline_for_any_split(backend_name, cfg, x, kind, cuts):
    bounds = [0, *sorted(c for c in cuts if c <= len(x)), len(x)]
    stream = frontend.FrameStream(cfg, kind, backend=backend_name)
    outs = [stream.push(x[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
    outs.append(stream.flush())
    got = np.concatenate(outs)
    assert got.shape == (cfg.num_frames(len(x)), cfg.feature_dim(kind))
    if len(x):
        want = frontend.features(x, cfg, kind, backend=backend_name)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * np.abs(want).max(initial=1.0))
