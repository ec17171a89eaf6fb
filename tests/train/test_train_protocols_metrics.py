import numpy as np
import pytest

from train.metrics import scores
from train.protocols import make_folds


def _toy(n_speakers=6, per=20, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    speakers = np.repeat([f"sp{i}" for i in range(n_speakers)], per)
    y = rng.integers(0, classes, size=len(speakers))
    return y, speakers


def test_loso_holds_out_each_speaker_and_validates_on_training_speakers():
    y, spk = _toy()
    folds = make_folds("loso", y, spk, val_fraction=0.2, seed=3)
    assert len(folds) == 6
    tested = []
    for f in folds:
        test_spk = set(spk[f.test])
        assert len(test_spk) == 1
        tested += list(test_spk)
        assert not test_spk & set(spk[f.train]) and not test_spk & set(spk[f.val])
        assert not set(spk[f.val]) & set(spk[f.train])  # whole validation speakers
        assert len(set(f.train) | set(f.val) | set(f.test)) == len(y)
    assert sorted(tested) == sorted(set(spk))


def test_random_split_is_stratified_and_disjoint():
    y = np.repeat(np.arange(3), [50, 30, 20])
    (f,) = make_folds(
        "random", y, np.array(["a"] * len(y)), val_fraction=0.1, test_fraction=0.2, seed=1
    )
    assert not set(f.train) & set(f.test) and not set(f.val) & set(f.test)
    assert np.bincount(y[f.test]).tolist() == [10, 6, 4]
    assert len(f.train) + len(f.val) + len(f.test) == len(y)


def test_kfold_tests_every_utterance_once():
    y, spk = _toy()
    folds = make_folds("kfold", y, spk, k=5, seed=0)
    tested = np.concatenate([f.test for f in folds])
    assert sorted(tested.tolist()) == list(range(len(y)))
    with pytest.raises(ValueError):
        make_folds("kfold", y, spk, k=1)
    with pytest.raises(ValueError, match="protocol"):
        make_folds("nope", y, spk)


def test_same_seed_same_folds():
    y, spk = _toy()
    a = make_folds("loso", y, spk, seed=7)
    b = make_folds("loso", y, spk, seed=7)
    assert all(np.array_equal(x.val, z.val) for x, z in zip(a, b))


def test_scores_match_sklearn_on_imbalanced_data():
    from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

    rng = np.random.default_rng(0)
    y = rng.choice(4, size=300, p=[0.6, 0.2, 0.15, 0.05])
    p = np.where(rng.random(300) < 0.7, y, rng.integers(0, 4, size=300))
    s = scores(y, p, ["a", "b", "c", "d"])
    assert s["WA"] == pytest.approx(np.mean(y == p))
    assert s["UA"] == pytest.approx(balanced_accuracy_score(y, p))
    assert s["macro_F1"] == pytest.approx(f1_score(y, p, average="macro"))
    assert list(s["per_class_recall"].values()) == pytest.approx(recall_score(y, p, average=None))
    assert np.sum(s["confusion"]) == 300


def test_ua_differs_from_wa_for_majority_guessing():
    y = np.array([0] * 9 + [1])
    s = scores(y, np.zeros(10, dtype=int), ["maj", "min"])
    assert s["WA"] == pytest.approx(0.9) and s["UA"] == pytest.approx(0.5)
