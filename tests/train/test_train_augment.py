"""Training augmentation: seeded, reproducible copies; each degradation does what it says; the
noise and impulse-response recordings split into disjoint train / test parts."""

import numpy as np
import pytest
from train_support import tone, write_wav

from train import augment as aug
from train.corpora import Corpus, Utterance

SR = 16000


@pytest.fixture(scope="module")
def noise_dir(tmp_path_factory):
    """A noise folder without a manifest: 8 noise clips in two folders, 5 impulse responses."""
    root = tmp_path_factory.mktemp("noise")
    rng = np.random.default_rng(0)
    for folder in ("street", "cafe"):
        for i in range(4):
            write_wav(root / folder / f"n{i}.wav", 0.1 * rng.standard_normal(SR), SR)
    for i in range(5):
        rir = np.zeros(SR // 4, np.float32)
        rir[20] = 0.9
        rir[21:] = (
            0.3
            * rng.standard_normal(len(rir) - 21)
            * np.exp(-np.arange(len(rir) - 21) / (300.0 * (i + 1)))
        )
        write_wav(root / "rir" / f"r{i}.wav", rir, SR)
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("c")
    utts = []
    for s in range(3):
        for n in range(2):
            p = write_wav(root / f"s{s}_{n}.wav", tone(200 + 100 * s + 30 * n, 1.0, SR, s), SR)
            utts.append(Utterance(p, p.name, "anger", f"s{s}"))
    return Corpus("toy", root, ("anger",), tuple(utts))


def test_split_is_disjoint_covers_everything_and_holds_out_every_category(noise_dir):
    recs = aug.list_recordings(noise_dir)
    assert len(recs) == 13 and sum(r.kind == "rir" for r in recs) == 5
    train, test = aug.split_recordings(recs, "train"), aug.split_recordings(recs, "test")
    assert not {r.path for r in train} & {r.path for r in test}
    assert len(train) + len(test) == len(recs)
    assert {r.category for r in test if r.kind == "noise"} == {"street", "cafe"}
    assert any(r.kind == "rir" for r in test)
    assert aug.split_recordings(recs, "train") == train  # deterministic


def test_shared_noise_folder_split_has_test_rooms_of_every_size():
    root = aug.default_noise_dir()
    if not (root / "manifest.csv").is_file():
        pytest.skip(f"shared noise folder not found at {root}")
    test = aug.NoiseBank(root, "test")
    train = aug.NoiseBank(root, "train")
    assert test.noises and train.noises and len(train.noises) > 2 * len(test.noises)
    bins = {r.category for r in test.rirs}
    assert {"rt<0.6", "rt<1.5", "rt<3"} <= bins
    assert not set(test.fingerprint()) & set(train.fingerprint())


def test_mix_at_snr_gives_the_requested_snr():
    rng = np.random.default_rng(1)
    x = tone(300, 1.0, SR, 0)
    n = rng.standard_normal(SR // 3).astype(np.float32)  # shorter: looped
    for snr in (0.0, 10.0, 20.0):
        y = aug.mix_at_snr(x, n, snr)
        got = 20 * np.log10(aug.rms(x) / aug.rms(y - x))
        assert got == pytest.approx(snr, abs=0.05) and len(y) == len(x)


def test_telephone_removes_the_band_above_4_khz():
    rng = np.random.default_rng(2)
    x = rng.standard_normal(SR).astype(np.float32)
    y = aug.telephone(x)
    spec = np.abs(np.fft.rfft(y)) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    assert len(y) == len(x)
    assert spec[f > 4200].sum() < 1e-4 * spec[f < 3500].sum()


def test_reverberation_keeps_length_level_and_alignment():
    x = np.zeros(SR, np.float32)
    x[1000] = 1.0
    rir = np.zeros(800, np.float32)
    rir[100], rir[400] = 1.0, 0.5
    y = aug.reverberate(x, rir)
    assert len(y) == len(x) and aug.rms(y) == pytest.approx(aug.rms(x), rel=1e-4)
    assert np.argmax(np.abs(y)) == 1000  # direct path lands where the dry sound was
    assert abs(y[1300]) > 0.3 * abs(y[1000])  # the reflection 300 samples later


def test_coloured_noise_slopes():
    rng = np.random.default_rng(3)
    f = np.fft.rfftfreq(SR, 1 / SR)
    slopes = []
    for exponent in (0.0, 1.0, 2.0):
        p = np.abs(np.fft.rfft(aug.coloured_noise(SR, exponent, rng))) ** 2
        lo, hi = p[(f > 100) & (f < 200)].mean(), p[(f > 3200) & (f < 6400)].mean()
        slopes.append(10 * np.log10(lo / hi))
    assert slopes[0] == pytest.approx(0, abs=2) and slopes[0] < slopes[1] < slopes[2]


def test_augmented_copies_are_seeded_and_reproducible(noise_dir, corpus):
    cfg = aug.AugmentConfig(copies=2, noise_prob=1.0, reverb_prob=1.0, noise_dir=str(noise_dir))
    bank = aug.NoiseBank(noise_dir, "train")
    u = corpus.utterances[0]
    x = np.asarray(tone(300, 1.0, SR, 0))

    def copy(i, seed=0):
        return aug.Augmenter(aug.Perturbation(augment=cfg, copy=i, seed=seed), corpus, bank)(x, u)

    a0, a0b, a1, s1 = copy(0), copy(0), copy(1), copy(0, seed=1)
    np.testing.assert_array_equal(a0[0], a0b[0])
    assert a0[1] == a0b[1]
    assert not np.array_equal(a0[0], a1[0]) and not np.array_equal(a0[0], s1[0])
    assert len(a0[0]) == len(x) and np.abs(a0[0]).max() <= 0.99
    assert np.isfinite(a0[0]).all()
    tags = {p.tag for p in aug.augment_perturbations(cfg, 0)}
    assert tags == {"aug0-s0", "aug1-s0"}


def test_crop_cuts_a_seeded_excerpt_inside_the_speech(noise_dir, corpus):
    silence = np.zeros(SR, np.float32)
    speech = np.asarray(tone(250, 2.0, SR, 0), np.float32)
    x = np.concatenate([silence, speech, silence])  # 1 s silence, 2 s tone, 1 s silence
    assert aug.active_span(x) == (SR, 3 * SR)
    rng = np.random.default_rng(0)
    for _ in range(20):
        c = aug.crop(x, 0.8, rng)
        assert len(c) == int(0.8 * SR)
        frames = c[: len(c) // 160 * 160].reshape(-1, 160)
        assert min(aug.rms(f) for f in frames) > 0.5 * aug.rms(speech)  # no silence in it
    # an active span shorter than the excerpt: the excerpt is centred on it
    short = np.concatenate([silence, speech[: SR // 4], silence])
    c = aug.crop(short, 1.0, rng)
    assert len(c) == SR and aug.rms(c) == pytest.approx(aug.rms(speech[: SR // 4]) / 2, rel=0.05)
    assert aug.crop(x, 10.0, rng) is x  # longer than the utterance: unchanged

    bank = aug.NoiseBank(noise_dir, "train")
    u = corpus.utterances[0]

    def copy(cfg):
        return aug.Augmenter(aug.Perturbation(augment=cfg, copy=0, seed=0), corpus, bank)(x, u)

    plain = aug.AugmentConfig(copies=1, noise_dir=str(noise_dir))
    cropped = aug.AugmentConfig(copies=1, crop_prob=1.0, crop_s=(0.5, 1.0))
    a, b = copy(cropped), copy(cropped)
    np.testing.assert_array_equal(a[0], b[0])
    assert int(0.5 * SR) <= len(a[0]) <= SR
    assert len(copy(plain)[0]) == len(x)
    # crop_prob 0 leaves the cache key (and the copies) of the settings before cropping existed
    key = aug.Perturbation(augment=plain, copy=0).settings()["augment"]
    assert "crop_prob" not in key and "crop_s" not in key
    assert "crop_prob" in aug.Perturbation(augment=cropped, copy=0).settings()["augment"]


def test_babble_uses_other_speakers_only(corpus):
    rng = np.random.default_rng(0)
    b = aug.babble(corpus, "s0", 2, SR, rng)
    assert len(b) == SR and aug.rms(b) > 0
    lonely = Corpus("one", corpus.root, ("anger",), corpus.utterances[:2])  # speaker s0 only
    assert len(aug.babble(lonely, "s0", 2, SR, rng)) == 0


def test_babble_of_a_short_excerpt_of_leading_silence_is_finite(tmp_path):
    """Other speakers' clips that open with digital zeros (RAVDESS): a short excerpt can be all
    zeros, which once gave NaN (0 / 0) and lost the training copy."""
    x = np.concatenate([np.zeros(2 * SR, np.float32), np.asarray(tone(200, 1.0, SR, 0))])
    utts = [
        Utterance(write_wav(tmp_path / f"q{i}.wav", x, SR), f"q{i}", "anger", f"s{i}")
        for i in range(4)
    ]
    quiet = Corpus("quiet", tmp_path, ("anger",), tuple(utts))
    for seed in range(30):
        b = aug.babble(quiet, "s0", 3, SR // 4, np.random.default_rng(seed))
        assert len(b) == SR // 4 and np.isfinite(b).all()


@pytest.mark.parametrize(
    "bad",
    [
        dict(copies=-1),
        dict(noise_prob=1.5),
        dict(snr_db=(20, 0)),
        dict(noise_kinds=("pink",)),
        dict(gain_db=(0, 40)),
        dict(vtlp_alpha=(0.3, 1.0)),
        dict(babble_speakers=(0, 2)),
        dict(crop_prob=-0.1),
        dict(crop_s=(0.05, 1.0)),
        dict(crop_s=(1.5, 0.5)),
    ],
)
def test_augment_config_is_validated(bad):
    with pytest.raises(ValueError, match="AugmentConfig"):
        aug.AugmentConfig(**bad)


def test_augmented_copies_only_add_training_examples_and_are_cached(
    synthetic_csv, noise_dir, tmp_path
):
    from train.config import TrainConfig
    from train.recipe import (
        Windowing,
        fit_normaliser,
        load_copies,
        load_table,
        representative,
        training_examples,
    )

    cfg = TrainConfig(
        corpus="csv",
        data=str(synthetic_csv),
        model="cnn_lstm_1d",
        features="mfcc",
        cache=str(tmp_path),
        window_norm="mean",
        augment={"copies": 2, "noise_dir": str(noise_dir)},
    )
    table = load_table(cfg, progress=False)
    copies = load_copies(cfg, table, progress=False)
    assert len(copies) == 2 and all(c.keys == table.keys for c in copies)
    assert len(list(tmp_path.glob("*aug*.npz"))) == 2
    assert (
        load_copies(cfg, table, progress=False)[1].feats[0].tobytes()
        == copies[1].feats[0].tobytes()
    )  # from the cache, same values
    idx = np.arange(6)
    norm = fit_normaliser(cfg, table, idx)
    win = Windowing.of(cfg, table)
    ex = training_examples(cfg, table, copies, idx, norm, win)
    alone = training_examples(cfg, table, [], idx, norm, win)
    assert ex.n_utterances == 3 * len(idx) and len(ex.x) == 3 * len(alone.x)
    assert ex.w is not None and ex.w.mean() == pytest.approx(1.0)
    rep = representative(ex, 0, len(idx))  # int8 calibration: original audio only
    assert len(rep) == len(alone.x)
