"""Who may call: the Host allow-list, the Origin check, CORS and the API key.

- Host: only names this server answers to (the bound address, localhost, 127.0.0.1, ::1 and
  `allowed_hosts`); a wildcard bind also answers IP literals, which DNS cannot rebind. Others
  get 421, so a page on a rebound domain cannot reach the API.
- Origin: a browser request that changes something (POST, a WebSocket) must come from this
  server's own origin or one of `cors_origins`; others (and the opaque origin "null") get 403.
  CORS headers are sent only for `cors_origins`.
- API key: `Authorization: Bearer <key>`, compared in constant time. Browsers cannot set headers
  on a WebSocket, so a stream may send the key as the subprotocol `edgeser.key.<base64url(key)>`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping

from .config import ServerConfig, ip_literal, is_wildcard, normalise_host
from .responses import ApiError

KEY_PROTOCOL_PREFIX = "edgeser.key."
STREAM_PROTOCOL = "edgeser"


def split_host_header(value: str) -> tuple[str, str | None] | None:
    """'host[:port]' / '[v6][:port]' -> (host, port or None); None when malformed."""
    v = value.strip()
    if not v or any(c in v for c in " /\\@?#"):
        return None
    if v.startswith("["):
        end = v.find("]")
        if end < 0:
            return None
        host, rest = v[1:end], v[end + 1 :]
        if rest and not (rest.startswith(":") and rest[1:].isdigit()):
            return None
        return host, rest[1:] or None
    host, sep, port = v.rpartition(":")
    if not sep:
        return v, None
    if not port.isdigit() or ":" in host or not host:
        return None
    return host, port


def check_host(headers: Mapping[str, str], config: ServerConfig) -> None:
    """421 unless the Host header names this server (400 when missing or malformed)."""
    raw = headers.get("host")
    if raw is None:
        raise ApiError(400, "missing_host", "the request has no Host header", close=True)
    parsed = split_host_header(raw)
    if parsed is None:
        raise ApiError(400, "bad_host", f"malformed Host header: {raw!r}", close=True)
    host = normalise_host(parsed[0])
    if "*" in config.allowed_hosts or host in config.host_names:
        return
    if is_wildcard(config.host) and ip_literal(host) is not None:
        return
    raise ApiError(
        421,
        "unknown_host",
        f"this server does not answer for host {parsed[0]!r} "
        "(start it with --allowed-host NAME to add a name)",
        close=True,
    )


def same_origin(origin: str, host_header: str | None) -> bool:
    scheme, sep, rest = origin.partition("://")
    if scheme not in ("http", "https") or not sep or host_header is None:
        return False
    a, b = split_host_header(rest), split_host_header(host_header)
    if a is None or b is None:
        return False
    default = "443" if scheme == "https" else "80"
    return normalise_host(a[0]) == normalise_host(b[0]) and (a[1] or default) == (b[1] or default)


def check_origin(headers: Mapping[str, str], config: ServerConfig) -> None:
    """403 for a browser request from another origin (no Origin header: not a browser)."""
    origin = headers.get("origin")
    if origin is None:
        return
    origin = origin.strip().rstrip("/")
    if origin in config.cors_origins or same_origin(origin, headers.get("host")):
        return
    raise ApiError(
        403,
        "cross_origin",
        f"requests from origin {origin!r} are not allowed (start the server with "
        "--cors-origin ORIGIN to allow one)",
        close=True,
    )


def cors_headers(headers: Mapping[str, str], config: ServerConfig) -> dict[str, str]:
    """The CORS response headers for an allowed cross origin, else none."""
    origin = (headers.get("origin") or "").strip().rstrip("/")
    if not origin or origin not in config.cors_origins:
        return {}
    return {
        "access-control-allow-origin": origin,
        "access-control-expose-headers": "Retry-After",
        "vary": "Origin",
    }


def preflight_headers(config: ServerConfig) -> dict[str, str]:
    return {
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": "Authorization, Content-Type",
        "access-control-max-age": "600",
    }


def key_from_protocols(protocols: list[str]) -> str | None:
    for p in protocols:
        if p.startswith(KEY_PROTOCOL_PREFIX):
            token = p[len(KEY_PROTOCOL_PREFIX) :]
            try:
                return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return ""
    return None


def check_api_key(
    headers: Mapping[str, str], config: ServerConfig, protocols: list[str] | None = None
) -> None:
    """401 unless the request carries the server's API key (no key configured: open)."""
    if config.api_key is None:
        return
    given: str | None = None
    auth = headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() == "bearer":
            given = token.strip()
    if given is None and protocols is not None:
        given = key_from_protocols(protocols)
    challenge = {"www-authenticate": 'Bearer realm="edgeser"'}
    if given is None:
        raise ApiError(
            401,
            "unauthorized",
            "this server needs an API key: send 'Authorization: Bearer <key>'",
            close=True,
            headers=challenge,
        )
    if not hmac.compare_digest(given.encode("utf-8", "replace"), config.api_key.encode("ascii")):
        raise ApiError(
            401,
            "unauthorized",
            "wrong API key",
            close=True,
            headers={"www-authenticate": 'Bearer realm="edgeser", error="invalid_token"'},
        )
