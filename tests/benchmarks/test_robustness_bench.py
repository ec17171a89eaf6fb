"""`python -m benchmarks.robustness`: the scoring, the targets, the degradations, and a quick
end-to-end run on real held-out corpora (skips without them). Checks structure and scoring,
not a model's accuracy."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from benchmarks import robustness as rb


def test_unweighted_recall_counts_no_speech_as_wrong():
    y = ["anger", "anger", "sadness", "sadness"]
    assert rb.unweighted_recall(y, y) == 1.0
    assert rb.unweighted_recall(y, ["anger", None, "sadness", "anger"]) == pytest.approx(0.5)
    assert rb.unweighted_recall(y, [None] * 4) == 0.0


def test_core_prediction_ignores_classes_outside_the_core():
    labels = ("anger", "boredom", "disgust", "happiness", "neutral", "sadness")
    scores = {
        "anger": 0.1,
        "boredom": 0.5,
        "disgust": 0.2,
        "happiness": 0.05,
        "neutral": 0.12,
        "sadness": 0.03,
    }
    assert rb.core_prediction(labels, scores) == "neutral"
    assert rb.core_prediction(labels, None) is None


def _rows(clean_ua, **ua):
    rows = [
        {
            "condition": "clean",
            "group": "clean",
            "value": 0.0,
            "UA": clean_ua,
            "same_as_clean": 1.0,
            "WA": clean_ua,
            "no_speech": 0.0,
        }
    ]
    for name, (group, value, u, same) in ua.items():
        rows.append(
            {
                "condition": name,
                "group": group,
                "value": value,
                "UA": u,
                "same_as_clean": same,
                "WA": u,
                "no_speech": 0.0,
            }
        )
    return rows


def test_targets_pass_and_fail_where_they_should():
    good = _rows(
        0.60,
        **{
            "gain -30 dB": ("gain", -30.0, 0.595, 0.97),
            "gain +6 dB": ("gain", 6.0, 0.60, 0.99),
            "real noise 10 dB SNR": ("noise:real", 10.0, 0.55, 0.8),
            "telephone (8 kHz round trip)": ("channel", None, 0.57, 0.9),
            "medium room (T30 0.6-1.5 s, 3 RIRs)": ("reverb", 1.5, 0.53, 0.8),
        },
    )
    assert all(t["met"] for t in rb.targets(good))
    bad = _rows(
        0.60,
        **{
            "gain -30 dB": ("gain", -30.0, 0.50, 0.90),
            "real noise 10 dB SNR": ("noise:real", 10.0, 0.40, 0.6),
        },
    )
    assert not any(t["met"] for t in rb.targets(bad))


def test_pooled_gives_each_fold_the_same_weight():
    a = {"conditions": _rows(0.4)}
    b = {"conditions": _rows(0.8)}
    assert rb.pooled([a, b])[0]["UA"] == pytest.approx(0.6)


def test_conditions_degrade_as_named(tmp_path):
    from train import augment as aug

    root = aug.default_noise_dir()
    if not (root / "manifest.csv").is_file():
        pytest.skip(f"shared noise folder not found at {root}")
    bank = aug.NoiseBank(root, "test")
    clip = rb.Clip("x", "k", tmp_path / "k.wav", "anger", "s")
    conds = {c.name: c for c in rb.conditions(bank, {})}
    x = (0.1 * np.sin(np.arange(16000) * 0.05)).astype(np.float32)
    rng = np.random.default_rng(0)
    y = conds["gain -30 dB"].apply(x, clip, rng)
    assert 20 * np.log10(aug.rms(y) / aug.rms(x)) == pytest.approx(-30, abs=0.01)
    y = conds["white noise 10 dB SNR"].apply(x, clip, rng)
    assert 20 * np.log10(aug.rms(x) / aug.rms(y - x)) == pytest.approx(10, abs=0.1)
    assert any(n.startswith("medium room") for n in conds)
    assert "telephone (8 kHz round trip)" in conds
    long = np.concatenate([np.zeros(16000, np.float32), x, x, np.zeros(16000, np.float32)])
    y = conds["excerpt 1 s of the speech"].apply(long, clip, rng)
    assert len(y) == 16000 and aug.rms(y) == pytest.approx(aug.rms(x), rel=0.01)
    assert len(conds["excerpt 0.6 s of the speech"].apply(long, clip, rng)) == 9600


def test_quick_run_on_unseen_corpora(datasets_dir, tmp_path):
    import edgeser

    if not any(set(rb.CORE) <= set(m.labels) and m.corpus == "emodb" for m in edgeser.models()):
        pytest.skip("no bundled EmoDB model with the core classes")
    name = next(
        m.name
        for m in edgeser.models()
        if m.corpus == "emodb" and "opensmile" not in m.features.lower()
    )
    out = tmp_path / "r.json"
    assert (
        rb.main(["--model", name, "--quick", "--json", str(out), "--png", str(tmp_path / "r.png")])
        == 0
    )
    r = json.loads(out.read_text())
    (m,) = r["models"]
    assert "emodb" not in m["corpora"] and len(m["corpora"]) == 5
    assert 40 <= m["n_clips"] <= 70  # about 12 per corpus, the same share of each label
    names = [c["condition"] for c in m["conditions"]]
    assert names[0] == "clean" and "gain -30 dB" in names
    for c in m["conditions"]:
        assert 0.0 <= c["UA"] <= 1.0 and 0.0 <= c["no_speech"] <= 1.0
    assert m["conditions"][0]["same_as_clean"] == 1.0
    assert {t["target"] for t in m["targets"]}
    assert (tmp_path / "r.png").stat().st_size > 1000


def test_folds_joined_by_plus_are_paired_fold_by_fold(tmp_path):
    def folds(name: str, tests: list[list[str]]) -> Path:
        d = tmp_path / name / "loco" / "folds"
        d.mkdir(parents=True)
        for i, keys in enumerate(tests):
            (d / f"fold{i}.edgeser").write_bytes(b"")
            (d / f"fold{i}.test.txt").write_text("\n".join(keys) + "\n")
        return d

    a = folds("a", [["emodb/x.wav", "emodb/y.wav"], ["casia/z.wav"]])
    b = folds("b", [["emodb/y.wav", "emodb/x.wav"], ["casia/z.wav"]])
    pairs = rb.fused_fold_models(f"{a}+{b}")
    assert [len(bundles) for bundles, _ in pairs] == [2, 2]
    assert pairs[0][0] == [str(a / "fold0.edgeser"), str(b / "fold0.edgeser")]
    assert pairs[1][1] == ["casia/z.wav"]
    assert [bundles for bundles, _ in rb.fused_fold_models(str(a))] == [
        [str(a / "fold0.edgeser")],
        [str(a / "fold1.edgeser")],
    ]
    other = folds("c", [["emodb/x.wav"], ["casia/z.wav"]])
    with pytest.raises(SystemExit, match="not the same folds"):
        rb.fused_fold_models(f"{a}+{other}")
    short = folds("d", [["emodb/x.wav", "emodb/y.wav"]])
    with pytest.raises(SystemExit, match="different numbers of folds"):
        rb.fused_fold_models(f"{a}+{short}")


def test_score_model_fuses_a_list_of_models(tmp_path):
    """Two bundled models as one fused recognizer: the scores are the runtime's fused answer."""
    import soundfile as sf

    import edgeser
    from benchmarks._harness import speech_like

    names = [m.name for m in edgeser.models() if set(rb.CORE) <= set(m.labels)][:2]
    if len(names) < 2:
        pytest.skip("fewer than two bundled models with the core classes")
    x = np.asarray(speech_like(2.0, 16000), np.float32)
    sf.write(tmp_path / "a.wav", x, 16000)
    clips = [rb.Clip("emodb", "a.wav", tmp_path / "a.wav", "anger", "s")]
    clean = [rb.Condition("clean", "clean", None, lambda x, clip, rng: x)]
    res = rb.score_model(names, clips, clean, progress=False)
    rec = edgeser.FusedRecognizer(names)
    fused = rec.predict(x, sample_rate=16000)
    assert res["model"] == " + ".join(names) and res["n_clips"] == 1
    want = rb.core_prediction(rec.labels, fused.scores if fused.is_speech else None)
    assert res["conditions"][0]["WA"] == float(want == "anger")


def test_a_calibrated_model_replays_each_speaker_through_one_calibration(tmp_path):
    """A speaker-calibrated model is scored as a device runs it: each speaker's clips in the
    seeded replay order, one running calibration per speaker and condition."""
    import soundfile as sf

    import edgeser
    from benchmarks._harness import speech_like

    calibrated = [m.name for m in edgeser.models() if "calibrated" in m.name]
    if not calibrated:
        pytest.skip("no speaker-calibrated model is bundled")
    clips = []
    for i in range(6):
        x = np.asarray(speech_like(1.5 + 0.1 * i, 16000, seed=i), np.float32)
        sf.write(tmp_path / f"{i}.wav", x, 16000)
        clips.append(
            rb.Clip("emodb", f"{i}.wav", tmp_path / f"{i}.wav", rb.CORE[i % 4], f"s{i % 2}")
        )
    clean = [rb.Condition("clean", "clean", None, lambda x, clip, rng: x)]
    res = rb.score_model(calibrated[0], clips, clean, progress=False)
    assert res["speaker_calibrated"] is True
    order = rb.replay_order(clips)
    assert sorted(order) == list(range(len(clips))) and order != list(range(len(clips)))
    rec = edgeser.Recognizer(calibrated[0])
    cals = {s: rec.new_calibration() for s in ("s0", "s1")}
    right = 0
    for n in order:
        x = np.asarray(sf.read(clips[n].path, dtype="float32")[0])
        p = rec.predict(x, sample_rate=16000, calibration=cals[clips[n].speaker])
        right += rb.core_prediction(rec.labels, p.scores if p.is_speech else None) == clips[n].label
    assert res["conditions"][0]["WA"] == round(right / len(clips), 4)
    assert rb._calibrated_suffix([res]) == " (+running_speaker_norm)"
