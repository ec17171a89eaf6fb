"""Corpus loaders: list the utterances of a corpus folder as a user has it, labels from names.

Labels and speakers come from file and folder names only (a user's copy has no manifest).
A file whose name does not parse is reported by name and skipped, never relabelled; files that
cannot be decoded are caught later, at feature extraction.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeser.errors import AudioDecodeError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
EMODB_EMOTIONS = {"W": "anger", "L": "boredom", "E": "disgust", "A": "fear",
                  "F": "happiness", "T": "sadness", "N": "neutral"}
CASIA_EMOTIONS = ("angry", "fear", "happy", "neutral", "sad", "surprise")
CORPORA = ("emodb", "casia", "csv")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


@dataclass(frozen=True)
class Utterance:
    """One labelled recording; `key` is its path relative to the corpus root (stable id)."""

    path: Path
    key: str
    label: str
    speaker: str


@dataclass(frozen=True)
class Corpus:
    """The utterances of a corpus, its label set (fixed order) and the files it skipped."""

    name: str
    root: Path
    labels: tuple[str, ...]
    utterances: tuple[Utterance, ...]
    skipped: tuple[tuple[str, str], ...] = ()  # (file, reason)

    @property
    def speakers(self) -> tuple[str, ...]:
        return tuple(sorted({u.speaker for u in self.utterances}))

    def label_ids(self) -> np.ndarray:
        index = {name: i for i, name in enumerate(self.labels)}
        return np.array([index[u.label] for u in self.utterances], dtype=np.int64)

    def subset(self, n_per_speaker_label: int) -> "Corpus":
        """A small corpus with at most n files per (speaker, label): for tests and smoke runs."""
        counts: dict[tuple[str, str], int] = {}
        keep = []
        for u in self.utterances:
            k = (u.speaker, u.label)
            if counts.get(k, 0) < n_per_speaker_label:
                counts[k] = counts.get(k, 0) + 1
                keep.append(u)
        return Corpus(self.name, self.root, self.labels, tuple(keep), self.skipped)


def _skip(skipped: list, path: Path, why: str) -> None:
    log.warning("skipping %s: %s", path, why)
    skipped.append((str(path), why))


def _require_dir(root: Path, what: str) -> Path:
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{what} corpus folder not found: {root}")
    return root


def parse_emodb_name(name: str) -> tuple[str, str]:
    """`03a01Fa.wav` -> ("03", "happiness"); ValueError naming the file when it does not parse."""
    stem = Path(name).stem
    if len(stem) != 7 or not stem[:2].isdigit():
        raise ValueError(f"{name}: not an EmoDB name like 03a01Fa.wav")
    letter = stem[5]
    if letter not in EMODB_EMOTIONS:
        raise ValueError(f"{name}: unknown EmoDB emotion letter {letter!r} at index 5")
    return stem[:2], EMODB_EMOTIONS[letter]


def load_emodb(root: str | Path) -> Corpus:
    """EmoDB: `wav/03a01Fa.wav` (or the wav files directly in `root`)."""
    root = _require_dir(Path(root), "EmoDB")
    folder = root / "wav" if (root / "wav").is_dir() else root
    utts, skipped = [], []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in AUDIO_SUFFIXES:
            continue
        try:
            speaker, label = parse_emodb_name(path.name)
        except ValueError as exc:
            _skip(skipped, path, str(exc))
            continue
        utts.append(Utterance(path, path.relative_to(root).as_posix(), label, speaker))
    if not utts:
        raise FileNotFoundError(f"no EmoDB wav files found under {folder}")
    labels = tuple(sorted(EMODB_EMOTIONS.values()))
    return Corpus("emodb", root, labels, tuple(utts), tuple(skipped))


def load_casia(root: str | Path) -> Corpus:
    """CASIA: `<speaker>/<emotion>/<n>.wav` with the six CASIA emotion folder names."""
    root = _require_dir(Path(root), "CASIA")
    utts, skipped = [], []
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() not in AUDIO_SUFFIXES or not path.is_file():
            continue
        rel = path.relative_to(root)
        if len(rel.parts) != 3:
            _skip(skipped, path, "not laid out as <speaker>/<emotion>/<n>.wav")
            continue
        speaker, emotion = rel.parts[0], rel.parts[1]
        if emotion not in CASIA_EMOTIONS:
            _skip(skipped, path, f"unknown CASIA emotion folder {emotion!r}")
            continue
        utts.append(Utterance(path, rel.as_posix(), emotion, speaker))
    if not utts:
        raise FileNotFoundError(f"no CASIA wav files found under {root}")
    return Corpus("casia", root, CASIA_EMOTIONS, tuple(utts), tuple(skipped))


def load_csv_manifest(csv_path: str | Path) -> Corpus:
    """Generic corpus: a CSV with columns `path,label,speaker` (paths relative to the CSV)."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"manifest CSV not found: {csv_path}")
    root = csv_path.parent
    utts, skipped = [], []
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"path", "label", "speaker"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{csv_path}: missing column(s) {sorted(missing)}; "
                             "expected path,label,speaker")
        for line, row in enumerate(reader, start=2):
            rel, label, speaker = (row["path"] or "").strip(), (row["label"] or "").strip(), \
                (row["speaker"] or "").strip()
            path = root / rel
            if not rel or not label or not speaker:
                _skip(skipped, path, f"{csv_path.name} line {line}: empty path, label or speaker")
            elif not path.is_file():
                _skip(skipped, path, f"{csv_path.name} line {line}: file does not exist")
            else:
                utts.append(Utterance(path, Path(rel).as_posix(), label, speaker))
    if not utts:
        raise ValueError(f"{csv_path}: no usable rows")
    labels = tuple(sorted({u.label for u in utts}))
    return Corpus(csv_path.stem, root, labels, tuple(utts), tuple(skipped))


def load_corpus(name: str, path: str | Path) -> Corpus:
    """Dispatch on the corpus name: emodb | casia | csv (then `path` is the CSV file)."""
    if name == "emodb":
        return load_emodb(path)
    if name == "casia":
        return load_casia(path)
    if name == "csv":
        return load_csv_manifest(path)
    raise ValueError(f"unknown corpus {name!r}; choose from {CORPORA}")


def read_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples at `sample_rate`, resampled with soxr (high quality) when needed."""
    import soundfile as sf
    import soxr

    try:
        x, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises several types for bad files
        raise AudioDecodeError(f"{path}: cannot decode audio ({exc})") from None
    if x.shape[0] == 0:
        raise AudioDecodeError(f"{path}: no samples")
    x = x.mean(axis=1)
    if sr != sample_rate:
        x = soxr.resample(x, sr, sample_rate, quality="HQ")
    return np.ascontiguousarray(x, dtype=np.float32)
