"""Corpus loaders: list the utterances of a corpus folder as a user has it, labels from names.

Labels and speakers come from file and folder names only (a user's copy has no manifest).
A file whose name does not parse is reported by name and skipped, never relabelled; files that
cannot be decoded are caught later, at feature extraction.
"""

from __future__ import annotations

import csv
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgeser.errors import AudioDecodeError, AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
EMODB_EMOTIONS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}
CASIA_EMOTIONS = ("angry", "fear", "happy", "neutral", "sad", "surprise")
RAVDESS_EMOTIONS = {
    "01": "neutral",
    "02": "calm",
    "03": "happy",
    "04": "sad",
    "05": "angry",
    "06": "fearful",
    "07": "disgust",
    "08": "surprised",
}
EMOVO_EMOTIONS = {
    "dis": "disgust",
    "gio": "joy",
    "neu": "neutral",
    "pau": "fear",
    "rab": "anger",
    "sor": "surprise",
    "tri": "sadness",
}
TUREV_EMOTIONS = ("Angry", "Calm", "Happy", "Sad")
KOREAN_EMOTIONS = ("neutral", "happy", "angry", "sad")  # file numbers 1-100, 101-200, ...
NAMED_CORPORA = ("emodb", "casia", "ravdess", "emovo", "turev", "korean")
CORPORA = (*NAMED_CORPORA, "csv")
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")

# ---- one label map for every corpus --------------------------------------------------------
# Each corpus' own emotion names -> edgeser's names. The 4-class core is what all six corpora
# share; the extended set adds the classes some of them have. TurEV-DB has no neutral class:
# its "Calm" (sakin) recordings are the closest and stand in for neutral. RAVDESS "calm" is a
# class of its own (extended only); RAVDESS keeps its "neutral" for the core.
CORE_LABELS = ("anger", "happiness", "neutral", "sadness")
EXTENDED_LABELS = (*CORE_LABELS, "boredom", "calm", "disgust", "fear", "surprise")
CANONICAL = {
    "anger": "anger",
    "angry": "anger",
    "happiness": "happiness",
    "happy": "happiness",
    "joy": "happiness",
    "neutral": "neutral",
    "sadness": "sadness",
    "sad": "sadness",
    "boredom": "boredom",
    "calm": "calm",
    "disgust": "disgust",
    "fear": "fear",
    "fearful": "fear",
    "surprise": "surprise",
    "surprised": "surprise",
}
CORPUS_CANONICAL = {"turev": {"calm": "neutral"}}  # per-corpus exceptions to CANONICAL

# IEMOCAP (licensed, not in ../shared): train from a CSV manifest (`write_iemocap_manifest`
# writes one from the release's EmoEvaluation files) with `--labels iemocap4` or
# `--labels quadrant`. Label set "iemocap4" is the usual 4-class IEMOCAP convention: neutral,
# happiness = happiness + excited (merged), anger, sadness; every other category (frustration,
# surprise, fear, disgust, other, xxx = no agreement) is left out. Keys are IEMOCAP's
# EmoEvaluation codes and the spelled-out names manifests tend to use.
IEMOCAP_4CLASS = {
    "neu": "neutral",
    "neutral": "neutral",
    "hap": "happiness",
    "happy": "happiness",
    "happiness": "happiness",
    "exc": "happiness",
    "excited": "happiness",
    "excitement": "happiness",
    "ang": "anger",
    "angry": "anger",
    "anger": "anger",
    "sad": "sadness",
    "sadness": "sadness",
}
# Label set "quadrant": the valence/arousal quadrant of a category on Russell's circumplex,
# for any corpus (IEMOCAP codes included). Neutral has no quadrant of its own; as in the usual
# 4-quadrant convention it goes with calm (low arousal, non-negative valence). Categories not
# listed (other, xxx) are left out. IEMOCAP's dimensional ratings give the other convention
# (`quadrant_of_ratings`; `write_iemocap_manifest(label_from="ratings")`).
QUADRANT_LABELS = ("high_positive", "high_negative", "low_negative", "low_positive")
QUADRANTS = {
    **dict.fromkeys(("happiness", "hap", "exc", "excited", "surprise", "sur"), "high_positive"),
    **dict.fromkeys(("anger", "ang", "fear", "fea", "disgust", "dis"), "high_negative"),
    **dict.fromkeys(("fru", "frustration", "frustrated"), "high_negative"),
    **dict.fromkeys(("sadness", "sad", "boredom"), "low_negative"),
    **dict.fromkeys(("neutral", "neu", "calm"), "low_positive"),
    **{c: c for c in QUADRANT_LABELS},  # a manifest already in quadrants
}
LABEL_SETS = ("native", "core", "extended", "iemocap4", "quadrant")
# The class order of each mapped label set (classes no utterance has are dropped).
LABEL_SET_ORDER = {
    "core": CORE_LABELS,
    "extended": EXTENDED_LABELS,
    "iemocap4": CORE_LABELS,
    "quadrant": QUADRANT_LABELS,
}


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

    def subset(self, n_per_speaker_label: int) -> Corpus:
        """A small corpus with at most n files per (speaker, label): for tests and smoke runs."""
        counts: dict[tuple[str, str], int] = {}
        keep = []
        for u in self.utterances:
            k = (u.speaker, u.label)
            if counts.get(k, 0) < n_per_speaker_label:
                counts[k] = counts.get(k, 0) + 1
                keep.append(u)
        return Corpus(self.name, self.root, self.labels, tuple(keep), self.skipped)

    def relabel(self, label_set: str) -> Corpus:
        """The corpus in edgeser's label names: `native` keeps the corpus' own names; `core`
        keeps the utterances of the four shared classes, `extended` those of any class in
        EXTENDED_LABELS, `iemocap4` the IEMOCAP 4-class convention (IEMOCAP_4CLASS), `quadrant`
        the valence/arousal quadrants (QUADRANTS); others are left out, counted in the log, not
        reported as skipped."""
        if label_set == "native":
            return self
        if label_set not in LABEL_SETS:
            raise ValueError(f"unknown label set {label_set!r}; choose from {LABEL_SETS}")
        wanted = LABEL_SET_ORDER[label_set]
        names = {raw: mapped_label(self.name, raw, label_set) for raw in self.labels}
        keep = tuple(
            Utterance(u.path, u.key, names[u.label], u.speaker)
            for u in self.utterances
            if names[u.label] in wanted
        )
        if not keep:
            raise ValueError(f"{self.name}: no utterance has a label of the {label_set} set")
        left_out = len(self.utterances) - len(keep)
        if left_out:
            log.info(
                "%s: %d utterances outside the %s label set left out",
                self.name,
                left_out,
                label_set,
            )
        present = {u.label for u in keep}
        return Corpus(
            self.name, self.root, tuple(c for c in wanted if c in present), keep, self.skipped
        )


def canonical_label(corpus: str, raw: str) -> str:
    """edgeser's name for a corpus' emotion label (unknown names pass through lower-cased)."""
    low = raw.lower()
    return CORPUS_CANONICAL.get(corpus, {}).get(low) or CANONICAL.get(low, low)


def mapped_label(corpus: str, raw: str, label_set: str) -> str:
    """A corpus label in a mapped label set (core / extended / iemocap4 / quadrant); a name
    the set does not map comes back unchanged (and is then left out by `Corpus.relabel`)."""
    low = raw.strip().lower()
    if label_set == "iemocap4":
        return IEMOCAP_4CLASS.get(low, low)
    if label_set == "quadrant":
        return QUADRANTS.get(low) or QUADRANTS.get(canonical_label(corpus, raw), low)
    return canonical_label(corpus, raw)


def quadrant_of_ratings(valence: float, arousal: float, middle: float = 3.0) -> str:
    """The quadrant of dimensional ratings (IEMOCAP: 1-5, `middle` 3): high = arousal above
    the middle, positive = valence above it (a rating on the middle counts as low / negative)."""
    return (
        f"{'high' if arousal > middle else 'low'}_{'positive' if valence > middle else 'negative'}"
    )


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


def _audio_files(root: Path):
    for path in sorted(root.rglob("*")):
        if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file():
            yield path, path.relative_to(root)


def _named_corpus(name: str, what: str, root: Path, parse, labels: tuple[str, ...]) -> Corpus:
    """Walk `root`; `parse(rel_path)` gives (speaker, label) or raises ValueError (skipped)."""
    root = _require_dir(Path(root), what)
    utts, skipped = [], []
    for path, rel in _audio_files(root):
        try:
            speaker, label = parse(rel)
        except ValueError as exc:
            _skip(skipped, path, str(exc))
            continue
        utts.append(Utterance(path, rel.as_posix(), label, speaker))
    if not utts:
        raise FileNotFoundError(f"no {what} audio files found under {root}")
    return Corpus(name, root, labels, tuple(utts), tuple(skipped))


def parse_ravdess_name(rel: Path) -> tuple[str, str]:
    """`Actor_01/03-01-05-02-01-01-01.wav` -> ("01", "angry"): speech (modality 03 or 01 for
    audio-video copies, channel 01), emotion field 3, actor field 7."""
    parts = Path(rel).stem.split("-")
    if len(parts) != 7 or not all(p.isdigit() and len(p) == 2 for p in parts):
        raise ValueError(f"{rel}: not a RAVDESS name like 03-01-05-02-01-01-01")
    if parts[1] != "01":
        raise ValueError(f"{rel}: vocal channel {parts[1]} is song, not speech")
    if parts[2] not in RAVDESS_EMOTIONS:
        raise ValueError(f"{rel}: unknown RAVDESS emotion code {parts[2]}")
    return parts[6], RAVDESS_EMOTIONS[parts[2]]


def parse_emovo_name(rel: Path) -> tuple[str, str]:
    """`f1/rab-f1-b1.wav` -> ("f1", "anger")."""
    parts = Path(rel).stem.split("-")
    if len(parts) != 3 or parts[0].lower() not in EMOVO_EMOTIONS:
        raise ValueError(f"{rel}: not an EMOVO name like rab-f1-b1")
    return parts[1].lower(), EMOVO_EMOTIONS[parts[0].lower()]


def parse_turev_name(rel: Path) -> tuple[str, str]:
    """`Angry/1157_kz_acik.wav` -> ("1157", "Angry"): emotion folder, speaker id before `_`."""
    rel = Path(rel)
    if len(rel.parts) != 2 or rel.parts[0] not in TUREV_EMOTIONS:
        raise ValueError(f"{rel}: not laid out as <Angry|Calm|Happy|Sad>/<speaker>_<code>_<word>")
    speaker = rel.stem.split("_")[0]
    if not speaker.isdigit():
        raise ValueError(f"{rel}: no numeric speaker id before the first '_'")
    return speaker, rel.parts[0]


def parse_korean_name(rel: Path) -> tuple[str, str]:
    """`<group>/<speaker>/wav/<speaker><NNNNN>.wav` -> (speaker, emotion by number: 1-100
    neutral, 101-200 happy, 201-300 angry, 301-400 sad)."""
    rel = Path(rel)
    stem = rel.stem
    speaker, digits = stem[:-5], stem[-5:]
    if (
        len(rel.parts) != 4
        or rel.parts[2] != "wav"
        or not digits.isdigit()
        or speaker != rel.parts[1]
    ):
        raise ValueError(f"{rel}: not laid out as <group>/<speaker>/wav/<speaker><NNNNN>")
    number = int(digits)
    if not 1 <= number <= 400:
        raise ValueError(f"{rel}: file number {number} is outside 1-400")
    return speaker, KOREAN_EMOTIONS[(number - 1) // 100]


def load_ravdess(root: str | Path) -> Corpus:
    """RAVDESS speech: `Actor_NN/03-01-EE-II-SS-RR-NN.wav` (or .flac)."""
    return _named_corpus(
        "ravdess", "RAVDESS", root, parse_ravdess_name, tuple(sorted(RAVDESS_EMOTIONS.values()))
    )


def load_emovo(root: str | Path) -> Corpus:
    """EMOVO: `<speaker>/<emotion>-<speaker>-<sentence>.wav`."""
    return _named_corpus(
        "emovo", "EMOVO", root, parse_emovo_name, tuple(sorted(EMOVO_EMOTIONS.values()))
    )


def load_turev(root: str | Path) -> Corpus:
    """TurEV-DB: `<Emotion>/<speaker>_<code>_<word>.wav`."""
    return _named_corpus("turev", "TurEV-DB", root, parse_turev_name, TUREV_EMOTIONS)


def load_korean(root: str | Path) -> Corpus:
    """Korean emotional TTS sample: `<group>/<speaker>/wav/<speaker><NNNNN>.wav`."""
    return _named_corpus("korean", "Korean", root, parse_korean_name, KOREAN_EMOTIONS)


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
            raise ValueError(
                f"{csv_path}: missing column(s) {sorted(missing)}; expected path,label,speaker"
            )
        for line, row in enumerate(reader, start=2):
            rel, label, speaker = (
                (row["path"] or "").strip(),
                (row["label"] or "").strip(),
                (row["speaker"] or "").strip(),
            )
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


IEMOCAP_MANIFEST_COLUMNS = (
    "path",
    "label",
    "speaker",
    "session",
    "valence",
    "arousal",
    "dominance",
)


def read_iemocap_evaluations(root: str | Path) -> list[dict[str, str]]:
    """The utterance lines of IEMOCAP's `Session*/dialog/EmoEvaluation/*.txt` under `root`
    (the release folder): name, category code, valence, arousal, dominance, session, speaker
    (`Ses01F_impro01_M003` -> session Ses01, speaker Ses01M, the actor who speaks)."""
    root = _require_dir(Path(root), "IEMOCAP")
    rows = []
    for txt in sorted(root.glob("Session*/dialog/EmoEvaluation/*.txt")):
        for line in txt.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.strip().split("\t")
            if len(parts) < 4 or not parts[0].startswith("["):
                continue
            name, code, vad = parts[1].strip(), parts[2].strip(), parts[3].strip()
            try:
                v, a, d = (float(t) for t in vad.strip("[]").split(","))
            except ValueError:
                continue
            session, last = name[:5], name.rsplit("_", 1)[-1]
            rows.append(
                {
                    "name": name,
                    "dialog": name.rsplit("_", 1)[0],
                    "session_dir": txt.parents[2].name,
                    "label": code,
                    "valence": f"{v:g}",
                    "arousal": f"{a:g}",
                    "dominance": f"{d:g}",
                    "session": session,
                    "speaker": session + last[:1],
                }
            )
    if not rows:
        raise FileNotFoundError(f"no Session*/dialog/EmoEvaluation/*.txt lines under {root}")
    return rows


def write_iemocap_manifest(
    root: str | Path, csv_path: str | Path, label_from: str = "category", unit: str = "speaker"
) -> Path:
    """A CSV manifest (`load_csv_manifest`) of IEMOCAP's segmented utterances
    (`Session*/sentences/wav/<dialog>/<utterance>.wav`) with columns IEMOCAP_MANIFEST_COLUMNS.
    `label_from`: "category" writes the EmoEvaluation code (neu, hap, exc, ang, sad, fru, ...;
    train with `--labels iemocap4` or `--labels quadrant`), "ratings" the quadrant of the
    valence / arousal ratings (`quadrant_of_ratings`; train with `--labels native`). `unit`:
    "speaker" (Ses01F: LOSO = 10 folds) or "session" (Ses01: LOSO = leave one session out,
    the usual IEMOCAP protocol). Utterances whose wav file is missing are left out."""
    if label_from not in ("category", "ratings"):
        raise ValueError(f"label_from must be category or ratings, not {label_from!r}")
    if unit not in ("speaker", "session"):
        raise ValueError(f"unit must be speaker or session, not {unit!r}")
    root, csv_path = Path(root), Path(csv_path)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    n_missing = 0
    lines = []
    for r in read_iemocap_evaluations(root):
        wav = root / r["session_dir"] / "sentences" / "wav" / r["dialog"] / f"{r['name']}.wav"
        if not wav.is_file():
            n_missing += 1
            continue
        label = r["label"]
        if label_from == "ratings":
            label = quadrant_of_ratings(float(r["valence"]), float(r["arousal"]))
        rel = os.path.relpath(wav.resolve(), csv_path.parent.resolve())
        lines.append(
            [rel, label, r[unit], r["session"], r["valence"], r["arousal"], r["dominance"]]
        )
    if n_missing:
        log.warning("IEMOCAP: %d utterances without a wav file left out", n_missing)
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(IEMOCAP_MANIFEST_COLUMNS)
        w.writerows(lines)
    return csv_path


LOADERS = {
    "emodb": load_emodb,
    "casia": load_casia,
    "ravdess": load_ravdess,
    "emovo": load_emovo,
    "turev": load_turev,
    "korean": load_korean,
    "csv": load_csv_manifest,
}


def load_corpus(name: str, path: str | Path) -> Corpus:
    """Dispatch on the corpus name (see CORPORA; for csv, `path` is the CSV file)."""
    try:
        loader = LOADERS[name]
    except KeyError:
        raise ValueError(f"unknown corpus {name!r}; choose from {CORPORA}") from None
    return loader(path)


def parse_corpus_list(spec: str) -> tuple[str, ...]:
    """`"emodb,casia"` -> ("emodb", "casia"): named corpora, no repeats; ValueError otherwise."""
    names = tuple(n.strip() for n in str(spec).split(",") if n.strip())
    if not names:
        raise ValueError("no corpus named")
    bad = [n for n in names if n not in CORPORA]
    if bad:
        raise ValueError(f"unknown corpus {bad[0]!r}; choose from {CORPORA}")
    if len(set(names)) != len(names):
        raise ValueError(f"corpus list {spec!r} names a corpus twice")
    if len(names) > 1 and "csv" in names:
        raise ValueError("csv manifests cannot be combined with other corpora")
    return names


def corpus_path(names: tuple[str, ...], data: str | Path, name: str) -> Path:
    """Folder of corpus `name`: `data` itself for one corpus, `data/<name>` for several."""
    return Path(data) if len(names) == 1 else Path(data) / name


def read_audio(path: str | Path, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float32 samples at `sample_rate`, decoded and resampled by `edgeser.audio.load`, so
    training gets the runtime's checks (truncated files, size and duration limits) and numbers.

    Raises `AudioDecodeError` for any file that cannot be used (an unreadable file, or audio
    the runtime refuses: empty, too long, unsupported rate).
    """
    from edgeser import audio

    try:
        return audio.load(Path(path), target_rate=sample_rate).samples
    except AudioError as exc:
        raise AudioDecodeError(str(exc)) from None
