"""Late fusion on the device (`edgeser.FusedRecognizer`): the weighted mean of the members'
clip probabilities, one decode, the calibration routed to the calibrated member, and clear
refusals for members that cannot be fused."""

from pathlib import Path

import numpy as np
import pytest

from edgeser import FusedRecognizer, Recognizer

from .support import speechlike

MODELS = Path(__file__).resolve().parents[2] / "edgeser" / "models"
SPECTRAL = MODELS / "six-core-cnn_lstm_2d-int8.edgeser"
CALIBRATED = MODELS / "six-core-resse_cnn1d-gemaps-calibrated-int8.edgeser"
pytestmark = pytest.mark.skipif(
    not (SPECTRAL.is_file() and CALIBRATED.is_file()), reason="the six-core models are not bundled"
)


@pytest.fixture(scope="module")
def members():
    return Recognizer(str(SPECTRAL)), Recognizer(str(CALIBRATED))


@pytest.fixture(scope="module")
def clips():
    return [speechlike(2.0, seed=s) for s in range(4)]


def test_fused_scores_are_the_weighted_mean_of_the_members(members, clips):
    a, b = members
    for weights in ((1.0, 1.0), (3.0, 1.0)):
        fused = FusedRecognizer(members, weights)
        assert fused.labels == a.labels and fused.calibrated
        me, alone = fused.new_calibration(), b.new_calibration()
        spoke = 0
        for clip in clips:
            got = fused.predict(clip, 16000, calibration=me)
            pa = a.predict(clip, 16000)
            pb = b.predict(clip, 16000, calibration=alone)  # the same clips in the same order
            if not (pa.is_speech and pb.is_speech):
                assert not got.is_speech and got.label is None
                continue
            spoke += 1
            want = {
                k: (weights[0] * pa.scores[k] + weights[1] * pb.scores[k]) / sum(weights)
                for k in a.labels
            }
            assert got.scores == pytest.approx(want, abs=1e-9)
            assert got.label == max(want, key=want.get) and got.model == fused.name
            assert got.windows == pa.windows and "features" in got.timings
        assert spoke >= 2, "the voice gates should pass these speech-like clips"
        assert me.count == alone.count  # the calibration saw what the member alone sees


def test_a_zero_weight_leaves_the_other_member(members, clips):
    a, _ = members
    fused = FusedRecognizer(members, [1, 0])
    for clip in clips[:2]:
        got, want = fused.predict(clip, 16000), a.predict(clip, 16000)
        if want.is_speech and got.is_speech:
            assert got.scores == pytest.approx(dict(want.scores), abs=1e-9)


def test_silence_is_no_speech(members):
    p = FusedRecognizer(members).predict(np.zeros(32000, np.float32), 16000)
    assert not p.is_speech and p.label is None and p.scores == {} and p.reason


def test_members_that_cannot_be_fused_are_refused(members):
    a, b = members
    with pytest.raises(ValueError, match="at least two"):
        FusedRecognizer([a])
    with pytest.raises(ValueError, match="same labels"):
        FusedRecognizer([a, Recognizer(str(MODELS / "emodb-cnn_lstm_2d-int8.edgeser"))])
    with pytest.raises(ValueError, match="at most one"):
        FusedRecognizer([a, b, b])
    for bad in ([1.0], [1.0, -1.0], [0.0, 0.0], [1.0, float("nan")], [True, 1.0]):
        with pytest.raises(ValueError, match="weights"):
            FusedRecognizer(members, bad)
    plain = FusedRecognizer([a, a])
    assert not plain.calibrated
    with pytest.raises(ValueError, match="speaker calibration"):
        plain.new_calibration()
    with pytest.raises(ValueError, match="speaker calibration"):
        plain.predict(np.zeros(16000, np.float32), 16000, calibration=b.new_calibration())
    with pytest.raises(TypeError, match="SpeakerCalibration"):
        FusedRecognizer(members).predict(np.zeros(16000, np.float32), 16000, calibration={})


def test_members_load_by_name_with_shared_options():
    fused = FusedRecognizer([str(SPECTRAL), str(CALIBRATED)], num_threads=1)
    assert [m.num_threads for m in fused.members] == [1, 1]
    assert "FusedRecognizer" in repr(fused)


def test_cli_fuses_and_calibrates_across_files(members, clips, tmp_path):
    import io
    import json

    from edgeser.cli import main

    from .support import encode

    files = []
    for i, clip in enumerate(clips):
        files.append(tmp_path / f"{i}.wav")
        files[-1].write_bytes(encode(clip, 16000))

    def cli(*args):
        out, err = io.StringIO(), io.StringIO()
        return main(["predict", *map(str, args)], out=out, err=err), out.getvalue(), err.getvalue()

    code, out, err = cli("--json", "--same-speaker", "-m", SPECTRAL, "--fuse", CALIBRATED, *files)
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    fused = FusedRecognizer(members)
    me = fused.new_calibration()
    for row, f in zip(rows, files, strict=True):
        want = fused.predict(str(f), calibration=me)
        assert row["label"] == want.label
        assert row["scores"] == pytest.approx(dict(want.scores), abs=1e-5)
    code, _, err = cli("--timeline", "-m", SPECTRAL, "--fuse", CALIBRATED, files[0])
    assert code == 2 and "--timeline" in err
    code, _, err = cli(
        "-m", SPECTRAL, "--fuse", MODELS / "emodb-cnn_lstm_2d-int8.edgeser", files[0]
    )
    assert code == 2 and "same labels" in err
    code, _, err = cli("--same-speaker", "-m", SPECTRAL, "--fuse", SPECTRAL, files[0])
    assert code == 2 and "none of the fused models" in err
