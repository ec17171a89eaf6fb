"""How much the input level moves edgeser's own functionals on real recordings.

    python -m benchmarks.functional_levels                 # every 40th clip, 12 per corpus
    python -m benchmarks.functional_levels --gain-db -30 --legacy-floors

The sets are level-independent by construction; real recordings add stretches of digital
silence, where absolute floors can make values depend on the level. For each corpus in
../shared/datasets and each functional set: `functionals.extract(x)` against
`functionals.extract(x * gain)`, and the share of values that move by more than 5% (relative to
max(|value|, 0.1)), with the worst values named. `--legacy-floors` uses the descriptor floors of
bundles before format 10 (power 1e-10, spectrum 1e-12, silence gate -80 dBFS). Table and JSON
(benchmarks/results/functional_levels.json, `-legacy` with the flag).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "functional_levels.json"
MOVE = 0.05  # a value "moves" when it changes by more than this share


def measure(gain_db: float, every: int, clips: int, legacy: bool) -> dict:
    from edgeser.frontend import functionals
    from edgeser.frontend.descriptor_config import DescriptorConfig
    from train.corpora import NAMED_CORPORA, load_corpus, read_audio
    from train.shared_data import datasets_dir

    cfg = DescriptorConfig.pre_format_10() if legacy else DescriptorConfig()
    gain = np.float32(10 ** (gain_db / 20))
    rows = []
    for name in NAMED_CORPORA:
        corpus = load_corpus(name, datasets_dir() / name)
        signals = [read_audio(u.path) for u in corpus.utterances[::every][:clips]]
        for feature_set, names in functionals.FEATURE_SETS.items():
            rel = []
            for x in signals:
                a = functionals.extract(x, feature_set, cfg)
                b = functionals.extract(x * gain, feature_set, cfg)
                rel.append(np.abs(a - b) / np.maximum(np.abs(a), 0.1))
            r = np.array(rel)
            worst = r.max(axis=0)
            rows.append(
                {
                    "corpus": name,
                    "set": feature_set,
                    "clips": len(signals),
                    "share_moving": float((r > MOVE).mean()),
                    "worst": [(names[i], float(worst[i])) for i in np.argsort(worst)[::-1][:3]],
                }
            )
            print(
                f"{name:8s} {feature_set:18s} {100 * rows[-1]['share_moving']:6.2f}% moving  "
                + ", ".join(f"{n} {v:.2f}" for n, v in rows[-1]["worst"]),
                flush=True,
            )
    return {"gain_db": gain_db, "legacy_floors": legacy, "descriptors": cfg.to_dict(), "rows": rows}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gain-db", type=float, default=-30.0)
    ap.add_argument("--every", type=int, default=40, help="take every n-th clip of a corpus")
    ap.add_argument("--clips", type=int, default=12, help="clips per corpus")
    ap.add_argument("--legacy-floors", action="store_true", help="the pre-format-10 floors")
    ap.add_argument("--json", type=Path, help=f"default {RESULTS.name} (-legacy with the flag)")
    a = ap.parse_args(argv)
    if not -60.0 <= a.gain_db <= 20.0 or a.every < 1 or a.clips < 1:
        ap.error("--gain-db must be in [-60, 20], --every and --clips positive")
    try:
        result = measure(a.gain_db, a.every, a.clips, a.legacy_floors)
    except FileNotFoundError as exc:
        print(f"functional_levels: {exc}", file=sys.stderr)
        return 2
    out = a.json or (RESULTS.with_stem(RESULTS.stem + "-legacy") if a.legacy_floors else RESULTS)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
