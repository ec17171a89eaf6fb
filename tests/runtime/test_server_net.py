"""The API over real sockets: uvicorn on a free loopback port, raw HTTP where framing matters.

Connection-level cases of issue 14: header and body deadlines against slow clients, the
connection cap, the worker cap (503 + Retry-After), strict framing (Content-Length +100 / 1_0,
conflicting lengths, chunked plus Content-Length), Connection: close after errors, Host checks
over the wire, IPv6, the listen backlog, a WebSocket stream, and the `serve` command.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time

import pytest

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from edgeser.cli import main  # noqa: E402
from edgeser.server import App, Server, ServerConfig  # noqa: E402

from .support import encode, speechlike, subprocess_env  # noqa: E402

WAV = encode(speechlike(1.5, seed=9), 16000)


@pytest.fixture
def serve(recognizers):
    """serve(**config) -> a started Server on a free port (stopped after the test)."""
    started = []

    def start(model: str = "tiny_float", **cfg) -> Server:
        cfg.setdefault("port", 0)
        server = Server(App(recognizers(model), ServerConfig(**cfg), baseline_bytes=0))
        started.append(server.start())
        return server

    yield start
    for s in started:
        s.stop()


class Response:
    def __init__(self, status: int, headers: dict[str, str], body: bytes, closed: bool):
        self.status, self.headers, self.body, self.closed = status, headers, body, closed

    def json(self):
        assert self.headers.get("content-type") == "application/json", self.headers
        return json.loads(self.body)


def read_response(sock: socket.socket, timeout_s: float = 10.0) -> Response:
    """One HTTP response from `sock`, and whether the server then closed the connection."""
    sock.settimeout(timeout_s)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    sock.settimeout(0.4)  # a server that closes does so right after the response
    try:
        closed = sock.recv(1) == b""
    except (TimeoutError, ConnectionResetError):
        closed = False
    return Response(status, headers, body[:length], closed)


def connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def raw(server: Server, data: bytes) -> Response:
    with connect(server) as sock:
        sock.sendall(data)
        return read_response(sock)


def post(server: Server, body: bytes = WAV, path: str = "/v1/predict", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request("POST", path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def request_head(extra: str, body: bytes = b"", method: str = "POST") -> bytes:
    return f"{method} /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode() + body


# ---- a real server answers ----------------------------------------------------------------------
def test_predict_over_a_real_connection(serve, recognizers):
    server = serve()
    status, headers, body = post(server)
    assert status == 200, body
    assert json.loads(body)["scores"] == pytest.approx(
        recognizers("tiny_float").predict(WAV).scores, abs=1e-5
    )
    assert "server" not in {k.lower() for k in headers}


def test_chunked_upload_is_read(serve):
    server = serve()
    chunks = b"".join(
        f"{len(WAV[i : i + 4096]):x}\r\n".encode() + WAV[i : i + 4096] + b"\r\n"
        for i in range(0, len(WAV), 4096)
    )
    r = raw(server, request_head("Transfer-Encoding: chunked\r\n", chunks + b"0\r\n\r\n"))
    assert r.status == 200, r.body


# ---- framing ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "framing",
    [
        "Content-Length: +100\r\n",
        "Content-Length: 1_0\r\n",
        "Content-Length: 0x10\r\n",
        "Content-Length: 10\r\nContent-Length: 5\r\n",
        "Transfer-Encoding: chunked\r\nContent-Length: 10\r\n",
        "Transfer-Encoding: gzip\r\n",
    ],
)
def test_ambiguous_framing_is_refused_and_the_connection_closed(serve, framing):
    server = serve()
    r = raw(server, request_head(framing, b"0123456789"))
    assert r.status in (400, 501), r.body
    assert r.headers["connection"] == "close" and r.closed
    assert r.json()["error"]["code"] in ("bad_request", "bad_framing")


def test_errors_before_the_body_is_read_close_the_connection(serve):
    server = serve(max_upload_bytes=1000)
    r = raw(server, request_head("Content-Length: 5000\r\n", b"x" * 100))
    assert r.status == 413 and r.headers["connection"] == "close" and r.closed
    r = raw(server, request_head("Content-Length: 10\r\nOrigin: https://evil.example\r\n"))
    assert r.status == 403 and r.headers["connection"] == "close" and r.closed
    # An error after the whole body was read keeps the connection (keep-alive).
    r = raw(server, request_head("Content-Length: 10\r\n", b"not audio!"))
    assert r.status == 400 and "connection" not in r.headers and not r.closed


def test_foreign_host_over_the_wire(serve):
    server = serve()
    r = raw(server, b"GET /v1/health HTTP/1.1\r\nHost: attacker.example\r\n\r\n")
    assert r.status == 421 and r.closed and r.json()["error"]["code"] == "unknown_host"
    r = raw(server, b"GET /v1/health HTTP/1.0\r\n\r\n")  # HTTP/1.0 without Host
    assert r.status == 400 and r.json()["error"]["code"] == "missing_host"


def test_oversized_headers_get_a_json_error(serve):
    server = serve(max_header_bytes=2048)
    r = raw(
        server, b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 5000 + b"\r\n\r\n"
    )
    assert r.status == 431 and r.closed and r.json()["error"]["code"] == "headers_too_large"
    with connect(server) as sock:  # arriving in pieces: refused by the parser before the end
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + b"a" * 3000)
        r = read_response(sock)
    assert r.status in (400, 431) and r.closed and r.json()["error"]["code"] == "bad_request"


# ---- slow clients -------------------------------------------------------------------------------
def test_slow_headers_hit_the_header_deadline(serve):
    server = serve(header_timeout_s=0.6)
    with connect(server) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        for _ in range(6):  # a header line every 0.2 s does not extend the deadline
            time.sleep(0.2)
            try:
                sock.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        r = read_response(sock)
        assert r.status == 408 and r.closed and r.json()["error"]["code"] == "header_timeout"
        assert time.monotonic() - start < 3.0


def test_slow_body_hits_the_body_deadline(serve):
    server = serve(body_timeout_s=0.5)
    with connect(server) as sock:
        sock.sendall(request_head("Content-Length: 100000\r\n", WAV[:1000]))
        r = read_response(sock)
        assert r.status == 408 and r.closed and r.json()["error"]["code"] == "body_timeout"


def test_slow_clients_do_not_delay_a_normal_one(serve):
    server = serve(header_timeout_s=5.0)
    post(server)  # warm
    base = min(_timed_post(server) for _ in range(3))
    slow = []
    try:
        for _ in range(32):
            s = connect(server)
            s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(s)
        loaded = min(_timed_post(server) for _ in range(3))
    finally:
        for s in slow:
            s.close()
    assert loaded < base + 0.25, (base, loaded)


def _timed_post(server: Server) -> float:
    t = time.perf_counter()
    status, _, _ = post(server)
    assert status == 200
    return time.perf_counter() - t


def test_connection_cap(serve):
    server = serve(max_connections=3)
    idle = [connect(server) for _ in range(4)]
    try:
        time.sleep(0.2)  # accepted by the server
        r = raw(server, b"GET /v1/model HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert r.status == 503 and r.closed and r.headers["retry-after"] == "1"
        assert r.json()["error"]["code"] == "busy"
    finally:
        for s in idle:
            s.close()
    time.sleep(0.2)
    assert raw(server, b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").status == 200


def test_predictions_beyond_workers_and_queue_get_503_at_once(serve):
    server = serve(workers=1, max_queue=0)
    release = threading.Event()
    entered = threading.Event()
    real = server.app._predict_upload

    def blocking(data, timeline):
        entered.set()
        release.wait(10)
        return real(data, timeline)

    server.app._predict_upload = blocking
    first: dict = {}
    t = threading.Thread(target=lambda: first.update(r=post(server)))
    t.start()
    try:
        assert entered.wait(10)
        start = time.perf_counter()
        status, headers, body = post(server)
        assert time.perf_counter() - start < 1.0  # immediately, not queued
        assert status == 503 and headers["retry-after"] == "1"
        assert json.loads(body)["error"]["code"] == "busy"
    finally:
        release.set()
        t.join(10)
    assert first["r"][0] == 200


def test_listen_backlog_is_at_least_128(serve):
    server = serve()
    out = subprocess.run(
        ["ss", "-ltnH", f"sport = :{server.port}"], capture_output=True, text=True, check=False
    )
    if out.returncode != 0 or not out.stdout.strip():
        pytest.skip("ss is not available to read the listen backlog")
    send_q = int(out.stdout.split()[2])  # for a listening socket: the backlog
    assert send_q >= 128


# ---- IPv6 and WebSocket over the wire -----------------------------------------------------------
def test_ipv6_loopback(serve):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    server = serve(host="::1")
    assert server.url.startswith("http://[::1]:")
    conn = http.client.HTTPConnection("::1", server.port, timeout=10)
    conn.request("GET", "/v1/health")
    resp = conn.getresponse()
    assert resp.status == 200 and json.loads(resp.read())["status"] == "ok"
    conn.close()


def test_websocket_stream_over_the_wire(serve):
    ws_client = pytest.importorskip("websockets.sync.client")
    import numpy as np

    server = serve()
    pcm = np.clip(speechlike(2.2, seed=5) * 32767, -32768, 32767).astype("<i2")
    url = f"ws://127.0.0.1:{server.port}/v1/stream"
    with ws_client.connect(url, subprotocols=["edgeser"], open_timeout=10) as ws:
        ws.send(json.dumps({"sample_rate": 16000, "format": "pcm16"}))
        assert json.loads(ws.recv(10))["type"] == "ready"
        for i in range(0, len(pcm), 1600):
            ws.send(pcm[i : i + 1600].tobytes())
        ws.send(json.dumps({"type": "flush"}))
        msgs = []
        while not msgs or msgs[-1].get("type") != "end":
            msgs.append(json.loads(ws.recv(10)))
    assert len(msgs) >= 2 and msgs[-1]["utterance"]["model"] == "tiny_float"
    from websockets.exceptions import ConnectionClosed

    with ws_client.connect(url, subprotocols=["edgeser"], open_timeout=10) as ws:
        ws.send(json.dumps({"sample_rate": 16000, "format": "pcm16"}))
        ws.recv(10)
        ws.send(b"\x00" * (server.app.config.max_message_bytes + 2))  # over the message limit
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


# ---- the serve command ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, option",
    [
        (["--max-upload-mb", "inf"], "--max-upload-mb"),
        (["--max-upload-mb", "-5"], "--max-upload-mb"),
        (["--max-upload-mb", "nan"], "--max-upload-mb"),
        (["--max-upload-mb", "0"], "--max-upload-mb"),
        (["--threads", "40000"], "--threads"),
        (["--threads", "0"], "--threads"),
        (["--port", "70000"], "--port"),
        (["--workers", "0"], "--workers"),
        (["--memory-budget-mb", "1"], "--memory-budget-mb"),
        (["--body-timeout-s", "inf"], "--body-timeout-s"),
        (["--max-duration-s", "nan"], "--max-duration-s"),
    ],
)
def test_serve_options_are_validated_naming_the_option(args, option, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["serve", *args])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and "Traceback" not in err


def test_serve_refuses_a_public_bind_without_an_api_key(monkeypatch):
    import io

    monkeypatch.delenv("EDGESER_API_KEY", raising=False)
    out, err = io.StringIO(), io.StringIO()
    assert main(["serve", "--host", "0.0.0.0"], out=out, err=err) == 2
    assert "--api-key" in err.getvalue() and "EDGESER_API_KEY" in err.getvalue()
    assert out.getvalue() == ""


def test_cli_serve_runs_a_real_server_process(bundle_dir):
    """`python -m edgeser serve --port 0` answers, then stops on SIGINT with status 0."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgeser",
            "serve",
            "--model",
            str(bundle_dir / "tiny_int8.edgeser"),
            "--port",
            "0",
        ],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert "serving model" in line, proc.stderr.read() if proc.poll() is not None else line
        port = int(line.rsplit(":", 1)[1].split("/")[0])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/v1/predict", body=encode(speechlike(1.5, seed=9), 22050))
        resp = conn.getresponse()
        body = json.loads(resp.read())
        conn.close()
        assert resp.status == 200 and body["is_speech"] and body["label"]
    finally:
        proc.send_signal(2)
        proc.wait(timeout=30)
    assert proc.returncode == 0, proc.stderr.read()
