"""Bad input fails clearly and the same way on every backend; odd but valid input works."""

from __future__ import annotations

import numpy as np
import pytest

from edgeser import frontend
from edgeser.frontend import FrontendConfig

KINDS = ("spectrogram", "log_mel", "mfcc")


@pytest.mark.parametrize(
    "bad, error, message",
    [
        (np.zeros(0, dtype=np.float32), ValueError, "empty"),
        ([], ValueError, "empty"),
        (np.array([0.1, np.nan, 0.2] * 200, dtype=np.float32), ValueError, "NaN"),
        (np.array([0.1, np.inf] * 300), ValueError, "infinite"),
        (np.array([-np.inf] * 600, dtype=np.float32), ValueError, "infinite"),
        (np.zeros((800, 2), dtype=np.float32), ValueError, "mix"),
        (np.zeros((2, 800), dtype=np.float32), ValueError, "mix"),
        (np.zeros((40, 40), dtype=np.float32), ValueError, "1-D"),
        (np.zeros((2, 2, 400), dtype=np.float32), ValueError, "1-D"),
        (np.float32(0.5), ValueError, "1-D"),
        (np.array(["a"] * 600), TypeError, "dtype"),
        (np.zeros(600, dtype=object), TypeError, "dtype"),
        (np.zeros(600, dtype=np.complex64), TypeError, "dtype"),
        (np.zeros(600, dtype=bool), TypeError, "dtype"),
        ("clip.wav", TypeError, "edgeser.audio.load"),
        (b"RIFF....", TypeError, "numeric"),
        ([[0.1, 0.2], [0.3]], TypeError, "1-D"),
        (None, TypeError, "dtype"),
    ],
)
def test_bad_signals_raise_clear_errors(backend_name, bad, error, message):
    for call in (
        lambda: frontend.mfcc(bad, backend=backend_name),
        lambda: frontend.features_batch([np.zeros(800, np.float32), bad], backend=backend_name),
    ):
        with pytest.raises(error, match=message):
            call()


def test_streams_reject_bad_chunks_but_accept_empty_ones(backend_name):
    stream = frontend.FrameStream(FrontendConfig(), "mfcc", backend=backend_name)
    assert stream.push(np.zeros(0, dtype=np.float32)).shape == (0, 13)
    with pytest.raises(ValueError, match="NaN"):
        stream.push(np.array([np.nan], dtype=np.float32))
    with pytest.raises(ValueError, match="mix"):
        stream.push(np.zeros((100, 2), dtype=np.float32))
    with pytest.raises(TypeError, match="dtype"):
        stream.push(np.zeros(10, dtype=np.complex128))


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("frame_length_ms", -25.0, "positive"),
        ("frame_length_ms", 0.0, "positive"),
        ("frame_shift_ms", -1.0, "positive"),
        ("frame_length_ms", 0.05, "shorter than 2 samples"),
        ("frame_length_ms", float("nan"), "finite"),
        ("frame_length_ms", "25", "finite"),
        ("sample_rate", 16000.0, "integer"),
        ("sample_rate", 100, "between"),
        ("n_fft", 256, "frame length"),
        ("n_fft", -1, "positive"),
        ("fmax", 9000.0, "Nyquist"),
        ("fmin", -5.0, ">= 0"),
        ("fmax", 10.0, "not above fmin"),
        ("n_mfcc", 41, "n_mels"),
        ("n_mfcc", 0, "between"),
        ("n_mels", 0, "between"),
        ("n_mels", True, "integer"),
        ("window", "blackman", "window"),
        ("mel_scale", "bark", "mel_scale"),
        ("mel_norm", "l2", "mel_norm"),
        ("triangle_domain", "bins", "triangle_domain"),
        ("power", 3.0, "power"),
        ("log_type", "log2", "log_type"),
        ("log_floor", 0.0, "positive"),
        ("preemphasis", 1.0, r"\[0, 1\)"),
        ("lifter", -1.0, "or >= 1"),
        ("lifter", 0.5, "or >= 1"),
        ("deltas", 3, "0, 1 or 2"),
        ("delta_window", 0, "between"),
        ("cmvn", "global", "cmvn"),
        ("vtlp_alpha", 3.0, "between"),
        ("remove_dc", 1, "bool"),
    ],
)
def test_invalid_config_values_name_the_field(field, value, message):
    with pytest.raises(ValueError, match=message) as info:
        FrontendConfig(**{field: value})
    assert f"FrontendConfig.{field}=" in str(info.value)


def test_vtlp_boundary_is_checked_only_when_vtlp_is_on():
    assert FrontendConfig(sample_rate=8000).vtlp_high_hz > 4000  # default boundary unused
    with pytest.raises(ValueError, match="FrontendConfig.vtlp_high_hz=.*Nyquist"):
        FrontendConfig(sample_rate=8000, vtlp_alpha=1.1)
    with pytest.raises(ValueError, match="Nyquist"):
        FrontendConfig(vtlp_alpha=0.9, vtlp_high_hz=9000.0)


def test_non_config_objects_and_unknown_kinds_are_rejected(backend_name):
    x = np.zeros(1600, dtype=np.float32)
    with pytest.raises(TypeError, match="FrontendConfig"):
        frontend.mfcc(x, {"n_mels": 40}, backend=backend_name)
    with pytest.raises(ValueError, match="feature kind"):
        frontend.features(x, kind="mel", backend=backend_name)
    with pytest.raises(ValueError, match="feature kind"):
        frontend.FrameStream(kind="cepstrum", backend=backend_name)
    for threads in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="num_threads"):
            frontend.features_batch([x], num_threads=threads, backend=backend_name)


def test_unknown_backend_name_is_rejected():
    with pytest.raises(ValueError, match="unknown front-end backend"):
        frontend.mfcc(np.zeros(1000, np.float32), backend="cuda")


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("extra", [{}, dict(deltas=2), dict(cmvn="meanvar", deltas=1)])
def test_signal_shorter_than_one_frame_gives_no_frames(backend_name, kind, extra):
    cfg = FrontendConfig(**extra)
    for n in (1, cfg.frame_length - 1):
        out = frontend.features(np.ones(n, dtype=np.float32), cfg, kind, backend=backend_name)
        assert out.shape == (0, cfg.feature_dim(kind)) and out.dtype == np.float32
    one = frontend.features(np.ones(cfg.frame_length, np.float32), cfg, kind, backend=backend_name)
    assert one.shape == (1, cfg.feature_dim(kind))
    batch = frontend.features_batch([np.ones(3, np.float32)], cfg, kind, backend=backend_name)
    assert batch[0].shape == (0, cfg.feature_dim(kind))


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.int64, np.uint8, np.float64, np.float16])
def test_other_dtypes_equal_float32_of_the_same_values(backend_name, dtype, signal_factory):
    """No rescaling: int16 samples are analysed in the int16 range, as float32 would be."""
    values = signal_factory("int16_scale", seconds=0.2)
    if dtype == np.uint8:
        values = np.clip(np.abs(values) / 128.0, 0, 255).round()
    if dtype == np.float16:
        values = (values / 32768.0).astype(np.float16).astype(np.float32)
    typed = values.astype(dtype)
    for kind in KINDS:
        want = frontend.features(typed.astype(np.float32), kind=kind, backend=backend_name)
        got = frontend.features(typed, kind=kind, backend=backend_name)
        np.testing.assert_array_equal(got, want)


def test_lists_and_strided_views_equal_contiguous_float32(backend_name, signal_factory):
    x = signal_factory("noise", seconds=0.4)
    want = frontend.mfcc(x[::2].copy(), backend=backend_name)
    np.testing.assert_array_equal(frontend.mfcc(x[::2], backend=backend_name), want)
    np.testing.assert_array_equal(frontend.mfcc(x[::2].tolist(), backend=backend_name), want)


def test_float32_input_is_not_modified(backend_name, signal_factory):
    x = signal_factory("chirp", seconds=0.2)
    before = x.copy()
    frontend.mfcc(x, FrontendConfig(remove_dc=True, deltas=2, cmvn="meanvar"), backend=backend_name)
    np.testing.assert_array_equal(x, before)
