"""The learned voice gate: noise, tones, clicks and music are "no speech"; speech keeps a label."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import edgeser
from edgeser.bundle import FORMAT_VERSION, ModelBundle
from edgeser.errors import BundleError
from edgeser.vad import VadConfig

from .support import RATE, noise

LOUDNESS_ONLY = VadConfig(speech_detector=False)


@pytest.fixture(scope="module")
def default():
    return edgeser.Recognizer("default")


def _synthetic(kind: str, seconds: float = 3.0, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    if kind == "white -20 dBFS":
        return noise(seconds, -20.0, seed)
    if kind == "pink -50 dBFS":
        spec = np.fft.rfft(rng.standard_normal(len(t)))
        spec /= np.sqrt(np.maximum(np.arange(len(spec)), 1))
        x = np.fft.irfft(spec, len(t))
        return (10 ** (-50 / 20) * x / np.sqrt(np.mean(x**2))).astype(np.float32)
    if kind == "clicks":
        x = np.zeros(len(t))
        x[:: RATE // 7] = 0.8
        return x.astype(np.float32)
    if kind == "siren":
        f = 700 + 400 * np.sin(2 * np.pi * 0.5 * t)
        return (0.3 * np.sin(2 * np.pi * np.cumsum(f) / RATE)).astype(np.float32)
    if kind == "melody":
        notes = 220 * 2 ** (rng.integers(0, 24, size=12) / 12)
        f = np.repeat(notes, len(t) // 12 + 1)[: len(t)]
        return (0.2 * np.sin(2 * np.pi * np.cumsum(f) / RATE)).astype(np.float32)
    if kind == "mains hum":
        return (0.1 * sum(np.sin(2 * np.pi * 50 * k * t) / k for k in range(1, 6))).astype(
            np.float32
        )
    raise ValueError(kind)


KINDS = ("white -20 dBFS", "pink -50 dBFS", "clicks", "siren", "melody", "mains hum")


def test_the_default_model_runs_behind_the_learned_gate(default):
    assert default.bundle.meta.speech_detector and default.detector is not None
    assert edgeser.Recognizer("default", vad=LOUDNESS_ONLY).detector is None
    assert edgeser.Recognizer("default", vad=None).detector is None
    with pytest.raises(ValueError, match="speech_threshold"):
        VadConfig(speech_threshold=1.5)


@pytest.mark.parametrize("kind", KINDS)
def test_non_speech_gets_no_emotion(default, kind):
    p = default.predict(_synthetic(kind), sample_rate=RATE)
    assert not p.is_speech and p.label is None, (kind, p.scores)
    assert all(q.label is None for q in default.timeline(_synthetic(kind), sample_rate=RATE))


def test_real_speech_keeps_its_label(default, datasets_dir):
    """Speakers the gate never trained on (train.speech_gate.held_out_speakers)."""
    from train.corpora import load_corpus
    from train.speech_gate import held_out_speakers

    corpus = load_corpus("emodb", datasets_dir / "emodb")
    test = held_out_speakers("emodb", [u.speaker for u in corpus.utterances], 5)
    utts = [u for u in corpus.utterances if u.speaker in test][:30]
    kept = [default.predict(u.path).is_speech for u in utts]
    assert np.mean(kept) >= 0.9, f"{sum(kept)}/{len(kept)} kept"


def test_stream_and_timeline_agree_with_the_learned_gate(default, datasets_dir):
    """Speech, then a tone, then speech: the decisions and scores of a stream fed in odd
    chunks equal the timeline's (the gate reads only the audio of each window)."""
    from train.corpora import read_audio

    files = sorted((datasets_dir / "emodb").rglob("*.wav"))[:2]
    x = np.concatenate([read_audio(files[0]), _synthetic("melody", 2.0), read_audio(files[1])])
    want = default.timeline(x, sample_rate=RATE)
    assert any(p.is_speech for p in want) and not all(p.is_speech for p in want)
    s = default.stream()
    got, pos, rng = [], 0, np.random.default_rng(3)
    while pos < len(x):
        n = int(rng.integers(1, 4000))
        got += s.push(x[pos : pos + n])
        pos += n
    got += s.flush()
    assert [(p.start_s, p.is_speech) for p in got] == [(p.start_s, p.is_speech) for p in want]
    for a, b in zip(got, want):
        assert a.scores == pytest.approx(b.scores, abs=1e-6)


def _quiet_speech_with_silence() -> np.ndarray:
    """Digital zeros, a very quiet stretch (mel power under the gate's 1e-10 floor) and
    louder harmonic 'speech': every case of the floor shared between model and gate."""
    t = np.arange(RATE) / RATE
    voiced = 0.3 * sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12))
    return np.concatenate(
        [np.zeros(RATE // 2), 1e-7 * voiced, voiced, np.zeros(RATE // 3), 0.01 * voiced]
    ).astype(np.float32)


def test_the_gate_shares_the_frames_of_a_model_with_a_lower_log_floor(default):
    """The default model (log_floor 1e-20) and its gate (1e-10): the gate's frames are the
    model's raised to the gate's floor, bit for bit what the gate's own front end gives."""
    from edgeser import frontend

    pipe = default.pipeline
    det = default.detector
    assert pipe.features.frontend.log_floor < det.features.frontend.log_floor
    assert pipe.detector_shares_frames
    x = _quiet_speech_with_silence()
    raw = pipe.raw_features(x)
    own = frontend.features(x, det.features.frontend, det.features.kind)
    assert (raw < own.min()).any()  # some frames really sit below the gate's floor
    np.testing.assert_array_equal(pipe.shared_detector_frames(raw), own)


def test_a_gate_with_another_front_end_computes_its_own_frames(default):
    """Configs that differ in more than a lower log floor are not shared."""
    import copy

    pipe = copy.copy(default.pipeline)
    det_cfg = default.detector.features.frontend
    for other in (
        dataclasses.replace(det_cfg, n_mels=det_cfg.n_mels + 1),
        dataclasses.replace(det_cfg, log_floor=det_cfg.log_floor * 10),  # higher than the gate's
    ):
        pipe.features = dataclasses.replace(pipe.features, frontend=other)
        pipe.__dict__.pop("detector_frame_floor", None)
        assert not pipe.detector_shares_frames, other


def test_an_opensmile_model_is_gated_too():
    pytest.importorskip("opensmile")
    r = edgeser.Recognizer("emodb-resse_cnn1d-compare-int8")
    assert r.detector is not None
    assert not r.predict(_synthetic("siren"), sample_rate=RATE).is_speech


def test_speech_detector_is_a_format_4_field(bundle_dir):
    b = ModelBundle.load(bundle_dir / "tiny_float.edgeser")
    assert b.meta.speech_detector is None and b.meta.format_version < 4
    named = dataclasses.replace(b.meta, speech_detector="speech-gate-int8", format_version=4)
    back = ModelBundle.from_bytes(ModelBundle(named, b.model).to_bytes())
    assert back.meta.speech_detector == "speech-gate-int8" and FORMAT_VERSION >= 4
    with pytest.raises(BundleError, match="cannot describe"):
        dataclasses.replace(named, format_version=3)
    for bad in ("../evil", "a/b", "", ".hidden"):
        with pytest.raises(BundleError, match="plain bundle name"):
            dataclasses.replace(named, speech_detector=bad)


def test_a_missing_detector_is_named_with_the_way_out(bundle_dir, tmp_path):
    b = ModelBundle.load(bundle_dir / "tiny_float.edgeser")
    meta = dataclasses.replace(b.meta, speech_detector="no-such-gate", format_version=4)
    path = ModelBundle(meta, b.model).save(tmp_path / "m.edgeser")
    with pytest.raises(BundleError, match=r"no-such-gate.*speech_detector=False"):
        edgeser.Recognizer(path)
    assert edgeser.Recognizer(path, vad=LOUDNESS_ONLY).detector is None
