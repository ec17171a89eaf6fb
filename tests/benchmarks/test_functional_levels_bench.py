"""`python -m benchmarks.functional_levels`: a quick run on real clips (skips without the
corpora). The new floors keep the small set's values still where the legacy floors move them."""

from __future__ import annotations

import json

import pytest

from benchmarks import functional_levels as fl
from edgeser.frontend.functionals import FEATURE_SETS


def test_quick_run_reports_every_corpus_and_set(tmp_path):
    from train.shared_data import datasets_dir

    if not (datasets_dir() / "ravdess").is_dir():
        pytest.skip("needs ../shared/datasets (EDGESER_DATASETS)")
    share = {}
    for legacy in (False, True):
        out = tmp_path / f"levels-{legacy}.json"
        args = ["--clips", "2", "--every", "100", "--json", str(out)]
        assert fl.main(args + (["--legacy-floors"] if legacy else [])) == 0
        report = json.loads(out.read_text())
        assert report["legacy_floors"] is legacy and report["gain_db"] == -30.0
        rows = {(r["corpus"], r["set"]): r for r in report["rows"]}
        assert len(rows) == 6 * len(FEATURE_SETS) and all(r["clips"] == 2 for r in rows.values())
        share[legacy] = rows[("ravdess", "edgeser-gemaps-v1")]["share_moving"]
    # RAVDESS clips have stretches of exact zeros: the legacy floors make them level-dependent
    assert share[False] < 0.01 < 0.1 < share[True], share


def test_bad_settings_are_refused():
    with pytest.raises(SystemExit):
        fl.main(["--gain-db", "-100"])
