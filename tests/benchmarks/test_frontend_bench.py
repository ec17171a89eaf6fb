"""Smoke test of `python -m benchmarks.frontend --quick`: the structure of what it writes and the
logic of its targets, never its speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import frontend as fb

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "frontend.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.frontend", "--quick", "--json", str(out)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), proc.stdout


def test_quick_run_writes_every_measurement(quick_run):
    data, stdout = quick_run
    assert data["benchmark"] == "frontend"
    assert data["settings"]["repeats"] == fb.FrontendBenchSettings.quick().repeats
    machine = data["machine"]
    assert machine["cpu"] and machine["cores"] >= 1 and machine["python"]
    assert machine["packages"]["numpy"]
    measured = {r["impl"] for r in data["results"]}
    assert measured | set(data["unavailable"]) == set(fb.ALL_IMPLEMENTATIONS)
    assert "numpy" in measured and "scipy_rfft" in measured
    batch = f"batch{data['settings']['batch_size']}"
    for impl in measured:
        tasks = ("mfcc",) if impl == "scipy_rfft" else fb.TASKS
        for task in tasks:
            for workload in ("1s", "3s", batch):
                r = fb.find(data["results"], impl, task, workload)
                assert r is not None, (impl, task, workload)
                assert 0 < r["min_us"] <= r["median_us"] and r["runs"] >= 1
    for r in data["results"]:
        if r["workload"] in ("1s", "3s") and r["impl"] in fb.EDGESER_BACKENDS:
            assert r["frames"] == 1 + (int(float(r["workload"][:-1]) * 16000) - 400) // 160
    # Streaming rows exist for edgeser and kaldi-native-fbank, and count the clip's frames.
    for impl in measured & {"cpp", "numba", "numpy", "knf"}:
        r = fb.find(data["results"], impl, "mfcc", "stream10ms")
        assert r is not None and r["chunks"] > 0 and r["median_us"] > 0
    cpp = fb.find(data["results"], "cpp", "mfcc", "stream10ms")
    if cpp is not None:
        assert cpp["frames"] == 1 + (16000 - 400) // 160
    assert "Median time" in stdout and "Targets" in stdout


def test_targets_are_reported(quick_run):
    data, _ = quick_run
    targets = data["targets"]
    assert len(targets) == len(fb.RATIO_TARGETS) + 1
    for t in targets:
        assert set(t) >= {"target", "threshold", "met"}
        assert t["met"] in (True, False, None)


def _fake(impl, workload, us, task="mfcc"):
    return {"impl": impl, "task": task, "workload": workload, "median_us": us}


def test_target_logic():
    s = fb.FrontendBenchSettings.quick()
    results = [
        _fake("cpp", "1s", 50.0),
        _fake("librosa", "1s", 450.0),
        _fake("knf", "1s", 700.0),
        _fake("scipy_rfft", "1s", 40.0),
        _fake("cpp", "stream10ms", 12.0),
    ]
    by_name = {t["target"].split(": ", 1)[1]: t for t in fb.evaluate_targets(results, s)}
    met = [t["met"] for t in fb.evaluate_targets(results, s)]
    assert met == [True, False, True, False]  # 9x, 14x (< 15), 1.25x, 12 us (>= 10)
    assert any(abs(t["ratio"] - 9.0) < 1e-12 for t in by_name.values() if t.get("ratio"))
    missing = fb.evaluate_targets([], s)
    assert all(t["met"] is None for t in missing)


def test_settings_are_validated():
    with pytest.raises(ValueError, match="backends"):
        fb.FrontendBenchSettings(backends=("cpp", "torchaudio"))
    with pytest.raises(ValueError, match="repeats"):
        fb.FrontendBenchSettings(repeats=0)
    assert fb.main(["--quick", "--backends", "nope"]) == 2
