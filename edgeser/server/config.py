"""What the server accepts and where it listens: one validated, frozen `ServerConfig`.

Standard library only (the CLI validates its options against these bounds before anything of
the serving stack is imported).
"""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field, fields

from ..interpreter import MAX_NUM_THREADS

MAX_THREADS = MAX_NUM_THREADS  # one bound for the CLI, the server and the runner

MiB = 1024 * 1024
MIN_API_KEY_CHARS = 16
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")


def default_workers() -> int:
    """Predictions run at once by default: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def normalise_host(host: str) -> str:
    """Lower case, no brackets around IPv6 literals, no trailing dot."""
    h = host.strip().lower()
    if h.startswith("[") and h.endswith("]"):
        h = h[1:-1]
    return h.rstrip(".") if h not in ("", ".") else h


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(normalise_host(host))
    except ValueError:
        return None


def is_loopback(host: str) -> bool:
    """True for localhost and loopback IP literals (127.0.0.0/8, ::1)."""
    h = normalise_host(host)
    if h == "localhost":
        return True
    ip = ip_literal(h)
    return ip is not None and ip.is_loopback


def is_wildcard(host: str) -> bool:
    return normalise_host(host) in WILDCARD_HOSTS


def url_host(host: str) -> str:
    """`host` as it appears in a URL (IPv6 literals in brackets)."""
    h = normalise_host(host)
    return f"[{h}]" if ":" in h else h


def _int(name: str, value: object, lo: int, hi: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"ServerConfig.{name} must be an integer, got {value!r}")
    if value < lo or (hi is not None and value > hi):
        bound = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"ServerConfig.{name} must be {bound}, got {value}")


def _seconds(name: str, value: object, hi: float = 86400.0) -> None:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= hi
    ):
        raise ValueError(
            f"ServerConfig.{name} must be a finite number of seconds in (0, {hi:g}], got {value!r}"
        )


@dataclass(frozen=True)
class ServerConfig:
    """Where to listen, who may call, and how much one request or the whole server may take.

    Hardening is on by default: loopback bind; an API key (`api_key`, sent as
    `Authorization: Bearer <key>`) is required for any other bind; only Host headers naming
    this server are answered; CORS is off unless `cors_origins` names origins.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    api_key: str | None = None
    allowed_hosts: tuple[str, ...] = ()  # extra Host names (beyond the bound host, localhost)
    cors_origins: tuple[str, ...] = ()  # e.g. ("https://app.example",)
    max_upload_bytes: int = 25 * MiB
    max_duration_s: float = 300.0  # decoded audio per request or stream, from the header
    workers: int = field(default_factory=default_workers)  # predictions running at once
    max_queue: int = 32  # requests waiting for a worker; beyond: 503 + Retry-After
    max_connections: int = 256  # open HTTP connections; beyond: 503 + Connection: close
    max_streams: int = 16  # open WebSocket streams
    memory_budget_bytes: int = 256 * MiB  # the whole server process
    header_timeout_s: float = 10.0  # request line + headers (and a stream's config message)
    body_timeout_s: float = 30.0  # the whole upload
    request_timeout_s: float = 60.0  # headers received -> response (body, queue, predict)
    keep_alive_s: float = 5.0  # idle keep-alive connection
    stream_idle_timeout_s: float = 30.0  # silence on an open stream
    max_header_bytes: int = 16 * 1024
    max_message_bytes: int = 256 * 1024  # one WebSocket message (100 ms of 48 kHz: 9.4 KiB)
    backlog: int = 1024

    def __post_init__(self) -> None:
        if not isinstance(self.host, str):
            raise ValueError(f"ServerConfig.host must be a string, got {self.host!r}")
        object.__setattr__(self, "allowed_hosts", tuple(self.allowed_hosts))
        object.__setattr__(self, "cors_origins", tuple(o.rstrip("/") for o in self.cors_origins))
        _int("port", self.port, 0, 65535)
        _int("max_upload_bytes", self.max_upload_bytes, 1)
        _int("workers", self.workers, 1, 1024)
        _int("max_queue", self.max_queue, 0, 100_000)
        _int("max_connections", self.max_connections, 1, 100_000)
        _int("max_streams", self.max_streams, 0, 10_000)
        _int("memory_budget_bytes", self.memory_budget_bytes, 16 * MiB)
        _int("max_header_bytes", self.max_header_bytes, 1024, 1024 * 1024)
        _int("max_message_bytes", self.max_message_bytes, 1024, 64 * MiB)
        _int("backlog", self.backlog, 128, 65535)
        _seconds("max_duration_s", self.max_duration_s, 86400.0)
        for name in (
            "header_timeout_s",
            "body_timeout_s",
            "request_timeout_s",
            "keep_alive_s",
            "stream_idle_timeout_s",
        ):
            _seconds(name, getattr(self, name), 3600.0)
        if self.api_key is not None:
            key = self.api_key
            if not isinstance(key, str) or len(key) < MIN_API_KEY_CHARS:
                raise ValueError(
                    f"the API key (ServerConfig.api_key, --api-key, EDGESER_API_KEY) must be at "
                    f"least {MIN_API_KEY_CHARS} characters (make one with: python -c "
                    "'import secrets; print(secrets.token_urlsafe(24))')"
                )
            if not all(33 <= ord(c) <= 126 for c in key):
                raise ValueError(
                    "the API key (ServerConfig.api_key, --api-key, EDGESER_API_KEY) must be "
                    "printable ASCII without spaces (it travels in an HTTP header)"
                )
        if not is_loopback(self.host) and self.api_key is None:
            raise ValueError(
                f"host {self.host!r} is not a loopback address, so an API key is required: "
                "pass --api-key or set EDGESER_API_KEY (ServerConfig.api_key)"
            )
        for h in self.allowed_hosts:
            if not isinstance(h, str) or not h.strip() or any(c in h for c in " /,"):
                raise ValueError(f"ServerConfig.allowed_hosts: not a host name: {h!r}")
        for o in self.cors_origins:
            scheme, sep, rest = o.partition("://")
            if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
                raise ValueError(
                    f"ServerConfig.cors_origins: {o!r} is not an origin like https://app.example"
                )

    @property
    def host_names(self) -> frozenset[str]:
        """Host header names this server answers (the allow-list against DNS rebinding)."""
        names = {normalise_host(h) for h in (*LOOPBACK_NAMES, *self.allowed_hosts)}
        if not is_wildcard(self.host):
            names.add(normalise_host(self.host))
        return frozenset(names)

    def describe(self) -> dict[str, object]:
        """The public limits (no secrets): for /v1/model and the start-up line."""
        hidden = {"api_key", "host", "port", "allowed_hosts", "cors_origins"}
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        for k in hidden:
            out.pop(k)
        out["auth_required"] = self.api_key is not None
        return out
