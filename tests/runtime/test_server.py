"""The HTTP inference API: real requests over loopback to a server on an ephemeral port."""

from __future__ import annotations

import http.client
import json

import pytest

from edgeser.server import InferenceServer, ServerConfig

from .support import encode, speechlike


@pytest.fixture
def server(recognizers):
    srv = InferenceServer(
        recognizers("tiny_float"),
        ServerConfig(host="127.0.0.1", port=0, max_upload_bytes=400_000, read_timeout_s=5.0),
    )
    srv.start_background()
    yield srv
    srv.shutdown()
    srv.server_close()


def _request(srv, method, path, body=None, headers=None):
    host, port = srv.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


def test_page_and_health(server):
    status, ctype, body = _request(server, "GET", "/")
    assert status == 200 and ctype.startswith("text/html")
    assert b"/v1/predict" in body
    status, _, body = _request(server, "GET", "/v1/health")
    assert status == 200 and json.loads(body) == {"status": "ok", "model": "tiny_float"}
    status, _, body = _request(server, "GET", "/v1/model")
    assert status == 200 and json.loads(body)["labels"]


def test_predict_matches_the_recognizer(server, recognizers):
    wav = encode(speechlike(2.0, seed=3), 16000)
    status, _, body = _request(server, "POST", "/v1/predict", body=wav)
    assert status == 200, body
    got = json.loads(body)
    want = recognizers("tiny_float").predict(wav)
    assert got["label"] == want.label
    assert got["scores"] == pytest.approx(want.scores, abs=1e-5)
    assert got["source"] == "upload"


def test_predict_timeline(server):
    wav = encode(speechlike(4.0, seed=4), 44100)
    status, _, body = _request(server, "POST", "/v1/predict?timeline=1", body=wav)
    assert status == 200, body
    got = json.loads(body)
    assert len(got["timeline"]) >= 2
    assert all(w["end_s"] > w["start_s"] for w in got["timeline"])


@pytest.mark.parametrize(
    "body, status, words",
    [
        (b"this is not audio at all" * 10, 400, "upload"),
        (b"", 400, "empty upload"),
        (b"x" * 500_000, 413, "exceeds the limit"),
    ],
)
def test_bad_uploads_get_clear_errors(server, body, status, words):
    got_status, _, got = _request(server, "POST", "/v1/predict", body=body)
    assert got_status == status
    assert words in json.loads(got)["error"]


def test_truncated_wav_is_named(server):
    wav = encode(speechlike(1.0, seed=5), 16000)
    status, _, body = _request(server, "POST", "/v1/predict", body=wav[: len(wav) // 3])
    assert status == 400
    assert "trunc" in json.loads(body)["error"].lower()


def test_unknown_endpoint(server):
    status, _, body = _request(server, "GET", "/nope")
    assert status == 404 and "no such endpoint" in json.loads(body)["error"]


def test_config_is_validated():
    with pytest.raises(ValueError, match="port"):
        ServerConfig(port=70000)
    with pytest.raises(ValueError, match="max_upload_bytes"):
        ServerConfig(max_upload_bytes=0)


def test_cli_serve_runs_a_real_server_process(bundle_dir):
    """`python -m edgeser serve` on an ephemeral-ish port answers, then stops on SIGINT."""
    import socket
    import subprocess
    import sys
    import time

    from .support import subprocess_env

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "edgeser",
            "serve",
            "--model",
            str(bundle_dir / "tiny_int8.edgeser"),
            "--port",
            str(port),
        ],
        env=subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "serving model" in proc.stdout.readline()
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("POST", "/v1/predict", body=encode(speechlike(1.5, seed=9), 22050))
                resp = conn.getresponse()
                body = json.loads(resp.read())
                conn.close()
                break
            except ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert resp.status == 200 and body["is_speech"] and body["label"]
    finally:
        proc.send_signal(2)
        proc.wait(timeout=30)
    assert proc.returncode == 0
