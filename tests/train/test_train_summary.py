"""`python -m train summary`: results-table rows read back from evaluate reports."""

import json

import pytest

from train.cli import main
from train.summary import RunSummary, load_summary, summary_table


def report(ua, wa=0.5, int8=True, model="cnn_lstm_2d", **extra):
    r = {
        "corpus": "emodb",
        "protocol": "loso",
        "model": model,
        "seed": 3,
        "seconds": 61.4,
        "features": {"type": "frontend", "kind": "log_mel", "frontend": {"n_mels": 40}},
        "config": {"epochs": 30, "selection": "val_ua", "window_s": 1.5, "select_features": 0},
        "model_spec": {"hparams": {"lstm_units": 8}, "members": 3},
        "median_best_epoch": 12,
        "float": {"WA": wa, "UA": ua},
    }
    if int8:
        r.update(int8={"WA": wa - 0.01, "UA": ua - 0.02}, int8_bytes_max=123456)
    r.update(extra)
    return r


def write_run(path, r):
    path.mkdir(parents=True)
    (path / "report.json").write_text(json.dumps(r))
    return path


def test_row_shows_the_reports_figures():
    row = RunSummary.from_report("runs/x", report(0.8123, 0.7956)).row()
    assert row == (
        '| runs/x | emodb, loso | cnn_lstm_2d {"lstm_units":8} x3 members '
        "(log_mel 40, 1.5 s windows) | 3 | 30 (best 12) | 79.6 / 81.2 | "
        "78.6 / 79.2 | 123,456 B | 61 s |"
    )


def test_functionals_selection_fixed_epochs_and_no_int8():
    r = report(
        0.7,
        int8=False,
        features={"type": "opensmile", "opensmile_set": "ComParE_2016"},
        config={"epochs": 60, "selection": "fixed", "select_features": 2000},
        model_spec={"hparams": {}, "members": 1},
        model="resse_cnn1d",
    )
    row = RunSummary.from_report("r", r).row()
    assert "| resse_cnn1d (ComParE_2016, 2000 selected) |" in row
    assert "| 60 (fixed) | 50.0 / 70.0 | - | - |" in row


def test_table_sorting_and_header():
    runs = [RunSummary.from_report(n, report(ua)) for n, ua in (("a", 0.6), ("b", 0.9), ("c", 0.7))]
    table = summary_table(runs, "ua").splitlines()
    assert table[0].startswith("| run | corpus, protocol |") and set(table[1]) == {"|", "-"}
    assert [line.split(" | ")[0] for line in table[2:]] == ["| b", "| c", "| a"]
    assert [line.split(" | ")[0] for line in summary_table(runs).splitlines()[2:]] == [
        "| a",
        "| b",
        "| c",
    ]
    with pytest.raises(ValueError, match="sort"):
        summary_table(runs, "wa")


def test_reads_run_layout_and_report_files(tmp_path):
    write_run(tmp_path / "recipe" / "evaluation", report(0.75))
    plain = write_run(tmp_path / "plain", report(0.65))
    assert load_summary(tmp_path / "recipe").float_ua == 0.75
    assert load_summary(plain / "report.json").float_ua == 0.65


def test_command_prints_table_and_names_what_it_skipped(tmp_path, capsys):
    good = write_run(tmp_path / "good", report(0.75))
    fused = write_run(tmp_path / "fused", {"corpus": "emodb", "fused": {"UA": 0.9}})
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "report.json").write_text("{not json")
    assert main(["summary", str(good)]) == 0
    assert "| 50.0 / 75.0 |" in capsys.readouterr().out
    rc = main(["summary", str(good), str(fused), str(tmp_path / "bad"), str(tmp_path / "none")])
    out = capsys.readouterr()
    assert rc == 1 and out.out.count("| emodb, loso |") == 1
    assert "fused: not an `evaluate` report" in out.err
    assert "unreadable report" in out.err and "none: no report.json" in out.err
