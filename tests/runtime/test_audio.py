"""Audio input: every accepted type decodes to the same mono samples; bad input fails clearly."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

from edgeser import audio
from edgeser.errors import AudioDecodeError, AudioError

from .support import RATE, encode, speechlike

X = speechlike(0.5, seed=3)  # float32 in about [-0.3, 0.3]
X16 = np.round(X * 32767).astype(np.int16)


def test_int_and_float_arrays_share_one_scale():
    want = X16.astype(np.float64) / 32768.0
    for arr in (X16, X16.astype(np.int32) << 16, want.astype(np.float32), want):
        got = audio.load(arr, RATE).samples
        assert got.dtype == np.float32 and got.shape == X.shape
        np.testing.assert_allclose(got, want, atol=1e-6, err_msg=str(arr.dtype))


@pytest.mark.parametrize("layout", ["samples_channels", "channels_samples"])
def test_stereo_arrays_are_mixed_down_in_either_orientation(layout):
    left, right = X, -0.5 * X
    arr = np.stack([left, right], axis=1 if layout == "samples_channels" else 0)
    got = audio.load(arr, RATE).samples
    np.testing.assert_allclose(got, 0.5 * (left + right), atol=1e-7)


def test_path_bytes_and_file_like_decode_to_the_same_samples(tmp_path):
    data = encode(X16, RATE, "WAV", "PCM_16")
    path = tmp_path / "clip.wav"
    path.write_bytes(data)
    want = X16.astype(np.float32) / 32768.0
    for source in (path, str(path), data, bytearray(data), io.BytesIO(data), open(path, "rb")):
        clip = audio.load(source)
        assert clip.sample_rate == RATE and clip.original_rate == RATE
        np.testing.assert_allclose(clip.samples, want, atol=1e-7)
    assert audio.load(path).source == str(path)


@pytest.mark.parametrize("fmt,subtype", [("FLAC", "PCM_16"), ("OGG", "VORBIS")])
def test_compressed_formats_decode(fmt, subtype):
    clip = audio.load(encode(X, RATE, fmt, subtype))
    assert clip.samples.shape == X.shape
    tol = 1e-4 if fmt == "FLAC" else 0.05  # vorbis is lossy
    assert np.max(np.abs(clip.samples - X)) < tol


def test_stereo_file_is_mixed_down():
    stereo = np.stack([X, np.zeros_like(X)], axis=1)
    clip = audio.load(encode(stereo, RATE, "WAV", "FLOAT"))
    np.testing.assert_allclose(clip.samples, 0.5 * X, atol=1e-7)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
def test_any_rate_is_resampled_to_the_target(rate):
    x = speechlike(0.5, seed=1, rate=rate)
    clip = audio.load(x, rate, target_rate=RATE)
    assert clip.sample_rate == RATE and clip.original_rate == rate
    assert abs(len(clip.samples) - 0.5 * RATE) <= 1
    assert clip.timings.keys() >= {"decode", "resample"}
    # the energy survives resampling (the content is band-limited below 4 kHz)
    ratio = np.mean(clip.samples.astype(np.float64) ** 2) / np.mean(x.astype(np.float64) ** 2)
    assert 0.9 < ratio < 1.1


@pytest.mark.parametrize(
    "bad,match",
    [
        (np.zeros(0, np.float32), "empty"),
        (np.array([0.1, np.nan, 0.2] * 100, np.float32), "NaN"),
        (np.array([0.1, np.inf] * 100), "NaN or infinite"),
        (np.zeros((3, 4, 5)), "shape"),
        (np.zeros((100, 100)), "channel axis"),
        (np.zeros(100, np.uint8), "dtype"),
        (np.zeros(100, bool), "dtype"),
        ("not-an-array-but-a-missing-file.wav", None),
    ],
)
def test_bad_arrays_raise_audio_error(bad, match):
    if isinstance(bad, str):
        with pytest.raises(AudioDecodeError, match="not-an-array"):
            audio.load(bad)
        return
    with pytest.raises(AudioError, match=match):
        audio.load(bad, RATE)


@pytest.mark.parametrize(
    "rate,match",
    [
        (None, "required"),
        (0, "outside"),
        (-16000, "outside"),
        (10**9, "outside"),
        (16000.5, "whole"),
        ("16000", "number"),
        (float("nan"), "whole"),
    ],
)
def test_bad_sample_rates_raise_audio_error(rate, match):
    with pytest.raises(AudioError, match=match):
        audio.load(X, rate)


def test_non_audio_bytes_and_files_raise_decode_error_naming_the_file(tmp_path):
    with pytest.raises(AudioDecodeError, match=r"<\d+ bytes>: not readable audio"):
        audio.load(b"this is plain text, not audio" * 20)
    text = tmp_path / "notes.wav"
    text.write_text("hello " * 100)
    with pytest.raises(AudioDecodeError, match="notes.wav"):
        audio.load(text)
    with pytest.raises(AudioDecodeError, match="empty byte string"):
        audio.load(b"")
    with pytest.raises(AudioDecodeError, match="directory"):
        audio.load(tmp_path)
    assert issubclass(AudioDecodeError, OSError) and issubclass(AudioError, ValueError)


def test_missing_file_raises_decode_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere" / "clip.wav"
    with pytest.raises(AudioDecodeError, match=str(missing)):
        audio.load(missing)


@pytest.mark.parametrize("keep", [0.5, 0.02])
def test_truncated_wav_is_detected(tmp_path, keep):
    data = encode(X16, RATE, "WAV", "PCM_16")
    cut = data[: max(44, int(len(data) * keep))]
    path = tmp_path / "cut.wav"
    path.write_bytes(cut)
    for source in (path, cut, io.BytesIO(cut)):
        with pytest.raises(AudioDecodeError, match="truncated"):
            audio.load(source)


def test_riff_truncation_reads_the_data_chunk_size():
    data = encode(X16, RATE, "WAV", "PCM_16")
    assert audio.riff_truncation(data, len(data)) is None
    assert "truncated" in audio.riff_truncation(data, len(data) - 100)
    assert audio.riff_truncation(b"fLaC" + data[4:], 10) is None  # not RIFF: left to libsndfile


def test_size_and_duration_guards(tmp_path):
    limits = audio.AudioLimits(max_duration_s=0.25, max_bytes=4096)
    with pytest.raises(AudioError, match="max_duration_s"):
        audio.load(X, RATE, limits=limits)
    with pytest.raises(AudioError, match="max_bytes"):
        audio.load(encode(X, RATE), limits=limits)
    path = tmp_path / "big.wav"
    path.write_bytes(encode(X, RATE))
    with pytest.raises(AudioError, match="big.wav.*max_bytes"):
        audio.load(path, limits=limits)
    with pytest.raises(AudioError, match="max_duration_s"):  # from the header, before decoding
        audio.load(path, limits=audio.AudioLimits(max_duration_s=0.25))
    with pytest.raises(ValueError, match="max_duration_s"):
        audio.AudioLimits(max_duration_s=0)


def test_clipped_audio_warns_but_loads():
    clipped = np.clip(10 * X, -1.0, 1.0)
    clip = audio.load(clipped, RATE)
    assert any("clipped" in w for w in clip.warnings)
    assert audio.load(X, RATE).warnings == ()
    hot = audio.load(X * 40000.0, RATE)  # int16-range floats passed as float
    assert any("exceed full scale" in w for w in hot.warnings)


# ---- hostile inputs (issue 14) -------------------------------------------------------------------
@pytest.mark.parametrize("rate", [1, 999, 384001, 655350])
def test_file_header_rates_get_the_array_range_check(rate):
    """A 7 KB WAV whose header says 1 Hz used to become an hour of audio."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, X16[:3000], 16000, format="WAV", subtype="PCM_16")
    data = bytearray(buf.getvalue())
    data[24:28] = rate.to_bytes(4, "little")  # WAV fmt chunk: sample rate
    data[28:32] = (rate * 2).to_bytes(4, "little")  # byte rate
    with pytest.raises(AudioError, match=f"sample rate {rate} Hz is outside"):
        audio.load(bytes(data))


@pytest.mark.parametrize("rate", [2**70, -(2**70), np.int64(2**40)])
def test_huge_integer_rates_are_refused_plainly(rate):
    with pytest.raises(AudioError, match="outside the supported range"):
        audio.load(X, rate)


@pytest.mark.parametrize("shape", [(100, 0), (0, 2), (0,), (0, 0)])
def test_empty_arrays_are_called_empty(shape):
    with pytest.raises(AudioError, match="empty audio"):
        audio.load(np.zeros(shape, np.float32), RATE)


def test_fifo_and_devices_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "f.wav"
    os.mkfifo(fifo)
    with pytest.raises(AudioDecodeError, match="FIFO"):
        audio.load(fifo)
    if os.path.exists("/dev/zero"):
        with pytest.raises(AudioDecodeError, match="device"):
            audio.load("/dev/zero")
    from edgeser.bundle import ModelBundle
    from edgeser.errors import BundleError

    with pytest.raises(BundleError, match="not a regular file"):
        ModelBundle.load(fifo)


def test_a_pipe_is_read_as_a_stream():
    """Non-seekable input (stdin, a pipe) is read whole, bounded, then decoded."""
    data = encode(X16, RATE, "WAV", "PCM_16")
    r, w = os.pipe()
    with os.fdopen(w, "wb") as fw:
        fw.write(data)
    with os.fdopen(r, "rb", buffering=0) as fr:
        clip = audio.load(fr)
    np.testing.assert_allclose(clip.samples, X16 / 32768.0, atol=1e-7)
    r, w = os.pipe()
    with os.fdopen(w, "wb") as fw:
        fw.write(data[: len(data) // 2])
    with os.fdopen(r, "rb", buffering=0) as fr, pytest.raises(AudioDecodeError, match="truncated"):
        audio.load(fr)


def test_rare_libsndfile_formats_are_refused_before_the_decoder(capfd):
    """libsndfile's SDS reader printed junk lines to fd 1; such formats never reach it now."""
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, X[:4000], RATE, format="SDS")
    corrupt = bytearray(buf.getvalue())
    corrupt[40:200] = bytes(range(160))
    for data in (buf.getvalue(), bytes(corrupt)):
        with pytest.raises(AudioDecodeError, match="not a supported format"):
            audio.load(data)
    assert capfd.readouterr().out == ""
    assert audio.sniff_format(encode(X, RATE, "FLAC")) == "FLAC"
    assert audio.sniff_format(b"RIFF\x00\x00\x00\x00AVI LIST") is None
