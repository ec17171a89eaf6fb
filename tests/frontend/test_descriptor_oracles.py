"""edgeser's voice descriptors against real peers on real speech: Praat's pitch tracker
(parselmouth) and openSMILE's eGeMAPSv02 functionals, on EmoDB files from ../shared.

The figures behind the thresholds come from `python -m benchmarks.descriptors` (200 files):
the thresholds here sit a little below them so the test fails on a real regression, not on the
sample of files."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("parselmouth", reason="praat-parselmouth (dev extra) is not installed")
pytest.importorskip("opensmile", reason="opensmile (dev extra) is not installed")

from benchmarks import descriptors as bench  # noqa: E402


@pytest.fixture(scope="module")
def oracle_report():
    from train.shared_data import datasets_dir

    if not (datasets_dir() / "emodb").is_dir():
        pytest.skip(f"EmoDB is not in {datasets_dir()} (../shared absent)")
    return bench.oracles(bench.emodb_files(16))


def test_pitch_agrees_with_praat_on_real_speech(oracle_report):
    assert oracle_report["praat_voicing_agreement_pct"] >= 85.0
    assert oracle_report["praat_f0_median_rel_diff_pct"] < 2.0


@pytest.mark.parametrize(
    "name",
    [
        "f0_semitone_mean",
        "f0_semitone_p50",
        "loudness_rel_cov",
        "hammarberg_db_voiced_mean",
        "slope_0_500_voiced_mean",
        "mfcc1_mean",
        "shimmer_local_db_voiced_mean",
    ],
)
def test_functionals_track_their_egemaps_counterparts(oracle_report, name):
    r = oracle_report["functional_correlation"][name]["pearson_r"]
    assert r is not None and r > 0.75, f"{name}: r = {r}"


def test_synthetic_f0_is_within_two_percent():
    report = bench.synthetic_pitch()
    assert report["worst_median_rel_error_pct"] < 2.0
    assert all(v["voiced_pct"] > 90 for v in report["per_f0_hz"].values())
    assert np.isfinite(report["worst_median_rel_error_pct"])
