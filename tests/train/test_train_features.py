import numpy as np
import pytest

from edgeser.frontend import FrontendConfig
from edgeser.windows import feature_windows
from train.corpora import load_csv_manifest
from train.data import Normaliser, make_examples, utterance_probs
from train.features import FeatureChoice, cache_key, extract


def test_extract_skips_unreadable_files_by_name(synthetic_csv, tmp_path):
    corpus = load_csv_manifest(synthetic_csv)
    t = extract(corpus, FeatureChoice.parse("mfcc"), cache_dir=None, progress=False)
    assert len(t) == len(corpus.utterances) - 1
    assert any(f.endswith("broken.wav") for f, _ in t.skipped)
    assert all(f.shape[1] == 13 and f.dtype == np.float32 for f in t.feats)
    assert set(t.speakers.tolist()) == {"s1", "s2", "s3"}


def test_cache_round_trip_and_key(synthetic_csv, tmp_path):
    corpus = load_csv_manifest(synthetic_csv)
    choice = FeatureChoice.parse("log_mel", FrontendConfig(n_mels=24))
    a = extract(corpus, choice, cache_dir=tmp_path, progress=False)
    files = list(tmp_path.glob("*.npz"))
    assert len(files) == 1 and cache_key(corpus, choice) in files[0].name
    b = extract(corpus, choice, cache_dir=tmp_path, progress=False)
    assert b.keys == a.keys and np.array_equal(b.y, a.y) and b.skipped == a.skipped
    assert all(np.array_equal(x, z) for x, z in zip(a.feats, b.feats))
    other = FeatureChoice.parse("log_mel", FrontendConfig(n_mels=32))
    assert cache_key(corpus, other) != cache_key(corpus, choice)
    assert cache_key(corpus.subset(1), choice) != cache_key(corpus, choice)


def test_feature_choice_parse():
    assert FeatureChoice.parse("egemaps").opensmile_set == "eGeMAPSv02"
    assert FeatureChoice.parse("compare").opensmile_set == "ComParE_2016"
    c = FeatureChoice.parse("mfcc", FrontendConfig.preset("dycnn_mfcc39"))
    assert FeatureChoice.from_dict(c.to_dict()) == c
    with pytest.raises(ValueError, match="wavelets"):
        FeatureChoice.parse("wavelets")


def test_examples_use_runtime_windows_and_training_stats(synthetic_csv):
    corpus = load_csv_manifest(synthetic_csv)
    t = extract(corpus, FeatureChoice.parse("mfcc"), progress=False)
    idx = np.arange(len(t))
    norm = Normaliser.fit([t.feats[i] for i in idx[:6]])
    ex = make_examples(t, idx, norm, window=40, hop=20)
    assert ex.x.shape[1:] == (40, 13) and ex.n_utterances == len(t)
    first = feature_windows(norm(t.feats[0]), 40, 20)
    assert np.array_equal(ex.x[:len(first)], first)
    assert np.array_equal(ex.y, t.y[ex.owner])
    probs = np.eye(2)[ex.y]
    assert np.array_equal(utterance_probs(probs, ex.owner, len(t)).argmax(1), t.y)
