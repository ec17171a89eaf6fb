"""Every answer the API gives: JSON bodies, the one error shape, the headers sent with them.

Errors are `{"error": {"code": "...", "message": "..."}}` with the HTTP status; an error sent
before the request body was read (or after a framing problem) also says `Connection: close`,
since the server closes that connection.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

API_HEADERS = {
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
}
PAGE_HEADERS = {
    "cache-control": "no-cache",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    # Everything the page needs is served from here: no external scripts, styles or fonts.
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; media-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'none'"
    ),
}


class ApiError(Exception):
    """An error answer: HTTP `status`, a stable `code`, a human `message`.

    `close`: end the connection after the answer (sent with `Connection: close`).
    `retry_after_s`: adds `Retry-After` (503).
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        close: bool = False,
        retry_after_s: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.close = close
        self.headers = dict(headers or {})
        if retry_after_s is not None:
            self.headers["retry-after"] = str(int(retry_after_s))


def error_body(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(
        "utf-8"
    )


def json_response(
    obj: Any, status: int = 200, headers: dict[str, str] | None = None, close: bool = False
) -> Response:
    h = {**API_HEADERS, **(headers or {})}
    if close:
        h["connection"] = "close"
    return Response(json_bytes(obj), status, headers=h, media_type="application/json")


def error_response(err: ApiError, close: bool = False, headers: dict[str, str] | None = None):
    return json_response(
        error_body(err.code, err.message),
        err.status,
        headers={**err.headers, **(headers or {})},
        close=close or err.close,
    )
