"""Uploads: read the body within its limits, take the file out of a form, look at the header.

`read_body` enforces the upload limit from Content-Length before reading and while reading
(chunked bodies too), reserves the bytes from the memory budget as they arrive, and gives up
after the body deadline. `probe` reads the audio header (soundfile.info on the bytes, nothing
decoded) so the duration limit, the sample-rate range and the memory cost of decoding are
known before any sample is decoded.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import anyio

from .. import audio as audio_io
from ..errors import AudioError
from .limits import Busy, Reservation, TooLarge
from .responses import ApiError

MiB = 1024 * 1024


@dataclass(frozen=True)
class BodyFraming:
    """How the request says its body is framed (checked before anything is read)."""

    length: int | None  # Content-Length, when given
    chunked: bool

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.length)


def framing(headers: list[tuple[bytes, bytes]]) -> BodyFraming:
    """Content-Length / Transfer-Encoding of the raw headers; 400 for ambiguous framing.

    The HTTP parser (h11) already refuses malformed or conflicting Content-Length values;
    a request with both Transfer-Encoding and Content-Length (request smuggling) is refused
    here.
    """
    lengths = [v for k, v in headers if k == b"content-length"]
    te = [v for k, v in headers if k == b"transfer-encoding"]
    if te and lengths:
        raise ApiError(
            400,
            "bad_framing",
            "the request has both Transfer-Encoding and Content-Length; send one",
            close=True,
        )
    if len(set(lengths)) > 1:
        raise ApiError(400, "bad_framing", "conflicting Content-Length headers", close=True)
    length = None
    if lengths:
        text = lengths[0].decode("latin-1").strip()
        if not text.isdigit():
            raise ApiError(400, "bad_framing", f"bad Content-Length: {text!r}", close=True)
        length = int(text)
    return BodyFraming(length, bool(te))


async def read_body(
    receive,
    frame: BodyFraming,
    *,
    limit: int,
    deadline_s: float,
    reservation: Reservation,
) -> bytes:
    """The whole body (at most `limit` bytes, within `deadline_s`), reserved as it arrives."""
    if frame.length is not None and frame.length > limit:
        raise ApiError(
            413,
            "upload_too_large",
            f"upload of {frame.length} bytes exceeds the limit of {limit} bytes",
            close=True,
        )
    if not frame.has_body:
        if frame.length == 0:
            raise ApiError(400, "empty_upload", "empty upload: send an audio file as the body")
        raise ApiError(
            411,
            "length_required",
            "send the audio file as the request body (with Content-Length, or chunked)",
            close=True,
        )
    try:
        if frame.length is not None:
            reservation.grow(frame.length, "the upload")
        parts: list[bytes] = []
        size = 0
        with anyio.fail_after(deadline_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ApiError(400, "client_gone", "the client went away", close=True)
                chunk = message.get("body", b"")
                if chunk:
                    size += len(chunk)
                    if size > limit:
                        raise ApiError(
                            413,
                            "upload_too_large",
                            f"upload exceeds the limit of {limit} bytes",
                            close=True,
                        )
                    if frame.length is None:
                        reservation.grow(len(chunk), "the upload")
                    parts.append(chunk)
                if not message.get("more_body", False):
                    break
        body = join_reserved(parts, reservation)
    except TimeoutError:
        raise ApiError(
            408,
            "body_timeout",
            f"the upload was not received within {deadline_s:g} s",
            close=True,
        ) from None
    except Busy as exc:
        raise ApiError(503, "busy", str(exc), close=True, retry_after_s=exc.retry_after_s) from None
    except TooLarge as exc:
        raise ApiError(413, "upload_too_large", str(exc), close=True) from None
    if not body:
        raise ApiError(400, "empty_upload", "empty upload: send an audio file as the body")
    return body


# ---- multipart --------------------------------------------------------------------------------
class _FormFiles:
    """Callbacks of python-multipart's parser that keep the data of parts with a filename."""

    def __init__(self) -> None:
        self.files: list[list[bytes]] = []
        self._field = b""
        self._value = b""
        self._disposition = b""
        self._current: list[bytes] | None = None

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self.part_begin,
            "on_header_field": self.header_field,
            "on_header_value": self.header_value,
            "on_header_end": self.header_end,
            "on_headers_finished": self.headers_finished,
            "on_part_data": self.part_data,
        }

    def part_begin(self) -> None:
        self._disposition = b""
        self._current = None

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        if self._field.lower() == b"content-disposition":
            self._disposition = self._value
        self._field = self._value = b""

    def headers_finished(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, params = parse_options_header(self._disposition)
        if b"filename" in params:
            self._current = []
            self.files.append(self._current)

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._current is not None:
            self._current.append(data[start:end])


def join_reserved(parts: list[bytes], reservation: Reservation) -> bytes:
    """b"".join(parts), emptying `parts`: while the parts and the joined copy both exist, the
    copy is reserved too (a lone part is the body itself: no copy)."""
    if len(parts) == 1:
        return parts.pop()
    size = sum(len(p) for p in parts)
    reservation.grow(size, "assembling the upload")
    try:
        return b"".join(parts)
    finally:
        parts.clear()
        reservation.shrink(size)


def form_file(body: bytes, content_type: str) -> bytes:
    """The one file field of a multipart/form-data body (400 when there is none or several)."""
    from python_multipart.exceptions import FormParserError
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "bad_form", "multipart/form-data without a boundary")
    form = _FormFiles()
    try:
        parser = MultipartParser(
            boundary, form.callbacks(), max_header_count=16, max_header_size=4096
        )
        parser.write(body)
        parser.finalize()
    except (FormParserError, ValueError) as exc:
        raise ApiError(400, "bad_form", f"malformed multipart/form-data body ({exc})") from None
    if len(form.files) != 1:
        raise ApiError(
            400, "bad_form", f"send exactly one file field in the form, got {len(form.files)}"
        )
    data = b"".join(form.files[0])
    if not data:
        raise ApiError(400, "empty_upload", "the uploaded file is empty")
    return data


# ---- the audio header ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Header:
    frames: int
    sample_rate: int
    channels: int

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate


def probe(data: bytes, max_duration_s: float) -> Header | None:
    """The audio header of an upload, checked; None when it is not readable audio.

    Nothing is decoded. AudioError for a sample rate outside the supported range, too many
    channels or no frames; TooLarge past `max_duration_s`. For bytes that are not audio
    edgeser reads, None: decoding then fails with the loader's own message.
    """
    import soundfile as sf

    if audio_io.sniff_format(data[:64]) is None:  # the loader's format allow-list
        return None
    try:
        info = sf.info(io.BytesIO(data))
    except Exception:  # libsndfile's RuntimeError for anything unreadable
        return None
    rate = audio_io.check_sample_rate(info.samplerate, "the upload's sample rate")
    if info.channels < 1 or info.channels > audio_io.MAX_CHANNELS:
        raise AudioError(
            f"the upload has {info.channels} channels; at most {audio_io.MAX_CHANNELS} supported"
        )
    if info.frames <= 0:
        raise AudioError("the upload's header gives no audio frames (empty or unknown length)")
    head = Header(int(info.frames), rate, int(info.channels))
    if head.duration_s > max_duration_s:
        raise TooLarge(
            f"audio is {head.duration_s:.0f} s long, over the server's limit of "
            f"{max_duration_s:g} s"
        )
    return head
