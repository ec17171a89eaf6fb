"""The four new corpus layouts, the shared label map, several corpora in one table, LOCO and
speaker-group folds, and per-(corpus, class) balancing."""

import csv
from pathlib import Path

import numpy as np
import pytest
from train_support import corpus_or_skip, datasets_dir, tone, write_wav

from train.corpora import (
    CORE_LABELS,
    EXTENDED_LABELS,
    NAMED_CORPORA,
    canonical_label,
    load_corpus,
    parse_corpus_list,
    parse_korean_name,
    parse_ravdess_name,
    parse_turev_name,
)
from train.data import balance_weights
from train.protocols import make_folds

# one file per layout: (corpus, relative path, speaker, native label)
LAYOUTS = [
    ("ravdess", "Actor_07/03-01-05-02-01-01-07.wav", "07", "angry"),
    ("ravdess", "Actor_08/03-01-02-01-02-02-08.flac", "08", "calm"),
    ("emovo", "f2/gio-f2-b3.wav", "f2", "joy"),
    ("emovo", "m1/tri-m1-l4.flac", "m1", "sadness"),
    ("turev", "Calm/1234_sk_acik.wav", "1234", "Calm"),
    ("turev", "Angry/1157_kz_algi.flac", "1157", "Angry"),
    ("korean", "plain-to-emotional/ema/wav/ema00150.wav", "ema", "happy"),
    ("korean", "emotional-to-emotional/neb/wav/neb00399.flac", "neb", "sad"),
]
BAD = {
    "ravdess": "Actor_01/03-02-05-01-01-01-01.wav",  # song, not speech
    "emovo": "f1/xyz-f1-b1.wav",
    "turev": "Bored/1157_kz_a.wav",
    "korean": "plain-to-emotional/ema/wav/ema00401.wav",
}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("layouts")
    for i, (corpus, rel, _, _) in enumerate(LAYOUTS):
        sr = 48000 if rel.endswith(".wav") else 16000  # a user's copy: original rate, .wav
        write_wav(root / corpus / rel, tone(300 + 50 * i, 0.4, sr, i), sr)
    for corpus, rel in BAD.items():
        write_wav(root / corpus / rel, tone(300, 0.4, 16000, 0), 16000)
    return root


@pytest.mark.parametrize("corpus", ["ravdess", "emovo", "turev", "korean"])
def test_layouts_parse_speakers_and_labels_and_skip_bad_names(layouts, corpus):
    c = load_corpus(corpus, layouts / corpus)
    want = sorted((rel, spk, lab) for n, rel, spk, lab in LAYOUTS if n == corpus)
    assert sorted((u.key, u.speaker, u.label) for u in c.utterances) == want
    assert [Path(p).name for p, _ in c.skipped] == [Path(BAD[corpus]).name]


def test_parsers_name_the_file_they_refuse():
    assert parse_ravdess_name(Path("03-01-08-02-02-02-24.wav")) == ("24", "surprised")
    assert parse_turev_name(Path("Sad/1001_hl_x.flac")) == ("1001", "Sad")
    assert parse_korean_name(Path("g/abc/wav/abc00001.flac")) == ("abc", "neutral")
    for fn, bad in (
        (parse_ravdess_name, "03-01-05.wav"),
        (parse_turev_name, "1001_hl.wav"),
        (parse_korean_name, "g/abc/wav/abd00001.flac"),
    ):
        with pytest.raises(ValueError, match=Path(bad).stem):
            fn(Path(bad))


def test_label_map_into_core_and_extended(layouts):
    assert canonical_label("casia", "angry") == "anger"
    assert canonical_label("emovo", "joy") == "happiness"
    assert canonical_label("ravdess", "fearful") == "fear"
    assert canonical_label("turev", "Calm") == "neutral"  # TurEV has no neutral
    assert canonical_label("ravdess", "calm") == "calm"  # RAVDESS calm is its own class
    rav = load_corpus("ravdess", layouts / "ravdess")
    core = rav.relabel("core")
    assert [u.label for u in core.utterances] == ["anger"] and core.labels == ("anger",)
    ext = rav.relabel("extended")
    assert sorted(u.label for u in ext.utterances) == ["anger", "calm"]
    assert set(ext.labels) <= set(EXTENDED_LABELS)
    assert rav.relabel("native") is rav
    with pytest.raises(ValueError, match="label set"):
        rav.relabel("all")


def test_corpus_lists_are_validated():
    assert parse_corpus_list("emodb, casia") == ("emodb", "casia")
    for bad, why in (
        ("emodb,emodb", "twice"),
        ("emodb,timit", "unknown"),
        ("", "no corpus"),
        ("csv,emodb", "csv"),
    ):
        with pytest.raises(ValueError, match=why):
            parse_corpus_list(bad)


def test_several_corpora_become_one_table(layouts, tmp_path):
    from train.config import TrainConfig
    from train.recipe import load_table

    cfg = TrainConfig(
        corpus="ravdess,emovo,turev,korean",
        data=str(layouts),
        labels="core",
        model="cnn_lstm_2d",
        cache=str(tmp_path),
    )
    t = load_table(cfg, progress=False)
    assert t.labels == CORE_LABELS
    assert len(t) == 7  # every file but RAVDESS calm, which is not in the core
    assert sorted(set(t.corpora.tolist())) == ["emovo", "korean", "ravdess", "turev"]
    assert all(s.startswith(f"{c}/") for s, c in zip(t.speakers, t.corpora))
    assert all(k.startswith(f"{c}/") for k, c in zip(t.keys, t.corpora))
    by_key = dict(zip(t.keys, (t.labels[i] for i in t.y)))
    assert by_key["turev/Calm/1234_sk_acik.wav"] == "neutral"
    assert by_key["korean/plain-to-emotional/ema/wav/ema00150.wav"] == "happiness"
    again = load_table(cfg, progress=False)  # from the per-corpus caches
    assert again.keys == t.keys and np.array_equal(again.y, t.y)
    assert len(list(tmp_path.glob("*.npz"))) == 4
    with pytest.raises(ValueError, match="shared label set"):
        TrainConfig(corpus="ravdess,emovo", data=str(layouts))
    with pytest.raises(ValueError, match="at least two corpora"):
        TrainConfig(corpus="emodb", data=".", protocol="loco")


def _toy(n_corpora=3, speakers=4, per=6, seed=0):
    rng = np.random.default_rng(seed)
    groups, spk, y = [], [], []
    for c in range(n_corpora):
        for s in range(speakers + c):
            for _ in range(per):
                groups.append(f"c{c}")
                spk.append(f"c{c}/s{s}")
                y.append(int(rng.integers(4)))
    return np.array(y), np.array(spk), np.array(groups)


def test_loco_tests_each_corpus_once_and_never_trains_on_it():
    y, spk, groups = _toy()
    folds = make_folds("loco", y, spk, groups=groups, val_fraction=0.25, seed=1)
    assert [f.name for f in folds] == ["corpus c0", "corpus c1", "corpus c2"]
    tested = np.concatenate([f.test for f in folds])
    assert sorted(tested.tolist()) == list(range(len(y)))
    for f in folds:
        held = set(groups[f.test])
        assert len(held) == 1
        assert not held & set(groups[f.train]) and not held & set(groups[f.val])
        # validation: whole speakers, some from every training corpus
        assert not set(spk[f.val]) & set(spk[f.train])
        assert set(groups[f.val]) == set(groups[f.train])
    with pytest.raises(ValueError, match="two corpora"):
        make_folds("loco", y, spk, groups=np.full(len(y), "c0"))


def test_speaker_group_kfold_tests_every_speaker_once_on_unseen_speakers():
    y, spk, groups = _toy()
    folds = make_folds("group_kfold", y, spk, groups=groups, k=4, seed=0)
    assert len(folds) == 4
    assert sorted(np.concatenate([f.test for f in folds]).tolist()) == list(range(len(y)))
    for f in folds:
        assert not set(spk[f.test]) & (set(spk[f.train]) | set(spk[f.val]))
        assert len(set(groups[f.test])) == 3  # speakers of every corpus in every test part


def test_balance_weights_give_every_corpus_class_cell_the_same_weight():
    y = np.array([0] * 90 + [1] * 10 + [0] * 5 + [1] * 20)
    g = np.array(["big"] * 100 + ["small"] * 25)
    w = balance_weights(y, g, 2)
    assert w.mean() == pytest.approx(1.0)
    cells = {(a, b): w[(g == a) & (y == b)].sum() for a in ("big", "small") for b in (0, 1)}
    assert max(cells.values()) == pytest.approx(min(cells.values()))
    wc = balance_weights(y, None, 2)  # classes only
    assert wc[y == 0].sum() == pytest.approx(wc[y == 1].sum())


def test_real_corpora_match_their_manifests():
    """Every loader against the manifest of its shared corpus (skips without them)."""
    for name in NAMED_CORPORA:
        root = corpus_or_skip(name)
        c = load_corpus(name, root)
        with (root / "manifest.csv").open(newline="") as fh:
            man = {r["path"]: r for r in csv.DictReader(fh)}
        assert len(c.utterances) == len(man) and not c.skipped
        for u in c.utterances:
            row = man[u.key]
            assert u.speaker == row["speaker"]
            assert canonical_label(name, u.label) == canonical_label(name, row["emotion"])
        core = c.relabel("core")
        assert core.labels == CORE_LABELS, name


def test_recipe_file_sets_defaults_and_the_command_line_wins(tmp_path):
    import json

    from train.cli import _config, apply_recipe, build_parser

    recipe = tmp_path / "r.json"
    recipe.write_text(
        json.dumps(
            {
                "_comment": "x",
                "corpus": "emodb,casia",
                "labels": "core",
                "epochs": 7,
                "augment_copies": 2,
                "augment": {"snr_db": [5, 15]},
                "window_norm": "mean",
                "window_floor_db": 60.0,
                "log_floor": 1e-20,
            }
        )
    )
    p = build_parser()
    argv = [
        "evaluate",
        "--recipe",
        str(recipe),
        "--epochs",
        "3",
        "--protocol",
        "loco",
        "--out",
        str(tmp_path / "o"),
    ]
    apply_recipe(p, argv)
    cfg = _config(p.parse_args(argv))
    assert cfg.corpus == "emodb,casia" and cfg.labels == "core" and cfg.epochs == 3
    assert cfg.window_norm == "mean" and cfg.protocol == "loco"
    assert cfg.window_floor_db == 60.0 and cfg.frontend_config().log_floor == 1e-20
    assert cfg.augment_config.copies == 2 and cfg.augment_config.snr_db == (5.0, 15.0)
    assert Path(cfg.data) == datasets_dir()
    recipe.write_text(json.dumps({"corpus": "emodb", "learning_rate_typo": 1}))
    with pytest.raises(SystemExit, match="learning_rate_typo"):
        apply_recipe(build_parser(), ["fit", "--recipe", str(recipe), "--out", "x"])


def test_toml_recipe_as_positional_serves_every_command(tmp_path):
    """`python -m train run RECIPE.toml`: keys only `run` takes (name) are ignored by evaluate,
    `run` gets its folder from the recipe name, keys no command takes are refused."""
    from train.cli import _config, apply_recipe, build_parser

    recipe = tmp_path / "exp.toml"
    recipe.write_text('name = "exp"\ncorpus = "emodb"\nepochs = 4\nhparams = { filters = 8 }\n')
    for cmd, extra in (("run", []), ("evaluate", ["--out", "o"]), ("fit", ["--out", "o"])):
        p = build_parser()
        argv = [cmd, str(recipe), *extra]
        apply_recipe(p, argv)
        a = p.parse_args(argv)
        cfg = _config(a)
        assert cfg.corpus == "emodb" and cfg.epochs == 4 and cfg.hparams == {"filters": 8}
        assert getattr(a, "name", "exp") == "exp"
    # a cascade of the recipe's model is not that model: multilevel names it itself
    p = build_parser()
    argv = ["multilevel", "--recipe", str(recipe), "--similar", "a,b", "--out", "o"]
    apply_recipe(p, argv)
    a = p.parse_args(argv)
    assert a.name == "" and a.epochs == 4
    argv = [*argv, "--name", "mine"]
    assert p.parse_args(argv).name == "mine"
    recipe.write_text('corpus = "emodb"\nnot_an_option = 1\n')
    with pytest.raises(SystemExit, match="not_an_option"):
        apply_recipe(build_parser(), ["run", str(recipe)])
    recipe.write_text('corpus = "emodb\n')
    with pytest.raises(SystemExit, match="recipe"):
        apply_recipe(build_parser(), ["run", str(recipe)])


def test_shipped_recipes_are_valid_configs():
    from train.cli import _config, apply_recipe, build_parser, read_recipe

    recipes = sorted((Path(__file__).resolve().parents[2] / "recipes").glob("*.toml"))
    assert len(recipes) >= 3
    bundled = {
        p.name
        for p in (Path(__file__).resolve().parents[2] / "edgeser" / "models").glob("*.edgeser")
    }
    for r in recipes:
        values = read_recipe(str(r))
        assert f"{values['name']}-int8.edgeser" in bundled, r  # one recipe per published model
        assert values["name"] == r.stem
        for cmd in ("run", "evaluate"):
            p = build_parser()
            argv = [cmd, str(r), "--out", "x"]
            apply_recipe(p, argv)
            _config(p.parse_args(argv))
    assert {f"{read_recipe(str(r))['name']}-int8.edgeser" for r in recipes} == bundled
