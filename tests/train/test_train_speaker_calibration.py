"""Speaker calibration end to end on the synthetic corpus: a functional model trained and
evaluated with `--speaker-norm running` under leave-one-speaker-out, its bundle read back by the
runtime, which computes exactly what training computed for the same clips in the same order."""

import json

import numpy as np
import pytest
from train_support import SPEAKERS, run_cli

from edgeser.bundle import ModelBundle
from edgeser.calibration import SpeakerCalibration


@pytest.fixture(scope="module")
def calibrated_run(synthetic_csv, tmp_path_factory):
    out = tmp_path_factory.mktemp("calibrated")
    run_cli(
        "run",
        "--corpus",
        "csv",
        "--data",
        str(synthetic_csv),
        "--model",
        "cnn1d",
        "--features",
        "gemaps",
        "--protocol",
        "loso",
        "--speaker-norm",
        "running",
        "--selection",
        "fixed",
        "--epochs",
        "2",
        "--save-fold-models",
        "--hparams",
        '{"filters": 4}',
        "--cache",
        str(out / "cache"),
        "--out",
        str(out),
        "--name",
        "cal",
        timeout=600,
    )
    return out


def test_report_names_the_calibrated_protocol(calibrated_run):
    r = json.loads((calibrated_run / "evaluation" / "report.json").read_text())
    assert r["protocol"] == "loso+running_speaker_norm"
    assert r["config"]["speaker_norm"] == "running"
    assert len(r["folds"]) == len(SPEAKERS)


def test_bundle_carries_the_population_prior(calibrated_run):
    meta = ModelBundle.load(calibrated_run / "cal-int8.edgeser").meta
    prior = meta.features.speaker_calibration
    assert meta.format_version == 10 and prior is not None  # calibration 8, floors 10
    assert prior.dim == meta.features.source_dim and min(prior.std) > 0
    fold = next((calibrated_run / "evaluation" / "folds").glob("*.edgeser"))
    assert ModelBundle.load(fold).meta.features.speaker_calibration is not None


def test_runtime_calibrates_as_training_did(calibrated_run, synthetic_csv):
    """One speaker's clips through `Recognizer.predict(calibration=...)` in order give the
    probabilities of the training path: the same running calibration, the bundle's
    normalisation, the same TFLite model."""
    recognizer = pytest.importorskip("edgeser.recognizer")
    from edgeser.frontend import functionals
    from train.corpora import read_audio
    from train.export import TFLiteModel

    b = ModelBundle.load(calibrated_run / "cal-float32.edgeser")
    f = b.meta.features
    rec = recognizer.Recognizer(b, vad=None)
    assert rec.calibrated
    clips = sorted((synthetic_csv.parent / "s2").glob("*.wav"))
    cal, ours = SpeakerCalibration(f.speaker_calibration), []
    for clip in clips:
        vec = functionals.extract(read_audio(clip), f.feature_set, f.descriptors)
        cal.update(vec)
        z = (cal.normalise(vec).astype(np.float32) - b.meta.norm_mean) / b.meta.norm_std
        ours.append(TFLiteModel(b.model).predict(z[None, :].astype(np.float32))[0])
    mine = rec.new_calibration()
    theirs = [rec.predict(str(c), calibration=mine) for c in clips]
    assert mine.count == len(clips)
    got = np.array([[p.scores[label] for label in b.meta.labels] for p in theirs])
    np.testing.assert_allclose(got, np.array(ours), atol=1e-4)
    # without a calibration every clip is scored as a speaker's first
    first = rec.predict(str(clips[-1]))
    again = rec.predict(str(clips[-1]), calibration=rec.new_calibration())
    assert first.scores == pytest.approx(again.scores)


def test_cli_same_speaker_calibrates_across_its_files(calibrated_run, synthetic_csv):
    """`edgeser predict --same-speaker` gives the scores of one calibration over the files in
    order; without it each file is scored as a first clip."""
    import io

    recognizer = pytest.importorskip("edgeser.recognizer")
    from edgeser.cli import main

    bundle = calibrated_run / "cal-float32.edgeser"
    clips = [str(c) for c in sorted((synthetic_csv.parent / "s1").glob("*.wav"))]
    rec = recognizer.Recognizer(ModelBundle.load(bundle), vad=None)  # tones: no voice gate
    cal = rec.new_calibration()
    expected = [rec.predict(c, calibration=cal).scores for c in clips]
    for flag, want in (
        (["--same-speaker"], expected),
        ([], [rec.predict(c).scores for c in clips]),
    ):
        out, err = io.StringIO(), io.StringIO()
        assert (
            main(
                ["predict", "--json", "--no-vad", "-m", str(bundle), *flag, *clips],
                out=out,
                err=err,
            )
            == 0
        )
        got = [json.loads(line)["scores"] for line in out.getvalue().splitlines()]
        assert len(got) == len(clips)
        for g, w in zip(got, want):
            assert g == pytest.approx(w, abs=1e-6)
    assert expected[-1] != pytest.approx(want[-1], abs=1e-6)  # calibration did change scores


def test_calibration_is_refused_where_it_does_not_apply(calibrated_run):
    recognizer = pytest.importorskip("edgeser.recognizer")
    from edgeser.calibration import CalibrationPrior

    rec = recognizer.Recognizer(ModelBundle.load(calibrated_run / "cal-int8.edgeser"), vad=None)
    x = np.random.default_rng(0).normal(0, 0.1, 16000).astype(np.float32)
    with pytest.raises(TypeError, match="SpeakerCalibration"):
        rec.predict(x, 16000, calibration="me")
    dim = rec.features.source_dim
    other = SpeakerCalibration(CalibrationPrior((0.0,) * dim, (1.0,) * dim))
    with pytest.raises(ValueError, match="another model"):
        rec.predict(x, 16000, calibration=other)
    plain = recognizer.Recognizer("emodb-resse_cnn1d-gemaps-int8", vad=None)
    assert not plain.calibrated
    with pytest.raises(ValueError, match="not trained with speaker calibration"):
        plain.new_calibration()
    with pytest.raises(ValueError, match="not trained with speaker calibration"):
        plain.predict(x, 16000, calibration=rec.new_calibration())


def test_a_mostly_neutral_user_calibrates_on_all_neutral_clips_and_a_quarter_of_the_rest():
    """`neutral_heavy`: each speaker's calibration hears every neutral clip and a quarter (at
    least one) of each other emotion's, then scores every clip with those statistics."""
    from edgeser.calibration import CalibrationPrior
    from train.baselines import neutral_heavy_groups

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [8, 8, 3])  # neutral = 1
    groups = np.array(["a"] * len(y))
    x = rng.normal(size=(len(y), 3)) + y[:, None] * 10.0  # each class far from the others
    prior = CalibrationPrior.of(x)
    out = neutral_heavy_groups(x, groups, y, neutral=1, prior=prior, seed=3)
    # exactly a calibration that heard the 8 neutral clips, 2 of class 0 and 1 of class 2
    from itertools import combinations

    def with_heard(heard):
        cal = SpeakerCalibration(prior)
        cal.update_all(x[heard])
        return cal.normalise(x)

    neutral, c0, c2 = (np.flatnonzero(y == c) for c in (1, 0, 2))
    matches = [
        (a, b)
        for a in combinations(c0, 2)
        for b in combinations(c2, 1)
        if np.allclose(out, with_heard(np.concatenate([neutral, a, b])))
    ]
    assert len(matches) == 1
    # normalised neutral clips sit near 0: the calibration's mean is dominated by neutral
    assert abs(out[y == 1].mean()) < abs(out[y == 0].mean())
    assert abs(out[y == 1].mean()) < abs(out[y == 2].mean())
    # the same clips, all heard (a balanced user), put the overall mean near 0 instead
    cal = SpeakerCalibration(prior)
    cal.update_all(x)
    balanced = cal.normalise(x)
    assert abs(balanced.mean()) < abs(out.mean())
    # deterministic for a seed
    np.testing.assert_array_equal(out, neutral_heavy_groups(x, groups, y, 1, prior, seed=3))
