"""Model shapes, and the multi-device (MirroredStrategy) path on a CPU split in two, in a
subprocess so that the logical-device split cannot leak into other tests."""

import json

import numpy as np
import pytest
from train_support import run_cli

keras = pytest.importorskip("keras")

from train.models import ModelSpec  # noqa: E402


@pytest.mark.parametrize(
    "name,shape",
    [
        ("resse_cnn1d", (88,)),
        ("cnn1d", (88,)),
        ("linear", (76,)),
        ("cnn_lstm_1d", (100, 39)),
        ("cnn_lstm_2d", (150, 40)),
    ],
)
def test_models_build_with_fixed_or_free_batch(name, shape):
    spec = ModelSpec(name, shape, 7)
    m = spec.build()
    assert m.output_shape == (None, 7)
    m1 = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).build(batch_size=1)
    assert m1.input_shape == (1, *shape) and m1.count_params() == m.count_params()


def test_resse_differs_from_cnn1d_by_se_and_residual():
    a = ModelSpec("resse_cnn1d", (88,), 7).build()
    b = ModelSpec("cnn1d", (88,), 7).build()
    names_a = {type(layer).__name__ for layer in a.layers}
    names_b = {type(layer).__name__ for layer in b.layers}
    assert {"Multiply", "Add"} <= names_a and not {"Multiply", "Add"} & names_b


def test_linear_is_logistic_regression():
    """One Dense softmax layer with L2 weight decay: its output is softmax(x W + b), and the
    penalty is l2 * sum(W^2)."""
    m = ModelSpec("linear", (5,), 3, {"l2": 0.1}).build()
    dense = m.get_layer("probs")
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(5, 3)).astype(np.float32), rng.normal(size=3).astype(np.float32)
    dense.set_weights([w, b])
    x = rng.normal(size=(4, 5)).astype(np.float32)
    z = x @ w + b
    want = np.exp(z - z.max(1, keepdims=True))
    np.testing.assert_allclose(
        m.predict(x, verbose=0), want / want.sum(1, keepdims=True), atol=1e-5
    )
    assert float(sum(m.losses)) == pytest.approx(0.1 * float((w**2).sum()), rel=1e-5)
    assert not ModelSpec("linear", (5,), 3, {"l2": 0.0}).build().losses


def test_long_functional_sets_can_be_projected_before_the_convolutions():
    plain = ModelSpec("resse_cnn1d", (6373,), 7, {"pool": 32}).build()
    proj = ModelSpec("resse_cnn1d", (6373,), 7, {"project": 32, "input_dropout": 0.5}).build()
    assert proj.get_layer("project").output.shape[-1] == 32
    assert any(type(layer).__name__ == "Dropout" and layer.rate == 0.5 for layer in proj.layers)
    conv = [layer for layer in proj.layers if type(layer).__name__ == "Conv1D"][0]
    assert conv.input.shape[1] == 32  # the convolutions run over the 32 projected values
    assert proj.count_params() < plain.count_params() * 3


def test_lstm_steps_are_pooled_down():
    m = ModelSpec("cnn_lstm_2d", (300, 40), 7, {"max_steps": 10}).build()
    lstm = [layer for layer in m.layers if type(layer).__name__ == "LSTM"][0]
    assert lstm.input.shape[1] <= 10


def test_fit_on_two_logical_cpus(synthetic_csv, tmp_path):
    out = tmp_path / "fit"
    proc = run_cli(
        "fit",
        "--corpus",
        "csv",
        "--data",
        str(synthetic_csv),
        "--model",
        "cnn_lstm_1d",
        "--epochs",
        "1",
        "--cpu-replicas",
        "2",
        "--window-s",
        "0.5",
        "--cache",
        "",
        "--hparams",
        '{"filters": [4], "lstm_units": 4}',
        "--members",
        "2",
        "--out",
        str(out),
    )
    info = json.loads((out / "model.json").read_text())
    assert info["config"]["cpu_replicas"] == 2 and len(info["history"]["loss"]) == 1
    assert info["model_spec"]["members"] == 2 and "member_1/loss" in info["history"]
    assert (out / "model.weights.h5").stat().st_size > 0
    assert "2 logical devices" in proc.stdout + proc.stderr


def test_converter_failure_is_a_clear_error(tmp_path):
    from train.export import ConversionError, convert_model

    spec = ModelSpec("cnn1d", (16,), 3)
    with pytest.raises(ConversionError, match="cnn1d: float32 conversion failed"):
        convert_model(spec, tmp_path / "missing.weights.h5", "float32")
    with pytest.raises(ConversionError, match="representative"):
        convert_model(spec, tmp_path / "missing.weights.h5", "int8")


def test_fixed_selection_trains_on_the_whole_training_part(synthetic_csv, tmp_path):
    """--selection fixed: no validation speakers are held back, every epoch runs, the last is
    kept, and the test speaker still never trains."""
    out = tmp_path / "eval"
    run_cli(
        "evaluate",
        "--corpus",
        "csv",
        "--data",
        str(synthetic_csv),
        "--model",
        "cnn_lstm_1d",
        "--protocol",
        "loso",
        "--selection",
        "fixed",
        "--epochs",
        "2",
        "--window-s",
        "0.5",
        "--cache",
        "",
        "--no-int8-eval",
        "--hparams",
        '{"filters": [4], "lstm_units": 4}',
        "--out",
        str(out),
    )
    report = json.loads((out / "report.json").read_text())
    assert report["config"]["selection"] == "fixed"
    n = report["n_utterances"]
    for row in report["folds"]:
        assert row["n_val"] == 0 and row["n_train"] + row["n_test"] == n
        assert row["best_epoch"] == row["epochs_run"] == 2
    # every utterance is tested exactly once; its probabilities are kept for fusion
    z = np.load(out / "predictions.npz")
    assert len(set(z["keys"].tolist())) == len(z["keys"]) == n
    np.testing.assert_allclose(z["probs"].sum(axis=1), 1.0, atol=1e-4)
    pooled = np.mean(z["probs"].argmax(1) == z["y"])
    assert pooled == pytest.approx(report["float"]["WA"])


def test_ensemble_spec_averages_its_members():
    spec = ModelSpec("resse_cnn1d", (40,), 5, {"project": 8, "filters": 4, "dense": 8}, members=3)
    m = spec.build()
    again = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.member.members == 1
    saved_before = {k: v for k, v in spec.to_dict().items() if k != "members"}
    assert ModelSpec.from_dict(saved_before).members == 1  # specs saved before ensembles
    x = np.random.default_rng(0).standard_normal((6, 40)).astype(np.float32)
    members = [m.get_layer(f"member_{i}") for i in range(3)]
    each = [mem.predict(x, verbose=0) for mem in members]
    assert not np.allclose(each[0], each[1])  # independent initialisations
    np.testing.assert_allclose(m.predict(x, verbose=0), np.mean(each, axis=0), atol=1e-6)
    assert m.count_params() == 3 * spec.member.build().count_params()
    with pytest.raises(ValueError, match="members"):
        ModelSpec("resse_cnn1d", (40,), 5, members=0)


def test_ensemble_members_train_with_their_own_seeds():
    """`train_model` fits each member alone (seed, seed+1, ...) and puts exactly those weights
    into the averaging graph."""
    from train.config import TrainConfig
    from train.data import Examples
    from train.device import setup_device
    from train.fit import train_model

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 20)
    x = (rng.standard_normal((40, 16)) + 2.0 * y[:, None]).astype(np.float32)
    ex = Examples(x, y, np.arange(40), y)
    cfg = TrainConfig(corpus="csv", data=".", model="resse_cnn1d", epochs=2, members=2, seed=5)
    hp = {"project": 4, "filters": 4, "dense": 4}
    dev = setup_device("cpu")
    res = train_model(
        ModelSpec("resse_cnn1d", (16,), 2, hp, members=2), ex, None, cfg, dev, ("a", "b")
    )
    single = ModelSpec("resse_cnn1d", (16,), 2, hp)
    for i in range(2):
        alone = train_model(single, ex, None, cfg.replace(seed=5 + i, members=1), dev, ("a", "b"))
        got = res.model.get_layer(f"member_{i}").get_weights()
        for a, b in zip(got, alone.model.get_weights()):
            np.testing.assert_allclose(a, b, atol=1e-5)
    assert len(res.history["loss"]) == 2 and "member_1/loss" in res.history


def test_stripping_tensor_names_keeps_the_model_and_its_io_names():
    """Exported models drop the converter's debug tensor names (tens of KB in an ensemble) but
    keep input/output names and compute exactly the same outputs."""
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from train.converter import strip_tensor_names

    model = ModelSpec(
        "resse_cnn1d", (30,), 4, {"project": 8, "filters": 4, "dense": 8}, members=2
    ).build(batch_size=1)
    original = tf.lite.TFLiteConverter.from_keras_model(model).convert()
    stripped = strip_tensor_names(original)
    assert len(stripped) < len(original)
    x = np.random.default_rng(1).standard_normal((1, 30)).astype(np.float32)
    outs, names = [], []
    for data in (original, stripped):
        it = Interpreter(model_content=data)
        it.allocate_tensors()
        inp, out = it.get_input_details()[0], it.get_output_details()[0]
        it.set_tensor(inp["index"], x)
        it.invoke()
        outs.append(it.get_tensor(out["index"]))
        names.append(
            (inp["name"], out["name"], max(len(t["name"]) for t in it.get_tensor_details()))
        )
    np.testing.assert_array_equal(outs[0], outs[1])
    assert names[0][:2] == names[1][:2]  # input and output keep their names
    assert names[1][2] < names[0][2]  # the long fused names are gone


def test_training_with_spec_augment_is_reproducible_on_cpu():
    """Same seed, same data -> bit-identical weights, masking included (a parallel augment map
    made CNN-LSTM runs differ)."""
    from train.config import TrainConfig
    from train.data import Examples
    from train.device import setup_device
    from train.fit import train_model

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 48)
    x = (rng.standard_normal((96, 40, 16)) + 0.5 * y[:, None, None]).astype(np.float32)
    ex = Examples(x, y, np.arange(96), y)
    cfg = TrainConfig(corpus="csv", data=".", model="cnn_lstm_2d", epochs=2, seed=3)
    spec = ModelSpec("cnn_lstm_2d", (40, 16), 2, {"filters": [4, 8], "lstm_units": 8, "dense": 8})
    runs = [
        train_model(spec, ex, None, cfg, setup_device("cpu"), ("a", "b")).model.get_weights()
        for _ in range(2)
    ]
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    other = train_model(spec, ex, None, cfg.replace(seed=4), setup_device("cpu"), ("a", "b"))
    assert any(not np.array_equal(a, b) for a, b in zip(runs[0], other.model.get_weights()))
