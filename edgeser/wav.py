"""A strict reader for the WAV files most users have: RIFF, 16-bit PCM or 32-bit float. The
header is parsed here and the samples are read straight into numpy, which costs a fraction of
opening libsndfile for a short clip (on a 3 s clip the decoder was most of what a file adds to
`predict`). The numbers are libsndfile's (int16 / 32768, floats as stored).

Anything unusual (another encoding, an extensible header with other sub-formats, a size left
open by a streaming writer, a data chunk that does not divide into frames or runs past the
end, a second format chunk, a chunk before the format or other than LIST / fact between it
and the data, anything after the data, a chunk id that is not printable ASCII) is not read
here: `parse_plain_wav` returns None and the caller hands the file to libsndfile and its
checks, so this path never accepts what that one refuses (libsndfile refuses, for example, a
PEAK chunk that does not match the channel count, or a cue chunk before the format).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
# the GUID tail shared by the KSDATAFORMAT_SUBTYPE_* sub-formats; the first two bytes are the tag
_GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
_DTYPES = {(_PCM, 16): "<i2", (_FLOAT, 32): "<f4"}
# chunks read past between the format and the data: what common writers put there (libsndfile
# fact, ffmpeg and sox LIST/INFO); any other (PEAK, which libsndfile checks) goes to libsndfile
_BETWEEN = (b"LIST", b"fact")


@dataclass(frozen=True)
class PlainWav:
    """Where the samples of a plain WAV are and how to read them."""

    sample_rate: int
    channels: int
    dtype: str  # numpy dtype of one sample: "<i2" or "<f4"
    data_offset: int  # byte offset of the first sample
    frames: int

    @property
    def data_end(self) -> int:
        """Byte offset just past the last sample."""
        return self.data_offset + self.frames * self.channels * np.dtype(self.dtype).itemsize

    def read(self, source: Any) -> np.ndarray:
        """Mono float32 samples, from the bytes of the whole file or an open binary file."""
        count = self.frames * self.channels
        if isinstance(source, (bytes, bytearray, memoryview)):
            raw = np.frombuffer(source, self.dtype, count, self.data_offset)
        else:
            source.seek(self.data_offset)
            raw = np.fromfile(source, self.dtype, count)
            if raw.size != count:  # the file changed under us: no silent short read
                raise OSError(f"read {raw.size} of {count} samples")
        if self.dtype == "<i2":
            x = raw.astype(np.float32) * np.float32(1.0 / 32768.0)
        else:
            x = raw.astype(np.float32)  # a copy: never a view of the caller's buffer
        if self.channels > 1:  # channels averaged as for libsndfile's [frames, channels]
            x = x.reshape(self.frames, self.channels).mean(axis=1)
        return np.ascontiguousarray(x, dtype=np.float32)


def parse_plain_wav(head: bytes, total_size: int) -> PlainWav | None:
    """The layout of a plain WAV from its first bytes (`head`, up to the data chunk header) and
    its size in bytes; None for anything this module does not read (see the module doc)."""
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    pos, fmt = 12, None
    while pos + 8 <= len(head):
        chunk_id = head[pos : pos + 4]
        if not all(0x20 <= c <= 0x7E for c in chunk_id):
            return None  # libsndfile stops at a chunk id that is not printable: so do we
        (size,) = struct.unpack_from("<I", head, pos + 4)
        body = pos + 8
        if fmt is None and chunk_id != b"fmt ":
            return None  # libsndfile refuses some chunks before the format (PEAK, cue): fmt first
        if chunk_id == b"fmt ":
            if fmt is not None or size < 16 or body + size > len(head):
                return None
            fmt = _format(head[body : body + size])
            if fmt is None:
                return None
        elif chunk_id == b"data":
            if fmt is None or size in (0, 0xFFFFFFFF) or body + size > total_size:
                return None
            if total_size - (body + size) > (size & 1):
                return None  # chunks after the data, which libsndfile parses (and may refuse)
            rate, channels, dtype, block = fmt
            if size % block:
                return None
            return PlainWav(rate, channels, dtype, body, size // block)
        elif chunk_id not in _BETWEEN:
            return None
        pos = body + size + (size & 1)
    return None


def _format(chunk: bytes) -> tuple[int, int, str, int] | None:
    """(rate, channels, dtype, block_align) of a fmt chunk this module reads, else None."""
    tag, channels, rate, byte_rate, block, bits = struct.unpack_from("<HHIIHH", chunk)
    if tag == _EXTENSIBLE:
        if len(chunk) < 40 or chunk[26:40] != _GUID_TAIL:
            return None
        (valid_bits,) = struct.unpack_from("<H", chunk, 18)
        (tag,) = struct.unpack_from("<H", chunk, 24)
        if valid_bits != bits:
            return None
    dtype = _DTYPES.get((tag, bits))
    if dtype is None or channels < 1 or rate <= 0:  # the caller bounds channels and rate
        return None
    if block != channels * bits // 8 or byte_rate != rate * block:
        return None
    return rate, channels, dtype, block
