"""Recognizer: predictions, no-speech results, timeline, streaming, threads, quantised models."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import edgeser
from edgeser.interpreter import as_probabilities
from edgeser.prediction import NO_SPEECH
from edgeser.recognizer import Recognizer

from .support import LABELS, RATE, encode, noise, speechlike, subprocess_env

WINDOW, HOP, SHIFT_S = 100, 50, 0.010  # the tiny bundles' windows


def assert_valid(p, labels=LABELS):
    assert p.is_speech and p.label in labels and p.reason == ""
    assert set(p.scores) == set(labels)
    assert sum(p.scores.values()) == pytest.approx(1.0, abs=1e-6)
    assert all(0.0 <= v <= 1.0 for v in p.scores.values())
    assert p.confidence == max(p.scores.values()) == p.scores[p.label]


def max_score_diff(a, b) -> float:
    return max(abs(a.scores[k] - b.scores[k]) for k in a.scores)


def test_predict_speech(recognizers, speech):
    r = recognizers("tiny_float")
    p = r.predict(speech, sample_rate=RATE)
    assert_valid(p)
    assert p.windows == 4  # 248 frames: starts 0, 50, 100 and the end-aligned 148
    assert p.duration_s == pytest.approx(2.5) and p.start_s == 0 and p.end_s == pytest.approx(2.5)
    assert {"decode", "resample", "features", "vad", "inference"} <= set(p.timings)
    assert all(v >= 0 for v in p.timings.values())
    assert p.top(2) == sorted(p.scores.items(), key=lambda kv: -kv[1])[:2]
    d = p.to_dict()
    assert d["label"] == p.label and d["scores"].keys() == p.scores.keys()


def test_every_input_type_gives_the_same_prediction(recognizers, speech, tmp_path):
    r = recognizers("tiny_float")
    pcm = np.round(speech * 32767).astype(np.int16)
    data = encode(pcm, RATE, "WAV", "PCM_16")
    path = tmp_path / "clip.wav"
    path.write_bytes(data)
    ref = r.predict(pcm, sample_rate=RATE)
    for source in (path, str(path), data, io.BytesIO(data)):
        p = r.predict(source)
        assert p.label == ref.label and max_score_diff(p, ref) < 1e-6, source
    for arr in (
        pcm.astype(np.int32) << 16,
        pcm / 32768.0,
        (pcm / 32768.0).astype(np.float32),
        np.stack([pcm, pcm], axis=1),
        np.stack([pcm, pcm], axis=0),
    ):
        p = r.predict(arr, sample_rate=RATE)
        assert max_score_diff(p, ref) < 1e-5, (arr.dtype, arr.shape)
    assert r.predict(path).source == str(path)


@pytest.mark.parametrize("rate", [8000, 44100, 48000])
def test_other_rates_are_resampled_to_the_model_rate(recognizers, rate):
    import soxr

    r = recognizers("tiny_float")
    x = speechlike(2.0, seed=11)
    ref = r.predict(x, sample_rate=RATE)
    p = r.predict(soxr.resample(x, RATE, rate, quality="VHQ"), sample_rate=rate)
    assert_valid(p)
    assert p.duration_s == pytest.approx(2.0, abs=1e-3)
    assert p.windows == ref.windows
    if rate > RATE:
        assert max_score_diff(p, ref) < 0.05 and not p.warnings
    else:  # nothing above 4 kHz: a different input for the model, and a warning says so
        assert any("upsampled" in w for w in p.warnings)


@pytest.mark.parametrize("name", ["zeros", "low_noise"])
def test_no_speech_is_reported_not_guessed(recognizers, name):
    r = recognizers("tiny_float")
    x = np.zeros(2 * RATE, np.float32) if name == "zeros" else noise(2.0, -65.0)
    p = r.predict(x, sample_rate=RATE)
    assert p.label is None and not p.is_speech and p.reason == NO_SPEECH
    assert p.scores == {} and p.confidence == 0.0 and p.windows == 0
    assert p.duration_s == pytest.approx(2.0)
    # with the gate off the model is asked anyway
    ungated = Recognizer(r.bundle, vad=None).predict(x, sample_rate=RATE)
    assert_valid(ungated)


def test_audio_shorter_than_a_frame(recognizers):
    p = recognizers("tiny_float").predict(speechlike(0.01), sample_rate=RATE)
    assert p.label is None and "too short" in p.reason


def test_short_clip_uses_one_zero_padded_window(recognizers):
    p = recognizers("tiny_float").predict(speechlike(0.6, seed=2), sample_rate=RATE)
    assert_valid(p)
    assert p.windows == 1


def test_predict_batch_matches_predict(recognizers):
    r = recognizers("tiny_int8")
    clips = [speechlike(1.2, seed=s) for s in range(3)] + [np.zeros(RATE, np.float32)]
    batch = r.predict_batch(clips, sample_rate=RATE)
    for clip, got in zip(clips, batch):
        want = r.predict(clip, sample_rate=RATE)
        assert got.label == want.label and got.scores == want.scores


# ---- timeline and streaming ---------------------------------------------------------------------
def test_timeline_over_a_recording_with_a_pause(recognizers, long_audio):
    r = recognizers("tiny_float")
    tl = r.timeline(long_audio, sample_rate=RATE)
    frames = 1 + (len(long_audio) - 400) // 160
    starts = list(range(0, frames - WINDOW + 1, HOP))
    if starts[-1] + WINDOW < frames:
        starts.append(frames - WINDOW)
    assert [round(p.start_s / SHIFT_S) for p in tl] == starts
    assert tl[-1].end_s == pytest.approx(len(long_audio) / RATE, abs=0.011)
    assert all(p.end_s - p.start_s == pytest.approx(1.015) for p in tl)
    silent = [p for p in tl if p.start_s >= 3.0 and p.end_s <= 4.5]  # inside the pause
    assert silent and all(p.label is None and p.reason == NO_SPEECH for p in silent)
    speech = [p for p in tl if p.is_speech]
    assert len(speech) >= len(tl) - 3
    for p in speech:
        assert_valid(p)
    # predict() is the average of the speech windows of the timeline
    whole = r.predict(long_audio, sample_rate=RATE)
    assert whole.windows == len(speech)
    mean = {k: np.mean([p.scores[k] for p in speech]) for k in LABELS}
    assert all(whole.scores[k] == pytest.approx(mean[k], abs=1e-9) for k in LABELS)


def run_stream(stream, x, chunk):
    out = []
    for i in range(0, len(x), chunk):
        out += stream.push(x[i : i + chunk])
    return out + stream.flush()


def assert_same_windows(got, want, tol):
    assert [(round(p.start_s, 6), round(p.end_s, 6)) for p in got] == [
        (round(p.start_s, 6), round(p.end_s, 6)) for p in want
    ]
    assert [p.is_speech for p in got] == [p.is_speech for p in want]
    for a, b in zip(got, want):
        assert a.label == b.label or max_score_diff(a, b) < tol
        if a.is_speech:
            assert max_score_diff(a, b) <= tol


@pytest.mark.parametrize("chunk", [160, 777, 16000, 10**7])
def test_stream_equals_timeline_at_the_model_rate(recognizers, long_audio, chunk):
    r = recognizers("tiny_float")
    want = r.timeline(long_audio, sample_rate=RATE)
    got = run_stream(r.stream(), long_audio, chunk)
    assert_same_windows(got, want, 1e-5)


@pytest.mark.parametrize("seconds", [0.02, 0.6, 1.015, 1.3, 1.5])
@pytest.mark.parametrize("chunk", [7, 333])  # 7: well under one frame shift
def test_stream_flush_handles_short_recordings_like_timeline(recognizers, seconds, chunk):
    r = recognizers("tiny_int8")
    x = speechlike(seconds, seed=5)
    want = r.timeline(x, sample_rate=RATE)
    got = run_stream(r.stream(sample_rate=RATE), x, chunk)
    assert_same_windows(got, want, 1e-5)


def test_stream_at_another_rate_is_resampled(recognizers, long_audio):
    # soxr's streaming and one-shot resamplers may differ slightly; scores must stay close
    import soxr

    r = recognizers("tiny_float")
    x48 = soxr.resample(long_audio, RATE, 48000).astype(np.float32)
    want = r.timeline(x48, sample_rate=48000)
    got = run_stream(r.stream(sample_rate=48000), x48, 4801)
    assert_same_windows(got, want, 1e-3)


def test_stream_lifecycle(recognizers):
    s = recognizers("tiny_float").stream()
    assert s.push(np.zeros(0, np.float32)) == []
    assert s.push(speechlike(0.5)) == []  # not a full window yet
    assert s.duration_s == pytest.approx(0.5)
    assert len(s.flush()) == 1
    assert s.flush() == []
    with pytest.raises(RuntimeError, match="flushed"):
        s.push(speechlike(0.1))


def test_timeline_and_stream_need_a_window_model(bundle_dir):
    if not (bundle_dir / "tiny_smile.edgeser").exists():
        pytest.skip("opensmile is not installed, so no openSMILE test bundle was built")
    r = Recognizer(bundle_dir / "tiny_smile.edgeser")
    with pytest.raises(ValueError, match="openSMILE"):
        r.timeline(speechlike(1.0), sample_rate=RATE)
    with pytest.raises(ValueError, match="openSMILE"):
        r.stream()


# ---- concurrency, quantisation, runtimes --------------------------------------------------------
def test_threads_share_one_recognizer(recognizers):
    r = recognizers("tiny_int8")
    clips = [speechlike(1.0 + 0.25 * s, seed=s) for s in range(4)]
    want = [r.predict(c, sample_rate=RATE).scores for c in clips]
    got: dict[tuple[int, int], dict] = {}
    errors = []

    def work(worker: int) -> None:
        try:
            for rep in range(3):
                for i, c in enumerate(clips):
                    got[(worker, rep * 10 + i)] = (i, r.predict(c, sample_rate=RATE).scores)
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 4 * 3 * len(clips)
    for i, scores in got.values():
        assert scores == want[i]


def test_int8_and_float_models_agree(recognizers):
    # in-distribution audio: digital silence gives features far outside the int8 input range
    x = np.concatenate([speechlike(2.0, seed=s) for s in (21, 22)])
    f = recognizers("tiny_float").timeline(x, sample_rate=RATE)
    q = recognizers("tiny_int8").timeline(x, sample_rate=RATE)
    assert recognizers("tiny_int8")._runner.input.quantized
    assert len(f) == len(q)
    for a, b in zip(f, q):
        if a.is_speech:
            assert max_score_diff(a, b) < 0.05


def test_fixed_batch_model_runs_window_by_window(recognizers, long_audio):
    fixed, dyn = recognizers("tiny_fixed"), recognizers("tiny_float")
    assert fixed._runner.max_batch == 1 and dyn._runner.max_batch > 1
    a = fixed.predict(long_audio, sample_rate=RATE)
    b = dyn.predict(long_audio, sample_rate=RATE)
    assert a.windows == b.windows > 1
    assert max_score_diff(a, b) < 1e-5


def test_logit_outputs_get_a_softmax(recognizers, speech):
    assert_valid(recognizers("tiny_logits").predict(speech, sample_rate=RATE))
    logits = np.array([[2.0, -1.0, 0.5, 3.0]])
    np.testing.assert_allclose(
        as_probabilities(logits, 1e-3), np.exp(logits) / np.exp(logits).sum(), rtol=1e-12
    )
    probs = np.array([[0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_allclose(as_probabilities(probs, 1e-3), probs)
    near = np.array([[0.1, 0.2, 0.3, 0.41]])  # int8 rounding: renormalised, not softmaxed
    np.testing.assert_allclose(as_probabilities(near, 0.05), near / near.sum())


def test_runtime_options(bundle_dir, speech):
    """runtime="auto" takes the first installed of litert, tflite_runtime (the old-runtime CI
    leg runs without litert and names the runtime it expects in EDGESER_EXPECT_RUNTIME)."""
    from edgeser import interpreter

    path = bundle_dir / "tiny_float.edgeser"
    ref = Recognizer(path).predict(speech, sample_rate=RATE)
    plain = Recognizer(path, xnnpack=False, num_threads=2, max_batch=3)
    auto = interpreter.resolve_runtime("auto")[0]
    assert plain.runtime == auto in interpreter.AUTO_RUNTIMES and plain.num_threads == 2
    assert auto == os.environ.get("EDGESER_EXPECT_RUNTIME", auto)
    assert plain._runner.xnnpack is False and plain._runner.delegated_ops == ()
    assert max_score_diff(plain.predict(speech, sample_rate=RATE), ref) < 1e-5
    with pytest.raises(ValueError, match="runtime"):
        Recognizer(path, runtime="onnx")
    with pytest.raises(ValueError, match="num_threads"):
        Recognizer(path, num_threads=0)


def test_missing_runtime_is_a_missing_dependency(bundle_dir, monkeypatch):
    monkeypatch.setitem(sys.modules, "tflite_runtime", None)
    monkeypatch.setitem(sys.modules, "tflite_runtime.interpreter", None)
    with pytest.raises(edgeser.MissingDependencyError, match="tflite_runtime"):
        Recognizer(bundle_dir / "tiny_float.edgeser", runtime="tflite_runtime")


# ---- openSMILE models -------------------------------------------------------------------------
def test_opensmile_model_predicts_one_vector_per_clip(bundle_dir):
    """Runs in a fresh process: openSMILE's native code aborts when TensorFlow is already
    loaded in the same process (as in a test worker that ran the training tests)."""
    if not (bundle_dir / "tiny_smile.edgeser").exists():
        pytest.skip("opensmile is not installed, so no openSMILE test bundle was built")
    code = f"""
import json, sys
import numpy as np
sys.path.insert(0, {str(Path(__file__).parent)!r})
from support import RATE, speechlike
from edgeser.recognizer import Recognizer
r = Recognizer({str(bundle_dir / "tiny_smile.edgeser")!r})
p = r.predict(speechlike(2.5, seed=7), sample_rate=RATE)
silent = r.predict(np.zeros(RATE, np.float32), sample_rate=RATE)
print(json.dumps({{"p": p.to_dict(), "silent_label": silent.label}}))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    p = out["p"]
    assert p["label"] in LABELS and p["is_speech"]
    assert sum(p["scores"].values()) == pytest.approx(1.0, abs=1e-3)
    assert p["confidence"] == max(p["scores"].values())
    assert p["timings"].keys() >= {"features", "inference"}
    assert out["silent_label"] is None


def test_opensmile_feature_selection_reads_the_named_functionals(bundle_dir):
    """tiny_smile_select reads 7 of the 88 functionals (`features.select`) with the weights
    tiny_smile has on them (zero elsewhere): the two must give the same scores, which fails if
    the runtime picks other indices, another order, or normalises before selecting."""
    if not (bundle_dir / "tiny_smile_select.edgeser").exists():
        pytest.skip("opensmile is not installed, so no openSMILE test bundle was built")
    code = f"""
import json, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from support import RATE, speechlike
from edgeser.recognizer import Recognizer
out = {{}}
for name in ("tiny_smile", "tiny_smile_select"):
    r = Recognizer({str(bundle_dir)!r} + "/" + name + ".edgeser", vad=None)
    out[name] = r.predict(speechlike(2.0, seed=11), sample_rate=RATE).scores
print(json.dumps(out))
"""
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=subprocess_env(),
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    full, chosen = out["tiny_smile"], out["tiny_smile_select"]
    assert max(full.values()) - min(full.values()) > 1e-3  # the clip moves the scores
    for label in LABELS:
        assert chosen[label] == pytest.approx(full[label], abs=1e-5)


def test_opensmile_model_without_opensmile_names_the_extra(bundle_dir, monkeypatch):
    if not (bundle_dir / "tiny_smile.edgeser").exists():
        pytest.skip("opensmile is not installed, so no openSMILE test bundle was built")
    monkeypatch.setitem(sys.modules, "opensmile", None)  # import fails as if not installed
    with pytest.raises(edgeser.MissingDependencyError, match=r"pip install edgeser\[opensmile\]"):
        Recognizer(bundle_dir / "tiny_smile.edgeser")


# ---- module-level shortcuts ----------------------------------------------------------------------
def test_edgeser_predict_caches_its_recognizer(bundle_dir, speech):
    from edgeser.shortcuts import shared_recognizer

    path = str(bundle_dir / "tiny_int8.edgeser")
    p = edgeser.predict(speech, sample_rate=RATE, model=path)
    assert_valid(p)
    assert shared_recognizer(path) is shared_recognizer(path)
    assert shared_recognizer(path, num_threads=2) is not shared_recognizer(path)
    assert p.scores == shared_recognizer(path).predict(speech, sample_rate=RATE).scores


def test_load_model_returns_a_recognizer(bundle_dir):
    r = edgeser.load_model(bundle_dir / "tiny_int8.edgeser")
    assert isinstance(r, edgeser.Recognizer)
    assert r.labels == LABELS and r.sample_rate == RATE
    assert r.bundle.meta.quantization == "int8" and r.info.name == "tiny_int8"
    assert "tiny_int8" in repr(r)


def test_long_recordings_get_features_block_by_block(recognizers, long_audio, monkeypatch):
    from edgeser.pipelines import frontend as pipeline_module

    r = recognizers("tiny_float")
    whole = r.pipeline.frame_features(long_audio)
    want = r.timeline(long_audio, sample_rate=RATE)
    monkeypatch.setattr(pipeline_module, "FEATURE_BLOCK_S", 0.37)
    blocked = r.pipeline.frame_features(long_audio)
    assert blocked.shape == whole.shape
    np.testing.assert_allclose(blocked, whole, atol=1e-4)
    assert_same_windows(r.timeline(long_audio, sample_rate=RATE), want, 1e-5)


def test_model_refused_by_xnnpack_falls_back_to_builtin_kernels(bundle_dir, monkeypatch, speech):
    """Some int8 graphs make XNNPACK fail at prepare; the runner retries without delegates."""
    from edgeser import interpreter

    name, real_cls, resolver = interpreter.resolve_runtime("auto")
    if resolver is None:
        pytest.skip(f"{name} cannot turn its default delegates off")
    attempts = []

    class RefusingXnnpack(real_cls):
        def __init__(self, **kw):
            attempts.append("experimental_op_resolver_type" in kw)
            self._delegated = "experimental_op_resolver_type" not in kw
            super().__init__(**kw)

        def allocate_tensors(self):
            if self._delegated:
                raise RuntimeError("XNNPACK delegate failed to prepare (simulated)")
            return super().allocate_tensors()

    monkeypatch.setattr(
        interpreter, "resolve_runtime", lambda runtime: (name, RefusingXnnpack, resolver)
    )
    r = Recognizer(bundle_dir / "tiny_int8.edgeser")
    assert attempts == [False, True]
    assert r._runner.xnnpack is False
    want = Recognizer(bundle_dir / "tiny_int8.edgeser", xnnpack=False).predict(speech, RATE)
    assert r.predict(speech, RATE).scores == pytest.approx(want.scores, abs=1e-6)


def test_a_decoded_clip_feeds_predict_and_timeline_without_decoding_again(bundle_dir, tmp_path):
    r = Recognizer(bundle_dir / "tiny_int8.edgeser")
    path = tmp_path / "s.wav"
    path.write_bytes(encode(speechlike(2.0, seed=4, rate=44100), 44100))
    clip = r.load_audio(path)
    assert clip.sample_rate == r.sample_rate and clip.original_rate == 44100
    assert r.load_audio(clip) is clip
    a, b = r.predict(clip), r.predict(path)
    assert a.scores == b.scores and a.source == b.source == str(path)
    assert [p.scores for p in r.timeline(clip)] == [p.scores for p in r.timeline(path)]


def test_stream_windows_carry_the_clipping_warnings_of_their_own_audio(recognizers):
    """A clipped stretch (3.0-3.5 s, input at 48 kHz) warns in the windows that cover it and
    only there, as `predict` warns for a whole clip."""
    r = recognizers("tiny_float")
    rate = 48000
    x = 0.3 * speechlike(6.0, seed=8, rate=rate)
    a, b = int(3.0 * rate), int(3.5 * rate)
    x[a:b] = np.clip(40.0 * x[a:b], -1.0, 1.0)
    got = run_stream(r.stream(sample_rate=rate), x, 4800)
    assert len(got) >= 8
    for p in got:
        clipped = any("clipped" in w for w in p.warnings)
        if p.start_s <= 3.0 and p.end_s >= 3.5:
            assert clipped, (p.start_s, p.end_s)
        elif p.end_s < 2.95 or p.start_s > 3.55:
            assert not clipped, (p.start_s, p.end_s)
    assert any("clipped" in w for w in r.predict(x, sample_rate=rate).warnings)
    # float samples beyond [-1, 1] are named with their peak, in the windows holding them
    y = 0.3 * speechlike(3.0, seed=9)
    y[RATE // 4] = 2.5
    first, *rest = run_stream(r.stream(), y, 1600)
    assert any("exceed full scale (peak 2.5)" in w for w in first.warnings)
    assert not any("exceed" in w for p in rest if p.start_s > 0.3 for w in p.warnings)
