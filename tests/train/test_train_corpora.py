import csv

import numpy as np
import pytest
from train_support import corpus_or_skip, tone, write_wav

from train.corpora import (
    EMODB_EMOTIONS,
    load_casia,
    load_csv_manifest,
    load_emodb,
    parse_emodb_name,
    read_audio,
)


def test_parse_emodb_name():
    assert parse_emodb_name("03a01Fa.wav") == ("03", "happiness")
    assert parse_emodb_name("16b10Wb.wav") == ("16", "anger")
    with pytest.raises(ValueError, match="03a01Xa.wav"):
        parse_emodb_name("03a01Xa.wav")
    with pytest.raises(ValueError, match="notes.wav"):
        parse_emodb_name("notes.wav")


def test_emodb_layout_skips_bad_names(tmp_path):
    x = tone(300, 0.3, 16000, 0)
    for name in ("03a01Fa.wav", "10b02Tc.wav", "11a01Xa.wav", "readme.wav"):
        write_wav(tmp_path / "wav" / name, x, 16000)
    c = load_emodb(tmp_path)
    assert [(u.speaker, u.label) for u in c.utterances] == [("03", "happiness"), ("10", "sadness")]
    assert sorted(p.split("/")[-1] for p, _ in c.skipped) == ["11a01Xa.wav", "readme.wav"]
    assert set(c.labels) == set(EMODB_EMOTIONS.values())


def test_casia_layout(tmp_path):
    x = tone(300, 0.3, 16000, 0)
    write_wav(tmp_path / "spkA" / "happy" / "201.wav", x, 16000)
    write_wav(tmp_path / "spkA" / "bored" / "202.wav", x, 16000)
    write_wav(tmp_path / "spkB" / "sad" / "203.wav", x, 16000)
    c = load_casia(tmp_path)
    assert [(u.speaker, u.label) for u in c.utterances] == [("spkA", "happy"), ("spkB", "sad")]
    assert len(c.skipped) == 1 and "bored" in c.skipped[0][1]


def test_csv_manifest_reports_missing_files(synthetic_csv):
    text = synthetic_csv.read_text() + "nope.wav,high,s2\n"
    bad = synthetic_csv.with_name("with_missing.csv")
    bad.write_text(text)
    c = load_csv_manifest(bad)
    assert any("nope.wav" in f for f, _ in c.skipped)
    assert c.labels == ("high", "low")
    assert len(c.speakers) == 3


def test_csv_manifest_needs_columns(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("file,emotion\na.wav,x\n")
    with pytest.raises(ValueError, match="m.csv.*label"):
        load_csv_manifest(p)


def test_read_audio_resamples_with_soxr(tmp_path):
    x8 = tone(440, 0.5, 8000, 1)
    y = read_audio(write_wav(tmp_path / "a.wav", x8, 8000))
    assert y.dtype == np.float32 and abs(len(y) - 8000) <= 1
    spec = np.abs(np.fft.rfft(y))
    peak_hz = np.argmax(spec) * 16000 / len(y)
    assert abs(peak_hz - 440) < 30


@pytest.mark.parametrize("name,loader", [("emodb", load_emodb), ("casia", load_casia)])
def test_real_corpus_matches_manifest(name, loader):
    root = corpus_or_skip(name)
    c = loader(root)
    with open(root / "manifest.csv", newline="") as fh:
        truth = {r["path"]: (r["speaker"], r["emotion"]) for r in csv.DictReader(fh)}
    got = {u.key: (u.speaker, u.label) for u in c.utterances}
    assert got == truth
    assert c.skipped == ()
