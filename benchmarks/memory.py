"""What each way of recognising one 3 s clip costs a fresh process: import time, wall, peak RSS.

    python -m benchmarks.memory                  # default model (or --model PATH), 5 processes each
    python -m benchmarks.memory --quick          # smoke test: one process each

Pipelines, each a small self-contained program run in its own fresh interpreter (so its imports
are all it pays for): the bare interpreter (the floor), edgeser's predict path (import, load the
model, predict the file), a librosa MFCC pipeline, an openSMILE eGeMAPSv02 pipeline, and a
TensorFlow/Keras predict (a small Keras model of the bundle's input shape on the same features).
Peak RSS is the child's VmHWM; wall is spawn-to-exit as the parent sees it. "import" is what
`import <library>` costs; edgeser and librosa import their parts lazily, so for them the real
price shows in "first result".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import _harness as h

PACKAGES = ("edgeser", "ai-edge-litert", "librosa", "opensmile", "tensorflow-cpu", "keras")


@dataclass(frozen=True)
class Pipeline:
    """One program to measure; `body` sets `result` and may use {model}, {clip} and {threads}.

    `import_s` in its result is the time of its library imports; `first_result_s` the time
    from the interpreter's first line to the answer.
    """

    name: str
    what: str
    body: str


PIPELINES = (
    Pipeline("python", "bare interpreter: starts, reports, exits", "result = {{}}"),
    Pipeline(
        "edgeser",
        "import edgeser, load the model, predict the file",
        """\
import edgeser
_t1 = _time.perf_counter()
_p = edgeser.Recognizer({model!r}, num_threads={threads!r}).predict({clip!r})
result = {{"import_s": _t1 - _T0, "first_result_s": _time.perf_counter() - _T0,
          "answer": _p.label}}
""",
    ),
    Pipeline(
        "librosa",
        "librosa.load + librosa.feature.mfcc (13 of 40 mels, 25/10 ms, 512 FFT)",
        """\
import librosa
_t1 = _time.perf_counter()
_y, _sr = librosa.load({clip!r}, sr=16000)
_m = librosa.feature.mfcc(y=_y, sr=_sr, n_mfcc=13, n_mels=40, n_fft=512, win_length=400,
                          hop_length=160)
result = {{"import_s": _t1 - _T0, "first_result_s": _time.perf_counter() - _T0,
          "answer": list(_m.shape)}}
""",
    ),
    Pipeline(
        "opensmile",
        "opensmile.Smile(eGeMAPSv02, Functionals).process_file",
        """\
import opensmile
_t1 = _time.perf_counter()
_smile = opensmile.Smile(feature_set=opensmile.FeatureSet.eGeMAPSv02,
                         feature_level=opensmile.FeatureLevel.Functionals)
_f = _smile.process_file({clip!r})
result = {{"import_s": _t1 - _T0, "first_result_s": _time.perf_counter() - _T0,
          "answer": list(_f.shape)}}
""",
    ),
    Pipeline(
        "keras",
        "import tensorflow; a small Keras Conv1D model's predict on the bundle's "
        "features (edgeser front end, same windows)",
        """\
import numpy as _np
import tensorflow as _tf
import keras as _keras
_t1 = _time.perf_counter()
_tf.config.threading.set_intra_op_parallelism_threads({threads!r})
from edgeser.bundle import ModelBundle as _Bundle
from edgeser import frontend as _fe, windows as _win
import soundfile as _sf
_meta = _Bundle.load({model!r}).meta
_spec = _meta.features
_x, _ = _sf.read({clip!r}, dtype="float32")
_feats = (_fe.features(_x, _spec.frontend, _spec.kind) - _np.asarray(_meta.norm_mean)) \\
    / _np.asarray(_meta.norm_std)
_w = _win.feature_windows(_feats, _spec.window_frames, _spec.hop_frames,
                          _spec.window_norm)
_inp = _keras.Input((_spec.window_frames, _spec.dim))
_h = _keras.layers.Conv1D(32, 5, activation="relu")(_inp)
_h = _keras.layers.MaxPooling1D(2)(_h)
_h = _keras.layers.Conv1D(64, 3, activation="relu")(_h)
_h = _keras.layers.GlobalAveragePooling1D()(_h)
_out = _keras.layers.Dense(len(_meta.labels), activation="softmax")(_h)
_probs = _keras.Model(_inp, _out).predict(_w, verbose=0).mean(axis=0)
result = {{"import_s": _t1 - _T0, "first_result_s": _time.perf_counter() - _T0,
          "answer": _meta.labels[int(_probs.argmax())]}}
""",
    ),
)


@dataclass(frozen=True)
class MemorySettings:
    """Knobs of one run; `quick()` is the CI smoke test."""

    repeats: int = 5
    clip_s: float = 3.0
    threads: int = 1
    audio: str = "auto"
    constrained: bool = False
    cpu: int | None = None
    address_space_mb: int = 512
    timeout_s: float = 300.0

    def __post_init__(self) -> None:
        for name in ("repeats", "threads"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"MemorySettings.{name}={v!r}: must be a positive integer")
        if self.clip_s <= 0:
            raise ValueError(f"MemorySettings.clip_s={self.clip_s!r}: must be positive")

    @classmethod
    def quick(cls, **overrides: Any) -> MemorySettings:
        return cls(**{"repeats": 1, **overrides})

    def limits(self) -> h.Limits:
        if not self.constrained:
            return h.Limits()
        return h.Limits.constrained(cpu=self.cpu, address_space_mb=self.address_space_mb)


def _median_ms(values: Sequence[float]) -> float:
    return statistics.median(values) * 1000.0


def measure(pipeline: Pipeline, results: list[h.ProbeResult]) -> dict[str, Any]:
    """One pipeline's row: medians over its fresh processes, or why it did not run."""
    ok = [r for r in results if r.ok]
    row: dict[str, Any] = {
        "name": pipeline.name,
        "what": pipeline.what,
        "processes": len(results),
        "ok": len(ok) == len(results),
    }
    if not row["ok"]:
        row["error"] = next(r.error for r in results if not r.ok)
    if ok:
        row["peak_rss_mb"] = statistics.median(r.value["peak_rss_mb"] for r in ok)
        row["process_wall_ms"] = _median_ms([r.wall_s for r in ok])
        if "import_s" in ok[0].value:
            row["import_ms"] = _median_ms([r.value["import_s"] for r in ok])
            row["first_result_ms"] = _median_ms([r.value["first_result_s"] for r in ok])
            row["answer"] = ok[0].value.get("answer")
    return row


def run(settings: MemorySettings, model: str, argv: Sequence[str] = ()) -> dict[str, Any]:
    source = h.audio_source(settings.audio)
    limits = settings.limits()
    env = h.child_env(settings.threads)
    report = h.run_header(
        "memory", argv, {**asdict(settings), "limits": limits.to_dict()}, PACKAGES
    )
    report["model"] = model
    report["audio_source"] = source
    progress = h.Progress(len(PIPELINES) * settings.repeats)
    rows = []
    with tempfile.TemporaryDirectory(prefix="edgeser-memory-") as tmp:
        clip = h.prepare_clips(tmp, (settings.clip_s,), (16000,), source)[0]
        report["clip"] = {"duration_s": clip.duration_s, "sample_rate": clip.sample_rate}
        for p in PIPELINES:
            body = p.body.format(model=model, clip=clip.path, threads=settings.threads)
            results = []
            for i in range(settings.repeats):
                progress.step(f"{p.name} {i + 1}/{settings.repeats}")
                results.append(
                    h.run_program(
                        body, limits=limits, env=env, timeout_s=settings.timeout_s, name=p.name
                    )
                )
            rows.append(measure(p, results))
    base = next((r for r in rows if r["name"] == "edgeser" and r["ok"]), None)
    for r in rows:
        if base and r.get("peak_rss_mb") and r["name"] != "python":
            r["rss_vs_edgeser_x"] = r["peak_rss_mb"] / base["peak_rss_mb"]
            r["wall_vs_edgeser_x"] = r["process_wall_ms"] / base["process_wall_ms"]
    report["pipelines"] = rows
    return report


def render(report: dict[str, Any]) -> str:
    m = report["machine"]
    head = (
        f"edgeser memory benchmark — {report['date']}\nmachine: {m['cpu']}, {m['cores']} "
        f"cores, python {m['python']}, load average at start {m['load_average_1m']}\n"
        f"clip {report['clip']['duration_s']:g} s @ 16 kHz "
        f"({report['audio_source']}); model {report['model']}; limits "
        f"{report['settings']['limits']}; median of {report['settings']['repeats']} fresh "
        "process(es)"
    )
    failed = "does not fit" if report["settings"]["constrained"] else "FAILED"
    rows = []
    for r in report["pipelines"]:
        x = r.get("rss_vs_edgeser_x")
        rows.append(
            [
                r["name"],
                r.get("import_ms"),
                r.get("first_result_ms"),
                r.get("process_wall_ms"),
                r.get("peak_rss_mb"),
                None if x is None else f"{x:.1f}x",
                None if x is None else f"{r['wall_vs_edgeser_x']:.1f}x",
                "ok" if r["ok"] else f"{failed}: {r['error']}",
            ]
        )
    table = h.format_table(
        [
            "pipeline",
            "import ms",
            "first result ms",
            "process wall ms",
            "peak RSS MB",
            "RSS/edgeser",
            "wall/edgeser",
            "status",
        ],
        rows,
    )
    notes = "\n".join(f"  {r['name']}: {r['what']}" for r in report["pipelines"])
    return f"{head}\n{table}\n{notes}"


def chart(report: dict[str, Any], path: str | Path) -> Path:
    rows = [r for r in report["pipelines"] if r.get("peak_rss_mb")]
    labels = tuple(r["name"] for r in rows)
    return h.bar_chart(
        path,
        [
            h.BarPanel(
                "peak RSS of a fresh process",
                labels,
                {"peak RSS": [r["peak_rss_mb"] for r in rows]},
                "MiB",
            ),
            h.BarPanel(
                "process wall: start to answer to exit",
                labels,
                {"wall": [r["process_wall_ms"] for r in rows]},
                "milliseconds",
            ),
        ],
        f"one 3 s clip, fresh process each ({report['machine']['cpu']})",
    )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.memory",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model",
        metavar="PATH",
        help="the .edgeser bundle to use (default: edgeser's bundled default "
        "model, else the first bundled one)",
    )
    p.add_argument("--repeats", type=int, help="fresh processes per pipeline (default 5, quick 1)")
    p.add_argument("--threads", type=int, default=1, help="numeric thread pools (default 1)")
    h.add_process_arguments(p, "smoke test: one process each", "process", "memory.json")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    common = dict(
        threads=args.threads,
        audio=args.audio,
        constrained=args.constrained,
        cpu=args.cpu,
        address_space_mb=args.memory_cap_mb,
        **({"repeats": args.repeats} if args.repeats is not None else {}),
    )
    try:
        settings = MemorySettings.quick(**common) if args.quick else MemorySettings(**common)
        model = str(Path(args.model).resolve()) if args.model else h.bundled_model()
        if model is None:
            raise ValueError(
                "edgeser has no bundled model yet: pass --model PATH of a .edgeser bundle"
            )
        from edgeser.bundle import ModelBundle

        ModelBundle.load(model)  # fail here, naming the file, not in every child
    except (ValueError, OSError) as exc:
        print(f"benchmarks.memory: {exc}", file=sys.stderr)
        return 2
    report = run(settings, model, argv)
    h.publish(report, args.json, render, chart, with_chart=not args.no_chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
