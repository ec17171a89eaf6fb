"""The research models of issue 11: DyCNN + BiLSTM, TF-CNN, the multi-level (hash-similarity)
cascade, VTLP class balancing and the IEMOCAP label maps."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil

import numpy as np
import pytest
from train_support import tone, write_wav

from edgeser.frontend import features as frontend_features
from train.augment import balance_picks, vtlp_copies_needed
from train.config import TrainConfig
from train.corpora import (
    CORE_LABELS,
    QUADRANT_LABELS,
    load_csv_manifest,
    quadrant_of_ratings,
    write_iemocap_manifest,
)
from train.features import FeatureChoice, FeatureTable
from train.similarity import (
    NOT_RUN,
    average_hash,
    cascade_predict,
    cascade_scores,
    coarse_labels,
    merge_classes,
    resize_area,
    restrict_classes,
    similarity_from_images,
)


# ---- DyCNN: dynamic convolution ----------------------------------------------------------------
def test_dynamic_convolution_equals_k_convolutions_mixed_by_attention():
    """Output = conv(x, sum_k pi_k W_k) + sum_k pi_k b_k per example (the paper's aggregated
    kernel) = sum_k pi_k (W_k * x + b_k) (what the layer computes, as K plain convolutions)."""
    pytest.importorskip("keras")
    import tensorflow as tf

    from train.models.dycnn import dynamic_conv2d

    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 9, 7, 2)).astype(np.float32)
    layer = dynamic_conv2d(5, (3, 2), n_kernels=3, temperature=2.0)
    out = np.asarray(layer(x))
    for conv in layer.convs:  # non-zero biases, so the bias mixing is checked too
        conv.bias.assign(rng.standard_normal(5).astype(np.float32))
    out = np.asarray(layer(x))
    pi = np.asarray(layer.attention(x))
    assert pi.shape == (3, 3) and np.allclose(pi.sum(axis=1), 1.0, atol=1e-6)
    assert not np.allclose(pi[0], pi[1])  # attention depends on the example
    kernels = np.stack([np.asarray(c.kernel) for c in layer.convs])  # [K, kh, kw, cin, f]
    biases = np.stack([np.asarray(c.bias) for c in layer.convs])  # [K, f]
    for b in range(len(x)):
        w = np.tensordot(pi[b], kernels, axes=1)
        ref = tf.nn.conv2d(x[b : b + 1], w, 1, "SAME").numpy()[0] + pi[b] @ biases
        np.testing.assert_allclose(out[b], ref, atol=1e-5)
    # the temperature flattens the attention: z / T with T large is nearly uniform
    hot = dynamic_conv2d(5, 3, n_kernels=3, temperature=1e4)
    hot(x)
    assert np.allclose(np.asarray(hot.attention(x)), 1 / 3, atol=1e-3)
    # the int8-friendly ELU is ELU
    from train.models.dycnn import elu_class

    v = np.linspace(-6, 6, 101, dtype=np.float32)
    np.testing.assert_allclose(
        np.asarray(elu_class()()(v)), np.where(v > 0, v, np.expm1(v)), atol=1e-6
    )


def test_dynamic_convolution_folds_its_batch_norm_into_the_kernels_at_inference():
    """With `batch_norm`, training normalises the mixed output with batch statistics; inference
    computes sum_k pi_k ((a W_k) * x + a b_k) + c, which equals BN(sum_k pi_k (W_k * x + b_k))
    with the moving statistics (the form int8 quantises well)."""
    pytest.importorskip("keras")
    from train.models.dycnn import dynamic_conv2d

    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 9, 7, 2)).astype(np.float32)
    layer = dynamic_conv2d(5, 3, n_kernels=3, batch_norm=True, bn_momentum=0.9)
    layer(x)
    for conv in layer.convs:
        conv.bias.assign(rng.standard_normal(5).astype(np.float32))
    bn = layer.bn
    bn.gamma.assign(rng.uniform(0.5, 2.0, 5).astype(np.float32))
    bn.beta.assign(rng.standard_normal(5).astype(np.float32))
    bn.moving_mean.assign(rng.standard_normal(5).astype(np.float32))
    bn.moving_variance.assign(rng.uniform(0.01, 0.1, 5).astype(np.float32))
    pi = np.asarray(layer.attention(x))
    mixed = sum(
        np.asarray(conv(x)) * pi[:, k, None, None, None] for k, conv in enumerate(layer.convs)
    )
    a = np.asarray(bn.gamma) / np.sqrt(np.asarray(bn.moving_variance) + bn.epsilon)
    ref = (mixed - np.asarray(bn.moving_mean)) * a + np.asarray(bn.beta)
    np.testing.assert_allclose(np.asarray(layer(x, training=False)), ref, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(np.asarray(layer(x)), ref, rtol=1e-4, atol=1e-4)
    # training: batch statistics, and the moving ones move
    before = np.asarray(bn.moving_mean).copy()
    y = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(y.mean(axis=(0, 1, 2)), np.asarray(bn.beta), atol=1e-4)
    assert not np.allclose(np.asarray(bn.moving_mean), before)
    # the folded form survives a round trip through the config
    again = type(layer).from_config(layer.get_config())
    assert again.batch_norm and again.bn_momentum == 0.9


def test_research_models_build_and_check_their_inputs():
    pytest.importorskip("keras")
    from train.models import ModelSpec, default_features

    dy = ModelSpec("dycnn_bilstm", (100, 39), 7).build()
    assert dy.output_shape == (None, 7)
    assert any(type(la).__name__ == "Bidirectional" for la in dy.layers)
    assert default_features("dycnn_bilstm") == "mfcc"
    assert TrainConfig(corpus="emodb", data=".", model="dycnn_bilstm").frontend_config() == (
        __import__("edgeser").frontend.FrontendConfig.preset("dycnn_mfcc39")
    )
    tf_cnn = ModelSpec("tfcnn", (150, 257 + 40), 4, {"lstm_layers": 2}).build(batch_size=1)
    assert tf_cnn.get_layer("fused").output.shape[-1] == 13
    assert sum(type(la).__name__ == "LSTM" for la in tf_cnn.layers) == 2
    assert default_features("tfcnn") == "spectrogram+log_mel"
    with pytest.raises(ValueError, match="spec_bins"):
        ModelSpec("tfcnn", (150, 40), 4).build()


def test_tfcnn_features_are_the_log_spectrogram_then_the_log_mel_bands():
    from edgeser.frontend import FrontendConfig, features

    cfg = FrontendConfig()
    choice = FeatureChoice.parse("spectrogram+log_mel", cfg)
    assert choice.is_sequence and choice.label == "spectrogram+log_mel"
    x = tone(440.0, 0.6, 16000, 0)
    f = frontend_features(x, cfg, choice.kind)
    spec, mel = features(x, cfg, "spectrogram"), features(x, cfg, "log_mel")
    assert f.shape == (len(mel), cfg.n_bins + cfg.n_mels) == (58, 297)
    np.testing.assert_allclose(f[:, : cfg.n_bins], np.log(np.maximum(spec, 1e-10)), rtol=1e-6)
    np.testing.assert_array_equal(f[:, cfg.n_bins :], mel)
    with pytest.raises(ValueError, match="deltas"):
        FeatureChoice.parse("spectrogram+log_mel", cfg.replace(deltas=2))


@pytest.mark.parametrize(
    "model,hparams,extra",
    [
        (
            "dycnn_bilstm",
            {"filters": [4, 8], "n_kernels": 3, "lstm_units": 8, "dense": 8},
            {"optimizer": "rmsprop", "learning_rate": 0.01, "batch_size": 200},
        ),
        ("tfcnn", {"filters": 4, "lstm_units": 8, "dense": 8}, {}),
    ],
)
def test_research_model_trains_and_converts_to_builtin_int8(
    model, hparams, extra, synthetic_csv, tmp_path
):
    """One epoch on the synthetic corpus through `fit_all`, then the export path's int8
    conversion (builtin ops only: `convert_model` refuses Flex, WHILE and CUSTOM)."""
    pytest.importorskip("keras")
    from train import recipe
    from train.export import TFLiteModel, convert_model
    from train.models import ModelSpec

    cfg = TrainConfig(
        corpus="csv",
        data=str(synthetic_csv),
        model=model,
        epochs=1,
        window_s=0.5,
        cache=str(tmp_path / "cache"),
        hparams=hparams,
        device="cpu",
        **extra,
    )
    d = recipe.fit_all(cfg, tmp_path / "m", 1, progress=False)
    info = json.loads((d / recipe.MODEL_FILE).read_text())
    spec = ModelSpec.from_dict(info["model_spec"])
    if model == "tfcnn":
        assert spec.hparams["spec_bins"] == 257 and spec.input_shape == (50, 297)
    else:
        assert spec.input_shape == (33, 39)  # 0.5 s of 15 ms frames, 39-dim MFCC
    assert len(info["history"]["loss"]) == 1 and np.isfinite(info["history"]["loss"][0])
    rep = np.load(d / recipe.REP_FILE)
    data = convert_model(spec, d / recipe.WEIGHTS_FILE, "int8", rep)
    runner = TFLiteModel(data)
    assert "CONV_2D" in runner.op_names() and "FULLY_CONNECTED" in runner.op_names()
    keras_model = spec.build()
    keras_model.load_weights(d / recipe.WEIGHTS_FILE)
    p8 = runner.predict(rep[:8])
    pf = keras_model.predict(rep[:8], verbose=0)
    np.testing.assert_allclose(p8.sum(axis=1), 1.0, atol=0.02)
    assert np.abs(p8 - pf).max() < 0.1  # int8 close to float
    if model == "tfcnn":
        _check_tfcnn_bundle_predicts_like_training(d, tmp_path / "bundles", synthetic_csv)


def _check_tfcnn_bundle_predicts_like_training(model_dir, out, synthetic_csv):
    """The TF-CNN's bundle (combined kind "spectrogram+log_mel", format 6) predicts through the
    runtime exactly what the training path computes for the same clip, offline and streamed."""
    from edgeser.bundle import ModelBundle
    from edgeser.recognizer import Recognizer
    from train import recipe
    from train.corpora import read_audio
    from train.data import Normaliser, utterance_probs
    from train.export import TFLiteModel

    paths = recipe.export_dir(model_dir, out, "toy-tfcnn")
    b = ModelBundle.load(paths["float32"])
    fs = b.meta.features
    assert fs.kind == "spectrogram+log_mel" and fs.dim == 297 and b.meta.format_version == 6
    clip = synthetic_csv.parent / "s2" / "high_2.wav"
    norm = Normaliser(np.array(b.meta.norm_mean, np.float32), np.array(b.meta.norm_std, np.float32))
    x = read_audio(clip)
    w = fs.windows(norm(frontend_features(x, fs.frontend, fs.kind)), norm.std)
    ours = utterance_probs(TFLiteModel(b.model).predict(w), np.zeros(len(w), int), 1)[0]
    r = Recognizer(b, vad=None)
    pred = r.predict(str(clip))
    np.testing.assert_allclose([pred.scores[c] for c in b.meta.labels], ours, atol=1e-4)
    offline = r.timeline(x, sample_rate=16000)
    s = r.stream(sample_rate=16000)
    live = [p for i in range(0, len(x), 1234) for p in s.push(x[i : i + 1234])] + s.flush()
    assert len(live) == len(offline)
    for a, c in zip(live, offline):
        assert max(abs(a.scores[k] - c.scores[k]) for k in b.meta.labels) < 1e-5


# ---- multi-level SER -------------------------------------------------------------------------
def test_area_resize_and_average_hash():
    img = np.arange(12.0).reshape(3, 4)
    np.testing.assert_allclose(resize_area(img, 1, 1), [[img.mean()]])
    np.testing.assert_allclose(resize_area(img, 3, 2), [[0.5, 2.5], [4.5, 6.5], [8.5, 10.5]])
    assert resize_area(img, 6, 8).shape == (6, 8)  # stretching works too
    h = average_hash(np.vstack([np.ones((5, 9)), np.zeros((5, 9))]), size=4)
    assert h.tolist() == [True] * 8 + [False] * 8


def test_hash_similarity_finds_the_planted_similar_pair():
    """Four classes of 'spectrograms': b is a noisy copy of a's pattern, c and d are their own
    patterns; the most similar pair must be {a, b}."""
    rng = np.random.default_rng(3)
    base = {k: rng.standard_normal((40, 60)) for k in ("a", "c", "d")}
    base["b"] = base["a"] + 0.3 * rng.standard_normal((40, 60))
    images = {
        k: [base[k] + 0.5 * rng.standard_normal((40, 60)) for _ in range(5)]
        for k in ("a", "b", "c", "d")
    }
    r = similarity_from_images(images, size=8)
    assert r.similar == ["a", "b"]
    d = r.distances
    assert d[0, 1] == min(d[i, j] for i in range(4) for j in range(4) if i != j)
    assert (np.diag(d) == 0).all() and (d == d.T).all() and d.max() <= 64
    assert similarity_from_images(images, size=8, set_size=3).similar[:2] == ["a", "b"]
    out = r.to_dict()
    assert out["S"] == ["a", "b"] and out["bits"] == 64 and len(out["hashes"]["a"]) == 16
    assert "S = {a, b}" in r.table()


def test_similarity_cli_writes_the_distance_matrix(synthetic_csv, tmp_path):
    from train.cli import main

    out = tmp_path / "sim.json"
    args = ["similarity", "--corpus", "csv", "--data", str(synthetic_csv), "--fraction", "1"]
    assert main([*args, "--size", "8", "--out", str(out)]) == 0
    r = json.loads(out.read_text())
    assert r["labels"] == ["high", "low"] and r["S"] == ["high", "low"]
    assert r["hash_size"] == 8 and np.array(r["distances"]).shape == (2, 2)
    assert r["n_sampled"] == {"high": 9, "low": 9}  # every readable clip (one is broken)


def _table(labels, y, speakers):
    n = len(y)
    choice = FeatureChoice.parse("log_mel")
    return FeatureTable(
        choice,
        tuple(labels),
        [f"u{i}" for i in range(n)],
        [np.full((3, 2), i, np.float32) for i in range(n)],
        np.asarray(y),
        np.asarray(speakers),
    )


def test_coarse_and_fine_tables():
    labels = ("anger", "happiness", "neutral", "sadness")
    t = _table(labels, [0, 1, 2, 3, 3, 0], ["a", "a", "b", "b", "a", "b"])
    assert coarse_labels(labels, ["anger", "sadness"]) == ("anger+sadness", "happiness", "neutral")
    coarse = merge_classes(t, ["sadness", "anger"])  # any order: label order is kept
    assert coarse.labels == ("anger+sadness", "happiness", "neutral")
    assert coarse.y.tolist() == [0, 1, 2, 0, 0, 0] and coarse.keys == t.keys
    fine = restrict_classes(t, ["anger", "sadness"])
    assert fine.labels == ("anger", "sadness") and fine.keys == ["u0", "u3", "u4", "u5"]
    assert fine.y.tolist() == [0, 1, 1, 0] and fine.speakers.tolist() == ["a", "b", "a", "b"]
    with pytest.raises(ValueError, match="similar set"):
        merge_classes(t, ["anger", "fear"])


def test_cascade_rule_and_scores(tmp_path):
    labels = ["anger", "happiness", "neutral", "sadness"]
    S = ["anger", "sadness"]
    coarse = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.6, 0.1, 0.3], [0.5, 0.4, 0.1]])
    fine = np.array([[0.2, 0.8], [np.nan, np.nan], [np.nan, np.nan], [0.9, 0.1]])
    pred, prod = cascade_predict(labels, S, coarse, fine)
    # 0: merged -> fine says sadness; 1: happiness; 2: merged but no fine scores; 3: anger
    assert pred.tolist() == [3, 1, 4, 0]
    np.testing.assert_allclose(prod[0], [0.7 * 0.2, 0.2, 0.1, 0.7 * 0.8])
    # the same from two stages' predictions.npz: utterance u2 (neutral) was routed to S
    keys = np.array(["u0", "u1", "u2", "u3"])
    for stage, z in (
        ("s1", dict(keys=keys, y=np.array([0, 1, 2, 0]), probs=coarse)),
        ("s2", dict(keys=keys[[0, 3]], y=np.array([1, 0]), probs=fine[[0, 3]])),
    ):
        (tmp_path / stage).mkdir()
        np.savez(tmp_path / stage / "predictions.npz", labels=np.array(["x"]), **z)
    z1 = dict(np.load(tmp_path / "s1" / "predictions.npz"))
    z1["labels"] = np.array(coarse_labels(labels, S))
    np.savez(tmp_path / "s1" / "predictions.npz", **z1)
    r = cascade_scores(labels, S, tmp_path / "s1", tmp_path / "s2")
    assert r["cascade"]["WA"] == pytest.approx(0.75)  # u2 (neutral) is the one wrong
    assert r["routed_to_S_from_outside"] == 1
    assert r["cascade"]["confusion"][2][4] == 1  # the NOT_RUN column
    assert NOT_RUN not in r["cascade"]["per_class_recall"]


# ---- VTLP class balancing -----------------------------------------------------------------------
def test_balance_picks_fill_each_class_up_to_the_largest():
    y = np.array([0] * 10 + [1] * 3 + [2])
    picks = balance_picks(y, 3, np.random.default_rng(0))
    assert [len(p) for p in picks] == [4, 4, 2]  # class 1: 3, 3, 1 copies; class 2: 1, 1, 1
    got = np.bincount(np.concatenate([y, *[y[p] for p in picks]]), minlength=3)
    assert got.tolist() == [10, 10, 4]  # class 2 would need 9 copies of its one utterance
    assert vtlp_copies_needed(y) == 10  # 9 + the margin of 1
    assert vtlp_copies_needed(np.array([0, 0, 1, 1])) == 1


def _unbalanced_manifest(synthetic_csv, path):
    """All 'high' clips (9) and one 'low' clip per speaker (3)."""
    root = synthetic_csv.parent
    rows = list(csv.DictReader(synthetic_csv.open()))
    keep = [r for r in rows if r["label"] == "high" or r["path"].endswith("low_1.wav")]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "label", "speaker"])
        w.writerows([str(root / r["path"]), r["label"], r["speaker"]] for r in keep)
    return path


def test_vtlp_balancing_yields_balanced_class_counts(synthetic_csv, tmp_path):
    from train import recipe

    data = _unbalanced_manifest(synthetic_csv, tmp_path / "unbalanced.csv")
    cfg = TrainConfig(
        corpus="csv",
        data=str(data),
        model="dycnn_bilstm",
        vtlp_balance=True,
        window_s=0.5,
        cache=str(tmp_path / "cache"),
    )
    table = recipe.load_table(cfg, progress=False)
    assert np.bincount(table.y).tolist() == [9, 3]
    copies = recipe.load_copies(cfg, table, progress=False)
    assert len(copies) == 3 and all(c.balance_copy for c in copies)  # 9/3 - 1 + margin 1
    win = recipe.Windowing.of(cfg, table)
    low = np.flatnonzero(table.y == 1)
    for idx in (np.arange(len(table)), np.flatnonzero(table.speakers != "s1")):
        norm = recipe.fit_normaliser(cfg, table, idx)
        ex = recipe.training_examples(cfg, table, copies, idx, norm, win)
        counts = np.bincount(table.y[idx])
        assert np.bincount(ex.utt_y).tolist() == [counts[0], counts[0]]
    # each copy is warped by its own factor: copies differ from the original and each other
    a, b, c = (t.feats[low[0]] for t in (table, copies[0], copies[1]))
    assert not np.allclose(a, b) and not np.allclose(b, c)
    assert recipe.load_copies(cfg.replace(vtlp_balance=False), table, progress=False) == []
    with pytest.raises(ValueError, match="vtlp_balance"):
        TrainConfig(corpus="csv", data=".", model="cnn1d", vtlp_balance=True)


# ---- IEMOCAP label maps ----------------------------------------------------------------------
def _fake_iemocap(root, synthetic_csv):
    """Session1 with one dialog of seven utterances (EmoEvaluation lines + wav files)."""
    wav = synthetic_csv.parent / "s2" / "high_0.wav"
    rows = [
        ("Ses01F_impro01_F000", "neu", "[2.5000, 2.5000, 2.5000]"),
        ("Ses01F_impro01_M001", "hap", "[4.0000, 3.5000, 3.0000]"),
        ("Ses01F_impro01_F002", "exc", "[4.5000, 4.0000, 3.0000]"),
        ("Ses01F_impro01_M003", "ang", "[1.5000, 4.0000, 4.5000]"),
        ("Ses01F_impro01_F004", "sad", "[2.0000, 2.0000, 2.0000]"),
        ("Ses01F_impro01_M005", "fru", "[2.0000, 3.5000, 3.0000]"),
        ("Ses01F_impro01_F006", "xxx", "[3.0000, 3.0000, 3.0000]"),
    ]
    lines = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    for i, (name, code, vad) in enumerate(rows):
        lines += [f"[{i}.0000 - {i}.9000]\t{name}\t{code}\t{vad}", "C-E1:\tNeutral;\t()", ""]
        dest = root / "Session1" / "sentences" / "wav" / "Ses01F_impro01" / f"{name}.wav"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(wav, dest)
    ev = root / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt"
    ev.parent.mkdir(parents=True)
    ev.write_text("\n".join(lines))


def test_iemocap_manifest_and_label_maps(synthetic_csv, tmp_path):
    from train import recipe

    _fake_iemocap(tmp_path / "IEMOCAP", synthetic_csv)
    m = write_iemocap_manifest(tmp_path / "IEMOCAP", tmp_path / "lists" / "iemocap.csv")
    c = load_csv_manifest(m)
    assert len(c.utterances) == 7 and c.speakers == ("Ses01F", "Ses01M")
    four = c.relabel("iemocap4")
    assert four.labels == CORE_LABELS  # neu, hap + exc, ang, sad; fru and xxx left out
    assert [u.label for u in four.utterances] == [
        "neutral",
        "happiness",
        "happiness",
        "anger",
        "sadness",
    ]
    quad = c.relabel("quadrant")
    assert [u.label for u in quad.utterances] == [
        "low_positive",
        "high_positive",
        "high_positive",
        "high_negative",
        "low_negative",
        "high_negative",
    ]
    assert quad.labels == QUADRANT_LABELS
    cfg = TrainConfig(corpus="csv", data=str(m), labels="iemocap4", model="dycnn_bilstm")
    assert recipe.label_order(cfg, recipe.load_config_corpora(cfg)) == CORE_LABELS
    # quadrants from the dimensional ratings instead, leave-one-session-out speakers
    m2 = write_iemocap_manifest(
        tmp_path / "IEMOCAP", tmp_path / "va.csv", label_from="ratings", unit="session"
    )
    c2 = load_csv_manifest(m2)
    assert c2.speakers == ("Ses01",)
    assert [u.label for u in c2.utterances][:4] == [
        "low_negative",
        "high_positive",
        "high_positive",
        "high_negative",
    ]
    assert quadrant_of_ratings(3.5, 2.0) == "low_positive"
    # the CSV loader reads only path,label,speaker; the extra columns ride along
    header = m.read_text().splitlines()[0]
    assert header == "path,label,speaker,session,valence,arousal,dominance"


def test_iemocap_four_class_map_works_on_spelled_out_names(tmp_path):
    x = tone(300, 0.3, 16000, 0)
    rows = ["path,label,speaker"]
    for i, lab in enumerate(["Neutral", "Excited", "Angry", "Sad", "Frustrated", "Happy"]):
        write_wav(tmp_path / f"{i}.wav", x, 16000)
        rows.append(f"{i}.wav,{lab},s{i % 2}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    four = load_csv_manifest(tmp_path / "m.csv").relabel("iemocap4")
    assert sorted(u.label for u in four.utterances) == sorted(
        ["neutral", "happiness", "anger", "sadness", "happiness"]
    )


def _three_tone_manifest(tmp_path) -> None:
    """tmp_path/m.csv: tones low / mid / high, two clips each from speakers s1 and s2."""
    rows = ["path,label,speaker"]
    for spk in ("s1", "s2"):
        for label, freq in (("low", 250.0), ("mid", 900.0), ("high", 1800.0)):
            for n in range(2):
                rel = f"{spk}/{label}_{n}.wav"
                write_wav(tmp_path / rel, tone(freq, 0.8, 16000, len(rows)), 16000)
                rows.append(f"{rel},{label},{spk}")
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")


def test_multilevel_cli_evaluates_both_stages_and_the_cascade(tmp_path):
    """Three tone classes, S = {mid, high}: stage 1 sees low vs mid+high, stage 2 mid vs high,
    on the same leave-one-speaker-out folds; the cascade is scored over all three."""
    from train.cli import main

    _three_tone_manifest(tmp_path)
    out = tmp_path / "ml"
    args = ["multilevel", "--corpus", "csv", "--data", str(tmp_path / "m.csv")]
    args += ["--model", "cnn_lstm_1d", "--features", "mfcc", "--similar", "mid,high"]
    args += ["--epochs", "1", "--selection", "fixed", "--window-s", "0.5", "--cache", ""]
    args += ["--no-int8-eval"]
    args += ["--hparams", '{"filters": [4], "lstm_units": 4, "dense": 4}', "--out", str(out)]
    assert main(args) == 0
    r = json.loads((out / "report.json").read_text())
    assert r["S"] == ["high", "mid"] and r["merged_label"] == "high+mid"
    assert r["labels"] == ["high", "low", "mid"] and r["float"]["n"] == 12
    s1 = json.loads((out / "stage1" / "report.json").read_text())
    s2 = json.loads((out / "stage2" / "report.json").read_text())
    assert s1["labels"] == ["high+mid", "low"] and s1["n_utterances"] == 12
    assert s2["labels"] == ["high", "mid"] and s2["n_utterances"] == 8
    assert [f["fold"] for f in s1["folds"]] == [f["fold"] for f in s2["folds"]]
    # a stopped run continues: every stage keeps its checkpointed folds
    checkpoints = sorted((out / "stage2" / "checkpoints").glob("*.npz"))
    assert len(checkpoints) == 2 and len(list((out / "stage1" / "checkpoints").glob("*"))) == 2
    checkpoints[-1].unlink()
    out_text = io.StringIO()
    with contextlib.redirect_stdout(out_text):
        assert main([*args, "--resume"]) == 0
    assert out_text.getvalue().count("resumed from") == 3, out_text.getvalue()
    again = json.loads((out / "report.json").read_text())
    assert again["float"] == r["float"]


def test_multilevel_export_is_one_bundle_that_runs_both_stages(tmp_path):
    """`multilevel --export` trains both stages on everything and writes one bundle (format 7):
    its graph's outputs on a clip's windows are the coarse stage's Keras outputs on the coarse
    normalisation and the fine stage's on its own normalisation (the bridge inside the graph),
    and the runtime answers with the cascade rule on their window averages."""
    pytest.importorskip("keras")
    from edgeser.bundle import ModelBundle
    from edgeser.recognizer import Recognizer
    from train.cli import main
    from train.data import Normaliser
    from train.models import ModelSpec

    _three_tone_manifest(tmp_path)
    out = tmp_path / "ml"
    args = ["multilevel", "--corpus", "csv", "--data", str(tmp_path / "m.csv")]
    args += ["--model", "cnn_lstm_1d", "--features", "log_mel", "--similar", "mid,high"]
    args += ["--epochs", "1", "--selection", "fixed", "--window-s", "0.5", "--cache", ""]
    args += ["--window-norm", "mean", "--window-floor-db", "60", "--no-int8-eval"]
    args += ["--hparams", '{"filters": [4], "lstm_units": 4, "dense": 4}', "--out", str(out)]
    assert main([*args, "--export", "--name", "toy-cascade"]) == 0
    b = ModelBundle.load(out / "toy-cascade-float32.edgeser")
    assert b.meta.format_version == 7 and b.meta.labels == ("high", "low", "mid")
    head = b.meta.head
    assert head.coarse_labels == ("high+mid", "low") and head.fine_labels == ("high", "mid")
    assert b.meta.training["S"] == ["high", "mid"] and "UA" in b.meta.training["metrics"]["float"]
    assert ModelBundle.load(out / "toy-cascade-int8.edgeser").meta.quantization == "int8"
    stages = {}
    for role in ("coarse", "fine"):
        info = json.loads((out / f"{role}-model" / "model.json").read_text())
        model = ModelSpec.from_dict(info["model_spec"]).build()
        model.load_weights(out / f"{role}-model" / "model.weights.h5")
        stages[role] = (model, Normaliser(np.array(info["norm_mean"]), np.array(info["norm_std"])))
    # the two stages really normalise differently, so the bridge is exercised
    assert not np.allclose(stages["coarse"][1].std, stages["fine"][1].std)
    fs = b.meta.features
    x = tone(1800.0, 1.6, 16000, 99) + 0.5 * tone(900.0, 1.6, 16000, 98)
    raw = frontend_features(x, fs.frontend, fs.kind)
    want = np.concatenate(
        [m.predict(fs.windows(n(raw), n.std), verbose=0) for m, n in stages.values()], axis=1
    )
    r = Recognizer(b, vad=None)
    _, _, got, _ = r.pipeline._analyse(r.load_audio(x, 16000))
    np.testing.assert_allclose(got, want, atol=1e-4)
    mean = want.mean(axis=0)
    coarse_top = head.coarse_labels[int(np.argmax(mean[:2]))]
    label = head.fine_labels[int(np.argmax(mean[2:]))] if coarse_top == "high+mid" else "low"
    assert r.predict(x, sample_rate=16000).label == label
    assert "S = ['high', 'mid']" in r.info.head
