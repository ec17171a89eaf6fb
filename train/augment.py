"""Channel and level augmentation of training audio, and the same degradations for robustness
tests: gain, additive noise (real recordings, babble, coloured noise) at a chosen SNR,
reverberation with measured room impulse responses, an 8 kHz telephone round trip, speed and
VTLP.

Every random draw comes from a generator seeded by (seed, utterance key, copy index), so an
augmented copy is the same in every run and can be cached with the features. The noise and
impulse-response recordings are split once, deterministically, into a `train` part (used to
augment training audio) and a `test` part (used only by `benchmarks.robustness`), so a
robustness figure is measured with recordings the model never heard.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .corpora import SAMPLE_RATE, Corpus, Utterance, read_audio
from .shared_data import noise_dir

NOISE_KINDS = ("real", "babble", "coloured")
# T30 (1 kHz estimate, s) bins used to split the impulse responses evenly by room size
RT_BINS = (0.6, 1.5, 3.0)
HELD_OUT_EVERY = 4  # every 4th recording of a category (sorted by name) is test-only


def default_noise_dir() -> Path:
    """$EDGESER_NOISE, else ../shared/noise beside the project (`train.shared_data`)."""
    return noise_dir()


def _rng(seed: int, key: str, copy: int) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8")), copy])


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


# ---- the degradations ------------------------------------------------------------------------
def apply_gain(x: np.ndarray, gain_db: float) -> np.ndarray:
    return (x * np.float32(10.0 ** (gain_db / 20.0))).astype(np.float32)


def mix_at_snr(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """x + noise scaled so that power(x) / power(noise) = snr_db (noise looped or cut to x)."""
    if len(noise) == 0 or rms(noise) == 0.0 or rms(x) == 0.0:
        return x
    reps = -(-len(x) // len(noise))
    n = np.tile(noise, reps)[: len(x)].astype(np.float64)
    scale = rms(x) / (rms(n) * 10.0 ** (snr_db / 20.0))
    return (x + scale * n).astype(np.float32)


def coloured_noise(n: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Gaussian noise with power spectrum ~ 1/f**exponent (0 white, 1 pink, 2 brown)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = f[1] if n > 1 else 1.0
    spec *= f ** (-exponent / 2.0)
    out = np.fft.irfft(spec, n)
    return (out / max(rms(out), 1e-12)).astype(np.float32)


def reverberate(x: np.ndarray, rir: np.ndarray) -> np.ndarray:
    """x convolved with an impulse response, aligned on its direct path (strongest tap) and cut
    to the input length, at the input's RMS level."""
    rir = np.asarray(rir, np.float64)
    rir = rir[int(np.argmax(np.abs(rir))) :]
    n = len(x) + len(rir) - 1
    size = 1 << (n - 1).bit_length()
    y = np.fft.irfft(np.fft.rfft(x, size) * np.fft.rfft(rir, size), size)[: len(x)]
    level = rms(y)
    return (y * (rms(x) / level) if level > 0 else y).astype(np.float32)


def telephone(x: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """An 8 kHz round trip (soxr): everything above 4 kHz is gone, as on a narrowband call."""
    import soxr

    if sample_rate <= 8000:
        return x
    low = soxr.resample(x, sample_rate, 8000, quality="HQ")
    y = soxr.resample(low, 8000, sample_rate, quality="HQ")
    out = np.zeros(len(x), np.float32)
    out[: min(len(x), len(y))] = y[: len(x)]
    return out


def speed_perturb(x: np.ndarray, speed: float) -> np.ndarray:
    """The clip played `speed` times faster (tempo and pitch together, as in Kaldi's speed
    perturbation): resampled from SAMPLE_RATE * speed to SAMPLE_RATE with soxr."""
    if speed == 1.0:
        return x
    import soxr

    return np.ascontiguousarray(
        soxr.resample(x, SAMPLE_RATE * speed, SAMPLE_RATE, quality="HQ"), dtype=np.float32
    )


def active_span(x: np.ndarray, within_db: float = 30.0, frame: int = 160) -> tuple[int, int]:
    """(first, end) sample of the stretch whose 10 ms frames reach within `within_db` of the
    loudest frame: where the speech of an utterance is, leading and trailing silence left out."""
    n = len(x) // frame
    if n == 0:
        return 0, len(x)
    e = np.mean(np.square(x[: n * frame].reshape(n, frame), dtype=np.float64), axis=1)
    if e.max() <= 0.0:
        return 0, len(x)
    loud = np.flatnonzero(e >= e.max() * 10.0 ** (-within_db / 10.0))
    return int(loud[0]) * frame, min(len(x), (int(loud[-1]) + 1) * frame)


def crop(x: np.ndarray, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A `seconds` long excerpt of x that lies inside its active span where the span is long
    enough (else the span with as much context as fits): a short utterance, as users say."""
    n = int(round(seconds * SAMPLE_RATE))
    if n >= len(x):
        return x
    first, end = active_span(x)
    if end - first >= n:
        lo, hi = first, end - n
    else:  # centre the span, clipped to the signal
        lo = hi = min(max(0, (first + end - n) // 2), len(x) - n)
    start = int(rng.integers(lo, hi + 1))
    return x[start : start + n]


def avoid_clipping(x: np.ndarray, peak: float = 0.99) -> np.ndarray:
    m = float(np.max(np.abs(x))) if len(x) else 0.0
    return (x * (peak / m)).astype(np.float32) if m > peak else x


# ---- noise and impulse-response recordings ----------------------------------------------------
@dataclass(frozen=True)
class Recording:
    path: Path
    kind: str  # noise | rir
    category: str  # folder (noise) or T30 bin (rir)
    t30_s: float | None = None


def _t30(row: dict[str, str]) -> float | None:
    for col in ("T30_1k_est", "T30_est", "T20_1k_est", "T20_est"):
        try:
            return float(row.get(col) or "")
        except ValueError:
            continue
    return None


def _rt_bin(t30: float | None) -> str:
    if t30 is None:
        return "rt-unknown"
    for edge in RT_BINS:
        if t30 < edge:
            return f"rt<{edge:g}"
    return f"rt>={RT_BINS[-1]:g}"


def list_recordings(root: str | Path) -> list[Recording]:
    """Noise clips and impulse responses under `root` (its manifest.csv when present, for the
    kind and the T30 of each file; else every audio file, RIRs being those under a `rir`
    folder)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"noise folder not found: {root} (set EDGESER_NOISE or --noise-dir)"
        )
    out = []
    manifest = root / "manifest.csv"
    if manifest.is_file():
        with manifest.open(newline="", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                path = root / row["file"]
                if not path.is_file():
                    continue
                if row["kind"] == "rir":
                    t30 = _t30(row)
                    out.append(Recording(path, "rir", _rt_bin(t30), t30))
                else:
                    out.append(Recording(path, "noise", row.get("set") or path.parent.name))
    else:
        for path in sorted(root.rglob("*")):
            if path.suffix.lower() in (".wav", ".flac") and path.is_file():
                rel = path.relative_to(root)
                kind = "rir" if "rir" in rel.parts[:-1] else "noise"
                out.append(Recording(path, kind, rel.parts[0] if kind == "noise" else "rt-unknown"))
    return sorted(out, key=lambda r: str(r.path))


def split_recordings(recs: Sequence[Recording], split: str) -> list[Recording]:
    """The `train` or `test` part: within each (kind, category), sorted by path, every
    HELD_OUT_EVERY-th recording (index 3, 7, ...; or the only one of a 1-2 file category
    goes to train) is test-only."""
    if split not in ("train", "test", "all"):
        raise ValueError(f"split must be train, test or all, not {split!r}")
    if split == "all":
        return list(recs)
    groups: dict[tuple[str, str], list[Recording]] = {}
    for r in recs:
        groups.setdefault((r.kind, r.category), []).append(r)
    out = []
    for members in groups.values():
        members = sorted(members, key=lambda r: str(r.path))
        for i, r in enumerate(members):
            held_out = i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1
            if (split == "test") == held_out:
                out.append(r)
    return sorted(out, key=lambda r: str(r.path))


class NoiseBank:
    """The noise clips and impulse responses of one split, read once (16 kHz mono float32)."""

    def __init__(self, root: str | Path, split: str = "train"):
        recs = split_recordings(list_recordings(root), split)
        self.root, self.split = Path(root), split
        self.noises = [r for r in recs if r.kind == "noise"]
        self.rirs = [r for r in recs if r.kind == "rir"]
        self._audio: dict[Path, np.ndarray] = {}

    def audio(self, rec: Recording) -> np.ndarray:
        if rec.path not in self._audio:
            self._audio[rec.path] = read_audio(rec.path)
        return self._audio[rec.path]

    def fingerprint(self) -> list[str]:
        return [r.path.relative_to(self.root).as_posix() for r in self.noises + self.rirs]


def babble(
    corpus: Corpus, speaker: str, n: int, length: int, rng: np.random.Generator
) -> np.ndarray:
    """`n` utterances of other speakers of `corpus`, each at unit RMS, summed and looped to
    `length` samples."""
    others = [u for u in corpus.utterances if u.speaker != speaker]
    if not others:
        return np.zeros(0, np.float32)
    out = np.zeros(length, np.float64)
    for i in rng.choice(len(others), size=min(n, len(others)), replace=False):
        y = read_audio(others[int(i)].path)
        if rms(y) == 0.0:
            continue
        start = int(rng.integers(0, max(1, len(y) // 4)))
        y = np.tile(y[start:], -(-length // max(1, len(y) - start)))[:length]
        if rms(y) > 0.0:  # a short excerpt of leading digital silence adds nothing
            out += y / rms(y)
    return out.astype(np.float32)


# ---- the training augmentation ------------------------------------------------------------------
@dataclass(frozen=True)
class AugmentConfig:
    """How each augmented training copy is made. Per copy, independently: reverberation with
    probability `reverb_prob`, additive noise with `noise_prob` (kind drawn from `noise_kinds`,
    SNR uniform in `snr_db`), the telephone band with `telephone_prob`, VTLP (mel warp alpha
    uniform in `vtlp_alpha`) with `vtlp_prob`, and always a gain uniform in `gain_db` (then
    scaled down if it would clip). With `crop_prob` the copy is first cut to an excerpt of
    `crop_s` seconds (uniform) inside the utterance's active span: short utterances, which
    a model only trained on whole sentences sees as a padded window it never met."""

    copies: int = 0
    noise_prob: float = 0.7
    noise_kinds: tuple[str, ...] = NOISE_KINDS
    snr_db: tuple[float, float] = (0.0, 20.0)
    reverb_prob: float = 0.4
    telephone_prob: float = 0.2
    vtlp_prob: float = 0.3
    vtlp_alpha: tuple[float, float] = (0.9, 1.1)
    gain_db: tuple[float, float] = (-35.0, 6.0)
    babble_speakers: tuple[int, int] = (3, 6)
    crop_prob: float = 0.0
    crop_s: tuple[float, float] = (0.5, 1.5)
    noise_dir: str = ""  # "" = default_noise_dir()

    def __post_init__(self) -> None:
        def bad(name: str, why: str) -> ValueError:
            return ValueError(f"AugmentConfig.{name}={getattr(self, name)!r}: {why}")

        if isinstance(self.copies, bool) or not isinstance(self.copies, int) or self.copies < 0:
            raise bad("copies", "must be a non-negative integer")
        for name in ("noise_prob", "reverb_prob", "telephone_prob", "vtlp_prob", "crop_prob"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0.0 <= v <= 1.0:
                raise bad(name, "must be a probability in [0, 1]")
        for name in ("snr_db", "vtlp_alpha", "gain_db", "babble_speakers", "crop_s"):
            v = tuple(getattr(self, name))
            if (
                len(v) != 2
                or not all(isinstance(a, (int, float)) and math.isfinite(a) for a in v)
                or v[0] > v[1]
            ):
                raise bad(name, "must be a (low, high) pair of finite numbers, low <= high")
            object.__setattr__(self, name, v)
        kinds = tuple(self.noise_kinds)
        if not kinds or any(k not in NOISE_KINDS for k in kinds):
            raise bad("noise_kinds", f"must be a non-empty subset of {NOISE_KINDS}")
        object.__setattr__(self, "noise_kinds", kinds)
        if not (0.5 <= self.vtlp_alpha[0] and self.vtlp_alpha[1] <= 2.0):
            raise bad("vtlp_alpha", "must lie in [0.5, 2.0]")
        if self.babble_speakers[0] < 1:
            raise bad("babble_speakers", "must be at least 1")
        if not 0.1 <= self.crop_s[0]:
            raise bad("crop_s", "excerpts must last at least 0.1 s")
        if self.gain_db[1] > 20.0:
            raise bad("gain_db", "more than +20 dB would clip nearly everything")

    @property
    def noise_root(self) -> Path:
        return Path(self.noise_dir) if self.noise_dir else default_noise_dir()

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AugmentConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown AugmentConfig fields: {unknown}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


@dataclass(frozen=True)
class Perturbation:
    """One kind of training copy: speed `speed` (when not 1), augmented copy number `copy` of
    `augment` with `seed`, or VTLP copy number `copy` (`vtlp`: the (low, high) range of its
    per-utterance warp factor) with `seed`. `tag` names it in cache files; `settings` enter the
    cache key."""

    speed: float = 1.0
    augment: AugmentConfig | None = None
    copy: int = -1
    seed: int = 0
    vtlp: tuple[float, float] | None = None

    @property
    def tag(self) -> str:
        if self.augment is not None:
            return f"aug{self.copy}-s{self.seed}"
        if self.vtlp is not None:
            return f"vtlp{self.copy}-s{self.seed}"
        return "" if self.speed == 1.0 else f"speed{self.speed:g}"

    def settings(self, bank: NoiseBank | None = None) -> dict[str, Any]:
        if self.vtlp is not None:
            return {"vtlp": {"alpha": list(self.vtlp), "copy": self.copy, "seed": self.seed}}
        if self.augment is None:
            return {} if self.speed == 1.0 else {"speed": self.speed}
        d = {k: v for k, v in self.augment.to_dict().items() if k not in ("copies", "noise_dir")}
        if not self.augment.crop_prob:  # keeps the cache keys of copies made before cropping
            del d["crop_prob"], d["crop_s"]
        d.update(
            copy=self.copy,
            seed=self.seed,
            recordings=bank.fingerprint() if bank is not None else [],
        )
        return {"augment": d}


class Augmenter:
    """Applies a `Perturbation` to the audio of the utterances of one corpus."""

    def __init__(self, perturbation: Perturbation, corpus: Corpus, bank: NoiseBank | None):
        self.p, self.corpus, self.bank = perturbation, corpus, bank
        if perturbation.augment is not None and bank is None:
            raise ValueError("augmented copies need a NoiseBank")

    def __call__(self, x: np.ndarray, utt: Utterance) -> tuple[np.ndarray, float]:
        """(perturbed samples, VTLP alpha for the front end: 1.0 = none)."""
        p = self.p
        if p.vtlp is not None:  # the audio as it is; the front end warps its mel filters
            rng = _rng(p.seed, f"vtlp/{self.corpus.name}/{utt.key}", p.copy)
            return x, float(rng.uniform(*p.vtlp))
        if p.augment is None:
            return speed_perturb(x, p.speed), 1.0
        a, bank = p.augment, self.bank
        rng = _rng(p.seed, f"{self.corpus.name}/{utt.key}", p.copy)
        # draw every decision up front so each one is the same whatever the others are
        do_reverb, do_noise, do_phone, do_vtlp = (
            rng.random() < q for q in (a.reverb_prob, a.noise_prob, a.telephone_prob, a.vtlp_prob)
        )
        kind = a.noise_kinds[int(rng.integers(len(a.noise_kinds)))]
        snr = float(rng.uniform(*a.snr_db))
        gain = float(rng.uniform(*a.gain_db))
        alpha = float(rng.uniform(*a.vtlp_alpha)) if do_vtlp else 1.0
        if a.crop_prob:  # no draw at all at 0: copies made before cropping existed stay the same
            if rng.random() < a.crop_prob:
                x = crop(x, float(rng.uniform(*a.crop_s)), rng)
        if do_reverb and bank.rirs:
            x = reverberate(x, bank.audio(bank.rirs[int(rng.integers(len(bank.rirs)))]))
        if do_noise:
            x = mix_at_snr(x, self.noise(kind, len(x), utt.speaker, rng), snr)
        if do_phone:
            x = telephone(x)
        return avoid_clipping(apply_gain(x, gain)), alpha

    def noise(self, kind: str, length: int, speaker: str, rng: np.random.Generator) -> np.ndarray:
        a, bank = self.p.augment, self.bank
        if kind == "real" and bank.noises:
            clip = bank.audio(bank.noises[int(rng.integers(len(bank.noises)))])
            start = int(rng.integers(0, max(1, len(clip) - length)))
            return clip[start : start + length]
        if kind == "babble":
            lo, hi = a.babble_speakers
            return babble(self.corpus, speaker, int(rng.integers(lo, hi + 1)), length, rng)
        return coloured_noise(length, float(rng.choice([0.0, 1.0, 2.0])), rng)


def augment_perturbations(augment: AugmentConfig, seed: int) -> list[Perturbation]:
    return [Perturbation(augment=augment, copy=i, seed=seed) for i in range(augment.copies)]


# ---- VTLP class balancing ---------------------------------------------------------------------
def vtlp_perturbations(alpha: tuple[float, float], copies: int, seed: int) -> list[Perturbation]:
    """`copies` VTLP copies; copy j of an utterance is warped by its own factor, uniform in
    `alpha` (drawn from (seed, utterance key, j))."""
    return [Perturbation(vtlp=tuple(alpha), copy=j, seed=seed) for j in range(copies)]


def vtlp_copies_needed(y: np.ndarray, margin: int = 1) -> int:
    """Copies per utterance that bring every class of `y` up to its largest class, plus
    `margin` so that a training part with a smaller minority class than the whole corpus
    (a fold's test speaker removed) still has enough."""
    counts = np.bincount(np.asarray(y))
    counts = counts[counts > 0]
    if len(counts) == 0:
        return 0
    return int(max(-(-counts.max() // c) - 1 for c in counts)) + margin


def balance_picks(y: np.ndarray, copies: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Which utterances (positions into `y`) each of `copies` balancing copies contributes,
    so that every class present reaches the count of the largest one: a class short of it by
    d takes copy 0 of its utterances (in a random order), then copy 1, ..., until d copies are
    taken. Returns one ascending position array per copy; a class that would need more than
    `copies` copies of each utterance gets all of them (and stays short)."""
    y = np.asarray(y)
    picks: list[list[int]] = [[] for _ in range(copies)]
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) == 0:
        return [np.zeros(0, np.int64) for _ in range(copies)]
    top = counts.max()
    for c, n in zip(classes, counts):
        order = rng.permutation(np.flatnonzero(y == c))
        need = min(int(top - n), copies * int(n))
        for i in range(need):
            picks[i // int(n)].append(int(order[i % int(n)]))
    return [np.array(sorted(p), dtype=np.int64) for p in picks]
