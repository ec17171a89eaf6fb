"""Training the learned voice gate: is half a second of audio speech, or noise, music, tones?

The loudness gate (`edgeser.vad.VoiceGate`) keeps anything loud enough that moves like speech,
so steady noise is rejected but clicks, music, sirens and tones are not. The learned gate is a
tiny 2-class CNN (`train.models.speech_gate`) over 50-frame log-mel windows, each normalised by
its own mean (the gate does not see the level; the loudness gate handles silence):

- speech: the loud windows of utterances of the six corpora (a fifth of each corpus'
  speakers, at least one, is held out for testing: `held_out_speakers`), clean and as copies
  at a random gain with real noise or coloured noise at 5-25 dB SNR, or reverberation;
- non-speech: windows of the noise recordings' train split (`train.augment.NoiseBank`) and of
  synthetic signals (white / pink / brown noise, tones, tone sequences, chirps, clicks, mains
  hum, square waves, amplitude-modulated noise), at random levels.

`python -m train speech-gate --out runs/speech-gate` trains it, reports window-level accuracy
on the held-out speakers and noise test split, and writes `speech-gate-int8.edgeser` (and the
float32 one); `--install-to edgeser/models/detectors` ships it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edgeser.frontend import FrontendConfig
from edgeser.frontend import features as frontend_features
from edgeser.vad import frame_energy_db
from edgeser.windows import feature_windows, window_starts

from . import augment as aug
from .corpora import NAMED_CORPORA, SAMPLE_RATE, load_corpus, read_audio
from .shared_data import datasets_dir, noise_dir

log = logging.getLogger(__name__)

GATE_LABELS = ("non_speech", "speech")
# gate sizes compared on the validation recordings (`GateData.validation_mask`)
CANDIDATES = (
    {"filters": (8, 16), "dense": 16},
    {"filters": (16, 32), "dense": 32},
    {"filters": (16, 32, 32), "dense": 32},
)
WINDOW, HOP = 50, 25  # 0.5 s windows every 0.25 s at 10 ms frames
KIND = "log_mel"
SYNTHETIC_KINDS = (
    "white",
    "pink",
    "brown",
    "tone",
    "tones",
    "chirp",
    "clicks",
    "hum",
    "square",
    "am_noise",
)


@dataclass(frozen=True)
class GateConfig:
    """Sizes of the gate's training set and of its training."""

    utterances_per_corpus: int = 160
    speech_copies: int = 2  # perturbed copies per utterance beside the clean one
    noise_windows_per_recording: int = 120
    noise_copies: int = 8  # perturbed copies of every training noise recording (speed, room, band)
    synthetic_clips_per_kind: int = 100
    test_every: int = 5  # 1 in test_every speakers of each corpus is held out
    epochs: int = 15
    batch_size: int = 128
    seed: int = 0

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            low = 0 if f.name in ("seed", "noise_copies") else 1
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise ValueError(f"GateConfig.{f.name}={v!r}: must be an integer >= {low}")


def held_out_speakers(corpus: str, speakers, every: int) -> set[str]:
    """The speakers of the gate's test part: the 1/`every` of each corpus (at least one) with
    the smallest crc32 of their name (stable across runs and machines)."""
    ranked = sorted(set(speakers), key=lambda s: zlib.crc32(f"{corpus}/{s}".encode()))
    return set(ranked[: max(1, len(ranked) // every)])


def synthetic(kind: str, seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A non-speech signal of `kind` at unit RMS (the caller sets the level)."""
    n = int(round(seconds * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    if kind == "white":
        x = rng.standard_normal(n)
    elif kind in ("pink", "brown"):
        x = aug.coloured_noise(n, 1.0 if kind == "pink" else 2.0, rng)
    elif kind == "tone":
        x = np.sin(2 * np.pi * rng.uniform(80, 4000) * t + rng.uniform(0, 6.3))
    elif kind == "tones":  # a melody: notes of 0.1-0.5 s with a few harmonics
        x = np.zeros(n)
        pos = 0
        while pos < n:
            m = min(n - pos, int(rng.uniform(0.1, 0.5) * SAMPLE_RATE))
            f = 110 * 2 ** (rng.integers(0, 36) / 12)
            tt = np.arange(m) / SAMPLE_RATE
            note = sum(np.sin(2 * np.pi * k * f * tt) / k for k in range(1, 5))
            x[pos : pos + m] = note * np.exp(-tt * rng.uniform(0, 6))
            pos += m
    elif kind == "chirp":
        f0, f1 = rng.uniform(100, 1000), rng.uniform(1000, 7000)
        x = np.sin(2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * seconds)))
    elif kind == "clicks":
        x = np.zeros(n)
        rate = rng.uniform(2, 40)
        for pos in np.cumsum(rng.exponential(SAMPLE_RATE / rate, size=int(rate * seconds) + 2)):
            if int(pos) < n - 40:
                x[int(pos) : int(pos) + 40] += rng.standard_normal(40) * np.hanning(40)
    elif kind == "hum":
        f = 50.0 if rng.random() < 0.5 else 60.0
        x = sum(np.sin(2 * np.pi * k * f * t) / k for k in range(1, 8))
    elif kind == "square":
        x = np.sign(np.sin(2 * np.pi * rng.uniform(50, 2000) * t))
    elif kind == "am_noise":  # noise whose level moves at a syllable-like rate
        x = rng.standard_normal(n) * (0.1 + np.sin(2 * np.pi * rng.uniform(2, 8) * t) ** 2)
    else:
        raise ValueError(f"unknown synthetic kind {kind!r}; choose from {SYNTHETIC_KINDS}")
    x = np.asarray(x, dtype=np.float64)
    return (x / max(aug.rms(x), 1e-12)).astype(np.float32)


def loud_window_starts(x: np.ndarray, frames: int, within_db: float = 20.0) -> list[int]:
    """Starts of the windows of `x` whose loud frames are within `within_db` of the clip's
    loudest (the words, not the silence around them)."""
    energy = frame_energy_db(x, 400, 160)[:frames]
    if energy.size == 0:
        return []
    top = float(np.percentile(energy, 95))
    starts = window_starts(frames, WINDOW, HOP)
    return [s for s in starts if np.percentile(energy[s : s + WINDOW], 90) >= top - within_db]


class GateData:
    """Gate windows [n, WINDOW, dim] (raw log-mel) with labels, collected clip by clip."""

    def __init__(self) -> None:
        self.windows: list[np.ndarray] = []
        self.labels: list[int] = []
        self.groups: list[str] = []  # what each window came from (a corpus, a noise set, ...)
        self.clips: list[str] = []  # the recording it was cut from (validation split unit)

    def add(self, feats: np.ndarray, starts: list[int], label: int, group: str, clip: str) -> None:
        for s in starts:
            w = feats[s : s + WINDOW]
            if w.shape[0] == WINDOW:
                self.windows.append(w)
                self.labels.append(label)
                self.groups.append(group)
                self.clips.append(clip)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.asarray(self.windows, np.float32),
            np.asarray(self.labels, np.int64),
            np.asarray(self.groups),
        )

    def validation_mask(self, every: int = 7) -> np.ndarray:
        """Windows of every `every`-th recording (by crc32 of its id): the validation part the
        gate's architecture is chosen on, inside the training data."""
        return np.array([zlib.crc32(c.encode()) % every == 0 for c in self.clips], bool)


def collect(cfg: GateConfig, datasets: Path, noise: Path, frontend: FrontendConfig):
    """(train, test) GateData: speakers and noise recordings never shared between them."""
    rng = np.random.default_rng(cfg.seed)
    data = {"train": GateData(), "test": GateData()}
    banks = {"train": aug.NoiseBank(noise, "train"), "test": aug.NoiseBank(noise, "test")}

    def feats(x: np.ndarray) -> np.ndarray:
        return frontend_features(x, frontend, KIND)

    for name in NAMED_CORPORA:
        corpus = load_corpus(name, datasets / name)
        utts = list(corpus.utterances)
        test_speakers = held_out_speakers(name, [u.speaker for u in utts], cfg.test_every)
        order = rng.permutation(len(utts))
        picked = {"train": 0, "test": 0}
        for i in order:
            u = utts[int(i)]
            part = "test" if u.speaker in test_speakers else "train"
            if picked[part] >= cfg.utterances_per_corpus:
                continue
            picked[part] += 1
            x = read_audio(u.path)
            clean = feats(x)
            starts = loud_window_starts(x, clean.shape[0])
            data[part].add(clean, starts, 1, name, f"{name}/{u.key}")
            for _ in range(cfg.speech_copies):
                y = perturb_speech(x, rng, banks[part])
                data[part].add(feats(y), starts, 1, name + "+noise", f"{name}/{u.key}")
        log.info("speech windows from %s: %s", name, picked)
    for part, bank in banks.items():
        for rec in bank.noises:
            y = bank.audio(rec)
            if len(y) < WINDOW * 160 + 400:
                continue
            f = feats(aug.apply_gain(y, rng.uniform(-30, 10)))
            starts = window_starts(f.shape[0], WINDOW, HOP)
            take = rng.choice(len(starts), min(len(starts), cfg.noise_windows_per_recording), False)
            data[part].add(
                f, [starts[int(k)] for k in take], 0, f"noise:{rec.category}", str(rec.path)
            )
            for c in range(cfg.noise_copies if part == "train" else 0):
                # own generator: the windows above stay those of a gate trained without copies
                crng = np.random.default_rng([cfg.seed, zlib.crc32(str(rec.path).encode()), c])
                f = feats(perturb_noise(y, crng, bank))
                starts = window_starts(f.shape[0], WINDOW, HOP)
                take = crng.choice(
                    len(starts), min(len(starts), cfg.noise_windows_per_recording), False
                )
                group = f"noise:{rec.category}+copy"
                data[part].add(f, [starts[int(k)] for k in take], 0, group, str(rec.path))
        for kind in SYNTHETIC_KINDS:
            for k in range(cfg.synthetic_clips_per_kind // (1 if part == "train" else 2)):
                level = 10 ** (rng.uniform(-60, -10) / 20)
                y = level * synthetic(kind, rng.uniform(0.6, 2.0), rng)
                f = feats(y)
                data[part].add(
                    f, window_starts(f.shape[0], WINDOW, HOP), 0, f"synthetic:{kind}", f"{kind}#{k}"
                )
    return data["train"], data["test"]


def perturb_speech(x: np.ndarray, rng: np.random.Generator, bank: aug.NoiseBank) -> np.ndarray:
    """Speech at a random gain, with noise at 5-25 dB SNR (real or coloured) or reverberation,
    then through the telephone band with probability 0.2: phone speech is speech, and the
    noise copies (`perturb_noise`) are band-limited too, so the band must not tell them apart."""
    y = _perturb_speech_channel(x, rng, bank)
    return aug.avoid_clipping(aug.telephone(y)) if rng.random() < 0.2 else y


def _perturb_speech_channel(
    x: np.ndarray, rng: np.random.Generator, bank: aug.NoiseBank
) -> np.ndarray:
    y = aug.apply_gain(x, rng.uniform(-30, 6))
    r = rng.random()
    if r < 0.6 and bank.noises:
        rec = bank.noises[int(rng.integers(len(bank.noises)))]
        n = bank.audio(rec)
        if len(n) >= len(y):
            start = int(rng.integers(0, len(n) - len(y) + 1))
            return aug.avoid_clipping(
                aug.mix_at_snr(y, n[start : start + len(y)], rng.uniform(5, 25))
            )
    if r < 0.8:
        n = aug.coloured_noise(len(y), rng.uniform(0, 2), rng)
        return aug.avoid_clipping(aug.mix_at_snr(y, n, rng.uniform(5, 25)))
    if bank.rirs:
        rir = bank.audio(bank.rirs[int(rng.integers(len(bank.rirs)))])
        return aug.avoid_clipping(aug.reverberate(y, rir))
    return y


def perturb_noise(y: np.ndarray, rng: np.random.Generator, bank: aug.NoiseBank) -> np.ndarray:
    """A non-speech recording as another one of its kind could sound: played 0.8-1.25x as
    fast (a bigger dog, another horn: pitch and timing move together), in a room (0.3), through
    the telephone band (0.2), at -30..+10 dB. A handful of recordings per kind is all the
    training data has; the gate must not learn those few pitches as 'the' non-speech."""
    speed, do_room, do_phone = rng.uniform(0.8, 1.25), rng.random() < 0.3, rng.random() < 0.2
    gain = rng.uniform(-30, 10)
    x = aug.speed_perturb(y, float(speed))
    if do_room and bank.rirs:
        x = aug.reverberate(x, bank.audio(bank.rirs[int(rng.integers(len(bank.rirs)))]))
    if do_phone:
        x = aug.telephone(x)
    return aug.avoid_clipping(aug.apply_gain(x, float(gain)))


def normalised_windows(windows: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """What the runtime feeds the gate: (raw - mean) / std, then each window minus its mean."""
    z = ((windows - mean) / std).astype(np.float32)
    return np.concatenate([feature_windows(w, WINDOW, WINDOW, "mean") for w in z])


def window_scores(y: np.ndarray, probs: np.ndarray, groups: np.ndarray) -> dict[str, Any]:
    """Window-level accuracy per class and per source group at the 0.5 threshold."""
    pred = (probs[:, 1] >= 0.5).astype(np.int64)
    out: dict[str, Any] = {
        "speech_kept": float(np.mean(pred[y == 1] == 1)) if np.any(y == 1) else None,
        "non_speech_rejected": float(np.mean(pred[y == 0] == 0)) if np.any(y == 0) else None,
        "n_speech": int(np.sum(y == 1)),
        "n_non_speech": int(np.sum(y == 0)),
        "by_group": {},
    }
    for g in sorted(set(groups.tolist())):
        m = groups == g
        out["by_group"][g] = {"n": int(m.sum()), "correct": float(np.mean(pred[m] == y[m]))}
    return out


def train_gate(
    out: Path,
    cfg: GateConfig = GateConfig(),
    datasets: Path | None = None,
    noise: Path | None = None,
    name: str = "speech-gate",
) -> dict[str, Path]:
    """Collect, train, evaluate on the held-out part, export int8 + float32 bundles."""
    import keras

    from .data import Normaliser
    from .export import convert_model, make_bundle
    from .features import FeatureChoice
    from .models import ModelSpec
    from .report import git_commit, write_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    frontend = FrontendConfig()
    train, test = collect(cfg, datasets or datasets_dir(), noise or noise_dir(), frontend)
    xw, y, _ = train.arrays()
    tw, ty, tg = test.arrays()
    norm = Normaliser.fit([w for w in xw])
    x = normalised_windows(xw, norm.mean, norm.std)
    xt = normalised_windows(tw, norm.mean, norm.std)
    val = train.validation_mask()
    counts = np.bincount(y, minlength=2)
    groups = np.asarray(train.groups)
    selection = []
    best = None
    for hparams in CANDIDATES:  # chosen on the validation recordings, never on the test part
        keras.utils.set_random_seed(cfg.seed)
        spec = ModelSpec("speech_gate", (WINDOW, x.shape[-1]), len(GATE_LABELS), dict(hparams))
        model = spec.build()
        model.compile(
            optimizer=keras.optimizers.Adam(2e-3),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        fit_y = y[~val]
        c = np.bincount(fit_y, minlength=2)
        weights = (len(fit_y) / (2.0 * np.maximum(c, 1)))[fit_y]  # both classes weigh the same
        model.fit(
            x[~val],
            fit_y,
            sample_weight=weights,
            epochs=cfg.epochs,
            batch_size=cfg.batch_size,
            shuffle=True,
            verbose=0,
        )
        pv = model.predict(x[val], verbose=0)
        s = window_scores(y[val], pv, groups[val])
        balanced = (s["speech_kept"] + s["non_speech_rejected"]) / 2
        orig = ~np.char.endswith(groups[val].astype(str), "+copy")  # as without noise copies
        so = window_scores(y[val][orig], pv[orig], groups[val][orig])
        selection.append(
            {
                "hparams": dict(hparams),
                "validation_balanced_accuracy": balanced,
                "speech_kept": s["speech_kept"],
                "non_speech_rejected": s["non_speech_rejected"],
                "original_windows": {
                    "balanced_accuracy": (so["speech_kept"] + so["non_speech_rejected"]) / 2,
                    "speech_kept": so["speech_kept"],
                    "non_speech_rejected": so["non_speech_rejected"],
                },
            }
        )
        log.info("gate %s: validation balanced accuracy %.4f", hparams, balanced)
        if best is None or balanced > best[0]:
            best = (balanced, spec, model)
    assert best is not None
    _, spec, model = best
    weights_path = out / "model.weights.h5"
    model.save_weights(weights_path)
    float_scores = window_scores(ty, model.predict(xt, verbose=0), tg)
    rng = np.random.default_rng(cfg.seed)
    rep = x[rng.choice(len(x), min(len(x), 256), replace=False)]
    training = {
        "corpus": ",".join(NAMED_CORPORA) + " + noise (train split) + synthetic",
        "labels": "non_speech, speech",
        "model": spec.name,
        "trained_on": f"{int(counts[1])} speech and {int(counts[0])} non-speech windows",
        "epochs": cfg.epochs,
        "seed": cfg.seed,
        "gate": dataclasses.asdict(cfg),
        "selection": selection,
        "hparams": dict(spec.hparams),
        "git_commit": git_commit(),
        "protocol": "held-out speakers (a fifth of each corpus) and the noise test split",
        "window_scores": {"float": float_scores},
    }
    paths = {}
    for quant in ("int8", "float32"):
        tflite = convert_model(spec, weights_path, quant, rep if quant == "int8" else None)
        from train.export import TFLiteModel

        scores = window_scores(ty, TFLiteModel(tflite).predict(xt), tg)
        training["window_scores"][quant] = scores
        bundle = make_bundle(
            tflite,
            quant,
            f"{name}-{quant}",
            GATE_LABELS,
            FeatureChoice.parse(KIND, frontend),
            x.shape[-1],
            norm,
            WINDOW,
            HOP,
            training,
            description="learned voice gate: speech vs noise, music, tones (0.5 s windows)",
            window_norm="mean",
            speech_detector=None,  # the gate itself runs behind no other gate
        )
        paths[quant] = bundle.save(out / f"{name}-{quant}.edgeser")
    write_json(out / "report.json", training)
    print(
        json.dumps(
            {
                q: {k: v for k, v in s.items() if k != "by_group"}
                for q, s in training["window_scores"].items()
            },
            indent=1,
        )
    )
    return paths
