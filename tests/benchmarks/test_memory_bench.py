"""Smoke test of `python -m benchmarks.memory --quick`: structure and consistency, not speed.

Needs a model: edgeser's bundled default, or the bundle named by $EDGESER_BENCH_MODEL.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import _harness as h
from benchmarks import memory


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    model = os.environ.get("EDGESER_BENCH_MODEL") or h.bundled_model()
    if not model:
        pytest.skip(
            "no model to benchmark: edgeser has no bundled model yet "
            "(or set EDGESER_BENCH_MODEL to a .edgeser bundle)"
        )
    out = tmp_path_factory.mktemp("memory") / "memory.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.memory",
            "--quick",
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


def test_every_pipeline_is_reported(quick_run):
    report, _, proc = quick_run
    assert report["benchmark"] == "memory" and report["machine"]["cores"] >= 1
    assert [r["name"] for r in report["pipelines"]] == [p.name for p in memory.PIPELINES]
    for row in report["pipelines"]:
        assert row["processes"] == 1
        assert row["ok"] or row["error"], row
        assert row["name"] in proc.stdout


def test_rows_are_consistent(quick_run):
    report, _, _ = quick_run
    rows = {r["name"]: r for r in report["pipelines"]}
    for name in ("python", "edgeser"):
        assert rows[name]["ok"], rows[name].get("error")
    floor = rows["python"]
    for row in rows.values():
        if not row["ok"]:
            continue
        assert row["peak_rss_mb"] >= floor["peak_rss_mb"] * 0.9 > 0
        assert row["process_wall_ms"] > 0
        if row["name"] != "python":
            assert 0 <= row["import_ms"] <= row["first_result_ms"] <= row["process_wall_ms"]
            assert row["answer"] is not None
            assert row["rss_vs_edgeser_x"] == pytest.approx(
                row["peak_rss_mb"] / rows["edgeser"]["peak_rss_mb"]
            )
    assert rows["edgeser"]["rss_vs_edgeser_x"] == pytest.approx(1.0)


def test_chart_written(quick_run):
    _, out, _ = quick_run
    assert Path(out).with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_no_model_is_a_clear_error(tmp_path):
    env = h.child_env(1, {"EDGESER_MODELS_DIR": str(tmp_path)})
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--quick", "--json", str(tmp_path / "m.json")],
        cwd=h.PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "no bundled model" in proc.stderr
    assert not (tmp_path / "m.json").exists()


def test_settings_validate():
    with pytest.raises(ValueError, match="repeats"):
        memory.MemorySettings(repeats=0)
