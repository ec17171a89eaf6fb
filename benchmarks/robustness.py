"""How accuracy holds up when the input level, the noise, the room or the channel change.

    python -m benchmarks.robustness                          # every bundled model
    python -m benchmarks.robustness --folds runs/x/evaluation/folds   # a LOCO run's fold models
    python -m benchmarks.robustness --folds runs/a/loco/folds+runs/b/loco/folds  # fused pairs
    python -m benchmarks.robustness --quick                  # smoke test: few clips

Every score comes from the runtime itself (`edgeser.Recognizer`, voice gate on) on held-out
speech only: a bundled model is scored on the shared corpora it was not trained on; the fold
models a `python -m train evaluate --save-fold-models` run keeps are each scored on their own
test part (for leave-one-corpus-out: the corpus left out), which is how a model trained on all
corpora is measured. Folders joined by "+" are fused fold by fold (`edgeser.FusedRecognizer`,
equal weights; the folds must test the same clips), as `edgeser predict -m A --fuse B` runs them.
Scores are on the 4-class core (anger, happiness, neutral, sadness); a model with more classes
is scored on its core outputs (argmax over those four). A clip the voice gate calls "no speech"
counts as a wrong answer.

A speaker-calibrated model (`Recognizer.calibrated`) hears each test speaker's degraded clips
one by one, in a seeded random order, through one running calibration per speaker and
condition, as a device that calibrates on its user's own audio; its figures are named
`+running_speaker_norm`.

Conditions (each clip degraded with a generator seeded by clip and condition): input gain
(-40 .. +6 dB, samples beyond full scale left unclipped), additive noise at 20/10/5/0 dB SNR
(real recordings of the noise folder's *test* split, babble of 4 other speakers of the same
corpus, white noise), reverberation with the test split's measured impulse responses grouped
by T30, an 8 kHz telephone round trip, and short utterances (a 1 s or 0.6 s excerpt of the
clip's speech, as a user's "yes" or "no"). The noise and impulse responses used to augment
training come from the other (train) split, so no recording here was heard in training.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import _harness as h

CORE = ("anger", "happiness", "neutral", "sadness")
GAINS_DB = (-40.0, -30.0, -20.0, -10.0, 6.0)
SNRS_DB = (20.0, 10.0, 5.0, 0.0)
NOISES = ("real", "babble", "white")
ROOMS = (("small room", 0.0, 0.6), ("medium room", 0.6, 1.5), ("large room", 1.5, 3.0))
EXCERPTS_S = (1.0, 0.6)
DEFAULT_MAX_PER_CORPUS = 300


@dataclass(frozen=True)
class Clip:
    corpus: str
    key: str  # corpus-relative path
    path: Path
    label: str
    speaker: str


@dataclass(frozen=True)
class Condition:
    name: str
    group: str  # gain | noise:<kind> | reverb | channel | duration | clean
    value: float | None  # gain dB, SNR dB, T30 bin upper edge or excerpt seconds
    apply: Callable[[np.ndarray, Clip, np.random.Generator], np.ndarray]


def conditions(bank, corpora: dict[str, Any], quick: bool = False) -> list[Condition]:
    """The degradations, in report order; `bank` = the noise folder's test split."""
    from train import augment as aug

    out = [Condition("clean", "clean", 0.0, lambda x, c, r: x)]
    for g in (-30.0,) if quick else GAINS_DB:
        out.append(
            Condition(f"gain {g:+g} dB", "gain", g, lambda x, c, r, g=g: aug.apply_gain(x, g))
        )

    def noise_of(kind: str) -> Callable:
        def make(x: np.ndarray, clip: Clip, rng: np.random.Generator) -> np.ndarray:
            if kind == "white":
                return aug.coloured_noise(len(x), 0.0, rng)
            if kind == "babble":
                return aug.babble(corpora[clip.corpus], clip.speaker, 4, len(x), rng)
            rec = bank.noises[int(rng.integers(len(bank.noises)))]
            n = bank.audio(rec)
            start = int(rng.integers(0, max(1, len(n) - len(x))))
            return n[start : start + len(x)]

        return make

    for kind in NOISES:
        if kind == "real" and not bank.noises:
            continue
        make = noise_of(kind)
        for snr in (10.0,) if quick else SNRS_DB:
            out.append(
                Condition(
                    f"{kind} noise {snr:g} dB SNR",
                    f"noise:{kind}",
                    snr,
                    lambda x, c, r, s=snr, m=make: aug.mix_at_snr(x, m(x, c, r), s),
                )
            )
    for name, lo, hi in ROOMS:
        rirs = [q for q in bank.rirs if q.t30_s is not None and lo <= q.t30_s < hi]
        if rirs:
            out.append(
                Condition(
                    f"{name} (T30 {lo:g}-{hi:g} s, {len(rirs)} RIRs)",
                    "reverb",
                    hi,
                    lambda x, c, r, rs=rirs: aug.reverberate(
                        x, bank.audio(rs[int(r.integers(len(rs)))])
                    ),
                )
            )
    out.append(
        Condition("telephone (8 kHz round trip)", "channel", None, lambda x, c, r: aug.telephone(x))
    )
    for sec in EXCERPTS_S:
        out.append(
            Condition(
                f"excerpt {sec:g} s of the speech",
                "duration",
                sec,
                lambda x, c, r, sec=sec: aug.crop(x, sec, r),
            )
        )
    return out


def load_clips(
    corpus_names: Sequence[str],
    datasets: Path,
    max_per_corpus: int,
    seed: int = 0,
    keys: set[str] | None = None,
) -> tuple[list[Clip], dict[str, Any]]:
    """Core-labelled clips of the named corpora (only those named `corpus/key` in `keys` when
    given; at most `max_per_corpus` each, the same share of every label, drawn with `seed`),
    and the loaded corpora (for babble)."""
    from train.corpora import load_corpus

    clips, corpora = [], {}
    for name in corpus_names:
        c = load_corpus(name, datasets / name).relabel("core")
        corpora[name] = c
        utts = [u for u in c.utterances if keys is None or f"{name}/{u.key}" in keys]
        if max_per_corpus and len(utts) > max_per_corpus:
            rng = np.random.default_rng(seed)
            by_label: dict[str, list] = {}
            for u in utts:
                by_label.setdefault(u.label, []).append(u)
            share = max_per_corpus / len(utts)
            utts = [
                u
                for lab in sorted(by_label)
                for u in rng.permutation(np.array(by_label[lab], dtype=object))[
                    : max(1, int(round(share * len(by_label[lab]))))
                ]
            ]
        clips += [Clip(name, u.key, u.path, u.label, u.speaker) for u in utts]
    if not clips:
        raise ValueError(f"no core-labelled clips of {', '.join(corpus_names)} to test on")
    return clips, corpora


def core_prediction(labels: Sequence[str], scores: dict[str, float] | None) -> str | None:
    """The best of the model's core outputs (None when the gate said no speech)."""
    if scores is None:
        return None
    return max((c for c in CORE if c in labels), key=lambda c: scores.get(c, -1.0))


def unweighted_recall(y: Sequence[str], p: Sequence[str | None]) -> float:
    recalls = [
        np.mean([pi == c for yi, pi in zip(y, p) if yi == c])
        for c in CORE
        if any(yi == c for yi in y)
    ]
    return float(np.mean(recalls)) if recalls else float("nan")


def _calibrated_suffix(results: Sequence[dict[str, Any]]) -> str:
    """How a speaker-calibrated model's figures are named: they use the test speakers' audio."""
    return " (+running_speaker_norm)" if any(r.get("speaker_calibrated") for r in results) else ""


def replay_order(clips: Sequence[Clip], seed: int = 0) -> list[int]:
    """Clip indices, every speaker's clips in a seeded random order (the order a calibrated
    model hears them in; speakers interleave, which a per-speaker calibration does not see)."""
    rng = np.random.default_rng(seed)
    return [int(i) for i in rng.permutation(len(clips))]


def score_model(
    model: str | Sequence[str], clips: list[Clip], conds: list[Condition], progress: bool = True
) -> dict[str, Any]:
    """Predicted core label of every clip under every condition, and the scores; several
    models are fused (equal weights)."""
    import edgeser
    from train.corpora import read_audio

    rec: Any = (
        edgeser.Recognizer(model) if isinstance(model, str) else edgeser.FusedRecognizer(model)
    )
    if not set(CORE) <= set(rec.labels):
        raise ValueError(f"{model}: the model does not output all four core classes")
    preds: dict[str, list[str | None]] = {c.name: [None] * len(clips) for c in conds}
    # A speaker-calibrated model hears each test speaker's clips one by one in a seeded order,
    # through one running calibration per (speaker, condition): the device that calibrates on
    # its user's own (noisy, reverberant, ...) audio; protocol +running_speaker_norm.
    calibrations: dict[tuple[str, str, str], Any] = {}
    order = replay_order(clips) if rec.calibrated else range(len(clips))
    t0 = time.time()
    for i, n in enumerate(order):
        clip = clips[n]
        x = read_audio(clip.path, rec.sample_rate)
        for c in conds:
            rng = np.random.default_rng(
                [zlib.crc32(f"{clip.corpus}/{clip.key}|{c.name}".encode()), 7]
            )
            y = np.ascontiguousarray(c.apply(x, clip, rng), dtype=np.float32)
            if rec.calibrated:
                key = (clip.corpus, clip.speaker, c.name)
                if key not in calibrations:
                    calibrations[key] = rec.new_calibration()
                p = rec.predict(y, sample_rate=rec.sample_rate, calibration=calibrations[key])
            else:
                p = rec.predict(y, sample_rate=rec.sample_rate)
            preds[c.name][n] = core_prediction(rec.labels, p.scores if p.is_speech else None)
        if progress and (i + 1) % 100 == 0:
            print(
                f"  {rec.name}: {i + 1}/{len(clips)} clips, {time.time() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    truth = [c.label for c in clips]
    clean = preds["clean"]
    rows = []
    for c in conds:
        p = preds[c.name]
        rows.append(
            {
                "condition": c.name,
                "group": c.group,
                "value": c.value,
                "UA": round(unweighted_recall(truth, p), 4),
                "WA": round(float(np.mean([a == b for a, b in zip(truth, p)])), 4),
                "same_as_clean": round(float(np.mean([a == b for a, b in zip(clean, p)])), 4),
                "no_speech": round(float(np.mean([q is None for q in p])), 4),
            }
        )
    per_corpus = {}
    for name in sorted({c.corpus for c in clips}):
        idx = [i for i, c in enumerate(clips) if c.corpus == name]
        per_corpus[name] = {
            c.name: round(
                unweighted_recall([truth[i] for i in idx], [preds[c.name][i] for i in idx]), 4
            )
            for c in conds
        }
    return {
        "model": rec.name,
        "speaker_calibrated": bool(rec.calibrated),
        "path": str(model) if isinstance(model, str) else " + ".join(map(str, model)),
        "labels": list(rec.labels),
        "n_clips": len(clips),
        "corpora": sorted({c.corpus for c in clips}),
        "conditions": rows,
        "per_corpus_UA": per_corpus,
        "seconds": round(time.time() - t0, 1),
    }


def pooled(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean over the results (e.g. the fold models of one LOCO run) of each condition's
    scores, each result weighing the same."""
    out = []
    for i, row in enumerate(results[0]["conditions"]):
        r = dict(row)
        for q in ("UA", "WA", "same_as_clean", "no_speech"):
            r[q] = round(float(np.mean([res["conditions"][i][q] for res in results])), 4)
        out.append(r)
    return out


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's robustness targets, checked on `rows`."""
    by = {r["condition"]: r for r in rows}
    clean = by["clean"]["UA"]
    out = []

    def check(what: str, value: float | None, ok: bool | None) -> None:
        out.append({"target": what, "measured": value, "met": ok})

    gains = [r for r in rows if r["group"] == "gain" and -30 <= r["value"] <= 6]
    if gains:
        worst = min(r["same_as_clean"] for r in gains)
        check("label at -30..+6 dB = 0 dB label on >= 95% of clips", worst, worst >= 0.95)
    if "gain -30 dB" in by:
        d = round(100 * (clean - by["gain -30 dB"]["UA"]), 2)
        check("UA at -30 dB within 2 points of 0 dB (drop, points)", d, d <= 2.0)
    if "real noise 10 dB SNR" in by:
        d = round(100 * (clean - by["real noise 10 dB SNR"]["UA"]), 2)
        check("UA at 10 dB SNR real noise within 8 points (drop)", d, d <= 8.0)
    phone = [r for r in rows if r["group"] == "channel"]
    if phone:
        d = round(100 * (clean - phone[0]["UA"]), 2)
        check("UA with 8 kHz band limit within 5 points (drop)", d, d <= 5.0)
    medium = [r for r in rows if r["condition"].startswith("medium room")]
    if medium:
        d = round(100 * (clean - medium[0]["UA"]), 2)
        check("UA in a medium room (T30 0.6-1.5 s) within 8 points (drop)", d, d <= 8.0)
    return out


def plot(path: Path, series: dict[str, list[dict[str, Any]]]) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for name, rows in series.items():
        clean = next(r["UA"] for r in rows if r["group"] == "clean")
        g = sorted([(0.0, clean)] + [(r["value"], r["UA"]) for r in rows if r["group"] == "gain"])
        axes[0].plot([a for a, _ in g], [100 * b for _, b in g], marker="o", label=name)
        for kind, style in zip(NOISES, ("-", "--", ":")):
            pts = sorted([(r["value"], r["UA"]) for r in rows if r["group"] == f"noise:{kind}"])
            if pts:
                pts.append((30.0, clean))  # "clean" drawn at 30 dB
                axes[1].plot(
                    [a for a, _ in pts],
                    [100 * b for _, b in pts],
                    style,
                    marker="o",
                    label=f"{name}: {kind}",
                )
        other = [r for r in rows if r["group"] in ("clean", "reverb", "channel", "duration")]
        axes[2].plot(range(len(other)), [100 * r["UA"] for r in other], marker="o", label=name)
        axes[2].set_xticks(
            range(len(other)),
            [r["condition"].split(" (")[0] for r in other],
            rotation=20,
            ha="right",
            fontsize=8,
        )
    axes[0].set(xlabel="input gain (dB)", ylabel="UA (%), 4-class core", title="level")
    axes[1].set(xlabel="SNR (dB; 30 = clean)", ylabel="UA (%)", title="additive noise")
    axes[2].set(ylabel="UA (%)", title="room, channel, short utterances")
    for ax in axes:
        ax.axhline(25, color="grey", lw=0.8, ls=":")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _table(rows: list[dict[str, Any]], title: str) -> str:
    return h.format_table(
        ["condition", "UA", "WA", "label = clean", "no speech"],
        [
            [
                r["condition"],
                f"{100 * r['UA']:.1f}",
                f"{100 * r['WA']:.1f}",
                f"{100 * r['same_as_clean']:.1f}",
                f"{100 * r['no_speech']:.1f}",
            ]
            for r in rows
        ],
        title=title,
    )


def fused_fold_models(spec: str) -> list[tuple[list[str], list[str]]]:
    """([bundle, ...], test keys) per fold of one folds folder, or of several joined by "+"
    (their folds paired in order; each pair must test the same clips)."""
    runs = [fold_models(Path(part)) for part in spec.split("+")]
    if len({len(r) for r in runs}) != 1:
        raise SystemExit(f"robustness: {spec}: the folders hold different numbers of folds")
    out = []
    for folds in zip(*runs):
        keys = folds[0][1]
        for bundle, other in folds[1:]:
            if sorted(other) != sorted(keys):
                raise SystemExit(
                    f"robustness: {bundle} tests other clips than {folds[0][0]}: not the same folds"
                )
        out.append(([str(b) for b, _ in folds], keys))
    return out


def fold_models(folder: Path) -> list[tuple[Path, list[str]]]:
    """(bundle, test keys) of every fold a `--save-fold-models` run kept."""
    out = []
    for b in sorted(folder.glob("*.edgeser")):
        keys = b.with_suffix(".test.txt")
        if not keys.is_file():
            raise FileNotFoundError(f"{b}: no test list {keys.name} beside it")
        out.append((b, [k for k in keys.read_text(encoding="utf-8").splitlines() if k]))
    if not out:
        raise FileNotFoundError(f"{folder}: no fold bundles (*.edgeser)")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m benchmarks.robustness",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument(
        "--model",
        nargs="*",
        default=None,
        help="bundled model names or bundle paths (default: every bundled model "
        "trained on a subset of the shared corpora)",
    )
    ap.add_argument(
        "--folds",
        nargs="*",
        default=[],
        help="folds folders of `python -m train evaluate --save-fold-models` runs; "
        "A+B fuses two runs' fold models fold by fold",
    )
    ap.add_argument(
        "--max-per-corpus",
        type=int,
        default=DEFAULT_MAX_PER_CORPUS,
        help="clips per test corpus, same share of each label (0 = all; %(default)s)",
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="smoke test: 12 clips per corpus, one level of each condition",
    )
    ap.add_argument(
        "--noise-dir",
        default="",
        help="noise folder (default $EDGESER_NOISE or ../shared/noise); its test split is used",
    )
    ap.add_argument(
        "--only",
        nargs="*",
        default=None,
        metavar="GROUP",
        help="run only these condition groups besides clean: gain, noise, reverb, channel, "
        "duration (default: all)",
    )
    ap.add_argument("--json", default="benchmarks/results/robustness.json")
    ap.add_argument("--png", default="benchmarks/results/robustness.png")
    a = ap.parse_args(argv)
    from train.augment import NoiseBank, default_noise_dir
    from train.corpora import NAMED_CORPORA

    datasets = h.datasets_dir()
    if not datasets.is_dir():
        raise SystemExit(f"robustness: the corpora are not at {datasets} (set EDGESER_DATASETS)")
    bank = NoiseBank(Path(a.noise_dir) if a.noise_dir else default_noise_dir(), "test")
    groups = ("gain", "noise", "reverb", "channel", "duration")
    if a.only is not None and not set(a.only) <= set(groups):
        raise SystemExit(f"robustness: --only takes groups from {groups}, got {a.only}")

    def chosen(corpora: dict[str, Any]) -> list[Condition]:
        conds = conditions(bank, corpora, a.quick)
        if a.only is None:
            return conds
        return [c for c in conds if c.group == "clean" or c.group.split(":")[0] in a.only]

    max_clips = 12 if a.quick else a.max_per_corpus
    report: dict[str, Any] = h.run_header(
        "robustness",
        list(argv or sys.argv[1:]),
        {"max_per_corpus": max_clips, "quick": a.quick, "noise_test_split": bank.fingerprint()},
    )
    report["models"], series, text = [], {}, []

    jobs: list[tuple[str, str, list[str]]] = []  # (series name, model, test corpora)
    if a.model is None and not a.folds:
        import edgeser

        for info in edgeser.models():
            trained = set(str(info.corpus).split(","))
            unseen = [c for c in NAMED_CORPORA if c not in trained]
            if unseen and trained <= set(NAMED_CORPORA) and set(CORE) <= set(info.labels):
                jobs.append((info.name, info.path, unseen))
    for m in a.model or []:
        import edgeser

        info = edgeser.Recognizer(m).info
        trained = set(str(info.corpus).split(","))
        jobs.append((info.name, m, [c for c in NAMED_CORPORA if c not in trained]))
    for name, model, unseen in jobs:
        clips, corpora = load_clips(unseen, datasets, max_clips)
        res = score_model(model, clips, chosen(corpora))
        res["protocol"] = "unseen corpora" + _calibrated_suffix([res])
        report["models"].append(res)
        series[name] = res["conditions"]
        text.append(
            _table(
                res["conditions"],
                f"{name} on unseen corpora{_calibrated_suffix([res])} ({', '.join(unseen)}; "
                f"{len(clips)} clips)",
            )
        )
    for spec in a.folds:
        results = []
        for bundles, keys in fused_fold_models(spec):
            held = sorted({k.split("/", 1)[0] for k in keys})
            clips, corpora = load_clips(held, datasets, max_clips, keys=set(keys))
            res = score_model(bundles[0] if len(bundles) == 1 else bundles, clips, chosen(corpora))
            res["protocol"] = f"fold test part ({', '.join(held)})"
            results.append(res)
        rows = pooled(results)

        def run_name(folder: Path) -> str:
            return (
                folder.parent.parent if folder.parent.name == "evaluation" else folder.parent
            ).name

        name = " + ".join(run_name(Path(part)) for part in spec.split("+")) + " (fold models)"
        report["models"].append(
            {
                "model": name,
                "folds": results,
                "conditions": rows,
                "protocol": "leave-one-corpus-out fold models, mean over folds"
                + _calibrated_suffix(results),
            }
        )
        series[name] = rows
        text.append(
            _table(
                rows,
                f"{name}: mean over {len(results)} folds, each on its held-out corpus"
                + _calibrated_suffix(results),
            )
        )
    if not report["models"]:
        raise SystemExit(
            "robustness: nothing to measure (no bundled model has unseen corpora; pass --folds)"
        )
    for m in report["models"]:
        m["targets"] = targets(m["conditions"])
        text.append(
            h.format_table(
                ["target", "measured", "met"],
                [[t["target"], t["measured"], "yes" if t["met"] else "no"] for t in m["targets"]],
                title=f"targets: {m['model']}",
            )
        )
    print("\n\n".join(text))
    from train.report import write_json

    write_json(a.json, report)
    print(f"\nJSON: {a.json}\nplot: {plot(Path(a.png), series)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
