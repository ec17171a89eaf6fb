"""`python -m benchmarks.speech_gate`: the targets and a quick run on held-out clips (skips
without the corpora and the noise folder). Checks the structure, not the gate's accuracy."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import speech_gate as sg


def test_targets_follow_the_issue_thresholds():
    rows = [
        {"group": "noise recordings", "learned gate": 0.96},
        {"group": "synthetic non-speech", "learned gate": 0.9},
        {"group": "speech (clean)", "learned gate": 0.06},
    ]
    met = {t["target"].split(":")[0]: t["met"] for t in sg.targets(rows)}
    assert met == {"noise recordings": True, "synthetic non-speech": False, "clean speech": False}


def test_quick_run_scores_every_group_with_both_gates(tmp_path):
    from train.shared_data import datasets_dir, noise_dir

    if not (datasets_dir() / "emodb").is_dir() or not noise_dir().is_dir():
        pytest.skip(
            "needs ../shared/datasets and ../shared/noise (EDGESER_DATASETS, EDGESER_NOISE)"
        )
    out = tmp_path / "gate.json"
    assert sg.main(["--quick", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    groups = {g["group"]: g for g in report["groups"]}
    assert set(groups) == {
        "speech (clean)",
        "speech (10 dB SNR noise)",
        "noise recordings",
        "synthetic non-speech",
    }
    for g in groups.values():
        assert g["clips"] > 0 and 0 <= g["loudness gate"] <= 1 and 0 <= g["learned gate"] <= 1
    assert report["detector"] == "speech-gate-int8"


def test_silero_peer_tells_a_voice_from_noise_and_silence():
    """The peer on generated signals: silence and white noise hold no speech, audio is scored
    in 32 ms chunks, and thresholds its start/stop hysteresis cannot use are refused."""
    from benchmarks import silero_vad_peer as peer

    reason = peer.unavailable_reason()
    if reason is not None:
        pytest.skip(f"Silero VAD peer: {reason}")
    vad = peer.SileroVad()
    rng = np.random.default_rng(3)
    assert not vad.is_speech(np.zeros(3 * 16000, np.float32))
    assert not vad.is_speech(0.05 * rng.standard_normal(3 * 16000).astype(np.float32))
    assert vad.probabilities(np.zeros(0, np.float32)).size == 0
    assert vad.probabilities(np.zeros(1000, np.float32)).size == 2  # 512-sample chunks
    with pytest.raises(ValueError, match="threshold"):
        peer.SileroVad(threshold=0.1)


def test_silero_peer_finds_speech_in_a_real_utterance():
    from benchmarks import silero_vad_peer as peer
    from train.shared_data import datasets_dir

    reason = peer.unavailable_reason()
    if reason is not None:
        pytest.skip(f"Silero VAD peer: {reason}")
    files = sorted((datasets_dir() / "emodb").rglob("03a01*.*"))
    if not files:
        pytest.skip("needs ../shared/datasets/emodb (EDGESER_DATASETS)")
    from train.corpora import read_audio

    x = read_audio(files[0])
    vad = peer.SileroVad()
    assert vad.is_speech(x)
    (first, end), *_ = vad.segments(x)
    assert 0 <= first < end and end * peer.CHUNK <= len(x) + peer.CHUNK
