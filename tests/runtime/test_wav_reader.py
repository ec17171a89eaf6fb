"""The plain-WAV reader (`edgeser.wav`) against libsndfile: the same samples bit for bit where it
reads a file, and hands everything else (or anything odd) to libsndfile."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
import soundfile as sf

from edgeser import audio
from edgeser.errors import AudioDecodeError, AudioError
from edgeser.wav import parse_plain_wav


def _wav(x: np.ndarray, rate: int = 16000, subtype: str = "PCM_16") -> bytes:
    if subtype == "FLOAT":  # by hand: libsndfile adds a PEAK chunk, which the plain path leaves
        x = np.asarray(x, "<f4")
        ch = 1 if x.ndim == 1 else x.shape[1]
        return _riff(
            _fmt(3, ch, rate, 32),
            _chunk(b"fact", struct.pack("<I", len(x))),
            _chunk(b"data", x.tobytes()),
        )
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="WAV", subtype=subtype)
    return buf.getvalue()


def _libsndfile(raw: bytes) -> tuple[np.ndarray, int]:
    """What the decoder gave before the plain-WAV path: libsndfile's samples, mixed to mono."""
    data, rate = audio._decode(io.BytesIO(raw), "<ref>", audio.AudioLimits())
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    return np.ascontiguousarray(mono, dtype=np.float32), rate


def _chunk(cid: bytes, body: bytes) -> bytes:
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) & 1 else b"")


def _riff(*chunks: bytes) -> bytes:
    body = b"WAVE" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _fmt(tag=1, channels=1, rate=16000, bits=16, block=None, byte_rate=None) -> bytes:
    block = channels * bits // 8 if block is None else block
    byte_rate = rate * block if byte_rate is None else byte_rate
    return _chunk(b"fmt ", struct.pack("<HHIIHH", tag, channels, rate, byte_rate, block, bits))


rng = np.random.default_rng(0)
ALL_INT16 = np.arange(-32768, 32768, dtype=np.int16)


@pytest.mark.parametrize(
    "samples, subtype",
    [
        (ALL_INT16, "PCM_16"),  # every int16 value
        (rng.integers(-32768, 32767, (4000, 2), endpoint=True).astype(np.int16), "PCM_16"),
        (rng.integers(-32768, 32767, (3000, 3), endpoint=True).astype(np.int16), "PCM_16"),
        (rng.standard_normal(5000).astype(np.float32) * 0.3, "FLOAT"),
        (rng.standard_normal((5000, 6)).astype(np.float32) * 2.0, "FLOAT"),  # beyond full scale
    ],
)
def test_plain_wavs_read_like_libsndfile(samples, subtype, tmp_path):
    raw = _wav(samples, subtype=subtype)
    assert parse_plain_wav(raw[:65536], len(raw)) is not None  # the fast path does read it
    want, rate = _libsndfile(raw)
    got, got_rate, _ = audio.decode(raw)
    assert got_rate == rate and got.dtype == np.float32
    np.testing.assert_array_equal(got, want)
    (tmp_path / "x.wav").write_bytes(raw)
    from_path, _, _ = audio.decode(tmp_path / "x.wav")
    np.testing.assert_array_equal(from_path, want)


def test_extensible_header_and_extra_chunks():
    x = rng.integers(-32768, 32767, 999, endpoint=True).astype(np.int16)
    guid = struct.pack("<H", 1) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
    ext = struct.pack("<HHIIHHHHI", 0xFFFE, 1, 16000, 32000, 2, 16, 22, 16, 4) + guid
    raw = _riff(
        _chunk(b"fmt ", ext),
        _chunk(b"LIST", b"INFOISFT\x03\0\0\0ab\0"),  # odd size: one pad byte follows
        _chunk(b"data", x.tobytes()),
    )
    info = parse_plain_wav(raw, len(raw))
    assert info is not None and info.frames == 999 and info.sample_rate == 16000
    np.testing.assert_array_equal(audio.decode(raw)[0], _libsndfile(raw)[0])


@pytest.mark.parametrize(
    "raw",
    [
        _wav(np.zeros(100), subtype="PCM_24"),
        _wav(np.zeros(100), subtype="PCM_U8"),
        _wav(np.zeros(100), subtype="PCM_32"),
        _wav(np.zeros(100), subtype="DOUBLE"),
        _wav(np.zeros(100), subtype="ALAW"),
        _riff(_fmt(), _chunk(b"data", b"\0" * 7)),  # not a whole number of frames
        _riff(_chunk(b"data", b"\0" * 8), _fmt()),  # data before fmt
        _riff(_fmt(), _fmt(), _chunk(b"data", b"\0" * 8)),  # two fmt chunks
        _riff(_fmt(byte_rate=1), _chunk(b"data", b"\0" * 8)),  # inconsistent byte rate
        _riff(_fmt(block=4), _chunk(b"data", b"\0" * 8)),  # inconsistent block align
        _riff(_fmt(channels=0, block=2), _chunk(b"data", b"\0" * 8)),
        _riff(_fmt(), b"data" + struct.pack("<I", 0xFFFFFFFF) + b"\0" * 8),  # streaming size
        _riff(_chunk(b"LIST", b"INFO"), _fmt(), _chunk(b"data", b"\0" * 8)),  # fmt not first
        _riff(_fmt(), _chunk(b"PEAK", b"\0" * 16), _chunk(b"data", b"\0" * 8)),
        _riff(_fmt(), _chunk(b"data", b"\0" * 8), _chunk(b"LIST", b"INFO")),  # after the data
        _riff(_fmt(), _chunk(b"L\x01ST", b"INFO"), _chunk(b"data", b"\0" * 8)),  # unprintable
        _wav(np.zeros(100, np.float32), subtype="FLOAT")[:-4] + b"\0" * 4 + b"PEAK",
    ],
)
def test_anything_else_is_left_to_libsndfile(raw):
    assert parse_plain_wav(raw[:65536], len(raw)) is None


def test_header_limits_apply_before_reading():
    one_hz = _riff(_fmt(rate=1), _chunk(b"data", b"\0" * 7200))
    with pytest.raises(AudioError, match="sample rate 1 Hz is outside"):
        audio.decode(one_hz)
    eight = _wav(np.zeros((100, 9), np.int16))
    with pytest.raises(AudioError, match="9 channels"):
        audio.decode(eight)
    long = _wav(np.zeros(16000, np.int16))
    with pytest.raises(AudioError, match="over the limit"):
        audio.decode(long, audio.AudioLimits(max_duration_s=0.5))
    nan = _wav(np.array([0.1, np.nan, 0.2], np.float32), subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN"):
        audio.decode(nan)


def test_truncated_wav_is_still_an_error():
    raw = _wav(np.zeros(1000, np.int16))
    with pytest.raises(AudioDecodeError, match="truncated"):
        audio.decode(raw[:-100])


def test_decoded_samples_do_not_alias_the_input_bytes():
    raw = bytearray(_wav(np.full(64, 0.5, np.float32), subtype="FLOAT"))
    x, _, _ = audio.decode(raw)
    raw[-4:] = b"\0\0\0\0"
    assert x[-1] == np.float32(0.5)


def _fuzz_bases() -> list[tuple[bytes, int, int]]:
    """(file, first, end) byte ranges to mutate: headers, and what follows the data."""
    pcm = rng.integers(-3000, 3000, 400).astype("<i2").tobytes()
    flt = np.linspace(-1, 1, 200).astype("<f4").tobytes()
    extras = (
        b"",
        _chunk(b"fact", b"\x10\0\0\0"),
        _chunk(b"PEAK", b"\1\0\0\0" * 4),
        _chunk(b"LIST", b"INFOabcd\x01\0\0\0z\0"),
        _chunk(b"LIST", b"adtllabl\x05\0\0\0\1\0\0\0z\0"),
    )
    out = []
    for extra in extras:
        out.append((_riff(_fmt(channels=2), extra, _chunk(b"data", pcm)), 4, 80))
        out.append((_riff(_fmt(tag=3, bits=32), extra, _chunk(b"data", flt)), 4, 80))
        tail = _riff(_fmt(channels=2), _chunk(b"data", pcm), _chunk(b"cue ", b"\0" * 28), extra)
        out.append((tail, len(tail) - 60, len(tail)))
    return out


def test_mutated_headers_never_read_what_libsndfile_would_not():
    """Random byte flips in valid files: where the plain path reads a file, libsndfile reads
    the same samples from it (or finds the same NaN); libsndfile refuses PEAK chunks that do
    not match the channels, a chunk before the format, unknown chunk ids, trailing garbage."""
    r = np.random.default_rng(1)
    plain = 0
    for base, lo, hi in _fuzz_bases():
        for _ in range(300):
            raw = bytearray(base)
            for i in r.integers(lo, hi, r.integers(1, 4)):
                raw[i] = int(r.integers(0, 256))
            raw = bytes(raw)
            info = parse_plain_wav(raw[:65536], len(raw))
            if info is None or not 1000 <= info.sample_rate <= 384000:
                continue
            plain += 1
            want, rate = _libsndfile(raw)  # raises if libsndfile refuses what the plain path read
            assert rate == info.sample_rate
            try:
                got = audio.decode(raw)[0]
            except AudioError:
                assert not np.isfinite(want).all()
                continue
            np.testing.assert_array_equal(got, want)
    assert plain > 300  # the mutations did exercise the plain path
