"""Audio in: decode files/bytes or take arrays, mix to mono float32, resample to the model rate.

Everything the runtime accepts goes through `load`, so every entry point (predict, timeline,
the CLI) fails the same way on bad input: `AudioDecodeError` (an OSError) for files and bytes
that are not readable audio, `AudioError` (a ValueError) for audio that cannot be analysed.
"""

from __future__ import annotations

import io
import os
import stat
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import AudioDecodeError, AudioError
from .frontend.config import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from .wav import PlainWav, parse_plain_wav

MAX_CHANNELS = 8
HEAD_BYTES = 1 << 20  # first read of a file: its headers, and all of a clip up to ~30 s of WAV
FULL_SCALE = 0.999  # |sample| at or above this counts as clipped
_INT_SCALES = {np.dtype(np.int16): 1.0 / 32768.0, np.dtype(np.int32): 1.0 / 2147483648.0}


@dataclass(frozen=True)
class AudioLimits:
    """Guards that turn absurd inputs into a clear AudioError instead of exhausting memory."""

    max_duration_s: float = 3600.0
    max_bytes: int = 2 * 1024**3  # size of an encoded file or byte string
    clip_fraction: float = 0.001  # share of full-scale samples above which a warning is added
    clip_min_samples: int = 16

    def __post_init__(self) -> None:
        if not (isinstance(self.max_duration_s, (int, float)) and self.max_duration_s > 0):
            raise ValueError(
                f"AudioLimits.max_duration_s must be positive, got {self.max_duration_s!r}"
            )
        if (
            isinstance(self.max_bytes, bool)
            or not isinstance(self.max_bytes, int)
            or self.max_bytes < 1
        ):
            raise ValueError(
                f"AudioLimits.max_bytes must be a positive integer, got {self.max_bytes!r}"
            )
        if not 0 <= self.clip_fraction <= 1:
            raise ValueError("AudioLimits.clip_fraction must be in [0, 1]")
        if (
            isinstance(self.clip_min_samples, bool)
            or not isinstance(self.clip_min_samples, int)
            or self.clip_min_samples < 1
        ):
            raise ValueError("AudioLimits.clip_min_samples must be a positive integer")


@dataclass(frozen=True)
class Audio:
    """Mono float32 samples at `sample_rate`, with where they came from and what it cost."""

    samples: np.ndarray
    sample_rate: int
    source: str
    original_rate: int
    timings: dict[str, float] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate)


def check_sample_rate(sample_rate: Any, what: str = "sample_rate") -> int:
    """A positive integer rate in a plausible range, or AudioError."""
    if sample_rate is None:
        raise AudioError(f"{what} is required for numpy input (e.g. sample_rate=16000)")
    if isinstance(sample_rate, bool) or not isinstance(
        sample_rate, (int, float, np.integer, np.floating)
    ):
        raise AudioError(f"{what} must be a number, got {type(sample_rate).__name__}")
    if isinstance(sample_rate, (int, np.integer)):
        if not MIN_SAMPLE_RATE <= int(sample_rate) <= MAX_SAMPLE_RATE:  # any size of int
            raise AudioError(
                f"{what}={sample_rate} Hz is outside the supported range "
                f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
            )
    elif not np.isfinite(sample_rate) or sample_rate != int(sample_rate):
        raise AudioError(f"{what} must be a whole number of Hz, got {sample_rate!r}")
    rate = int(sample_rate)
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"{what}={rate} Hz is outside the supported range "
            f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
        )
    return rate


def source_name(source: Any) -> str:
    """A short human name for an input, used in every error and Prediction.source."""
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"<{len(source)} bytes>"
    name = getattr(source, "name", None)
    if isinstance(name, (str, os.PathLike)):
        return str(name)
    if isinstance(source, np.ndarray):
        return f"<array {source.dtype} {source.shape}>"
    return f"<{type(source).__name__}>"


def is_encoded(source: Any) -> bool:
    """True for inputs that must be decoded (paths, bytes, file-likes), False for sample arrays."""
    return isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)) or hasattr(
        source, "read"
    )


# ---- arrays -----------------------------------------------------------------------------------
def to_mono_float(samples: Any, name: str = "<array>") -> np.ndarray:
    """int16 (1/32768), int32 (1/2^31) or float samples -> mono float32; channels averaged.

    A 2-D array may hold up to `MAX_CHANNELS` channels on either axis.
    """
    if isinstance(samples, (list, tuple)):
        samples = np.asarray(samples, dtype=np.float64)
    if not isinstance(samples, np.ndarray):
        raise AudioError(
            f"{name}: expected a numpy array of samples, a path, bytes or a "
            f"file-like, got {type(samples).__name__}"
        )
    arr = samples
    if arr.dtype in _INT_SCALES:
        scale = _INT_SCALES[arr.dtype]
    elif arr.dtype.kind == "f":
        scale = None
    else:
        raise AudioError(
            f"{name}: unsupported sample dtype {arr.dtype}; use int16, int32, float32 or float64"
        )
    if arr.size == 0 and arr.ndim in (1, 2):
        raise AudioError(f"{name}: empty audio (no samples; shape {arr.shape})")
    if arr.ndim == 2:
        rows, cols = arr.shape
        if cols <= MAX_CHANNELS and (rows > MAX_CHANNELS or cols <= rows):
            arr = arr.mean(axis=1, dtype=np.float64)  # [samples, channels]
        elif rows <= MAX_CHANNELS:
            arr = arr.mean(axis=0, dtype=np.float64)  # [channels, samples]
        else:
            raise AudioError(
                f"{name}: a 2-D array needs a channel axis of at most "
                f"{MAX_CHANNELS}, got shape {arr.shape}"
            )
    elif arr.ndim != 1:
        raise AudioError(
            f"{name}: expected 1-D (mono) or 2-D (multi-channel) samples, got shape {arr.shape}"
        )

    out = arr.astype(np.float64) * scale if scale is not None else arr
    out = np.ascontiguousarray(out, dtype=np.float32)
    if out.size == 0:
        raise AudioError(f"{name}: empty audio (no samples)")
    finite = np.isfinite(out)
    if not finite.all():
        raise AudioError(
            f"{name}: audio contains {int(out.size - finite.sum())} NaN or infinite sample(s)"
        )
    return out


def level_warnings(samples: np.ndarray, limits: AudioLimits) -> tuple[str, ...]:
    """Warnings for clipped or out-of-range audio (the prediction is still made)."""
    mag = np.abs(samples)
    peak = float(np.max(mag)) if samples.size else 0.0
    return level_warnings_for(peak, int(np.count_nonzero(mag >= FULL_SCALE)), samples.size, limits)


def level_warnings_for(peak: float, clipped: int, n: int, limits: AudioLimits) -> tuple[str, ...]:
    """`level_warnings` from a span's peak |sample| and its count of samples at full scale."""
    out = []
    if peak > 1.0 + 1e-6:
        out.append(
            f"samples exceed full scale (peak {peak:.3g}); float audio is expected in [-1, 1]"
        )
    if n and clipped >= limits.clip_min_samples and clipped > limits.clip_fraction * n:
        out.append(
            f"audio is clipped: {clipped} samples ({100.0 * clipped / n:.2g}%) "
            "at full scale; the prediction may be unreliable"
        )
    return tuple(out)


# ---- encoded audio ----------------------------------------------------------------------------
def riff_truncation(head: bytes, total_size: int) -> str | None:
    """Why a RIFF/WAVE file is truncated (its data chunk runs past the end), else None.

    libsndfile silently reads what is there; a cut-off upload should fail instead.
    `head` holds the first bytes of the file (enough to reach the data chunk header).
    """
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        (size,) = struct.unpack_from("<I", head, pos + 4)
        if chunk_id == b"data":
            if size in (0, 0xFFFFFFFF):  # streaming writers leave the size open
                return None
            missing = pos + 8 + size - total_size
            if missing > 1:  # one pad byte may be absent
                return f"truncated WAV: data chunk declares {size} bytes, {size - missing} present"
            return None
        pos += 8 + size + (size & 1)
    if pos > total_size:
        return "truncated WAV: a header chunk runs past the end of the file"
    return None


# Containers edgeser decodes, by their first bytes. libsndfile reads more (SDS, MAT, PVF, XI, ...)
# but its readers for those rare formats print to stdout and are a needless attack surface for a
# server taking uploads; nobody records speech in them.
_FORMAT_MAGIC = (
    (b"RIFF", "WAV"),
    (b"RIFX", "WAV"),
    (b"RF64", "RF64"),
    (b"BW64", "RF64"),
    (b"riff\x2e\x91\xcf\x11", "W64"),
    (b"fLaC", "FLAC"),
    (b"OggS", "OGG"),
    (b"ID3", "MP3"),
    (b"FORM", "AIFF"),
    (b".snd", "AU"),
    (b"dns.", "AU"),
    (b"caff", "CAF"),
    (b"NIST_1A", "NIST"),
)
SUPPORTED_FORMATS = tuple(dict.fromkeys(f for _, f in _FORMAT_MAGIC))


def sniff_format(head: bytes) -> str | None:
    """The container of encoded audio from its first bytes (None: not one edgeser reads)."""
    for magic, fmt in _FORMAT_MAGIC:
        if head.startswith(magic):
            if fmt == "WAV" and head[8:12] != b"WAVE":
                return None  # RIFF, but AVI or another RIFF type
            if fmt == "AIFF" and head[8:12] not in (b"AIFF", b"AIFC"):
                return None
            return fmt
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "MP3"  # an MPEG audio frame sync without an ID3 tag (layer bits set)
    return None


def _check_format(head: bytes, name: str) -> None:
    if sniff_format(head) is None:
        raise AudioDecodeError(
            f"{name}: not readable audio (not a supported format; edgeser reads "
            f"{', '.join(SUPPORTED_FORMATS)})"
        )


def _decode(fileobj: Any, name: str, limits: AudioLimits) -> tuple[np.ndarray, int]:
    import soundfile as sf

    try:
        with sf.SoundFile(fileobj) as info:  # one open: the header is checked, then read
            return _read_checked(info, name, limits)
    except (AudioError, AudioDecodeError):
        raise
    except MemoryError:
        raise AudioError(f"{name}: audio too large to decode in memory") from None
    except Exception as exc:  # libsndfile reports every format problem as a RuntimeError
        msg = str(exc).replace(f"<{type(fileobj).__name__}", "<input").strip()
        msg = msg.split(": ", 1)[-1] if msg.startswith("Error opening") else msg
        raise AudioDecodeError(
            f"{name}: not readable audio ({msg or type(exc).__name__})"
        ) from None


def _read_checked(info: Any, name: str, limits: AudioLimits) -> tuple[np.ndarray, int]:
    """The samples of an open `soundfile.SoundFile`, once its header passes the limits."""
    rate = int(info.samplerate)
    _check_header(rate, info.frames, info.channels, name, limits)
    return info.read(dtype="float32", always_2d=True), rate


def _check_header(rate: int, frames: int, channels: int, name: str, limits: AudioLimits) -> None:
    """A decoder's header against the limits, before any sample is read."""
    if rate <= 0:
        raise AudioDecodeError(f"{name}: invalid sample rate {rate} in the header")
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"{name}: the header's sample rate {rate} Hz is outside the "
            f"supported range {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz"
        )
    if frames > 0 and frames / rate > limits.max_duration_s:
        raise AudioError(
            f"{name}: audio is {frames / rate:.0f} s long, "
            f"over the limit of {limits.max_duration_s:g} s (max_duration_s)"
        )
    if channels > MAX_CHANNELS:
        raise AudioError(f"{name}: {channels} channels; at most {MAX_CHANNELS} supported")


def _read_plain_wav(plain: PlainWav, source: Any, name: str, limits: AudioLimits) -> np.ndarray:
    """Mono samples of a plain WAV (`edgeser.wav`) from its bytes or an open file, limits
    checked first."""
    _check_header(plain.sample_rate, plain.frames, plain.channels, name, limits)
    try:
        mono = plain.read(source)
    except MemoryError:
        raise AudioError(f"{name}: audio too large to decode in memory") from None
    except (OSError, ValueError) as exc:
        raise AudioDecodeError(f"{name}: not readable audio ({exc})") from None
    if plain.dtype != "<i2" and not np.isfinite(mono).all():
        raise AudioError(f"{name}: audio contains NaN or infinite samples")
    return mono


def _not_regular(path: Path) -> str | None:
    """What `path` is when it is not a regular file (opening a FIFO or a device would block or
    never end), else None."""
    mode = path.stat().st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _read_bounded(stream: Any, max_bytes: int, name: str) -> bytes:
    """All of a non-seekable binary stream, refusing more than `max_bytes` (read in blocks)."""
    parts: list[bytes] = []
    total = 0
    while True:
        block = stream.read(min(1 << 20, max_bytes + 1 - total))
        if isinstance(block, str):
            raise AudioDecodeError(f"{name}: a text stream; read audio in binary mode")
        if not block:
            return b"".join(parts)
        parts.append(bytes(block))
        total += len(block)
        if total > max_bytes:
            raise AudioError(f"{name}: over the limit of {max_bytes} bytes (max_bytes)")


def decode(source: Any, limits: AudioLimits = AudioLimits()) -> tuple[np.ndarray, int, str]:
    """Path, bytes or binary file-like -> (mono float32 samples, rate, name)."""
    name = source_name(source)
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise AudioDecodeError(f"{name}: no such file") from None
        except OSError as exc:
            raise AudioDecodeError(f"{name}: cannot read ({exc.strerror or exc})") from None
        kind = _not_regular(path)
        if kind:
            raise AudioDecodeError(
                f"{name}: is {kind}, not an audio file"
                + (
                    " (to read a pipe, pass the file object or '-' on the command line)"
                    if kind == "a FIFO (named pipe)"
                    else ""
                )
            )
        if size > limits.max_bytes:
            raise AudioError(
                f"{name}: file is {size} bytes, over the limit of "
                f"{limits.max_bytes} bytes (max_bytes)"
            )
        try:
            with open(path, "rb") as fh:
                head = fh.read(min(size, HEAD_BYTES))  # a short clip whole: one read
                _check_format(head, name)
                why = riff_truncation(head, size)
                if why:
                    raise AudioDecodeError(f"{name}: {why}")
                plain = parse_plain_wav(head, size)
                if plain is not None:
                    src = head if plain.data_end <= len(head) else fh
                    return _read_plain_wav(plain, src, name, limits), plain.sample_rate, name
            data, rate = _decode(str(path), name, limits)  # libsndfile's own file reads
        except PermissionError as exc:
            raise AudioDecodeError(f"{name}: cannot read ({exc.strerror or exc})") from None
    elif isinstance(source, (bytes, bytearray, memoryview)):
        raw = bytes(source)
        if not raw:
            raise AudioDecodeError(f"{name}: empty byte string, not audio")
        if len(raw) > limits.max_bytes:
            raise AudioError(
                f"{name}: {len(raw)} bytes, over the limit of {limits.max_bytes} bytes (max_bytes)"
            )
        _check_format(raw[:64], name)
        why = riff_truncation(raw[:65536], len(raw))
        if why:
            raise AudioDecodeError(f"{name}: {why}")
        plain = parse_plain_wav(raw[:65536], len(raw))
        if plain is not None:
            return _read_plain_wav(plain, raw, name, limits), plain.sample_rate, name
        data, rate = _decode(io.BytesIO(raw), name, limits)
    elif hasattr(source, "read"):
        fileobj = source
        size = None
        seekable = getattr(source, "seekable", lambda: True)
        if hasattr(source, "seek") and hasattr(source, "tell") and seekable():
            try:
                start = source.tell()
                size = source.seek(0, io.SEEK_END) - start
                source.seek(start)
            except (OSError, ValueError):
                size = None
        if size is not None:
            if size > limits.max_bytes:
                raise AudioError(
                    f"{name}: {size} bytes, over the limit of {limits.max_bytes} bytes (max_bytes)"
                )
            head = source.read(65536)
            source.seek(start)
            if isinstance(head, str):
                raise AudioDecodeError(
                    f"{name}: a text file object; open audio in binary mode ('rb')"
                )
            _check_format(head, name)
            why = riff_truncation(head, size)
            if why:
                raise AudioDecodeError(f"{name}: {why}")
        else:  # not seekable (a pipe, stdin): read it (bounded) so soundfile can seek
            raw = _read_bounded(source, limits.max_bytes, name)
            if not raw:
                raise AudioDecodeError(f"{name}: no data, not audio")
            _check_format(raw[:64], name)
            why = riff_truncation(raw[:65536], len(raw))
            if why:
                raise AudioDecodeError(f"{name}: {why}")
            fileobj = io.BytesIO(raw)
        data, rate = _decode(fileobj, name, limits)
    else:
        raise AudioError(f"{name}: expected a path, bytes, a file-like or a numpy array")
    if data.shape[0] == 0:
        raise AudioError(f"{name}: empty audio (no samples)")
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    mono = np.ascontiguousarray(mono, dtype=np.float32)
    if not np.isfinite(mono).all():
        raise AudioError(f"{name}: audio contains NaN or infinite samples")
    return mono, rate, name


def resample(samples: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """High-quality (soxr HQ) resampling of mono float32; a no-op when the rates match."""
    if from_rate == to_rate:
        return samples
    import soxr

    out = soxr.resample(samples, from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(out, dtype=np.float32)


def load(
    source: Any,
    sample_rate: int | None = None,
    *,
    target_rate: int | None = None,
    limits: AudioLimits = AudioLimits(),
) -> Audio:
    """Any supported input -> `Audio` at `target_rate` (or its own rate when None).

    `sample_rate` is required for arrays; encoded inputs carry their rate in the header and
    ignore it. An `Audio` passes through unchanged when it is already at `target_rate`, so a
    clip decoded once can feed both `predict` and `timeline`.
    """
    t0 = time.perf_counter()
    if isinstance(source, Audio):  # already decoded (Recognizer.load_audio): not again
        if target_rate is None or source.sample_rate == int(target_rate):
            return source
        samples, rate, name = source.samples, source.sample_rate, source.source
    elif is_encoded(source):
        samples, rate, name = decode(source, limits)
    else:
        name = source_name(source)
        rate = check_sample_rate(sample_rate)
        if isinstance(source, np.ndarray) and source.ndim >= 1:
            n = max(source.shape) if source.ndim == 2 else source.shape[0]
            if n / rate > limits.max_duration_s:
                raise AudioError(
                    f"{name}: audio is {n / rate:.0f} s long, over the limit of "
                    f"{limits.max_duration_s:g} s (max_duration_s)"
                )
        samples = to_mono_float(source, name)
    if len(samples) / rate > limits.max_duration_s:
        raise AudioError(
            f"{name}: audio is {len(samples) / rate:.0f} s long, over the limit "
            f"of {limits.max_duration_s:g} s (max_duration_s)"
        )
    t1 = time.perf_counter()
    warnings = level_warnings(samples, limits)
    out_rate = rate if target_rate is None else int(target_rate)
    if out_rate > rate:
        warnings += (
            f"audio at {rate} Hz is upsampled to {out_rate} Hz: it has nothing above "
            f"{rate / 2:g} Hz, which the model may not expect",
        )
    resampled = resample(samples, rate, out_rate)
    if resampled.size == 0:
        raise AudioError(f"{name}: too short to resample ({len(samples)} samples at {rate} Hz)")
    t2 = time.perf_counter()
    return Audio(
        samples=resampled,
        sample_rate=out_rate,
        source=name,
        original_rate=rate,
        timings={"decode": t1 - t0, "resample": t2 - t1},
        warnings=warnings,
    )
