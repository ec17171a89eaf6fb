"""The ASGI application: routes, the request guard and the two recognition endpoints.

Every HTTP request goes through one guard, in this order: Host allow-list (421), body framing
(400 for Transfer-Encoding plus Content-Length), route and method (404/405), connection cap
(503), Origin for anything that is not a GET (403), API key for everything but the page,
/v1/health and /openapi.json (401). Handlers raise `ApiError`; anything else becomes a logged
JSON 500. Every error is JSON; an error sent before the body was read closes the connection.

POST /v1/predict reads the body within its limits (reserving it from the memory budget), takes
a worker slot (or 503 + Retry-After), then in the worker reads the audio header, reserves the
decode's memory, decodes and predicts. WS /v1/stream feeds `Recognizer.stream()` and sends one
`Prediction.to_dict()` per window.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import time
from collections.abc import Callable
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

import numpy as np
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.websockets import WebSocket

from .. import __version__
from .. import audio as audio_io
from ..errors import AudioDecodeError, AudioError, EdgeserError, MissingDependencyError
from ..pipelines.frontend import FrontendPipeline
from ..prediction import Prediction
from ..recognizer import Recognizer
from . import metrics as metrics_mod
from . import openapi, security, uploads
from .config import ServerConfig
from .limits import (
    Busy,
    ConnectionCounter,
    MemoryBudget,
    TooLarge,
    WorkSlots,
    decode_cost,
    process_rss_bytes,
    stream_cost,
)
from .responses import (
    PAGE_HEADERS,
    ApiError,
    error_body,
    error_response,
    json_bytes,
    json_response,
)

MiB = 1024 * 1024
MEMORY_MARGIN = 16 * MiB  # allocator slack, thread stacks, per-request Python objects
MIN_POOL = 16 * MiB
PAGE_FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/recorder-worklet.js": ("recorder-worklet.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
}
PUBLIC = {*PAGE_FILES, "/v1/health", "/openapi.json"}
STREAM_PATH = "/v1/stream"
TRUE, FALSE = ("1", "true", "yes"), ("0", "false", "no", "")
log = logging.getLogger("edgeser.server")


def page_files() -> dict[str, bytes]:
    """The web page's files (package data `edgeser/web/`), by name."""
    web = resources.files("edgeser") / "web"
    names = {name for name, _ in PAGE_FILES.values()}
    return {name: (web / name).read_bytes() for name in names}


def page_html() -> bytes:
    """The record-and-predict page (package data `edgeser/web/index.html`)."""
    return page_files()["index.html"]


def _upload_message(exc: Exception) -> str:
    return re.sub(r"<\d+ bytes>", "the upload", str(exc))


def _check_header_size(scope: dict, limit: int) -> None:
    """431 for a header block over `limit` bytes (h11 bounds only what arrives incomplete)."""
    size = sum(len(k) + len(v) + 4 for k, v in scope["headers"])
    if size > limit:
        raise ApiError(
            431,
            "headers_too_large",
            f"request headers of {size} bytes exceed the limit of {limit} bytes",
            close=True,
        )


@dataclasses.dataclass
class _Call:
    """One HTTP request as the guard and handlers see it."""

    scope: dict
    receive: Callable
    headers: Headers
    started: float
    frame: uploads.BodyFraming = uploads.BodyFraming(None, False)
    body_read: bool = False

    @property
    def path(self) -> str:
        return self.scope["path"]

    @property
    def method(self) -> str:
        return self.scope["method"]

    def query(self) -> dict[str, list[str]]:
        return parse_qs(self.scope.get("query_string", b"").decode("latin-1"), True)


class App:
    """The edgeser ASGI app around one shared, thread-safe `Recognizer`.

    baseline_bytes: what the process holds before any request (default: its RSS now); the
    memory budget less this (and a margin) is the pool requests reserve from.
    """

    def __init__(
        self,
        recognizer: Recognizer,
        config: ServerConfig | None = None,
        *,
        baseline_bytes: int | None = None,
    ):
        self.recognizer = recognizer
        self.config = config = config or ServerConfig()
        self.windowed = isinstance(recognizer.pipeline, FrontendPipeline)
        self.limits = dataclasses.replace(
            recognizer.limits,
            max_duration_s=min(recognizer.limits.max_duration_s, config.max_duration_s),
            max_bytes=config.max_upload_bytes,
        )
        self.baseline_bytes = process_rss_bytes() if baseline_bytes is None else baseline_bytes
        pool = config.memory_budget_bytes - self.baseline_bytes - MEMORY_MARGIN
        if pool < MIN_POOL:
            raise ValueError(
                f"memory budget of {config.memory_budget_bytes / MiB:.0f} MiB leaves "
                f"{max(0, pool) / MiB:.0f} MiB for requests after the server's own "
                f"{self.baseline_bytes / MiB:.0f} MiB; raise it (--memory-budget-mb)"
            )
        self.budget = MemoryBudget(pool)
        self.slots = WorkSlots(config.workers, config.max_queue)
        self.metrics = metrics_mod.Metrics()
        self.connections = ConnectionCounter()
        self.streams = 0
        self.in_progress = 0
        self.files = page_files()
        self.routes: dict[str, dict[str, Callable]] = {
            "/v1/predict": {"POST": self._predict},
            "/v1/health": {"GET": self._health},
            "/v1/model": {"GET": self._model},
            "/metrics": {"GET": self._metrics},
            "/openapi.json": {"GET": self._openapi},
            STREAM_PATH: {},  # WebSocket only
            **{path: {"GET": self._page} for path in PAGE_FILES},
        }

    # ---- ASGI ---------------------------------------------------------------------------------
    async def __call__(self, scope, receive, send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return

    async def _http(self, scope, receive, send) -> None:
        call = _Call(scope, receive, Headers(scope=scope), time.perf_counter())
        endpoint = call.path if call.path in self.routes else "other"
        method = call.method if call.method in ("GET", "HEAD", "POST", "OPTIONS") else "other"
        self.in_progress += 1
        status, code = 500, None
        try:
            try:
                response = await self._guarded(call)
            except ApiError as err:
                code = err.code
                response = error_response(err, close=call.frame.has_body and not call.body_read)
            except Exception:
                log.exception("unexpected error answering %s %s", call.method, call.path)
                code = "internal"
                response = error_response(
                    ApiError(500, "internal", "unexpected server error (logged)", close=True)
                )
            status = response.status_code
            for k, v in security.cors_headers(call.headers, self.config).items():
                response.headers[k] = v
            await response(scope, receive, send)
        finally:
            self.in_progress -= 1
            elapsed = time.perf_counter() - call.started
            self.metrics.observe(endpoint, method, status, elapsed, code)

    async def _guarded(self, call: _Call) -> Response:
        cfg = self.config
        _check_header_size(call.scope, cfg.max_header_bytes)
        security.check_host(call.headers, cfg)
        call.frame = uploads.framing(call.scope["headers"])
        methods = self.routes.get(call.path)
        if methods is None:
            raise ApiError(404, "not_found", f"no such endpoint: {call.path}")
        method = "GET" if call.method == "HEAD" else call.method
        if method == "OPTIONS":
            return self._options(call, methods)
        handler = methods.get(method)
        if handler is None:
            allow = ", ".join(sorted(methods)) or "GET (WebSocket upgrade)"
            raise ApiError(
                405,
                "method_not_allowed",
                f"{call.method} is not allowed on {call.path} (allowed: {allow})",
                headers={"allow": allow},
            )
        if self.connections.open > cfg.max_connections:
            raise ApiError(
                503,
                "busy",
                f"too many open connections (limit {cfg.max_connections}); retry shortly",
                close=True,
                retry_after_s=1,
            )
        if method != "GET":
            security.check_origin(call.headers, cfg)
        if call.path not in PUBLIC:
            security.check_api_key(call.headers, cfg)
        return await handler(call)

    def _options(self, call: _Call, methods: dict[str, Callable]) -> Response:
        allow = ", ".join(sorted({*methods, "OPTIONS"}))
        if call.headers.get("origin") is not None:
            security.check_origin(call.headers, self.config)
            return Response(
                status_code=204,
                headers={"allow": allow, **security.preflight_headers(self.config)},
            )
        return Response(status_code=204, headers={"allow": allow})

    # ---- small endpoints ----------------------------------------------------------------------
    async def _page(self, call: _Call) -> Response:
        name, ctype = PAGE_FILES[call.path]
        return Response(self.files[name], headers=PAGE_HEADERS, media_type=ctype)

    async def _health(self, call: _Call) -> Response:
        body: dict[str, Any] = {"status": "ok", "auth_required": self.config.api_key is not None}
        if self.config.api_key is None:
            body["model"] = self.recognizer.name
        return json_response(body)

    async def _model(self, call: _Call) -> Response:
        info = self.recognizer.info.to_dict()
        info["streaming"] = self.windowed
        info["server"] = self.config.describe()
        return json_response(info)

    async def _openapi(self, call: _Call) -> Response:
        return json_response(openapi.spec(__version__, self.config))

    async def _metrics(self, call: _Call) -> Response:
        gauges: dict[str, tuple[str, Callable[[], float]]] = {
            "edgeser_http_requests_in_progress": (
                "HTTP requests being answered.",
                lambda: self.in_progress,
            ),
            "edgeser_predictions_running": (
                "Predictions running in worker threads.",
                lambda: self.slots.running,
            ),
            "edgeser_queue_depth": (
                "Requests waiting for a worker.",
                lambda: self.slots.waiting,
            ),
            "edgeser_workers": ("Worker slots.", lambda: self.slots.workers),
            "edgeser_open_connections": (
                "Open HTTP connections.",
                lambda: self.connections.open,
            ),
            "edgeser_streams_open": ("Open WebSocket streams.", lambda: self.streams),
            "edgeser_memory_reserved_bytes": (
                "Working memory reserved by requests now.",
                lambda: self.budget.used,
            ),
            "edgeser_memory_reserved_peak_bytes": (
                "Most working memory reserved at once.",
                lambda: self.budget.peak,
            ),
            "edgeser_memory_pool_bytes": (
                "Working memory requests may reserve (the budget less the server's own).",
                lambda: self.budget.total,
            ),
            "edgeser_memory_budget_bytes": (
                "The configured memory budget of the process.",
                lambda: self.config.memory_budget_bytes,
            ),
            "edgeser_process_resident_bytes": (
                "Resident memory of the server process.",
                process_rss_bytes,
            ),
        }
        return Response(self.metrics.render(gauges), media_type=metrics_mod.CONTENT_TYPE)

    # ---- POST /v1/predict ---------------------------------------------------------------------
    async def _predict(self, call: _Call) -> Response:
        cfg = self.config
        timeline = self._flag(call, "timeline")
        if timeline and not self.windowed:
            raise ApiError(
                422,
                "timeline_unsupported",
                f"model {self.recognizer.name!r} reads "
                f"{self.recognizer.features.describe()} and has no timeline; call /v1/predict "
                "without ?timeline=1",
            )
        deadline = call.started + cfg.request_timeout_s
        with self.budget.reserve() as held:
            body = await uploads.read_body(
                call.receive,
                call.frame,
                limit=cfg.max_upload_bytes,
                deadline_s=max(0.001, min(cfg.body_timeout_s, deadline - time.perf_counter())),
                reservation=held,
            )
            call.body_read = True
            ctype = call.headers.get("content-type", "")
            data = body
            if ctype.lower().startswith("multipart/form-data"):
                try:  # parsing holds the body, the file's parts and their join at once
                    held.grow(2 * len(body), "parsing the form")
                except Busy as exc:
                    raise ApiError(503, "busy", str(exc), retry_after_s=1) from None
                except TooLarge as exc:
                    raise ApiError(413, "upload_too_large", str(exc)) from None
                data = uploads.form_file(body, ctype)
                del body
                held.shrink(held.nbytes - len(data))  # only the file is left
            try:
                result = await self.slots.run(
                    self._predict_upload,
                    data,
                    timeline,
                    timeout_s=max(0.001, deadline - time.perf_counter()),
                )
            except Busy as exc:
                raise ApiError(503, "busy", str(exc), retry_after_s=exc.retry_after_s) from None
            except TooLarge as exc:
                raise ApiError(413, "audio_too_large", str(exc)) from None
            except (AudioError, AudioDecodeError) as exc:
                raise ApiError(400, "bad_audio", _upload_message(exc)) from None
            except MissingDependencyError as exc:
                raise ApiError(500, "missing_dependency", str(exc)) from None
            except EdgeserError as exc:
                log.exception("model error on an upload")
                raise ApiError(500, "model_error", _upload_message(exc)) from None
        return json_response(result)

    def _predict_upload(self, data: bytes, timeline: bool) -> dict[str, Any]:
        """In a worker thread: header, memory reservation, decode, predict (and timeline)."""
        rec = self.recognizer
        head = uploads.probe(data, self.config.max_duration_s)
        cost = (
            0
            if head is None  # not audio the loader reads: it fails before decoding anything
            else decode_cost(head.frames, head.channels, head.sample_rate, rec.sample_rate)
        )
        with self.budget.reserve(cost, "decoding the upload"):
            clip = audio_io.load(data, target_rate=rec.sample_rate, limits=self.limits)
            pred = rec.predict(clip)
            result = pred.to_dict()
            if timeline:
                result["timeline"] = [
                    {**p.to_dict(), "source": "upload"} for p in rec.timeline(clip)
                ]
            del clip
        result["source"] = "upload"
        return result

    @staticmethod
    def _flag(call: _Call, name: str) -> bool:
        values = call.query().get(name)
        if not values:
            return False
        value = values[-1].strip().lower()
        if value in TRUE:
            return True
        if value in FALSE:
            return False
        raise ApiError(400, "bad_query", f"?{name}= takes 1 or 0, got {values[-1]!r}")

    # ---- WS /v1/stream ------------------------------------------------------------------------
    async def _websocket(self, scope, receive, send) -> None:
        ws = WebSocket(scope, receive, send)
        started = time.perf_counter()
        protocols = list(scope.get("subprotocols") or [])
        await ws.receive()  # websocket.connect
        endpoint = STREAM_PATH if scope["path"] == STREAM_PATH else "other"
        held = None
        try:
            _check_header_size(scope, self.config.max_header_bytes)
            security.check_host(ws.headers, self.config)
            if scope["path"] != STREAM_PATH:
                raise ApiError(404, "not_found", f"no such endpoint: {scope['path']}")
            security.check_origin(ws.headers, self.config)
            security.check_api_key(ws.headers, self.config, protocols)
            if not self.windowed:
                raise ApiError(
                    422,
                    "stream_unsupported",
                    f"model {self.recognizer.name!r} reads "
                    f"{self.recognizer.features.describe()} and cannot stream; use POST "
                    "/v1/predict",
                )
            if self.streams >= self.config.max_streams:
                raise ApiError(
                    503,
                    "busy",
                    f"too many open streams (limit {self.config.max_streams}); retry shortly",
                    retry_after_s=1,
                )
            try:
                held = self.budget.reserve(stream_cost(self.config.max_message_bytes), "a stream")
            except (Busy, TooLarge) as exc:
                raise ApiError(503, "busy", str(exc), retry_after_s=1) from None
        except ApiError as err:
            elapsed = time.perf_counter() - started
            self.metrics.observe(endpoint, "GET", err.status, elapsed, err.code)
            if "websocket.http.response" in scope.get("extensions", {}):
                await ws.send_denial_response(error_response(err))
            else:
                await ws.close(code=1008, reason=err.code)
            return
        self.metrics.observe(endpoint, "GET", 101, time.perf_counter() - started)
        self.streams += 1
        try:
            chosen = security.STREAM_PROTOCOL if security.STREAM_PROTOCOL in protocols else None
            if chosen is None and protocols:
                chosen = protocols[0]
            await ws.accept(subprotocol=chosen)
            await _Stream(self, ws).run()
        finally:
            self.streams -= 1
            held.release()


class _StreamError(Exception):
    def __init__(self, code: str, message: str, close_code: int):
        super().__init__(message)
        self.code = code
        self.message = message
        self.close_code = close_code


class _Stream:
    """One WebSocket stream: config message, binary chunks, flush; errors close it."""

    def __init__(self, app: App, ws: WebSocket):
        self.app = app
        self.ws = ws
        self.labels = app.recognizer.labels

    async def run(self) -> None:
        import anyio
        from starlette.websockets import WebSocketDisconnect

        try:
            await self._run(anyio)
        except _StreamError as err:
            self.app.metrics.error(STREAM_PATH, err.code)
            await self._close_with(err)
        except (WebSocketDisconnect, OSError):
            return
        except Exception:
            log.exception("unexpected error on a stream")
            self.app.metrics.error(STREAM_PATH, "internal")
            await self._close_with(
                _StreamError("internal", "unexpected server error (logged)", 1011)
            )

    async def _close_with(self, err: _StreamError) -> None:
        try:
            message = {"type": "error", **error_body(err.code, err.message)}
            await self.ws.send_text(json_bytes(message).decode("utf-8"))
            await self.ws.close(code=err.close_code, reason=err.code)
        except Exception:  # the client is gone already
            pass

    async def _receive(self, anyio, timeout_s: float, what: str) -> Any:
        with anyio.move_on_after(timeout_s):
            message = await self.ws.receive()
            return None if message["type"] == "websocket.disconnect" else message
        raise _StreamError("timeout", f"no {what} within {timeout_s:g} s", 1008)

    async def _run(self, anyio) -> None:
        app, cfg, rec = self.app, self.app.config, self.app.recognizer
        message = await self._receive(anyio, cfg.header_timeout_s, "config message")
        if message is None:
            return
        rate, fmt, channels = self._config(message)
        stream = rec.stream(sample_rate=rate)
        await self._send(
            {
                "type": "ready",
                "model": rec.name,
                "labels": list(self.labels),
                "sample_rate": rate,
                "format": fmt,
                "channels": channels,
                "model_sample_rate": rec.sample_rate,
            }
        )
        dtype = np.dtype("<i2") if fmt == "pcm16" else np.dtype("<f4")
        frame_bytes = dtype.itemsize * channels
        max_samples = int(cfg.max_duration_s * rate)
        received = 0
        while True:
            message = await self._receive(anyio, cfg.stream_idle_timeout_s, "audio")
            if message is None:
                return
            data = message.get("bytes")
            if data is not None:
                if len(data) % frame_bytes:
                    raise _StreamError(
                        "bad_chunk",
                        f"a chunk of {len(data)} bytes is not whole {fmt} frames "
                        f"({frame_bytes} bytes each)",
                        1007,
                    )
                received += len(data) // frame_bytes
                if received > max_samples:
                    raise _StreamError(
                        "stream_too_long",
                        f"the stream passed the server's limit of {cfg.max_duration_s:g} s",
                        1008,
                    )
                samples = np.frombuffer(data, dtype=dtype)
                if channels > 1:
                    samples = samples.reshape(-1, channels)
                app.metrics.stream(chunks=1)
                await self._emit(await self._work(stream.push, samples))
                continue
            request = self._json(message.get("text"))
            if request.get("type") != "flush":
                raise _StreamError(
                    "bad_message",
                    'expected binary audio chunks or {"type": "flush"}',
                    1003,
                )
            await self._emit(await self._work(stream.flush))
            await self._send({"type": "end", "utterance": stream.utterance().to_dict()})
            await self.ws.close(code=1000)
            return

    async def _work(self, fn, *args) -> list[Prediction]:
        try:
            return await self.app.slots.run(fn, *args, timeout_s=self.app.config.request_timeout_s)
        except Busy as exc:
            raise _StreamError("busy", str(exc), 1013) from None
        except AudioError as exc:
            raise _StreamError("bad_audio", str(exc), 1007) from None

    def _json(self, text: str | None) -> dict:
        import json

        try:
            value = json.loads(text or "")
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise _StreamError("bad_message", "text messages must be JSON objects", 1003)
        return value

    def _config(self, message: dict) -> tuple[int, str, int]:
        if message.get("text") is None:
            raise _StreamError(
                "bad_config",
                'the first message must be text: {"sample_rate": N, "format": "pcm16"}',
                1008,
            )
        cfg = self._json(message["text"])
        try:
            rate = audio_io.check_sample_rate(cfg.get("sample_rate"), "sample_rate")
        except AudioError as exc:
            raise _StreamError("bad_config", str(exc), 1008) from None
        fmt = cfg.get("format", "pcm16")
        if fmt not in ("pcm16", "float32"):
            raise _StreamError("bad_config", f"format must be pcm16 or float32, got {fmt!r}", 1008)
        channels = cfg.get("channels", 1)
        if (
            isinstance(channels, bool)
            or not isinstance(channels, int)
            or not 1 <= channels <= audio_io.MAX_CHANNELS
        ):
            raise _StreamError(
                "bad_config", f"channels must be 1..{audio_io.MAX_CHANNELS}, got {channels!r}", 1008
            )
        return rate, fmt, channels

    async def _emit(self, predictions: list[Prediction]) -> None:
        for p in predictions:
            await self._send(p.to_dict())
        self.app.metrics.stream(predictions=len(predictions))

    async def _send(self, obj: dict) -> None:
        await self.ws.send_text(json_bytes(obj).decode("utf-8"))
