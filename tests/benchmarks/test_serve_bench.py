"""Smoke test of `python -m benchmarks.serve --quick`, run tiny: structure and answers, not speed.

Needs the bundled default model (or $EDGESER_BENCH_MODEL) and the serve extra.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from benchmarks import _harness as h
from benchmarks import serve

pytest.importorskip("uvicorn")
pytest.importorskip("starlette")


def test_settings_validate():
    with pytest.raises(ValueError, match="clients"):
        serve.ServeSettings(clients=0)
    with pytest.raises(ValueError, match="duration_s"):
        serve.ServeSettings(duration_s=0)
    assert serve.ServeSettings.quick().duration_s < serve.ServeSettings().duration_s


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    model = os.environ.get("EDGESER_BENCH_MODEL") or h.bundled_model()
    if not model:
        pytest.skip("no model to benchmark (set EDGESER_BENCH_MODEL to a .edgeser bundle)")
    out = tmp_path_factory.mktemp("serve") / "serve.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.serve",
            "--quick",
            "--model",
            model,
            "--clients",
            "2",
            "--duration-s",
            "1",
            "--slow-clients",
            "4",
            "--slow-phase-s",
            "1",
            "--rss-requests",
            "40",
            "--json",
            str(out),
        ],
        cwd=h.PROJECT_ROOT,
        env=h.child_env(1),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc


def test_every_phase_is_reported(tiny_run):
    report, proc = tiny_run
    assert report["benchmark"] == "serve" and report["machine"]["cores"] >= 1
    assert report["in_process"]["clips_per_s"] > 0
    load = report["load"]
    assert load["clients"] == 2 and load["ok"] > 0 and load["errors"] == 0
    assert load["statuses"] == {"200": load["ok"]}
    assert 0 < load["latency"]["p50_ms"] <= load["latency"]["p99_ms"]
    assert load["vs_in_process"] > 0
    slow = report["slow"]
    assert slow["slow_clients"] == 4 and slow["slow_connections_made"] >= 4
    assert slow["alone"]["n"] > 0 and slow["with_slow_clients"]["n"] > 0
    rss = report["rss"]
    assert rss["statuses"] == {"200": 40} and rss["rss_after_mb"] > 0
    assert "issue target" in proc.stdout and "req/s" in proc.stdout


def test_hostile_uploads_get_clear_answers_within_the_budget(tiny_run):
    report, _ = tiny_run
    rows = {r["what"].split(" ")[1]: r for r in report["attacks"]["uploads"]}
    one_hz, flac, longest = report["attacks"]["uploads"]
    assert one_hz["answers"] == {"400 bad_audio": 4}
    assert flac["answers"] == {"413 audio_too_large": 4}
    assert set(longest["answers"]) <= {"200 ok", "503 busy"}  # never a dropped connection
    assert sum(longest["answers"].values()) == longest["at_once"]
    assert rows and report["attacks"]["peak_rss_mb"] < report["settings"]["memory_budget_mb"]


def test_targets_are_listed_with_their_verdicts(tiny_run):
    report, _ = tiny_run
    targets = report["targets"]
    assert len(targets) == 6
    for t in targets:
        assert t["measured"] is not None and isinstance(t["met"], bool)
    assert targets[0]["what"] == "errors under load" and targets[0]["met"]
