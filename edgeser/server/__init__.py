"""The HTTP + WebSocket API and its web page: a Starlette-style ASGI app on uvicorn.

    edgeser serve --model default --port 8000      # then open http://127.0.0.1:8000/

    from edgeser.server import App, Server, ServerConfig
    with Server(App(recognizer, ServerConfig(port=0))) as server:
        print(server.url)

Endpoints: ``POST /v1/predict`` (the audio file as the body or one file field of a form;
``?timeline=1`` adds per-window results), ``WS /v1/stream`` (live PCM in, one prediction per
window out), ``GET /v1/health``, ``/v1/model``, ``/metrics`` (Prometheus), ``/openapi.json``
and the page at ``/``. Needs the ``serve`` extra (``pip install edgeser[serve]``).

Modules, one concept each: `config` (ServerConfig), `security` (Host, Origin, CORS, API key),
`limits` (worker slots, memory budget, connections), `uploads` (body, form, audio header),
`metrics` (Prometheus text), `responses` (JSON bodies and errors), `openapi`, `app` (the ASGI
app) and `runner` (uvicorn, the socket, start/stop).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import ServerConfig

if TYPE_CHECKING:
    from .app import App, page_html
    from .runner import Server

__all__ = ["App", "Server", "ServerConfig", "page_html"]
_LAZY = {"App": "app", "page_html": "app", "Server": "runner"}


def __getattr__(name: str) -> Any:
    """`App`, `Server` and `page_html` import the serving stack on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'edgeser.server' has no attribute {name!r}")
    from importlib import import_module

    try:
        value = getattr(import_module(f".{module}", __name__), name)
    except ImportError as exc:
        if exc.name and exc.name.split(".")[0] in ("starlette", "uvicorn", "h11", "anyio"):
            from ..errors import MissingDependencyError

            raise MissingDependencyError(
                f"the server needs the 'serve' extra: pip install 'edgeser[serve]' ({exc})"
            ) from exc
        raise
    globals()[name] = value
    return value
