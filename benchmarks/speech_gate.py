"""How well the voice gate tells speech from everything else: loudness gate vs the learned gate.

    python -m benchmarks.speech_gate            # the default model, held-out clips
    python -m benchmarks.speech_gate --quick    # smoke test: few clips

Every decision comes from the runtime (`edgeser.Recognizer(...).predict`, `is_speech`), once
with the loudness gate only (`VadConfig(speech_detector=False)`) and once with the default gate
(loudness, then the learned gate the model names). Clips, none heard in the gate's training:

- speech: utterances of the speakers `train.speech_gate` holds out (a fifth of each corpus),
  clean, and with a noise recording of the test split at 10 dB SNR ("speech in moderate noise");
- noise: 3 s excerpts of the noise folder's test split at a random gain (-30..+10 dB);
- synthetic: 3 s of each synthetic non-speech kind (noises, tones, melodies, chirps, clicks,
  hum, square waves, modulated noise) with seeds the training never drew, at -60..-10 dBFS,
  plus digital silence.

Reported: the share rejected ("no speech") per group; targets: >= 95% of noise and synthetic
clips rejected, <= 5% of clean speech rejected. Table, JSON (benchmarks/results/speech_gate.json).
Beside them, as a peer on the same clips, Silero VAD (`benchmarks.silero_vad_peer`, when
onnxruntime and the silero-vad package are installed; `--no-peer` leaves it out): a clip it
finds no speech segment of 250 ms in counts as rejected.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from . import _harness as h

RESULTS = Path(__file__).resolve().parent / "results" / "speech_gate.json"
SEED = 12345  # not a seed the gate's training uses (train.speech_gate draws from seed 0)


def clip_sets(per_corpus: int, noise_clips: int, synthetic_per_kind: int, seed: int = SEED):
    """{group: [(name, samples at 16 kHz)]} of the held-out clips."""
    from train import augment as aug
    from train import speech_gate as sg
    from train.corpora import NAMED_CORPORA, load_corpus, read_audio
    from train.shared_data import datasets_dir, noise_dir

    rng = np.random.default_rng(seed)
    bank = aug.NoiseBank(noise_dir(), "test")
    sets: dict[str, list[tuple[str, np.ndarray]]] = {
        "speech (clean)": [],
        "speech (10 dB SNR noise)": [],
        "noise recordings": [],
        "synthetic non-speech": [],
    }
    for name in NAMED_CORPORA:
        corpus = load_corpus(name, datasets_dir() / name)
        test = sg.held_out_speakers(name, [u.speaker for u in corpus.utterances], 5)
        utts = [u for u in corpus.utterances if u.speaker in test]
        for i in rng.permutation(len(utts))[:per_corpus]:
            u = utts[int(i)]
            x = read_audio(u.path)
            sets["speech (clean)"].append((f"{name}/{u.key}", x))
            rec = bank.noises[int(rng.integers(len(bank.noises)))]
            n = np.resize(bank.audio(rec), len(x))
            noisy = aug.avoid_clipping(aug.mix_at_snr(x, n, 10.0))
            sets["speech (10 dB SNR noise)"].append((f"{name}/{u.key}+{rec.category}", noisy))
    n3 = 3 * 16000
    for k in range(noise_clips):
        rec = bank.noises[k % len(bank.noises)]
        y = bank.audio(rec)
        start = int(rng.integers(0, max(1, len(y) - n3)))
        clip = aug.apply_gain(y[start : start + n3], rng.uniform(-30, 10))
        sets["noise recordings"].append((f"{rec.category}#{k}", clip))
    for kind in sg.SYNTHETIC_KINDS:
        for k in range(synthetic_per_kind):
            level = 10 ** (rng.uniform(-60, -10) / 20)
            sets["synthetic non-speech"].append(
                (f"{kind}#{k}", level * sg.synthetic(kind, 3.0, rng))
            )
    sets["synthetic non-speech"].append(("digital silence", np.zeros(n3, np.float32)))
    return sets


PEER = "silero-vad (peer)"


def run(
    model: str, per_corpus: int, noise_clips: int, synthetic_per_kind: int, peer: bool = True
) -> dict[str, Any]:
    import edgeser
    from edgeser.vad import VadConfig

    from . import silero_vad_peer

    gates = {
        "loudness gate": edgeser.Recognizer(model, vad=VadConfig(speech_detector=False)),
        "learned gate": edgeser.Recognizer(model),
    }
    if gates["learned gate"].detector is None:
        raise SystemExit(f"speech_gate: model {model!r} names no learned speech detector")
    deciders = {
        gate: (lambda x, rec=rec: rec.predict(x, sample_rate=16000).is_speech)
        for gate, rec in gates.items()
    }
    why_no_peer = silero_vad_peer.unavailable_reason() if peer else "left out (--no-peer)"
    if why_no_peer is None:
        deciders[PEER] = silero_vad_peer.SileroVad().is_speech
    t0 = time.perf_counter()
    sets = clip_sets(per_corpus, noise_clips, synthetic_per_kind)
    rows = []
    for group, clips in sets.items():
        row: dict[str, Any] = {"group": group, "clips": len(clips)}
        for gate, is_speech in deciders.items():
            rejected = [not is_speech(x) for _, x in clips]
            row[gate] = float(np.mean(rejected)) if clips else None
            row[f"{gate} accepted"] = [n for (n, _), r in zip(clips, rejected) if not r][:20]
        rows.append(row)
    return {
        "model": gates["learned gate"].name,
        "detector": gates["learned gate"].detector.name,
        "peer": PEER if why_no_peer is None else f"not run: {why_no_peer}",
        "seconds": round(time.perf_counter() - t0, 1),
        "groups": rows,
        "targets": targets(rows),
        "machine": h.machine_info(),
    }


def targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by = {r["group"]: r for r in rows}
    out = []
    for group in ("noise recordings", "synthetic non-speech"):
        v = by[group]["learned gate"]
        out.append({"target": f"{group}: >= 95% rejected", "measured": v, "met": v >= 0.95})
    v = by["speech (clean)"]["learned gate"]
    out.append({"target": "clean speech: <= 5% rejected", "measured": v, "met": v <= 0.05})
    return out


def render(report: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.1f}%"

    cols = ["loudness gate", "learned gate"]
    if report["groups"] and PEER in report["groups"][0]:
        cols.append(PEER)
    table = h.format_table(
        ["clips", "n"] + [f"rejected: {c}" for c in cols],
        [[r["group"], r["clips"]] + [pct(r[c]) for c in cols] for r in report["groups"]],
        title=f"voice gate, model {report['model']}, detector {report['detector']}",
    )
    if report.get("peer", PEER) != PEER:
        table += f"\nSilero VAD peer {report['peer']}"
    goals = h.format_table(
        ["target", "measured", "met"],
        [[t["target"], pct(t["measured"]), "yes" if t["met"] else "no"] for t in report["targets"]],
    )
    return table + "\n\n" + goals


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="default")
    ap.add_argument("--per-corpus", type=int, default=40, help="held-out utterances per corpus")
    ap.add_argument("--noise-clips", type=int, default=120)
    ap.add_argument("--synthetic-per-kind", type=int, default=12)
    ap.add_argument("--quick", action="store_true", help="a few clips of each group")
    ap.add_argument("--no-peer", action="store_true", help="leave the Silero VAD peer out")
    ap.add_argument("--json", default=str(RESULTS))
    a = ap.parse_args(argv)
    if a.quick:
        a.per_corpus, a.noise_clips, a.synthetic_per_kind = 2, 6, 1
    from train.shared_data import datasets_dir, noise_dir

    if not datasets_dir().is_dir() or not noise_dir().is_dir():
        raise SystemExit(
            "speech_gate: needs the corpora and the noise folder (EDGESER_DATASETS, EDGESER_NOISE)"
        )
    report = run(a.model, a.per_corpus, a.noise_clips, a.synthetic_per_kind, peer=not a.no_peer)
    print(render(report))
    from train.report import write_json

    print(f"\nJSON: {write_json(a.json, report)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
