"""Real speech (EmoDB, when ../shared/datasets is present): the gate keeps it, labels are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from edgeser.bundle import ModelBundle
from edgeser.recognizer import Recognizer

from .support import ROOT

LETTER_TO_LABEL = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}  # EmoDB: the letter at index 5 of a name
EMOTION_LETTERS = "".join(LETTER_TO_LABEL)


def pick_files(wav_dir: Path) -> list[Path]:
    """One file per emotion (letter at index 5), each from a different speaker where possible."""
    files = sorted(wav_dir.glob("*.wav"))
    speakers = sorted({f.name[:2] for f in files})
    out = []
    for i, letter in enumerate(EMOTION_LETTERS):
        group = [f for f in files if len(f.name) > 5 and f.name[5] == letter]
        preferred = [f for f in group if f.name[:2] == speakers[i % len(speakers)]]
        if preferred or group:
            out.append((preferred or group)[0])
    return out


@pytest.fixture(scope="module")
def emodb_wavs(datasets_dir) -> list[Path]:
    wav = datasets_dir / "emodb" / "wav"
    if not wav.is_dir():
        pytest.skip(f"EmoDB is absent from {datasets_dir}")
    found = pick_files(wav)
    if len(found) < len(EMOTION_LETTERS):
        pytest.skip(f"EmoDB under {wav} lacks some emotions (found {len(found)} files)")
    return found


def recognizers_to_try(bundle_dir) -> list[Recognizer]:
    out = [Recognizer(bundle_dir / "tiny_int8.edgeser")]
    if (ROOT / "edgeser" / "models" / "DEFAULT").exists():
        out.append(Recognizer("default", models_dir=ROOT / "edgeser" / "models"))
    return out


def test_emodb_speech_is_kept_and_labelled(emodb_wavs, bundle_dir):
    for r in recognizers_to_try(bundle_dir):
        for path in emodb_wavs:
            p = r.predict(path)
            assert p.is_speech, f"{path.name}: the voice gate dropped real speech ({p.reason})"
            assert p.label in r.labels and p.source == str(path)
            assert abs(sum(p.scores.values()) - 1.0) < 1e-6
            tl = r.timeline(path)
            kept = sum(w.is_speech for w in tl)
            assert kept >= 0.8 * len(tl), f"{path.name}: only {kept}/{len(tl)} windows kept"
            assert p.windows == kept


def test_emodb_through_48k_and_streaming(emodb_wavs, bundle_dir):
    import soundfile as sf
    import soxr

    r = Recognizer(bundle_dir / "tiny_int8.edgeser")
    x, rate = sf.read(emodb_wavs[0], dtype="float32")
    x48 = soxr.resample(x, rate, 48000)
    s = r.stream(sample_rate=48000)
    out = [p for i in range(0, len(x48), 4800) for p in s.push(x48[i : i + 4800])] + s.flush()
    want = r.timeline(x48, sample_rate=48000)
    assert [(p.start_s, p.is_speech) for p in out] == [(p.start_s, p.is_speech) for p in want]
    assert all(p.is_speech and p.label in r.labels for p in out)


PACKAGE_MODELS = sorted((ROOT / "edgeser" / "models").glob("*.edgeser"))


@pytest.mark.parametrize("bundle", PACKAGE_MODELS, ids=[p.stem for p in PACKAGE_MODELS])
def test_bundled_models_recognise_their_own_training_speech(bundle, datasets_dir):
    """Every bundled EmoDB model was trained on all of EmoDB, so through the runtime (CLI, fresh
    process: openSMILE cannot share a process with TensorFlow) it must label most of a sample of
    those utterances right. Not a measure of generalisation: it catches a runtime feature path
    or normalisation that drifted from the one the model was trained with (that gives chance)."""
    import json
    import subprocess
    import sys

    from .support import subprocess_env

    wav = datasets_dir / "emodb" / "wav"
    if not wav.is_dir():
        pytest.skip(f"EmoDB is absent from {datasets_dir}")
    meta = ModelBundle.load(bundle).meta  # not a Recognizer: the opensmile extra may be absent
    # a speaker-calibrated model is used as it is meant to be: one calibration per speaker
    # (--same-speaker), over more of each speaker's clips; it is weaker on a speaker's first
    # clips, hence the lower bar (chance is 25%)
    calibrated = getattr(meta.features, "speaker_calibration", None) is not None
    files = sorted(wav.glob("*.wav"))[:: 5 if calibrated else 15]
    groups: dict[str, list[Path]] = {}
    for f in files:
        groups.setdefault(f.name[:2] if calibrated else "all", []).append(f)
    rows = []
    for group in groups.values():
        cmd = [sys.executable, "-m", "edgeser", "predict", "--json", "-m", str(bundle)]
        cmd += ["--same-speaker"] if calibrated else []
        proc = subprocess.run(
            [*cmd, *map(str, group)],
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=600,
        )
        if proc.returncode and "opensmile" in proc.stderr.lower() and "pip install" in proc.stderr:
            pytest.skip(f"{bundle.name} needs the opensmile extra")
        assert proc.returncode == 0, proc.stderr[-3000:]
        rows += [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert len(rows) == len(files)
    labels = set(meta.labels)  # a 4-class model is scored on its classes only
    rows = [r for r in rows if LETTER_TO_LABEL[Path(r["source"]).name[5]] in labels]
    right = sum(LETTER_TO_LABEL[Path(r["source"]).name[5]] == r["label"] for r in rows)
    bar = 0.7 if calibrated else 0.8
    assert len(rows) >= 15 and right >= bar * len(rows), f"{bundle.stem}: {right}/{len(rows)} right"
