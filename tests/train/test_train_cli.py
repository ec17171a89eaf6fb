"""End to end through the command line on the synthetic corpus (2 epochs): evaluation of a
random split with int8, training on everything, export, and the bundle read back by edgeser.
(One fold keeps it fast: every fold costs an int8 conversion subprocess.)"""

import json

import numpy as np
import pytest
from train_support import run_cli

from edgeser.bundle import ModelBundle


@pytest.fixture(scope="module")
def run_dir(synthetic_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    run_cli(
        "run",
        "--corpus",
        "csv",
        "--data",
        str(synthetic_csv),
        "--model",
        "cnn_lstm_2d",
        "--protocol",
        "random",
        "--test-fraction",
        "0.3",
        "--n-mels",
        "24",
        "--window-norm",
        "mean",
        "--window-floor-db",
        "20",
        "--log-floor",
        "1e-20",
        "--window-s",
        "0.5",
        "--hop-s",
        "0.25",
        "--train-hop-s",
        "0.25",
        "--epochs",
        "2",
        "--cache",
        str(out / "cache"),
        "--out",
        str(out),
        "--name",
        "toy",
        "--hparams",
        '{"filters": [4, 8], "lstm_units": 8, "dense": 8}',
        "--install-to",
        str(out / "installed"),
    )
    return out


def test_report_has_protocol_metrics_and_plots(run_dir):
    r = json.loads((run_dir / "evaluation" / "report.json").read_text())
    assert r["protocol"] == "random" and r["corpus"] == "csv" and len(r["folds"]) == 1
    assert r["git_commit"] and r["seed"] == 0 and r["config"]["epochs"] == 2
    for q in ("float", "int8"):
        assert 0.0 <= r[q]["UA"] <= 1.0 and r[q]["n"] == r["folds"][0]["n_test"] > 0
        assert set(r[q]["per_class_recall"]) == {"high", "low"}
    assert any(f.endswith("broken.wav") for f, _ in r["skipped_files"])
    for png in ("confusion.png", "confusion_int8.png", "accuracy.png", "loss.png"):
        assert (run_dir / "evaluation" / png).stat().st_size > 1000


def test_bundles_are_valid_int8_and_float(run_dir):
    b8 = ModelBundle.load(run_dir / "toy-int8.edgeser")
    bf = ModelBundle.load(run_dir / "toy-float32.edgeser")
    assert b8.meta.quantization == "int8" and bf.meta.quantization == "float32"
    assert b8.size_bytes <= 256 * 1024 and b8.model != bf.model
    fs = b8.meta.features
    assert fs.type == "frontend" and fs.kind == "log_mel" and fs.dim == 24
    assert (fs.window_frames, fs.hop_frames) == (50, 25)
    assert (fs.window_norm, fs.window_floor_db, fs.frontend.log_floor) == ("mean", 20.0, 1e-20)
    assert b8.meta.format_version == 6
    assert b8.meta.labels == ("high", "low")
    assert b8.meta.training["protocol"] == "random" and "int8" in b8.meta.training["metrics"]
    assert (run_dir / "installed" / "toy-int8.edgeser").is_file()
    assert "random" in (run_dir / "installed" / "toy-int8.md").read_text()


def test_a_regenerated_card_keeps_its_hand_written_block(run_dir, tmp_path):
    import shutil

    from train import model_card

    bundle = tmp_path / "toy-int8.edgeser"
    shutil.copy2(run_dir / "installed" / "toy-int8.edgeser", bundle)
    card = (run_dir / "installed" / "toy-int8.md").read_text()
    block = f"{model_card.KEEP_START}\n## How it compares\n\nwritten by hand\n{model_card.KEEP_END}"
    bundle.with_suffix(".md").write_text(
        card.replace("## Data and limits", block + "\n\n## Data and limits")
    )
    report = json.loads((run_dir / "evaluation" / "report.json").read_text())
    again = model_card.write_model_card(bundle, report, "python -m train run ...").read_text()
    assert again.count(block) == 1 and again.index(block) < again.index("## Data and limits")
    assert "python -m train run ..." in again and "random" in again


def test_int8_model_has_only_builtin_int8_ops(run_dir):
    from ai_edge_litert.interpreter import Interpreter

    b8 = ModelBundle.load(run_dir / "toy-int8.edgeser")
    it = Interpreter(model_content=b8.model, experimental_preserve_all_tensors=False)
    ops = {d["op_name"] for d in it._get_ops_details()}
    assert "UNPACK" in ops or "FULLY_CONNECTED" in ops
    assert not any("Flex" in o or o in ("WHILE", "CUSTOM") for o in ops), ops
    assert it.get_input_details()[0]["dtype"] == np.int8
    assert list(it.get_input_details()[0]["shape"]) == [1, 50, 24]


def test_runtime_reproduces_training_path(run_dir, synthetic_csv):
    """The runtime's Recognizer (no voice gate) gives the probabilities the training code
    computes for the same clip with the same bundle (window floor and mean norm included)."""
    recognizer = pytest.importorskip("edgeser.recognizer")
    from edgeser.frontend import features
    from edgeser.windows import feature_windows
    from train.corpora import read_audio
    from train.data import Normaliser, utterance_probs
    from train.export import TFLiteModel

    b = ModelBundle.load(run_dir / "toy-float32.edgeser")
    clip = synthetic_csv.parent / "s2" / "high_2.wav"
    fs = b.meta.features
    norm = Normaliser(np.array(b.meta.norm_mean, np.float32), np.array(b.meta.norm_std, np.float32))
    z = norm(features(read_audio(clip), fs.frontend, fs.kind))
    w = feature_windows(z, fs.window_frames, fs.hop_frames)
    assert not np.allclose(w, fs.windows(z, norm.std))  # the floor and mean norm do act here
    w = fs.windows(z, norm.std)
    ours = utterance_probs(TFLiteModel(b.model).predict(w), np.zeros(len(w), int), 1)[0]
    pred = recognizer.Recognizer(b, vad=None).predict(str(clip))
    theirs = np.array([pred.scores[label] for label in b.meta.labels])
    np.testing.assert_allclose(theirs, ours, atol=1e-4)


def test_opensmile_features_train_in_one_cli_process(synthetic_csv, tmp_path):
    """openSMILE extraction and Keras training in one `run`: the CLI extracts before it loads
    TensorFlow (the other order aborts the process in openSMILE), and the bundle names the set.
    With --select-features and --members: the bundle lists the chosen functionals and holds the
    two-member ensemble as one model."""
    pytest.importorskip("opensmile")
    out = tmp_path / "smile"
    run_cli(
        "run",
        "--corpus",
        "csv",
        "--data",
        str(synthetic_csv),
        "--model",
        "resse_cnn1d",
        "--features",
        "egemaps",
        "--protocol",
        "random",
        "--test-fraction",
        "0.3",
        "--selection",
        "fixed",
        "--epochs",
        "2",
        "--no-int8-eval",
        "--cache",
        str(out / "cache"),
        "--hparams",
        '{"project": 8, "input_dropout": 0.5, "filters": 4}',
        "--select-features",
        "20",
        "--members",
        "2",
        "--out",
        str(out),
        "--name",
        "smile",
    )
    report = json.loads((out / "evaluation" / "report.json").read_text())
    assert report["features"]["opensmile_set"] == "eGeMAPSv02"
    assert report["model_spec"]["members"] == 2 and report["model_spec"]["input_shape"] == [20]
    bundle = ModelBundle.load(out / "smile-int8.edgeser")
    meta = bundle.meta
    assert meta.features.opensmile_set == "eGeMAPSv02" and meta.features.dim == 20
    select = meta.features.select
    assert len(select) == 20 and list(select) == sorted(set(select)) and select[-1] < 88
    # format 4: it names the learned voice gate (select alone would need format 2)
    assert meta.format_version == 4 and meta.speech_detector == "speech-gate-int8"
    assert meta.features.min_format_version == 2 and len(meta.norm_mean) == 20
    card = (out / "smile-int8.md").read_text()
    assert "Ensemble of 2 networks" in card and "ANOVA F" in card
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=bundle.model)
    assert list(it.get_input_details()[0]["shape"]) == [1, 20]
    assert len([d for d in it._get_ops_details() if d["op_name"] == "SOFTMAX"]) == 2


@pytest.mark.parametrize("features,dim", [("is09", 384), ("compare", 6373)])
def test_every_opensmile_set_extracts(synthetic_csv, tmp_path, features, dim):
    """Each openSMILE set the CLI offers maps to a real opensmile.FeatureSet member (IS09 is
    `IS09` there) and gives the documented number of functionals."""
    pytest.importorskip("opensmile")
    proc = run_cli(
        "extract",
        "--corpus",
        "csv",
        "--data",
        str(synthetic_csv),
        "--features",
        features,
        "--cache",
        str(tmp_path),
    )
    assert f"{dim}-dim" in proc.stdout, proc.stdout


def test_baseline_classifier_on_the_same_folds(synthetic_csv, tmp_path):
    """`baseline`: a scikit-learn reference on the CLI's folds; the tones are separable, and
    --speaker-norm is named in the protocol so it cannot pass for the strict one."""
    pytest.importorskip("sklearn")
    for extra, protocol in (([], "loso"), (["--speaker-norm"], "loso+speaker_norm")):
        out = tmp_path / f"{protocol}.json"
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
            "--out",
            str(out),
            *extra,
        )
        r = json.loads(out.read_text())
        assert r["protocol"] == protocol and r["n_folds"] == 3
        assert r["input_dim"] == 4 * 39  # mean, std, p10, p90 of 39 MFCC+deltas
        assert r["float"]["UA"] >= 0.9, r["float"]
    # feature selection inside each fold (the statistics vectors of frame features too)
    out = tmp_path / "selected.json"
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
        "--select-features",
        "12",
        "--out",
        str(out),
    )
    r = json.loads(out.read_text())
    assert r["input_dim"] == 12 and r["float"]["UA"] >= 0.9, r


def test_summary_row_of_a_real_run(run_dir):
    r = json.loads((run_dir / "evaluation" / "report.json").read_text())
    out = run_cli("summary", str(run_dir)).stdout
    f, i = r["float"], r["int8"]
    assert "| csv, random |" in out
    assert (
        f"| {100 * f['WA']:.1f} / {100 * f['UA']:.1f} | {100 * i['WA']:.1f} / "
        f"{100 * i['UA']:.1f} | {r['int8_bytes_max']:,} B |" in out
    )
