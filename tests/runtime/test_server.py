"""The HTTP + WebSocket API at the application level (Starlette's TestClient, no sockets).

Each case of issue 14's server list that does not need a real connection has a test here;
connection-level cases (deadlines, framing, connection cap, IPv6, the CLI) are in
test_server_net.py.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2")

from starlette.testclient import TestClient, WebSocketDenialResponse  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from edgeser.server import App, ServerConfig  # noqa: E402
from edgeser.server.limits import decode_cost  # noqa: E402

from .support import encode, speechlike  # noqa: E402

KEY = "k" * 12 + "-secret-key"
MiB = 1024 * 1024
WS = "ws://127.0.0.1:8000/v1/stream"


def make_client(rec, **cfg) -> TestClient:
    cfg.setdefault("max_upload_bytes", 400_000)
    app = App(rec, ServerConfig(**cfg), baseline_bytes=0)
    return TestClient(app, base_url="http://127.0.0.1:8000", raise_server_exceptions=False)


@pytest.fixture
def client(recognizers):
    with make_client(recognizers("tiny_float")) as c:
        yield c


def error_of(resp) -> dict:
    assert resp.headers["content-type"] == "application/json"
    body = resp.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return body["error"]


# ---- endpoints --------------------------------------------------------------------------------
def test_page_health_model_openapi(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        b"/app.js" in page.content
        and "default-src 'self'" in page.headers["content-security-policy"]
    )
    assert b"http://" not in page.content and b"https://" not in page.content  # offline
    assert client.head("/").status_code == 200
    for name in ("/app.js", "/style.css", "/recorder-worklet.js"):
        r = client.get(name)
        assert r.status_code == 200 and r.content
        assert b"http://" not in r.content and b"https://" not in r.content  # offline
    assert b"/v1/predict" in client.get("/app.js").content
    assert client.get("/v1/health").json() == {
        "status": "ok",
        "auth_required": False,
        "model": "tiny_float",
    }
    model = client.get("/v1/model").json()
    assert model["labels"] and model["streaming"] is True
    assert model["server"]["max_upload_bytes"] == 400_000 and "api_key" not in model["server"]
    spec = client.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.") and "/v1/predict" in spec["paths"]
    assert "/v1/stream" in spec["paths"]


def test_predict_matches_the_recognizer(client, recognizers):
    wav = encode(speechlike(2.0, seed=3), 16000)
    r = client.post("/v1/predict", content=wav)
    assert r.status_code == 200, r.text
    got = r.json()
    want = recognizers("tiny_float").predict(wav)
    assert got["label"] == want.label and got["source"] == "upload"
    assert got["scores"] == pytest.approx(want.scores, abs=1e-5)


def test_predict_multipart_form(client, recognizers):
    wav = encode(speechlike(2.0, seed=3), 16000)
    r = client.post("/v1/predict", files={"file": ("clip.wav", wav, "audio/wav")})
    assert r.status_code == 200, r.text
    assert r.json()["scores"] == pytest.approx(
        recognizers("tiny_float").predict(wav).scores, abs=1e-5
    )
    two = client.post("/v1/predict", files=[("a", ("a.wav", wav)), ("b", ("b.wav", wav))])
    assert two.status_code == 400 and "exactly one file" in error_of(two)["message"]
    none = client.post("/v1/predict", data={"x": "1"}, files={})
    assert none.status_code in (400, 411)


def test_predict_timeline(client):
    wav = encode(speechlike(4.0, seed=4), 44100)
    r = client.post("/v1/predict?timeline=1", content=wav)
    assert r.status_code == 200, r.text
    windows = r.json()["timeline"]
    assert len(windows) >= 2 and all(w["end_s"] > w["start_s"] for w in windows)
    assert {w["source"] for w in windows} == {"upload"}
    bad = client.post("/v1/predict?timeline=maybe", content=wav)
    assert bad.status_code == 400 and error_of(bad)["code"] == "bad_query"


def test_timeline_with_an_opensmile_model_is_a_clear_422(bundle_dir, recognizers):
    if not (bundle_dir / "tiny_smile.edgeser").exists():
        pytest.skip("openSMILE is not installed: no tiny_smile bundle")
    with make_client(recognizers("tiny_smile")) as c:
        wav = encode(speechlike(2.0, seed=3), 16000)
        r = c.post("/v1/predict?timeline=1", content=wav)
        assert r.status_code == 422 and error_of(r)["code"] == "timeline_unsupported"
        assert r.headers.get("connection") == "close"  # the body was not read
        assert c.post("/v1/predict", content=wav).status_code == 200
        with pytest.raises(WebSocketDenialResponse) as denied:
            with c.websocket_connect(WS):
                pass
        assert denied.value.status_code == 422


@pytest.mark.parametrize(
    "body, status, code, words",
    [
        (b"this is not audio at all" * 10, 400, "bad_audio", "upload"),
        (b"", 400, "empty_upload", "empty upload"),
        (b"x" * 500_000, 413, "upload_too_large", "exceeds the limit"),
    ],
)
def test_bad_uploads_get_clear_errors(client, body, status, code, words):
    r = client.post("/v1/predict", content=body)
    assert r.status_code == status
    err = error_of(r)
    assert err["code"] == code and words in err["message"]


def test_truncated_wav_is_named(client):
    wav = encode(speechlike(1.0, seed=5), 16000)
    r = client.post("/v1/predict", content=wav[: len(wav) // 3])
    assert r.status_code == 400 and "trunc" in error_of(r)["message"].lower()


def test_unknown_endpoint_and_method(client):
    r = client.get("/nope")
    assert r.status_code == 404 and "no such endpoint" in error_of(r)["message"]
    r = client.get("/v1/predict")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert error_of(r)["code"] == "method_not_allowed"


# ---- input the header tells us about: sample rate, duration, memory ---------------------------
def _wav_with_rate(rate: int) -> bytes:
    wav = bytearray(encode(speechlike(0.2, seed=1), 16000))
    wav[24:28] = rate.to_bytes(4, "little")  # the fmt chunk's sample rate
    wav[28:32] = (rate * 2).to_bytes(4, "little")
    return bytes(wav)


@pytest.mark.parametrize("rate", [1, 999, 384001, 655350])
def test_header_sample_rate_outside_the_range_is_refused(client, rate):
    r = client.post("/v1/predict", content=_wav_with_rate(rate))
    assert r.status_code == 400, r.text
    assert "sample rate" in error_of(r)["message"] and str(rate) in error_of(r)["message"]


def test_long_audio_is_refused_from_its_header_before_decoding(recognizers):
    """A small FLAC of long silence (the issue's 180 KB hour) never reaches the decoder."""
    silence = np.zeros(int(120 * 8000), dtype=np.int16)
    flac = encode(silence, 8000, fmt="FLAC")
    assert len(flac) < 200_000
    with make_client(recognizers("tiny_float"), max_duration_s=60.0) as c:
        r = c.post("/v1/predict", content=flac)
        assert r.status_code == 413, r.text
        assert error_of(r)["code"] == "audio_too_large" and "120 s" in error_of(r)["message"]
        assert c.app.budget.peak <= len(flac)  # only the upload itself was ever held


def test_memory_budget_refuses_what_could_never_fit_and_what_does_not_fit_now(recognizers):
    rec = recognizers("tiny_float")
    cfg = dict(memory_budget_bytes=48 * MiB, max_upload_bytes=20 * MiB, max_duration_s=600.0)
    with make_client(rec, **cfg) as c:
        pool = c.app.budget.total
        assert pool == 48 * MiB - 16 * MiB  # the budget less the (given) baseline and margin
        frames = 60 * 48000
        assert decode_cost(frames, 2, 48000, 16000) > pool
        big = encode(np.zeros((frames, 2), np.int16), 48000)
        r = c.post("/v1/predict", content=big)
        assert r.status_code == 413 and "memory budget" in error_of(r)["message"]
        small = encode(speechlike(2.0, seed=2), 16000)
        held = c.app.budget.reserve(pool - 1 * MiB, "the test")
        try:
            r = c.post("/v1/predict", content=small)
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            assert error_of(r)["code"] == "busy"
        finally:
            held.release()
        assert c.post("/v1/predict", content=small).status_code == 200
        assert c.app.budget.used == 0


def test_memory_budget_too_small_for_the_server_itself_is_refused(recognizers):
    with pytest.raises(ValueError, match="--memory-budget-mb"):
        App(
            recognizers("tiny_float"),
            ServerConfig(memory_budget_bytes=64 * MiB),
            baseline_bytes=60 * MiB,
        )


def test_unexpected_exception_gives_a_json_500(client, monkeypatch, caplog):
    def boom(data, timeline):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(client.app, "_predict_upload", boom)
    r = client.post("/v1/predict", content=encode(speechlike(1.0), 16000))
    assert r.status_code == 500 and error_of(r)["code"] == "internal"
    assert "kaboom" not in r.text and r.headers["connection"] == "close"
    assert "kaboom" in caplog.text  # logged


# ---- who may call -----------------------------------------------------------------------------
@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "10.1.2.3:8000"])
def test_foreign_host_headers_are_refused(client, host):
    r = client.get("/v1/health", headers={"host": host})
    assert r.status_code == 421 and error_of(r)["code"] == "unknown_host"


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST."])
def test_loopback_host_headers_are_answered(client, host):
    assert client.get("/v1/health", headers={"host": host}).status_code == 200


def test_allowed_hosts_and_wildcard_binds(recognizers):
    rec = recognizers("tiny_float")
    with make_client(rec, allowed_hosts=("ser.example",)) as c:
        assert c.get("/v1/health", headers={"host": "ser.example:8000"}).status_code == 200
        assert c.get("/v1/health", headers={"host": "other.example"}).status_code == 421
    with make_client(rec, host="0.0.0.0", api_key=KEY) as c:  # IP literals cannot be rebound
        assert c.get("/v1/health", headers={"host": "192.168.1.20:8000"}).status_code == 200
        assert c.get("/v1/health", headers={"host": "rebind.example"}).status_code == 421


def test_cross_origin_simple_post_is_refused(client):
    wav = encode(speechlike(1.0), 16000)
    r = client.post(
        "/v1/predict",
        content=wav,
        headers={"origin": "https://evil.example", "content-type": "text/plain"},
    )
    assert r.status_code == 403 and error_of(r)["code"] == "cross_origin"
    assert "access-control-allow-origin" not in r.headers
    null = client.post("/v1/predict", content=wav, headers={"origin": "null"})
    assert null.status_code == 403
    same = client.post("/v1/predict", content=wav, headers={"origin": "http://127.0.0.1:8000"})
    assert same.status_code == 200


def test_cors_only_for_named_origins(recognizers):
    wav = encode(speechlike(1.0), 16000)
    with make_client(recognizers("tiny_float"), cors_origins=("https://app.example",)) as c:
        pre = c.options(
            "/v1/predict",
            headers={"origin": "https://app.example", "access-control-request-method": "POST"},
        )
        assert pre.status_code == 204
        assert pre.headers["access-control-allow-origin"] == "https://app.example"
        assert "Authorization" in pre.headers["access-control-allow-headers"]
        r = c.post("/v1/predict", content=wav, headers={"origin": "https://app.example"})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://app.example"
        bad = c.options("/v1/predict", headers={"origin": "https://evil.example"})
        assert bad.status_code == 403 and "access-control-allow-origin" not in bad.headers


def test_api_key_is_required_everywhere_but_the_page(recognizers):
    wav = encode(speechlike(1.0), 16000)
    with make_client(recognizers("tiny_float"), api_key=KEY) as c:
        assert c.get("/").status_code == 200
        assert c.get("/v1/health").json() == {"status": "ok", "auth_required": True}
        for method, path in (("GET", "/v1/model"), ("GET", "/metrics"), ("POST", "/v1/predict")):
            r = c.request(method, path, content=wav if method == "POST" else None)
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
            assert error_of(r)["code"] == "unauthorized"
        wrong = c.post("/v1/predict", content=wav, headers={"authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "wrong" in error_of(wrong)["message"]
        good = {"authorization": f"Bearer {KEY}"}
        assert c.post("/v1/predict", content=wav, headers=good).status_code == 200
        assert c.get("/metrics", headers=good).status_code == 200


def test_config_is_validated():
    with pytest.raises(ValueError, match="port"):
        ServerConfig(port=70000)
    with pytest.raises(ValueError, match="max_upload_bytes"):
        ServerConfig(max_upload_bytes=0)
    with pytest.raises(ValueError, match="API key"):
        ServerConfig(host="0.0.0.0")
    with pytest.raises(ValueError, match="API key"):
        ServerConfig(host="::")
    with pytest.raises(ValueError, match="at least 16"):
        ServerConfig(api_key="short")
    with pytest.raises(ValueError, match="body_timeout_s"):
        ServerConfig(body_timeout_s=float("nan"))
    with pytest.raises(ValueError, match="backlog"):
        ServerConfig(backlog=5)
    with pytest.raises(ValueError, match="cors_origins"):
        ServerConfig(cors_origins=("app.example",))
    assert ServerConfig(host="::1").host_names >= {"::1", "localhost", "127.0.0.1"}


# ---- metrics ----------------------------------------------------------------------------------
def test_metrics_are_prometheus_text(client):
    wav = encode(speechlike(1.0), 16000)
    client.post("/v1/predict", content=wav)
    client.post("/v1/predict", content=b"junk" * 10)
    text = client.get("/metrics").text
    assert (
        'edgeser_http_requests_total{endpoint="/v1/predict",method="POST",status="200"} 1' in text
    )
    assert 'edgeser_errors_total{endpoint="/v1/predict",code="bad_audio"} 1' in text
    assert (
        'edgeser_http_request_duration_seconds_bucket{endpoint="/v1/predict",le="+Inf"} 2' in text
    )
    for gauge in (
        "queue_depth",
        "predictions_running",
        "memory_reserved_bytes",
        "open_connections",
    ):
        assert f"# TYPE edgeser_{gauge} gauge" in text
    for line in text.splitlines():  # every sample line: name{labels} number
        if line and not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])


# ---- WS /v1/stream ----------------------------------------------------------------------------
def _pcm16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")


def _without_timings(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "timings"}


def test_stream_gives_exactly_the_recognizer_stream_results(client, recognizers):
    rec = recognizers("tiny_float")
    pcm = _pcm16(speechlike(3.2, seed=11))
    want = []
    local = rec.stream(sample_rate=16000)
    for i in range(0, len(pcm), 1600):
        want += local.push(pcm[i : i + 1600])
    want += local.flush()
    got = []
    with client.websocket_connect(WS) as ws:
        ws.send_text(json.dumps({"sample_rate": 16000, "format": "pcm16"}))
        ready = ws.receive_json()
        assert ready["type"] == "ready" and ready["labels"] == list(rec.labels)
        for i in range(0, len(pcm), 2400):  # other chunking: the same windows
            ws.send_bytes(pcm[i : i + 2400].tobytes())
        ws.send_text(json.dumps({"type": "flush"}))
        while True:
            msg = ws.receive_json()
            if msg.get("type") == "end":
                end = msg
                break
            got.append(msg)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == 1000
    assert [_without_timings(g) for g in got] == [_without_timings(w.to_dict()) for w in want]
    offline = rec.predict(pcm, sample_rate=16000)
    assert end["utterance"]["label"] == offline.label
    assert end["utterance"]["scores"] == pytest.approx(offline.scores, abs=1e-5)


def test_stream_float32_at_another_rate(client):
    x = speechlike(2.5, seed=12, rate=48000).astype("<f4")
    with client.websocket_connect(WS) as ws:
        ws.send_json({"sample_rate": 48000, "format": "float32"})
        assert ws.receive_json()["type"] == "ready"
        ws.send_bytes(x.tobytes())
        ws.send_json({"type": "flush"})
        msgs = []
        while not msgs or msgs[-1].get("type") != "end":
            msgs.append(ws.receive_json())
    windows = msgs[:-1]
    assert windows and all(w["model"] == "tiny_float" for w in windows)
    assert msgs[-1]["utterance"]["duration_s"] == pytest.approx(2.5, abs=1e-3)


@pytest.mark.parametrize(
    "first, then, code, close",
    [
        ({"sample_rate": 2**70, "format": "pcm16"}, None, "bad_config", 1008),
        ({"sample_rate": 16000, "format": "mp3"}, None, "bad_config", 1008),
        ({"sample_rate": 16000, "format": "pcm16"}, b"\x00\x01\x02", "bad_chunk", 1007),
        (
            {"sample_rate": 16000, "format": "float32"},
            np.array([0.1, np.nan], "<f4").tobytes(),
            "bad_audio",
            1007,
        ),
        ({"sample_rate": 16000, "format": "pcm16"}, "hello", "bad_message", 1003),
    ],
)
def test_stream_errors_are_named_then_closed(client, first, then, code, close):
    with client.websocket_connect(WS) as ws:
        ws.send_text(json.dumps(first))
        if then is not None:
            assert ws.receive_json()["type"] == "ready"
            if isinstance(then, bytes):
                ws.send_bytes(then)
            else:
                ws.send_text(then)
        msg = ws.receive_json()
        assert msg["type"] == "error" and msg["error"]["code"] == code, msg
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()
        assert closed.value.code == close


def test_stream_duration_limit(recognizers):
    with make_client(recognizers("tiny_float"), max_duration_s=1.0) as c:
        with c.websocket_connect(WS) as ws:
            ws.send_json({"sample_rate": 16000, "format": "pcm16"})
            ws.receive_json()
            ws.send_bytes(np.zeros(12000, "<i2").tobytes())
            ws.send_bytes(np.zeros(12000, "<i2").tobytes())
            msgs = [ws.receive_json()]
            while msgs[-1].get("type") != "error":
                msgs.append(ws.receive_json())
            assert msgs[-1]["error"]["code"] == "stream_too_long"


def test_stream_auth_host_and_origin(recognizers):
    with make_client(recognizers("tiny_float"), api_key=KEY) as c:
        with pytest.raises(WebSocketDenialResponse) as denied:
            with c.websocket_connect(WS):
                pass
        assert denied.value.status_code == 401
        assert denied.value.json()["error"]["code"] == "unauthorized"
        with c.websocket_connect(WS, headers={"authorization": f"Bearer {KEY}"}) as ws:
            ws.send_json({"sample_rate": 16000})
            assert ws.receive_json()["type"] == "ready"
        token = base64.urlsafe_b64encode(KEY.encode()).decode().rstrip("=")
        with c.websocket_connect(WS, subprotocols=["edgeser", f"edgeser.key.{token}"]) as ws:
            assert ws.accepted_subprotocol == "edgeser"
            ws.send_json({"sample_rate": 16000})
            assert ws.receive_json()["type"] == "ready"
        with pytest.raises(WebSocketDenialResponse) as denied:
            with c.websocket_connect(
                WS,
                headers={"authorization": f"Bearer {KEY}", "origin": "https://evil.example"},
            ):
                pass
        assert denied.value.status_code == 403
        with pytest.raises(WebSocketDenialResponse) as denied:
            with c.websocket_connect(
                WS, headers={"authorization": f"Bearer {KEY}", "host": "evil.example"}
            ):
                pass
        assert denied.value.status_code == 421


def test_stream_cap(recognizers):
    with make_client(recognizers("tiny_float"), max_streams=1) as c:
        with c.websocket_connect(WS) as ws:
            ws.send_json({"sample_rate": 16000})
            ws.receive_json()
            with pytest.raises(WebSocketDenialResponse) as denied:
                with c.websocket_connect(WS):
                    pass
            assert denied.value.status_code == 503 and denied.value.headers["retry-after"]


def test_joining_an_upload_reserves_the_copy_while_both_exist():
    """The parts of a body and their join coexist for a moment: the join is reserved too, so
    many large uploads at once cannot push the process past its budget (a lone part is the
    body itself and costs nothing more)."""
    from edgeser.server.limits import Busy, MemoryBudget
    from edgeser.server.uploads import join_reserved

    budget = MemoryBudget(10)
    held = budget.reserve(6, "the upload")  # the parts, reserved as they arrived
    parts = [b"abc", b"def"]
    with pytest.raises(Busy, match="assembling the upload"):
        join_reserved(list(parts), held)  # 6 + 6 > 10
    held.shrink(2)  # a smaller budget need: 4 held, 4 + 6 <= 10
    copy = list(parts)
    assert join_reserved(copy, held) == b"abcdef" and copy == []
    assert budget.peak == 10 and budget.used == 4 and held.nbytes == 4
    lone = [b"abcd"]
    assert join_reserved(lone, held) == b"abcd" and budget.peak == 10
    held.shrink(100)  # never gives back more than it holds
    assert held.nbytes == 0 and budget.used == 0


def test_a_multipart_upload_reserves_its_parsing_copies(recognizers):
    rec = recognizers("tiny_float")
    wav = encode(speechlike(2.0, seed=3), 16000)
    with make_client(rec) as c:
        r = c.post("/v1/predict", files={"file": ("clip.wav", wav, "audio/wav")})
        assert r.status_code == 200, r.text
        assert c.app.budget.peak >= 3 * len(wav)  # body + the file's parts + their join
        assert c.app.budget.used == 0
