"""A small HTTP inference API with a web page, on the standard library only.

    edgeser serve --model default --port 8000      # then open http://127.0.0.1:8000/

Endpoints (JSON): ``GET /v1/health``, ``GET /v1/model``, ``POST /v1/predict`` with the raw
audio file as the request body (any format soundfile reads; ``?timeline=1`` adds per-window
results). Uploads larger than ``max_upload_bytes`` are refused with 413 before they are read;
bad audio gets 400 with the problem named. One `Recognizer` (thread-safe) serves every request.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlparse

from .errors import AudioDecodeError, AudioError, EdgeserError
from .recognizer import Recognizer


@dataclass(frozen=True)
class ServerConfig:
    """Where to listen and what to accept."""

    host: str = "127.0.0.1"
    port: int = 8000
    max_upload_bytes: int = 25 * 1024 * 1024
    read_timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if (
            isinstance(self.port, bool)
            or not isinstance(self.port, int)
            or not 0 <= self.port <= 65535
        ):
            raise ValueError(f"ServerConfig.port must be in 0..65535, got {self.port!r}")
        if (
            isinstance(self.max_upload_bytes, bool)
            or not isinstance(self.max_upload_bytes, int)
            or self.max_upload_bytes < 1
        ):
            raise ValueError("ServerConfig.max_upload_bytes must be a positive integer")
        if not self.read_timeout_s > 0:
            raise ValueError("ServerConfig.read_timeout_s must be positive")


def page_html() -> bytes:
    """The record-and-predict page (package data `edgeser/web/index.html`)."""
    return (resources.files("edgeser") / "web" / "index.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: InferenceServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet by default
        if self.server.verbose:
            super().log_message(fmt, *args)

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.config.read_timeout_s)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj).encode("utf-8"), "application/json")

    def _error(self, status: int, message: str) -> None:
        self.close_connection = True
        self._json(status, {"error": message})

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        path = urlparse(self.path).path
        rec = self.server.recognizer
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, self.server.page, "text/html; charset=utf-8")
        elif path == "/v1/health":
            self._json(HTTPStatus.OK, {"status": "ok", "model": rec.name})
        elif path == "/v1/model":
            self._json(HTTPStatus.OK, rec.info.to_dict())
        else:
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {path}")

    def do_POST(self) -> None:  # noqa: N802
        url = urlparse(self.path)
        if url.path != "/v1/predict":
            self._error(HTTPStatus.NOT_FOUND, f"no such endpoint: {url.path}")
            return
        length = self.headers.get("Content-Length")
        if length is None:
            self._error(
                HTTPStatus.LENGTH_REQUIRED,
                "send the audio file as the request body with a Content-Length header",
            )
            return
        try:
            size = int(length)
            if size < 0:
                raise ValueError
        except ValueError:
            self._error(HTTPStatus.BAD_REQUEST, f"bad Content-Length: {length!r}")
            return
        limit = self.server.config.max_upload_bytes
        if size > limit:
            self._error(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"upload of {size} bytes exceeds the limit of {limit} bytes",
            )
            return
        if size == 0:
            self._error(HTTPStatus.BAD_REQUEST, "empty upload: send an audio file as the body")
            return
        try:
            body = self.rfile.read(size)
        except TimeoutError:
            self._error(HTTPStatus.REQUEST_TIMEOUT, "timed out reading the upload")
            return
        if len(body) != size:
            self._error(
                HTTPStatus.BAD_REQUEST, f"upload truncated: got {len(body)} of {size} bytes"
            )
            return
        timeline = parse_qs(url.query).get("timeline", ["0"])[0] not in ("0", "", "false")
        rec = self.server.recognizer
        try:
            pred = rec.predict(body)
            result = pred.to_dict()
            if timeline:
                result["timeline"] = [p.to_dict() for p in rec.timeline(body)]
        except (AudioError, AudioDecodeError) as exc:
            self._error(HTTPStatus.BAD_REQUEST, re.sub(r"<\d+ bytes>", "the upload", str(exc)))
            return
        except EdgeserError as exc:
            self._error(HTTPStatus.INTERNAL_SERVER_ERROR, str(exc))
            return
        result["source"] = "upload"
        self._json(HTTPStatus.OK, result)


class InferenceServer(ThreadingHTTPServer):
    """`ThreadingHTTPServer` bound to one recognizer; `serve_forever()` runs it."""

    daemon_threads = True

    def __init__(
        self, recognizer: Recognizer, config: ServerConfig = ServerConfig(), verbose: bool = False
    ):
        self.recognizer = recognizer
        self.page = page_html()
        self.config = config
        self.verbose = verbose
        super().__init__((config.host, config.port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        return f"http://{host}:{port}"

    def start_background(self) -> threading.Thread:
        """Serve from a daemon thread (tests, notebooks); stop with `shutdown()`."""
        t = threading.Thread(target=self.serve_forever, name="edgeser-server", daemon=True)
        t.start()
        return t
