"""Model shapes, and the multi-device (MirroredStrategy) path on a CPU split in two, in a
subprocess so that the logical-device split cannot leak into other tests."""

import json

import pytest

from train_support import run_cli

keras = pytest.importorskip("keras")

from train.models import ModelSpec  # noqa: E402


@pytest.mark.parametrize("name,shape", [("resse_cnn1d", (88,)), ("cnn1d", (88,)),
                                        ("cnn_lstm_1d", (100, 39)), ("cnn_lstm_2d", (150, 40))])
def test_models_build_with_fixed_or_free_batch(name, shape):
    spec = ModelSpec(name, shape, 7)
    m = spec.build()
    assert m.output_shape == (None, 7)
    m1 = ModelSpec.from_dict(json.loads(json.dumps(spec.to_dict()))).build(batch_size=1)
    assert m1.input_shape == (1, *shape) and m1.count_params() == m.count_params()


def test_resse_differs_from_cnn1d_by_se_and_residual():
    a = ModelSpec("resse_cnn1d", (88,), 7).build()
    b = ModelSpec("cnn1d", (88,), 7).build()
    names_a = {type(l).__name__ for l in a.layers}
    names_b = {type(l).__name__ for l in b.layers}
    assert {"Multiply", "Add"} <= names_a and not {"Multiply", "Add"} & names_b


def test_lstm_steps_are_pooled_down():
    m = ModelSpec("cnn_lstm_2d", (300, 40), 7, {"max_steps": 10}).build()
    lstm = [l for l in m.layers if type(l).__name__ == "LSTM"][0]
    assert lstm.input.shape[1] <= 10


def test_fit_on_two_logical_cpus(synthetic_csv, tmp_path):
    out = tmp_path / "fit"
    proc = run_cli("fit", "--corpus", "csv", "--data", str(synthetic_csv), "--model",
                   "cnn_lstm_1d", "--epochs", "1", "--cpu-replicas", "2", "--window-s", "0.5",
                   "--cache", "", "--hparams", '{"filters": [4], "lstm_units": 4}',
                   "--out", str(out))
    info = json.loads((out / "model.json").read_text())
    assert info["config"]["cpu_replicas"] == 2 and len(info["history"]["loss"]) == 1
    assert (out / "model.weights.h5").stat().st_size > 0
    assert "2 logical devices" in proc.stdout + proc.stderr


def test_converter_failure_is_a_clear_error(tmp_path):
    from train.export import ConversionError, convert_model

    spec = ModelSpec("cnn1d", (16,), 3)
    with pytest.raises(ConversionError, match="cnn1d: float32 conversion failed"):
        convert_model(spec, tmp_path / "missing.weights.h5", "float32")
    with pytest.raises(ConversionError, match="representative"):
        convert_model(spec, tmp_path / "missing.weights.h5", "int8")
