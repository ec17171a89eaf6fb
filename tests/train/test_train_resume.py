"""A stopped evaluation continues: `--resume` keeps the folds whose checkpoints a run of the
same options wrote, trains the others, and gives the report and predictions of an
uninterrupted run; a checkpoint of other options is refused, not mixed in."""

import json
import shutil

import numpy as np
import pytest
from train_support import SPEAKERS, run_cli


def _evaluate(csv, out, *extra):
    return run_cli(
        "evaluate",
        "--corpus",
        "csv",
        "--data",
        str(csv),
        "--model",
        "linear",
        "--features",
        "gemaps",
        "--protocol",
        "loso",
        "--selection",
        "fixed",
        "--no-int8-eval",
        "--cache",
        str(out.parent / "cache"),
        "--out",
        str(out),
        *extra,
        timeout=600,
    )


@pytest.fixture(scope="module")
def full_run(synthetic_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("resume") / "full"
    _evaluate(synthetic_csv, out, "--epochs", "2")
    return out


def test_every_fold_is_checkpointed(full_run):
    assert len(list((full_run / "checkpoints").glob("*.npz"))) == len(SPEAKERS)


def test_resume_trains_only_the_missing_folds(full_run, synthetic_csv):
    out = full_run.parent / "stopped"
    shutil.copytree(full_run / "checkpoints", out / "checkpoints")
    last = sorted((out / "checkpoints").glob("*.npz"))[-1]
    last.unlink()  # the run was stopped during its last fold
    proc = _evaluate(synthetic_csv, out, "--epochs", "2", "--resume")
    assert proc.stdout.count("resumed from") == len(SPEAKERS) - 1, proc.stdout
    assert last.is_file()
    a, b = (json.loads((d / "report.json").read_text()) for d in (full_run, out))
    assert [r["float"] for r in a["folds"]] == [r["float"] for r in b["folds"]]
    assert a["float"] == b["float"]
    pa, pb = (np.load(d / "predictions.npz") for d in (full_run, out))
    assert (pa["keys"] == pb["keys"]).all()
    np.testing.assert_allclose(pa["probs"], pb["probs"], atol=1e-6)


def test_checkpoints_of_other_options_are_refused(full_run, synthetic_csv):
    out = full_run.parent / "other"
    shutil.copytree(full_run / "checkpoints", out / "checkpoints")
    with pytest.raises(AssertionError, match="epochs") as err:
        _evaluate(synthetic_csv, out, "--epochs", "3", "--resume")
    assert "Traceback" not in str(err.value)
    assert not (out / "report.json").exists()


def test_without_resume_a_run_starts_over(full_run, synthetic_csv):
    out = full_run.parent / "fresh"
    shutil.copytree(full_run / "checkpoints", out / "checkpoints")
    proc = _evaluate(synthetic_csv, out, "--epochs", "3")
    assert "resumed from" not in proc.stdout
    # ... and its own checkpoints replaced the old ones
    proc = _evaluate(synthetic_csv, out, "--epochs", "3", "--resume")
    assert proc.stdout.count("resumed from") == len(SPEAKERS), proc.stdout
