"""The `edgeser` command: table and JSON output, exit codes, info and models."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import numpy as np
import pytest

from edgeser.cli import main

from .support import LABELS, RATE, encode, speechlike, subprocess_env


@pytest.fixture
def clips(tmp_path):
    """Two good files (one stereo 44.1 kHz FLAC), a silent one and a text file named .wav."""
    good = tmp_path / "speech.wav"
    good.write_bytes(encode(speechlike(2.0, seed=1), RATE))
    flac = tmp_path / "stereo.flac"
    s = speechlike(1.5, seed=2, rate=44100)
    flac.write_bytes(encode(np.stack([s, s], axis=1), 44100, "FLAC"))
    silent = tmp_path / "silence.wav"
    silent.write_bytes(encode(np.zeros(RATE, np.float32), RATE))
    bad = tmp_path / "notes.wav"
    bad.write_text("not audio " * 50)
    return {"good": good, "flac": flac, "silent": silent, "bad": bad}


def run(args, models_dir):
    """main(args) in this process; `predict` gets the tiny int8 bundle as its model."""
    if args[0] == "predict":
        args = [*args, "--model", str(models_dir / "tiny_int8.edgeser")]
    out, err = io.StringIO(), io.StringIO()
    code = main(args, out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_predict_table(clips, models_dir):
    code, out, err = run(
        ["predict", str(clips["good"]), str(clips["flac"]), str(clips["silent"])], models_dir
    )
    assert code == 0 and err == ""
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["file", "label", "conf"]
    rows = {line.split()[0]: line for line in lines[1:]}
    for key in ("good", "flac"):
        assert rows[str(clips[key])].split()[1] in LABELS
    assert "no speech detected" in rows[str(clips["silent"])]


def test_predict_json_lines_and_timeline(clips, models_dir, monkeypatch):
    from edgeser import audio

    decoded = []
    real_decode = audio.decode
    monkeypatch.setattr(
        audio, "decode", lambda *a, **k: decoded.append(a[0]) or real_decode(*a, **k)
    )
    code, out, _ = run(
        ["predict", "--json", "--timeline", str(clips["good"]), str(clips["silent"])], models_dir
    )
    assert code == 0
    assert len(decoded) == 2, "each file is decoded once for the prediction and its timeline"
    rows = [json.loads(line) for line in out.strip().splitlines()]
    assert [r["source"] for r in rows] == [str(clips["good"]), str(clips["silent"])]
    speech, silent = rows
    assert speech["label"] in LABELS and abs(sum(speech["scores"].values()) - 1) < 1e-4
    assert len(speech["timeline"]) == 3  # 198 frames: windows at 0, 50 and 98
    assert [w["start_s"] for w in speech["timeline"]] == [0.0, 0.5, 0.98]
    assert silent["label"] is None and silent["is_speech"] is False
    assert silent["reason"] == "no speech detected"


def test_bad_files_are_named_and_the_others_still_processed(clips, models_dir, tmp_path):
    missing = tmp_path / "missing.wav"
    code, out, err = run(
        ["predict", "--json", str(clips["bad"]), str(clips["good"]), str(missing)], models_dir
    )
    assert code == 1
    assert [json.loads(line)["source"] for line in out.strip().splitlines()] == [str(clips["good"])]
    errors = err.strip().splitlines()
    assert len(errors) == 2
    assert str(clips["bad"]) in errors[0] and "not readable audio" in errors[0]
    assert str(missing) in errors[1] and "no such file" in errors[1]


def test_bad_model_exits_2(clips, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    code = main(
        ["predict", str(clips["good"]), "--model", str(tmp_path / "nope.edgeser")], out=out, err=err
    )
    assert code == 2 and "nope.edgeser" in err.getvalue()


def test_info_and_models(models_dir, monkeypatch):
    monkeypatch.setenv("EDGESER_MODELS_DIR", str(models_dir))
    code, out, _ = run(["info", "tiny_int8"], models_dir)
    assert code == 0
    fields = dict(
        line.split(None, 1)
        for line in out.replace("model size", "model_size")
        .replace("sample rate", "sample_rate")
        .splitlines()
        if " " in line
    )
    assert fields["name"].strip() == "tiny_int8"
    assert fields["labels"].strip() == ", ".join(LABELS)
    assert fields["quantization"].strip() == "int8"
    assert "training corpus" in out and "synthetic" in out and "WA 0.25" in out
    code, out, _ = run(["info", "--json", "tiny_float"], models_dir)
    assert code == 0 and json.loads(out)["labels"] == list(LABELS)
    code, _, err = run(["info"], models_dir)
    assert code == 2 and "no default model" in err
    (models_dir / "DEFAULT").write_text("tiny_float\n")
    code, out, _ = run(["info"], models_dir)
    assert code == 0 and "tiny_float (default)" in out
    code, out, _ = run(["models"], models_dir)
    assert code == 0
    assert "tiny_float *" in out and "tiny_int8" in out and "* default model" in out
    code, out, _ = run(["models", "--json"], models_dir)
    listed = [json.loads(line) for line in out.strip().splitlines()]
    assert {m["name"] for m in listed} >= {"tiny_float", "tiny_int8"}


def test_info_gives_each_nested_table_row_its_own_line():
    from edgeser.cli import _nested_lines

    per_corpus = {
        "int8": {"casia": {"UA": 0.5, "n": 800}, "mean": {"UA": 0.45}},
        "note": "pooled",
    }
    assert _nested_lines("training per_corpus", per_corpus) == [
        ("training per_corpus", "note pooled"),
        ("training per_corpus int8 casia", "UA 0.5, n 800"),
        ("training per_corpus int8 mean", "UA 0.45"),
    ]
    assert _nested_lines("training epochs", 30) == [("training epochs", "30")]
    assert _nested_lines("training gate", {"seed": 0}) == [("training gate", "seed 0")]


def test_help_documents_every_option():
    out = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        sys_stdout, sys.stdout = sys.stdout, out
        try:
            main(["predict", "--help"])
        finally:
            sys.stdout = sys_stdout
    assert exc.value.code == 0
    text = out.getvalue()
    for option in ("--model", "--json", "--timeline", "--threads", "--runtime", "--no-vad"):
        assert option in text
    with pytest.raises(SystemExit) as exc:
        main(["predict", "x.wav", "--threads", "0"])
    assert exc.value.code == 2


def test_python_dash_m_runs_the_cli_in_a_fresh_process(clips, models_dir):
    env = subprocess_env(EDGESER_MODELS_DIR=str(models_dir))
    (models_dir / "DEFAULT").write_text("tiny_int8\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "edgeser",
            "predict",
            "--json",
            str(clips["good"]),
            str(clips["bad"]),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert len(rows) == 1 and rows[0]["label"] in LABELS and rows[0]["model"] == "tiny_int8"
    assert str(clips["bad"]) in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "edgeser", "models"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0 and "tiny_int8 *" in proc.stdout


def test_models_table_columns_stay_aligned_for_long_names(models_dir, monkeypatch):
    import dataclasses

    from edgeser.bundle import ModelBundle

    b = ModelBundle.load(models_dir / "tiny_int8.edgeser")
    long_name = "emodb-resse_cnn1d-compare-longer-than-the-column-int8"
    ModelBundle(dataclasses.replace(b.meta, name=long_name), b.model).save(
        models_dir / f"{long_name}.edgeser"
    )
    monkeypatch.setenv("EDGESER_MODELS_DIR", str(models_dir))
    code, out, _ = run(["models"], models_dir)
    assert code == 0
    lines = [line for line in out.splitlines() if line and not line.startswith("*")]
    col = lines[0].index("quant")
    assert any(line.startswith(long_name + " ") for line in lines)
    for line in lines[1:]:
        assert line[col:].split()[0] in ("int8", "float32"), line


def test_predict_reads_a_pipe_on_stdin_and_refuses_a_fifo_path(clips, models_dir, tmp_path):
    """`cat clip.wav | edgeser predict -` works; a FIFO path is refused instead of blocking."""
    import os

    env = subprocess_env(EDGESER_MODELS_DIR=str(models_dir))
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    model = ["--model", str(models_dir / "tiny_int8.edgeser")]
    cmd = [sys.executable, "-m", "edgeser", "predict", "--json", "-", str(fifo), *model]
    proc = subprocess.run(
        cmd, input=clips["good"].read_bytes(), capture_output=True, env=env, timeout=120
    )
    rows = [json.loads(line) for line in proc.stdout.decode().strip().splitlines()]
    assert proc.returncode == 1 and len(rows) == 1  # stdin predicted, the FIFO failed
    assert rows[0]["label"] in LABELS and rows[0]["source"] == "<stdin>"
    assert "FIFO" in proc.stderr.decode()
    code, _, err = run(["predict", "-", "-"], models_dir)
    assert code == 2 and "once" in err


def test_same_speaker_needs_a_speaker_calibrated_model(clips, models_dir):
    code, out, err = run(["predict", "--same-speaker", str(clips["good"])], models_dir)
    assert code == 2 and "not speaker-calibrated" in err and out == ""
