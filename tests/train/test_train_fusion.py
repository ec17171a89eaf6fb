"""Late fusion of evaluated runs (`python -m train fuse`): alignment by utterance, checks."""

import json

import numpy as np
import pytest
from train_support import run_cli

from train.fusion import fuse

LABELS = ["high", "low"]


def fake_run(path, keys, y, probs, protocol="loso", labels=LABELS):
    path.mkdir(parents=True)
    np.savez(
        path / "predictions.npz",
        keys=np.array(keys),
        y=np.array(y),
        speakers=np.array(["s"] * len(keys)),
        labels=np.array(labels),
        probs=np.array(probs, np.float32),
    )
    (path / "report.json").write_text(
        json.dumps({"protocol": protocol, "corpus": "csv", "model": path.name})
    )
    return path


def two_runs(tmp_path):
    keys, y = ["a", "b", "c", "d"], [0, 0, 1, 1]
    # A is sure and right on a, b and mildly wrong on c, d; B the other way round, and lists
    # the utterances in another order (fusion must align them by key)
    a = fake_run(tmp_path / "A", keys, y, [[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.6, 0.4]])
    b = fake_run(
        tmp_path / "B",
        ["d", "c", "b", "a"],
        [1, 1, 0, 0],
        [[0.1, 0.9], [0.1, 0.9], [0.4, 0.6], [0.4, 0.6]],
    )
    return a, b


def test_fusion_aligns_by_utterance_and_combines(tmp_path):
    a, b = two_runs(tmp_path)
    r = fuse([a, b])
    assert r["members"] == {str(a): 0.5, str(b): 0.5}
    assert r["fused"]["UA"] == 1.0 and r["weights"] == [1.0, 1.0]
    # a weight fixed in advance can hand the decision to one model
    assert fuse([a, b], [1.0, 0.0])["fused"]["UA"] == 0.5


def test_fusion_refuses_mismatched_runs(tmp_path):
    a, b = two_runs(tmp_path)
    other = fake_run(tmp_path / "C", ["a", "b", "c", "x"], [0, 0, 1, 1], [[0.5, 0.5]] * 4)
    with pytest.raises(ValueError, match="different utterances"):
        fuse([a, other])
    random = fake_run(
        tmp_path / "D", ["a", "b", "c", "d"], [0, 0, 1, 1], [[0.5, 0.5]] * 4, protocol="random"
    )
    with pytest.raises(ValueError, match="differs"):
        fuse([a, random])
    with pytest.raises(ValueError, match="weights"):
        fuse([a, b], [1.0])
    with pytest.raises(ValueError, match="int8"):
        fuse([a, b], quantization="int8")
    with pytest.raises(FileNotFoundError, match="predictions.npz"):
        fuse([a, tmp_path])


def test_fuse_command(tmp_path):
    a, b = two_runs(tmp_path)
    proc = run_cli("fuse", str(a), str(b), "--out", str(tmp_path / "fused.json"))
    assert "UA 1.0000" in proc.stdout
    assert json.loads((tmp_path / "fused.json").read_text())["fused"]["UA"] == 1.0


def test_fusion_of_several_corpora_reports_each_corpus_and_their_mean(tmp_path):
    """LOCO-style runs: per-corpus scores and the mean over corpora (the protocol's figure),
    with the corpus read from the key where an older predictions file does not store it."""
    keys = ["x/1", "x/2", "y/1", "y/2", "y/3", "y/4"]
    y = [0, 1, 0, 0, 1, 1]
    # A is right on corpus x only, B on corpus y only; B's confidence decides y and x/2
    a = fake_run(
        tmp_path / "A", keys, y, [[0.6, 0.4], [0.4, 0.6]] + [[0.45, 0.55]] * 2 + [[0.55, 0.45]] * 2
    )
    b = fake_run(
        tmp_path / "B", keys, y, [[0.45, 0.55], [0.9, 0.1]] + [[0.9, 0.1]] * 2 + [[0.1, 0.9]] * 2
    )
    r = fuse([a, b])
    assert r["members_per_corpus"][str(a)]["x"]["UA"] == 1.0
    assert r["members_per_corpus"][str(a)]["y"]["UA"] == 0.0
    assert r["per_corpus"]["y"]["UA"] == 1.0 and r["per_corpus"]["x"]["UA"] == 0.5
    assert r["per_corpus"]["mean"]["UA"] == 0.75


def test_a_baseline_with_predictions_fuses_with_an_evaluated_run(synthetic_csv, tmp_path):
    """`baseline --predictions DIR` writes what `fuse` reads; its labels are the argmax of
    the probabilities it saved."""
    pytest.importorskip("sklearn")
    out = tmp_path / "logreg"
    run_cli(
        "baseline",
        "--corpus",
        "csv",
        "--data",
        str(synthetic_csv),
        "--features",
        "mfcc",
        "--classifier",
        "logreg",
        "--cache",
        "",
        "--predictions",
        str(out),
    )
    z = np.load(out / "predictions.npz")
    report = json.loads((out / "report.json").read_text())
    assert z["probs"].shape == (len(z["keys"]), len(z["labels"]))
    assert np.allclose(z["probs"].sum(1), 1.0, atol=1e-5)
    assert report["protocol"] == "loso" and report["model"] == "logreg"
    from train.metrics import scores

    assert scores(z["y"], z["probs"].argmax(1), list(z["labels"]))["UA"] == report["float"]["UA"]
    r = fuse([out, out])  # the same run twice fuses to itself
    assert r["fused"]["UA"] == report["float"]["UA"]
