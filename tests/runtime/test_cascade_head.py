"""A cascade bundle (format 7): one graph returning a coarse and a fine softmax, combined by the
runtime after window averaging. The rule is re-implemented here by hand, not through
`edgeser.heads`, so the runtime is checked against the thesis' routing itself."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from edgeser.bundle import ModelBundle
from edgeser.errors import BundleError
from edgeser.heads import CascadeHead, head_from_dict
from edgeser.prediction import Prediction

from .support import speechlike

COARSE = ("anger", "happiness", "neutral+sadness")
FINE = ("neutral", "sadness")


def _by_hand(outputs: np.ndarray) -> tuple[str, dict[str, float]]:
    """Hard rule and product scores of one averaged [coarse | fine] output vector."""
    coarse, fine = outputs[:3], outputs[3:]
    top = COARSE[int(np.argmax(coarse))]
    label = FINE[int(np.argmax(fine))] if top == "neutral+sadness" else top
    scores = {
        "anger": coarse[0],
        "happiness": coarse[1],
        "neutral": coarse[2] * fine[0],
        "sadness": coarse[2] * fine[1],
    }
    return label, scores


def _raw_outputs(rec, x: np.ndarray) -> np.ndarray:
    """The graph's outputs on the speech windows of `x`, as the pipeline scores them."""
    clip = rec.load_audio(x, 16000)
    _, _, outputs, _ = rec.pipeline._analyse(clip)
    return outputs


def test_bundle_describes_the_cascade(bundle_dir):
    b = ModelBundle.load(bundle_dir / "tiny_cascade.edgeser")
    assert b.meta.format_version == 7
    assert b.meta.head == CascadeHead(COARSE, FINE, "neutral+sadness")
    assert b.meta.output_dim == 5
    again = ModelBundle.from_bytes(b.to_bytes())
    assert again.meta == b.meta


def test_predict_applies_the_rule_after_window_averaging(recognizers):
    rec = recognizers("tiny_cascade")
    assert rec.labels == ("anger", "happiness", "neutral", "sadness")
    for seed in range(6):
        x = speechlike(3.0, seed=seed)
        outputs = _raw_outputs(rec, x)
        assert outputs.shape[1] == 5 and len(outputs) > 1
        # each stage's outputs are a softmax: the graph really has two heads side by side
        np.testing.assert_allclose(outputs[:, :3].sum(1), 1.0, atol=1e-5)
        np.testing.assert_allclose(outputs[:, 3:].sum(1), 1.0, atol=1e-5)
        label, scores = _by_hand(outputs.mean(axis=0))
        p = rec.predict(x, sample_rate=16000)
        assert p.label == label
        assert p.scores == pytest.approx(scores, abs=1e-6)
        assert sum(p.scores.values()) == pytest.approx(1.0, abs=1e-5)
        assert p.confidence == pytest.approx(scores[label], abs=1e-6)
        assert p.windows == len(outputs)


def test_hard_rule_can_differ_from_the_score_argmax():
    head = CascadeHead(COARSE, FINE, "neutral+sadness")
    labels = ["anger", "happiness", "neutral", "sadness"]
    # merged class wins the coarse vote (0.4) but splits 0.5/0.5: each S score is 0.2 < 0.35
    out = np.array([0.35, 0.25, 0.40, 0.55, 0.45])
    p = Prediction.from_scores(labels, head.scores(labels, out), label=head.label(out))
    assert p.label == "neutral" and p.top(1)[0][0] == "anger"
    assert p.confidence == pytest.approx(0.40 * 0.55)


def test_timeline_stream_and_utterance_agree_with_predict(recognizers):
    rec = recognizers("tiny_cascade")
    x = speechlike(4.0, seed=3)
    timeline = rec.timeline(x, sample_rate=16000)
    outputs = _raw_outputs(rec, x)
    speech = [t for t in timeline if t.is_speech]
    assert len(speech) == len(outputs)
    for t, o in zip(speech, outputs):
        label, scores = _by_hand(o)
        assert t.label == label and t.scores == pytest.approx(scores, abs=1e-6)
    stream = rec.stream(sample_rate=16000)
    got = []
    for i in range(0, len(x), 1600):
        got += stream.push(x[i : i + 1600])
    got += stream.flush()
    assert [g.label for g in got] == [t.label for t in timeline]
    whole = rec.predict(x, sample_rate=16000)
    utt = stream.utterance()
    assert utt.label == whole.label and utt.windows == whole.windows
    assert utt.scores == pytest.approx(whole.scores, abs=1e-5)


def test_stream_utterance_before_any_speech_is_no_speech(recognizers):
    s = recognizers("tiny_cascade").stream()
    s.push(np.zeros(1600, np.float32))
    u = s.utterance()
    assert not u.is_speech and u.label is None


def test_server_stream_end_is_the_cascade_of_the_averaged_outputs(recognizers):
    pytest.importorskip("starlette")
    pytest.importorskip("httpx2")
    from starlette.testclient import TestClient

    from edgeser.server import App, ServerConfig

    rec = recognizers("tiny_cascade")
    x = speechlike(3.0, seed=5)
    pcm = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
    app = App(rec, ServerConfig(), baseline_bytes=0)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        with client.websocket_connect("ws://127.0.0.1:8000/v1/stream") as ws:
            ws.send_text(json.dumps({"sample_rate": 16000, "format": "pcm16"}))
            assert ws.receive_json()["type"] == "ready"
            ws.send_bytes(pcm.tobytes())
            ws.send_text(json.dumps({"type": "flush"}))
            while (msg := ws.receive_json()).get("type") != "end":
                pass
    offline = rec.predict(pcm, sample_rate=16000)
    assert msg["utterance"]["label"] == offline.label
    assert msg["utterance"]["scores"] == pytest.approx(offline.scores, abs=1e-5)


def test_info_shows_s_and_both_stages(recognizers):
    info = recognizers("tiny_cascade").info
    assert "neutral+sadness" in info.head and "S = ['neutral', 'sadness']" in info.head
    assert info.to_dict()["head"] == info.head


@pytest.mark.parametrize(
    "change, why",
    [
        (dict(fine_labels=("neutral",)), "at least two"),
        (dict(merged_label="calm"), "not in coarse"),
        (dict(fine_labels=("neutral", "anger")), "also a coarse class"),
        (dict(coarse_labels=("anger", "anger", "neutral+sadness")), "duplicate"),
    ],
)
def test_bad_heads_are_refused(change, why):
    good = dict(coarse_labels=COARSE, fine_labels=FINE, merged_label="neutral+sadness")
    with pytest.raises(BundleError, match=why):
        CascadeHead(**{**good, **change})


def test_head_must_answer_the_bundle_labels(bundle_dir):
    b = ModelBundle.load(bundle_dir / "tiny_cascade.edgeser")
    with pytest.raises(BundleError, match="cascade head answers"):
        dataclasses.replace(b.meta, labels=("anger", "happiness", "neutral", "fear"))
    with pytest.raises(BundleError, match="unknown output head"):
        head_from_dict({"type": "beam"})
    with pytest.raises(BundleError, match="bad output head"):
        head_from_dict({"type": "cascade", "coarse_labels": COARSE})


def test_graph_output_count_is_checked_against_the_head(bundle_dir, tmp_path):
    from edgeser import Recognizer

    b = ModelBundle.load(bundle_dir / "tiny_cascade.edgeser")
    plain = ModelBundle.load(bundle_dir / "tiny_float.edgeser")  # 4 outputs, head needs 5
    wrong = ModelBundle(meta=b.meta, model=plain.model)
    with pytest.raises(BundleError, match="4 outputs where its head needs 5"):
        Recognizer(wrong)
