"""Serving the app with uvicorn: the listening socket, the HTTP protocol, start and stop.

The HTTP protocol is uvicorn's h11 one (a strict parser: it refuses malformed or conflicting
Content-Length, missing Host on HTTP/1.1, oversized header blocks) with three additions:

- a header deadline: a connection must finish its request line and headers within
  `header_timeout_s` of opening (or of its previous response), else it gets a JSON 408 and is
  closed, so a client sending a header line every few seconds cannot hold it;
- JSON bodies for the parser's own errors (400/431/501, with `Connection: close`);
- the count of open connections, which the app compares with `max_connections`.

The socket is made here (IPv4 or IPv6, listen backlog `backlog`) so its port is known at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .app import App
from .config import normalise_host, url_host
from .limits import WS_QUEUE
from .responses import error_body, json_bytes

log = logging.getLogger("edgeser.server")


def protocol_class(app: App) -> type[H11Protocol]:
    """uvicorn's h11 protocol with the header deadline, JSON parser errors and counting."""
    header_timeout_s = app.config.header_timeout_s
    counter = app.connections

    class EdgeserH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None
        _counted = False
        _parse_error: h11.RemoteProtocolError | None = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            counter.opened()
            self._counted = True
            next_event = self.conn.next_event

            def recording_next_event() -> Any:
                try:
                    return next_event()
                except h11.RemoteProtocolError as exc:
                    self._parse_error = exc
                    raise

            self.conn.next_event = recording_next_event  # type: ignore[method-assign]
            self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_header_timer()
            if self._counted:
                self._counted = False
                counter.closed()
            super().connection_lost(exc)

        def handle_websocket_upgrade(self, event: h11.Request) -> None:
            self._cancel_header_timer()
            if self._counted:  # from here on a stream, counted by the app
                self._counted = False
                counter.closed()
            super().handle_websocket_upgrade(event)

        def handle_events(self) -> None:
            super().handle_events()
            if self.conn.their_state is not h11.IDLE:
                self._cancel_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
                self._arm_header_timer()

        def _arm_header_timer(self) -> None:
            self._cancel_header_timer()
            self._header_timer = self.loop.call_later(header_timeout_s, self._header_timeout)

        def _cancel_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timeout(self) -> None:
            self._header_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            app.metrics.error("other", "header_timeout")
            self._send_json_error(
                408,
                "header_timeout",
                f"request headers not received within {header_timeout_s:g} s",
            )

        def send_400_response(self, msg: str) -> None:
            exc = self._parse_error
            status = getattr(exc, "error_status_hint", 400) if exc is not None else 400
            detail = str(exc) if exc is not None and str(exc) else msg
            app.metrics.error("other", "bad_request")
            self._send_json_error(status, "bad_request", f"invalid HTTP request: {detail}")

        def _send_json_error(self, status: int, code: str, message: str) -> None:
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.disconnected = True  # the app's answer, if any, is not sent
                self.cycle.message_event.set()
            body = json_bytes(error_body(code, message))
            if self.conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ]
                try:
                    self.transport.write(
                        self.conn.send(h11.Response(status_code=status, headers=headers))
                        + self.conn.send(h11.Data(data=body))
                        + self.conn.send(h11.EndOfMessage())
                    )
                except h11.LocalProtocolError:
                    pass
            self.transport.close()

    return EdgeserH11Protocol


def bind_socket(host: str, port: int, backlog: int) -> socket.socket:
    """A listening TCP socket on `host` (IPv4, IPv6 or a name) and `port` (0: any free one)."""
    h = normalise_host(host)
    infos = socket.getaddrinfo(
        h or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE | socket.AI_NUMERICSERV
    )
    if not infos:
        raise OSError(f"cannot resolve {host!r}")
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6 and h == "::":
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # also IPv4
        sock.bind(address)
        sock.listen(backlog)
        sock.set_inheritable(True)
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {url_host(host)}:{port}: {exc.strerror or exc}") from None
    return sock


def uvicorn_config(app: App, verbose: bool = False) -> uvicorn.Config:
    cfg = app.config
    return uvicorn.Config(
        app,
        host=cfg.host,
        port=cfg.port,
        http=protocol_class(app),
        ws="websockets-sansio",
        ws_max_size=cfg.max_message_bytes,
        ws_max_queue=WS_QUEUE,
        ws_per_message_deflate=False,  # no decompression bombs
        lifespan="off",
        interface="asgi3",
        log_config=None,
        access_log=verbose,
        proxy_headers=False,
        server_header=False,
        # A backstop behind the app's own JSON 503 at max_connections.
        limit_concurrency=2 * cfg.max_connections + cfg.max_streams + 16,
        backlog=cfg.backlog,
        timeout_keep_alive=max(1, round(cfg.keep_alive_s)),
        timeout_graceful_shutdown=5,
        h11_max_incomplete_event_size=cfg.max_header_bytes,
    )


class Server:
    """The app on uvicorn, on a socket bound at construction (so `url` is known at once).

    server = Server(App(recognizer, ServerConfig(port=0)))
    server.start()            # in a background thread (tests, notebooks), or
    server.run()              # in this thread until SIGINT/SIGTERM (the CLI)
    """

    def __init__(self, app: App, verbose: bool = False):
        self.app = app
        self.socket = bind_socket(app.config.host, app.config.port, app.config.backlog)
        self._uvicorn = uvicorn.Server(uvicorn_config(app, verbose))
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    @property
    def url(self) -> str:
        host = self.app.config.host
        shown = "127.0.0.1" if normalise_host(host) in ("0.0.0.0", "") else host
        shown = "::1" if normalise_host(host) == "::" else shown
        return f"http://{url_host(shown)}:{self.port}"

    def run(self) -> None:
        try:
            self._uvicorn.run(sockets=[self.socket])
        finally:
            self.socket.close()

    def start(self, timeout_s: float = 30.0) -> Server:
        self._thread = threading.Thread(target=self.run, name="edgeser-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the edgeser server did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                self._uvicorn.force_exit = True
                self._thread.join(timeout_s)
        with contextlib.suppress(OSError):
            self.socket.close()

    def __enter__(self) -> Server:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
