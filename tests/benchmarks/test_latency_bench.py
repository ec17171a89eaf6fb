"""Smoke test of `python -m benchmarks.latency --quick` and the probe harness under it.

Checks the structure and internal consistency of what the benchmark emits, never its speed.
The benchmark needs a model: edgeser's bundled default, or the bundle named by
$EDGESER_BENCH_MODEL; without either the end-to-end test skips.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from benchmarks import _harness as h
from benchmarks import latency

PERCENTILE_KEYS = ("p50_ms", "p95_ms", "p99_ms")


def check_summary(s: dict, runs: int | None = None, positive: bool = False) -> None:
    assert set(s) >= {"n", "mean_ms", "min_ms", "max_ms", *PERCENTILE_KEYS}
    if runs is not None:
        assert s["n"] == runs
    assert 0 <= s["min_ms"] <= s["p50_ms"] <= s["p95_ms"] <= s["p99_ms"] <= s["max_ms"]
    assert s["min_ms"] <= s["mean_ms"] <= s["max_ms"]
    if positive:
        assert s["min_ms"] > 0


# ---- the harness ------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_summary_percentiles_match_numpy(n):
    rng = np.random.default_rng(n)
    seconds = rng.exponential(0.01, n)
    s = h.summarize_ms(seconds)
    check_summary(s, runs=n, positive=True)
    for q in (50, 95, 99):
        assert s[f"p{q}_ms"] == pytest.approx(np.percentile(seconds * 1000.0, q))


def test_summary_rejects_empty():
    with pytest.raises(ValueError, match="no timings"):
        h.summarize_ms([])


def test_program_returns_result_and_peak_rss():
    r = h.run_program("import os\nresult = {'pid': os.getpid()}")
    assert r.ok and r.error is None
    assert r.value["pid"] != os.getpid()
    assert r.value["peak_rss_mb"] > 0 and r.wall_s > 0


def test_program_failure_is_reported_not_raised():
    r = h.run_program("raise RuntimeError('boom here')")
    assert not r.ok
    assert "RuntimeError: boom here" in r.error


def test_program_crash_is_reported():
    r = h.run_program("import os\nos._exit(7)")
    assert not r.ok and r.returncode == 7 and "exit status 7" in r.error


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU pinning needs Linux")
def test_limits_pin_one_cpu_and_cap_memory():
    limits = h.Limits.constrained(address_space_mb=256)
    pinned = h.run_program(
        "import os\nresult = {'cpus': sorted(os.sched_getaffinity(0))}", limits=limits
    )
    assert pinned.ok and pinned.value["cpus"] == [limits.cpu]
    big = h.run_program("x = bytearray(400 * 1024 * 1024)\nresult = {}", limits=limits)
    assert not big.ok and "MemoryError" in big.error
    free = h.run_program("x = bytearray(400 * 1024 * 1024)\nresult = {}")
    assert free.ok and free.value["peak_rss_mb"] >= 390


def test_limits_validate():
    with pytest.raises(ValueError, match="address_space_mb"):
        h.Limits(address_space_mb=8)
    if hasattr(os, "sched_getaffinity"):
        with pytest.raises(ValueError, match="cpu"):
            h.Limits(cpu=max(os.sched_getaffinity(0)) + 1000)


def test_probe_function_runs_in_a_child():
    r = h.run_probe("benchmarks._harness:machine_info", {"packages": ["numpy"]})
    assert r.ok and r.value["cores"] >= 1 and r.value["packages"]["numpy"]
    bad = h.run_probe("benchmarks._harness:no_such_function")
    assert not bad.ok and "AttributeError" in bad.error


def test_speech_like_signal_has_pauses_and_range():
    x = h.speech_like(2.0, 16000)
    assert x.dtype == np.float32 and x.shape == (32000,)
    assert 0.4 < np.abs(x).max() <= 0.5
    frame_rms = np.sqrt((x[:31840].reshape(-1, 160) ** 2).mean(axis=1))
    assert frame_rms.max() > 100 * np.median(frame_rms[frame_rms < frame_rms.max() / 100])


def test_settings_validate():
    with pytest.raises(ValueError, match="runs"):
        latency.LatencySettings(runs=0)
    with pytest.raises(ValueError, match="16000"):
        latency.LatencySettings(rates=(48000,))
    with pytest.raises(ValueError, match="cold_clip_s"):
        latency.LatencySettings(durations=(1.0,))


# ---- the whole benchmark ---------------------------------------------------------------------
def bench_model() -> str:
    model = os.environ.get("EDGESER_BENCH_MODEL") or h.bundled_model()
    if not model:
        pytest.skip(
            "no model to benchmark: edgeser has no bundled model yet "
            "(or set EDGESER_BENCH_MODEL to a .edgeser bundle)"
        )
    return model


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    model = bench_model()
    out = tmp_path_factory.mktemp("latency") / "latency.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.latency",
            "--quick",
            "--no-bundled",
            "--model",
            model,
            "--json",
            str(out),
        ],
        cwd=h.PROJECT_ROOT,
        env=h.child_env(1),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(out.read_text()), out, proc


def test_quick_run_header(quick_run):
    report, _, proc = quick_run
    assert report["benchmark"] == "latency"
    assert report["machine"]["cores"] >= 1 and report["machine"]["cpu"]
    assert report["settings"]["runs"] == latency.LatencySettings.quick().runs
    assert report["audio_source"]
    check_summary(report["python_startup"], positive=True)
    assert "total p50" in proc.stdout and "[" in proc.stderr  # table and progress lines


def test_quick_run_warm_stages(quick_run):
    report, _, _ = quick_run
    quick = latency.LatencySettings.quick()
    (model,) = report["models"]
    warm = model["warm"]
    assert warm["ok"], warm.get("error")
    seen = {(c["duration_s"], c["sample_rate"], c["input"]) for c in warm["clips"]}
    assert seen >= {(d, r, "file") for d in quick.durations for r in quick.rates}
    assert seen >= {(d, 16000, kind) for d in quick.durations for kind in ("array", "file, no VAD")}
    for clip in warm["clips"]:
        stages = clip["stages"]
        assert set(stages) >= {"decode", "resample", "features", "inference", "other", "total"}
        for name, summary in stages.items():
            check_summary(summary, runs=quick.runs, positive=name == "total")
        assert stages["total"]["max_ms"] >= stages["features"]["min_ms"]
    for s in warm["stream"]:
        check_summary(s["per_chunk"], positive=True)
        assert s["chunk_ms"] == quick.chunk_ms and s["predictions"] >= 1
        assert s["real_time_factor"] > 0
    if not warm.get("stream_skipped"):  # openSMILE-feature models do not stream
        assert {s["sample_rate"] for s in warm["stream"]} == set(quick.rates)
    tp = warm["throughput"]
    assert tp["batch_clips_per_s"] > 0 and tp["sequential_clips_per_s"] > 0


def test_quick_run_cold_start(quick_run):
    report, _, _ = quick_run
    cold = report["models"][0]["cold_start"]
    assert cold["ok"], cold.get("error")
    assert len(cold["runs"]) == latency.LatencySettings.quick().cold_runs
    for key in ("process_wall", "import", "load", "first_predict", "in_process"):
        check_summary(cold[key])
    assert cold["process_wall"]["p50_ms"] >= cold["in_process"]["p50_ms"] > 0
    assert cold["peak_rss_mb"] > 0
    assert isinstance(cold["heavy_modules"], list)


def test_quick_run_peers_and_ratios(quick_run):
    report, _, _ = quick_run
    smile = report["opensmile"]
    assert smile["ok"], smile.get("error")
    assert smile["features"] > 0
    for c in smile["clips"]:
        check_summary(c["total"], positive=True)
    model = report["models"][0]
    lib = model["librosa"]
    assert lib["ok"], lib.get("error")
    assert lib.get("skipped") or lib["clips"]
    for c in lib.get("clips", []):
        assert set(c["stages"]) == {"load", "features", "inference", "total"}
        for summary in c["stages"].values():
            check_summary(summary)
    assert [r["duration_s"] for r in model["ratios"]] == sorted(
        latency.LatencySettings.quick().durations
    )
    for r in model["ratios"]:
        if not lib.get("skipped"):
            assert r["librosa_total_x"] == pytest.approx(
                r["librosa_total_ms"] / r["edgeser_no_vad_total_ms"]
            )
            assert r["librosa_vs_gated_x"] == pytest.approx(
                r["librosa_total_ms"] / r["edgeser_total_ms"]
            )
        assert r["opensmile_vs_total_x"] > 0
    assert all(v["fits"] for v in report["fits"].values())


def test_quick_run_chart(quick_run):
    _, out, _ = quick_run
    png = Path(out).with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_model_is_a_clear_error(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.latency",
            "--quick",
            "--no-bundled",
            "--model",
            str(tmp_path / "nope.edgeser"),
            "--json",
            str(tmp_path / "x.json"),
        ],
        cwd=h.PROJECT_ROOT,
        env=h.child_env(1),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "nope.edgeser" in proc.stderr and not (tmp_path / "x.json").exists()


def test_quick_run_reports_issue_targets(quick_run):
    report, _, proc = quick_run
    targets = report["models"][0]["targets"]
    assert [t["what"] for t in targets] == [t[0] for t in latency.TARGETS]
    for t in targets:
        assert t["measured"] > 0 and t["met"] == (t["measured"] < t["target"])
    assert "issue target" in proc.stdout
