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
