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
    assert np.array_equal(ex.x[: len(first)], first)
    assert np.array_equal(ex.y, t.y[ex.owner])
    probs = np.eye(2)[ex.y]
    assert np.array_equal(utterance_probs(probs, ex.owner, len(t)).argmax(1), t.y)


def test_training_windows_are_the_runtime_windows_with_a_floor(synthetic_csv):
    """Training examples with a window floor are exactly `FrontendFeatures.windows` (what the
    runtime cuts from the bundle's config and statistics)."""
    from edgeser.feature_configs import FrontendFeatures

    corpus = load_csv_manifest(synthetic_csv)
    cfg = FrontendConfig(n_mels=24, log_floor=1e-20)
    t = extract(corpus, FeatureChoice.parse("log_mel", cfg), progress=False)
    idx = np.arange(len(t))
    norm = Normaliser.fit([t.feats[i] for i in idx])
    ex = make_examples(t, idx, norm, window=40, hop=20, window_norm="mean", floor_db=3.0)
    spec = FrontendFeatures(cfg, "log_mel", 40, 20, "mean", 3.0)
    first = spec.windows(norm(t.feats[0]), norm.std)
    assert np.array_equal(ex.x[: len(first)], first)
    plain = make_examples(t, idx, norm, window=40, hop=20, window_norm="mean")
    assert not np.array_equal(plain.x, ex.x)  # a 3 dB floor bites on any recording


def test_window_floor_and_log_floor_settings_are_validated():
    from train.config import TrainConfig

    cfg = TrainConfig(
        corpus="emodb", data="x", features="log_mel", window_floor_db=60.0, log_floor=1e-20
    )
    assert cfg.frontend_config().log_floor == 1e-20
    assert (
        TrainConfig(corpus="emodb", data="x").frontend_config().log_floor
        == FrontendConfig().log_floor
    )
    for kw, field in [
        (dict(window_floor_db=-3.0), "window_floor_db"),
        (dict(window_floor_db=float("inf")), "window_floor_db"),
        (dict(window_floor_db=60.0, features="mfcc"), "window_floor_db"),
        (dict(log_floor=2.0), "log_floor"),
        (dict(log_floor=float("nan")), "log_floor"),
    ]:
        with pytest.raises(ValueError, match=field):
            TrainConfig(corpus="emodb", data="x", **{"features": "log_mel", **kw})


# ---- feature selection (ANOVA F, fitted on the training part) ---------------------------------
def _separable_table(seed=0, n=60, dims=12, informative=(3, 7)):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], n // 3)
    x = rng.standard_normal((n, dims)) * 5.0 + 100.0
    for j, col in enumerate(informative):
        x[:, col] += (j + 1) * 4.0 * y  # class means apart by several within-class stds
    return x, y


def test_f_scores_rank_the_separating_columns_first():
    from train.data import f_scores, select_by_f_score

    x, y = _separable_table()
    x[:, 0] = 42.0  # constant: no information
    x[5, 1] = np.nan  # a missing value must not poison the ranking
    f = f_scores(x, y)
    assert f[0] == 0.0 and np.all(np.isfinite(f))
    assert set(np.argsort(-f)[:2]) == {3, 7}
    assert select_by_f_score(x, y, 2).tolist() == [3, 7]  # ascending indices
    # the F statistic of one column matches its textbook definition
    xc = x[:, 3]
    groups = [xc[y == c] for c in range(3)]
    ssb = sum(len(g) * (g.mean() - xc.mean()) ** 2 for g in groups) / 2
    ssw = sum(((g - g.mean()) ** 2).sum() for g in groups) / (len(xc) - 3)
    assert f[3] == pytest.approx(ssb / ssw, rel=1e-9)


def test_normaliser_selects_then_normalises_with_training_statistics():
    x, y = _separable_table(seed=1)
    norm = Normaliser.fit(list(x[:45]), y[:45], select=2)
    assert norm.keep.tolist() == [3, 7] and norm.mean.shape == (2,)
    out = norm(x[50])
    assert out.shape == (2,) and out.dtype == np.float32
    np.testing.assert_allclose(
        out, (x[50, [3, 7]] - x[:45, [3, 7]].mean(0)) / x[:45, [3, 7]].std(0), rtol=1e-5
    )
    assert Normaliser.fit(list(x), y).keep is None  # select=0 keeps every dimension
    with pytest.raises(ValueError, match="cannot select 13 of 12"):
        Normaliser.fit(list(x), y, select=13)
    with pytest.raises(ValueError, match="one label per"):
        Normaliser.fit(list(x), None, select=2)


def test_selecting_frame_features_for_a_frame_model_is_refused(synthetic_csv):
    from train.config import TrainConfig
    from train.recipe import Windowing, model_spec

    t = extract(load_csv_manifest(synthetic_csv), FeatureChoice.parse("mfcc"), progress=False)
    cfg = TrainConfig(corpus="csv", data=str(synthetic_csv), model="cnn_lstm_1d", select_features=5)
    with pytest.raises(ValueError, match="picks functionals.*frame features"):
        model_spec(cfg, t, Windowing.of(cfg, t))


# ---- speed perturbation (extra training copies) ------------------------------------------------
def test_speed_perturbation_scales_tempo_and_pitch_together():
    from train.augment import speed_perturb

    sr = 16000
    t = np.arange(sr) / sr
    x = np.sin(2 * np.pi * 1000.0 * t).astype(np.float32)
    assert speed_perturb(x, 1.0) is x
    for speed in (0.9, 1.1):
        y = speed_perturb(x, speed)
        assert abs(len(y) - len(x) / speed) <= 2 and y.dtype == np.float32
        peak_hz = np.argmax(np.abs(np.fft.rfft(y))) * sr / len(y)
        assert peak_hz == pytest.approx(1000.0 * speed, rel=0.01)


def test_speed_copies_align_with_the_table_and_only_add_training_windows(synthetic_csv, tmp_path):
    from train.augment import Perturbation
    from train.config import TrainConfig
    from train.recipe import Windowing, load_copies, training_examples

    cfg = TrainConfig(
        corpus="csv",
        data=str(synthetic_csv),
        model="cnn_lstm_1d",
        features="mfcc",
        speed_perturb=[0.9, 1.1],
        cache=str(tmp_path),
    )
    assert cfg.speed_perturb == (0.9, 1.1)  # JSON lists become a tuple
    corpus = load_csv_manifest(synthetic_csv)
    table = extract(corpus, FeatureChoice.parse("mfcc", cfg.frontend_config()), progress=False)
    slow, fast = load_copies(cfg, table, progress=False)
    assert slow.keys == fast.keys == table.keys
    assert np.array_equal(fast.y, table.y) and np.array_equal(fast.speakers, table.speakers)
    for base, s, f in zip(table.feats, slow.feats, fast.feats):
        assert len(s) > len(base) > len(f)  # 0.9x is longer, 1.1x shorter
    assert cache_key(corpus, table.choice, Perturbation(speed=1.1).settings()) != cache_key(
        corpus, table.choice
    )
    assert len(list(tmp_path.glob("*speed1.1*.npz"))) == 1
    idx = np.arange(4)
    norm = Normaliser.fit([table.feats[i] for i in idx])
    win = Windowing.of(cfg, table)
    alone = training_examples(cfg, table, [], idx, norm, win)
    both = training_examples(cfg, table, [slow, fast], idx, norm, win)
    assert np.array_equal(both.x[: len(alone.x)], alone.x)
    assert len(both.x) > 2.5 * len(alone.x) and both.n_utterances == 3 * len(idx)
    assert np.array_equal(both.y, both.utt_y[both.owner])


def test_speed_factors_are_validated():
    from train.config import TrainConfig

    for bad in ((1.0,), (3.0,), (0.9, 0.9), ("fast",)):
        with pytest.raises(ValueError, match="TrainConfig.speed_perturb"):
            TrainConfig(corpus="emodb", data=".", speed_perturb=bad)


def test_int8_calibration_draws_only_unperturbed_examples():
    from train.data import Examples
    from train.recipe import representative

    owner = np.repeat(np.arange(6), 100)  # utterances 0-1 original, 2-5 their speed copies
    ex = Examples(owner[:, None].astype(np.float32), owner % 2, owner, np.arange(6) % 2)
    rep = representative(ex, seed=0, originals=2)
    assert len(rep) == 200 and set(rep[:, 0].tolist()) == {0.0, 1.0}
    assert len(representative(ex, seed=0)) == 300  # N_REPRESENTATIVE from everything
