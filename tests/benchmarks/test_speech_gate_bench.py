"""`python -m benchmarks.speech_gate`: the targets and a quick run on held-out clips (skips
without the corpora and the noise folder). Checks the structure, not the gate's accuracy."""

from __future__ import annotations

import json

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
