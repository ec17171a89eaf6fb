"""How long edgeser takes to recognise a clip, stage by stage, beside librosa and openSMILE.

    python -m benchmarks.latency                 # every bundled model, full run
    python -m benchmarks.latency --quick         # smoke test: few runs, short clips
    python -m benchmarks.latency --constrained   # one core, 512 MB address space per probe

Per model: warm per-stage latency (decode, resample, features, vad, inference, total) as
p50/p95/p99 for 1/3/10 s WAV files at 16, 44.1 and 48 kHz (and, at 16 kHz, for in-memory arrays
and for a Recognizer with its voice gate off); the streaming cost per pushed 100 ms chunk;
throughput; cold start (import + load + first predict of a 3 s file in a fresh process, with
its peak RSS) against the runtime issue's targets. Beside it, on the same clips: the same model
fed by librosa features (librosa.load, librosa.stft + librosa.filters.mel / feature.mfcc with
the bundle's settings, then the same normalisation, windows and TFLite runner) and openSMILE
eGeMAPSv02 functionals (the ResSE_CNN1D paper's features; extraction only). Every measurement
runs in its own subprocess (`_harness.run_probe` / `run_program`), pinned and capped with
--constrained; whatever fails there is reported as not fitting.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import _harness as h

STAGE_ORDER = ("decode", "resample", "features", "vad", "inference")
CHART_STAGES = ("decode", "resample", "features", "vad", "inference", "other")
HEAVY_MODULES = ("tensorflow", "keras", "librosa", "numba", "scipy", "opensmile", "torch")
PROBE_MODULE = "benchmarks.latency"  # not __name__: that is "__main__" under `python -m`
PACKAGES = (
    "edgeser",
    "ai-edge-litert",
    "soundfile",
    "soxr",
    "librosa",
    "opensmile",
    "numba",
    "tensorflow-cpu",
)


# ---- settings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class LatencySettings:
    """One benchmark run's knobs; `quick()` gives the CI smoke-test variant."""

    runs: int = 100
    cold_runs: int = 10
    peer_runs: int = 20  # openSMILE and the librosa pipeline are slow: fewer calls
    durations: tuple[float, ...] = (1.0, 3.0, 10.0)
    rates: tuple[int, ...] = (16000, 44100, 48000)
    cold_clip_s: float = 3.0
    chunk_ms: float = 100.0
    batch_size: int = 16
    threads: int = 1
    backend: str | None = None
    audio: str = "auto"
    constrained: bool = False
    cpu: int | None = None
    address_space_mb: int = 512
    timeout_s: float = 900.0

    def __post_init__(self) -> None:
        for name in ("runs", "cold_runs", "peer_runs", "batch_size", "threads"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"LatencySettings.{name}={v!r}: must be a positive integer")
        if not self.durations or any(d <= 0 for d in self.durations):
            raise ValueError(f"LatencySettings.durations={self.durations!r}: must be positive")
        if self.cold_clip_s not in self.durations:
            raise ValueError(
                f"LatencySettings.cold_clip_s={self.cold_clip_s:g}: must be one of "
                f"the clip durations {self.durations}"
            )
        if 16000 not in self.rates:
            raise ValueError(
                f"LatencySettings.rates={self.rates!r}: must include 16000 "
                "(the rate the peers and cold start use)"
            )
        if self.backend not in (None, "cpp", "numba", "numpy"):
            raise ValueError(f"LatencySettings.backend={self.backend!r}: cpp, numba or numpy")
        if self.chunk_ms <= 0:
            raise ValueError(f"LatencySettings.chunk_ms={self.chunk_ms!r}: must be positive")

    @classmethod
    def quick(cls, **overrides: Any) -> LatencySettings:
        base = dict(
            runs=5,
            cold_runs=1,
            peer_runs=2,
            durations=(1.0, 3.0),
            rates=(16000, 48000),
            batch_size=4,
            timeout_s=300.0,
        )
        return cls(**{**base, **overrides})

    def limits(self) -> h.Limits:
        if not self.constrained:
            return h.Limits()
        return h.Limits.constrained(cpu=self.cpu, address_space_mb=self.address_space_mb)

    def env(self) -> dict[str, str]:
        return h.child_env(self.threads, {"EDGESER_BACKEND": self.backend} if self.backend else {})


# ---- probes: each runs in a fresh subprocess --------------------------------------------------
def _stage_samples(records: list[dict[str, float]], totals: list[float]) -> dict[str, Any]:
    """Per-stage summaries from per-call `Prediction.timings` and measured totals."""
    names = [s for s in STAGE_ORDER if any(s in r for r in records)]
    names += sorted({k for r in records for k in r} - set(names))
    out = {name: h.summarize_ms(r.get(name, 0.0) for r in records) for name in names}
    out["other"] = h.summarize_ms(max(0.0, t - sum(r.values())) for r, t in zip(records, totals))
    out["total"] = h.summarize_ms(totals)
    return out


def probe_warm(
    model: str,
    clips: list[dict],
    runs: int,
    threads: int,
    chunk_ms: float,
    batch_size: int,
    throughput_clip: str,
) -> dict[str, Any]:
    """Warm latency of one loaded Recognizer: per clip and stage, streaming, throughput."""
    import numpy as np
    import soundfile as sf

    import edgeser
    from edgeser.pipelines.frontend import FrontendPipeline

    rec = edgeser.Recognizer(model, num_threads=threads)
    # Without the voice gate: the same work as the librosa pipeline, for a like-for-like ratio.
    ungated = edgeser.Recognizer(model, num_threads=threads, vad=None)
    out: dict[str, Any] = {"backend": _frontend_backend(), "clips": [], "stream": []}
    for clip in clips:
        samples, rate = sf.read(clip["path"], dtype="float32")
        inputs = [("file", rec, clip["path"], {})]
        if rate == 16000:
            inputs += [
                ("array", rec, samples, {"sample_rate": rate}),
                ("file, no VAD", ungated, clip["path"], {}),
            ]
        for kind, recognizer, source, kw in inputs:
            recognizer.predict(source, **kw)  # warm-up
            records, totals, labels = [], [], set()
            for _ in range(runs):
                t = time.perf_counter()
                p = recognizer.predict(source, **kw)
                totals.append(time.perf_counter() - t)
                records.append({k: float(v) for k, v in p.timings.items()})
                labels.add(p.label)
            out["clips"].append(
                {
                    "duration_s": clip["duration_s"],
                    "sample_rate": rate,
                    "input": kind,
                    "stages": _stage_samples(records, totals),
                    "speech": bool(labels - {None}),
                    "windows": p.windows,
                }
            )
        if clip["duration_s"] == max(c["duration_s"] for c in clips):
            if isinstance(rec.pipeline, FrontendPipeline):
                out["stream"].append(_stream_cost(rec, samples, rate, chunk_ms))
            else:
                out["stream_skipped"] = "the model reads one functional vector per clip"
    samples, rate = sf.read(throughput_clip, dtype="float32")
    batch = [samples] * batch_size
    rec.predict_batch(batch, sample_rate=rate)
    times = h.time_calls(
        lambda: rec.predict_batch(batch, sample_rate=rate), max(3, runs // batch_size), warmup=0
    )
    seq = h.time_calls(lambda: rec.predict(samples, sample_rate=rate), max(3, runs // 4))
    out["throughput"] = {
        "clip_s": len(samples) / rate,
        "sample_rate": rate,
        "batch_size": batch_size,
        "batch_clips_per_s": batch_size / float(np.median(times)),
        "sequential_clips_per_s": 1.0 / float(np.median(seq)),
    }
    return out


def _stream_cost(rec, samples, rate: int, chunk_ms: float) -> dict[str, Any]:
    """Seconds per `push` of `chunk_ms` of audio over the whole clip, plus the final flush."""
    step = max(1, int(round(rate * chunk_ms / 1000.0)))
    pushes, emitted = [], 0
    stream = rec.stream(sample_rate=rate)
    for i in range(0, len(samples), step):
        chunk = samples[i : i + step]
        t = time.perf_counter()
        emitted += len(stream.push(chunk))
        pushes.append(time.perf_counter() - t)
    t = time.perf_counter()
    emitted += len(stream.flush())
    flush = time.perf_counter() - t
    return {
        "sample_rate": rate,
        "chunk_ms": chunk_ms,
        "audio_s": len(samples) / rate,
        "per_chunk": h.summarize_ms(pushes),
        "flush_ms": flush * 1000.0,
        "predictions": emitted,
        "real_time_factor": sum(pushes) / (len(samples) / rate),
    }


def _frontend_backend() -> str:
    from edgeser import frontend

    return frontend.backend()


# Cold start is a self-contained program (not a probe function) so that the child imports
# nothing but what a user's script would: its process wall time is the honest figure.
COLD_START_BODY = """\
import edgeser
_t1 = _time.perf_counter()
_rec = edgeser.Recognizer({model!r}, num_threads={threads!r})
_t2 = _time.perf_counter()
_p = _rec.predict({clip!r})
_t3 = _time.perf_counter()
from edgeser import frontend as _frontend
result = {{"import_s": _t1 - _T0, "load_s": _t2 - _t1, "first_predict_s": _t3 - _t2,
          "in_process_s": _t3 - _T0, "label": _p.label, "backend": _frontend.backend(),
          "peak_rss_mb": _peak_rss_mb(),
          "heavy_modules": sorted(m for m in {heavy!r} if m in _sys.modules)}}
"""

# The floor under every cold start: an interpreter that starts, reports and exits.
EMPTY_BODY = "result = {}"


def librosa_features(y, cfg, kind: str):
    """The bundle's features computed the librosa way: [frames, dim] float32.

    Same frame/hop/FFT sizes, window, mel scale and norm, power, log, DCT and lifter;
    pre-emphasis over the whole signal (librosa's way) instead of inside each frame, and
    librosa's frame count, so values are close to edgeser's but not identical; the work done
    is the same, which is what this benchmark compares.
    """
    import librosa
    import numpy as np

    if cfg.preemphasis:  # librosa.effects.preemphasis's formula; that module pulls in sklearn
        y = np.concatenate([y[:1], y[1:] - cfg.preemphasis * y[:-1]])
    window = {"hamming": "hamming", "hann": "hann", "povey": "hann", "rectangular": "boxcar"}[
        cfg.window
    ]
    spec = librosa.stft(
        y,
        n_fft=cfg.fft_size,
        hop_length=cfg.frame_shift,
        win_length=cfg.frame_length,
        window=window,
        center=False,
    )
    spec = np.abs(spec) ** cfg.power
    if kind == "spectrogram":
        feats = spec
    else:
        bank = librosa.filters.mel(
            sr=cfg.sample_rate,
            n_fft=cfg.fft_size,
            n_mels=cfg.n_mels,
            fmin=cfg.fmin,
            fmax=cfg.fmax_hz,
            htk=cfg.mel_scale == "htk",
            norm="slaney" if cfg.mel_norm == "slaney" else None,
        )
        feats = bank @ spec
    feats = np.maximum(feats, cfg.log_floor)
    feats = 10.0 * np.log10(feats) if cfg.log_type == "db" else np.log(feats)
    if kind == "mfcc":
        feats = librosa.feature.mfcc(
            S=feats, n_mfcc=cfg.n_mfcc, dct_type=2, norm="ortho", lifter=cfg.lifter
        )
    if cfg.deltas:
        width = 2 * cfg.delta_window + 1
        feats = np.concatenate(
            [feats]
            + [
                librosa.feature.delta(feats, width=width, order=o) for o in range(1, cfg.deltas + 1)
            ],
            axis=0,
        )
    feats = feats.T
    if cfg.cmvn != "none":
        feats = feats - feats.mean(axis=0)
        if cfg.cmvn == "meanvar":
            feats = feats / np.maximum(feats.std(axis=0), 1e-8)
    return np.ascontiguousarray(feats, dtype=np.float32)


def probe_librosa(model: str, clips: list[dict], runs: int, threads: int) -> dict[str, Any]:
    """The same model fed by librosa: load+resample, features, normalise, windows, TFLite."""
    import librosa
    import numpy as np

    from edgeser.bundle import ModelBundle
    from edgeser.feature_configs import FrontendFeatures
    from edgeser.interpreter import ModelRunner
    from edgeser.windows import feature_windows

    bundle = ModelBundle.load(model)
    spec = bundle.meta.features
    if not isinstance(spec, FrontendFeatures):
        return {"skipped": f"the model reads {spec.type} features, not a spectrogram"}
    runner = ModelRunner(bundle.model, num_threads=threads, source=model)
    mean = np.asarray(bundle.meta.norm_mean, dtype=np.float32)
    std = np.asarray(bundle.meta.norm_std, dtype=np.float32)

    def pipeline(path: str) -> dict[str, float]:
        t0 = time.perf_counter()
        y, _ = librosa.load(path, sr=bundle.meta.sample_rate, mono=True)
        t1 = time.perf_counter()
        feats = (librosa_features(y, spec.frontend, spec.kind) - mean) / std
        t2 = time.perf_counter()
        probs = runner.run(
            feature_windows(feats, spec.window_frames, spec.hop_frames, spec.window_norm)
        )
        probs.mean(axis=0)
        t3 = time.perf_counter()
        return {"load": t1 - t0, "features": t2 - t1, "inference": t3 - t2}

    out = []
    for clip in clips:
        pipeline(clip["path"])  # warm-up: librosa's lazy imports and caches
        recs = [pipeline(clip["path"]) for _ in range(runs)]
        totals = [sum(r.values()) for r in recs]
        stages = {k: h.summarize_ms(r[k] for r in recs) for k in recs[0]}
        stages["total"] = h.summarize_ms(totals)
        out.append(
            {"duration_s": clip["duration_s"], "sample_rate": clip["sample_rate"], "stages": stages}
        )
    return {"clips": out}


def probe_opensmile(clips: list[dict], runs: int) -> dict[str, Any]:
    """openSMILE eGeMAPSv02 functionals of each clip file (extraction only, no model)."""
    import opensmile

    smile = opensmile.Smile(
        feature_set=opensmile.FeatureSet.eGeMAPSv02,
        feature_level=opensmile.FeatureLevel.Functionals,
    )
    out = []
    for clip in clips:
        smile.process_file(clip["path"])  # warm-up
        times = h.time_calls(lambda clip=clip: smile.process_file(clip["path"]), runs, warmup=0)
        out.append(
            {
                "duration_s": clip["duration_s"],
                "sample_rate": clip["sample_rate"],
                "total": h.summarize_ms(times),
            }
        )
    return {"clips": out, "features": len(smile.feature_names)}


# ---- the run ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelRef:
    """A model to benchmark: its name and the bundle file the probes load."""

    name: str
    path: str
    features: str

    @classmethod
    def from_path(cls, path: str) -> ModelRef:
        from edgeser.bundle import ModelBundle
        from edgeser.feature_configs import FrontendFeatures

        bundle = ModelBundle.load(path)
        spec = bundle.meta.features
        if isinstance(spec, FrontendFeatures):
            what = f"{spec.kind} x{spec.dim}"
        else:
            what = getattr(spec, "opensmile_set", None) or getattr(spec, "feature_set", "?")
        return cls(bundle.meta.name, str(Path(path).resolve()), f"{spec.type}: {what}")


def find_models(extra_paths: Sequence[str], bundled: bool = True) -> list[ModelRef]:
    """The bundled models (edgeser.models()) and any extra bundle paths, without duplicates."""
    refs: list[ModelRef] = []
    if bundled:
        from edgeser import registry

        refs += [ModelRef.from_path(info.path) for info in registry.models()]
    refs += [ModelRef.from_path(p) for p in extra_paths]
    seen, out = set(), []
    for r in refs:
        if r.path not in seen:
            seen.add(r.path)
            out.append(r)
    return out


def _probe_entry(result: h.ProbeResult) -> dict[str, Any]:
    return {**result.value, **result.to_dict()}


def run(
    settings: LatencySettings, models: Sequence[ModelRef], argv: Sequence[str] = ()
) -> dict[str, Any]:
    """Every measurement of `settings` for `models`; returns the JSON-ready result."""
    source = h.audio_source(settings.audio)
    limits, env = settings.limits(), settings.env()
    report = h.run_header(
        "latency", argv, {**asdict(settings), "limits": limits.to_dict()}, PACKAGES
    )
    report["audio_source"] = (
        "EmoDB speech (joined and cut; other rates resampled with soxr HQ)"
        if source == "emodb"
        else "synthetic speech-like signal (benchmarks._harness.speech_like)"
    )
    steps = 4 + len(models) * (2 + settings.cold_runs)
    progress = h.Progress(steps)

    def probe(what: str, target: str, **kwargs: Any) -> h.ProbeResult:
        progress.step(what)
        return h.run_probe(
            f"{PROBE_MODULE}:{target}", kwargs, limits=limits, env=env, timeout_s=settings.timeout_s
        )

    def program(what: str, body: str) -> h.ProbeResult:
        progress.step(what)
        return h.run_program(body, limits=limits, env=env, timeout_s=settings.timeout_s, name=what)

    with tempfile.TemporaryDirectory(prefix="edgeser-latency-") as tmp:
        clips = h.prepare_clips(tmp, settings.durations, settings.rates, source)
        clip_dicts = [asdict(c) for c in clips]
        at16 = [c for c in clip_dicts if c["sample_rate"] == 16000]
        cold_clip = next(c["path"] for c in at16 if c["duration_s"] == settings.cold_clip_s)
        startup = [program(f"python start-up floor {i + 1}/3", EMPTY_BODY) for i in range(3)]
        report["python_startup"] = h.summarize_ms(r.wall_s for r in startup if r.ok)
        report["opensmile"] = _probe_entry(
            probe(
                "openSMILE eGeMAPSv02 functionals",
                "probe_opensmile",
                clips=at16,
                runs=settings.peer_runs,
            )
        )
        report["models"] = []
        for m in models:
            entry: dict[str, Any] = {"name": m.name, "path": m.path, "features": m.features}
            entry["warm"] = _probe_entry(
                probe(
                    f"{m.name}: warm stages, stream, throughput",
                    "probe_warm",
                    model=m.path,
                    clips=clip_dicts,
                    runs=settings.runs,
                    threads=settings.threads,
                    chunk_ms=settings.chunk_ms,
                    batch_size=settings.batch_size,
                    throughput_clip=cold_clip,
                )
            )
            cold_body = COLD_START_BODY.format(
                model=m.path, threads=settings.threads, clip=cold_clip, heavy=HEAVY_MODULES
            )
            colds = [
                program(f"{m.name}: cold start {i + 1}/{settings.cold_runs}", cold_body)
                for i in range(settings.cold_runs)
            ]
            entry["cold_start"] = _summarize_cold(colds, settings.cold_clip_s)
            entry["librosa"] = _probe_entry(
                probe(
                    f"{m.name}: librosa features + same TFLite model",
                    "probe_librosa",
                    model=m.path,
                    clips=at16,
                    runs=settings.peer_runs,
                    threads=settings.threads,
                )
            )
            entry["ratios"] = _ratios(entry, report["opensmile"])
            entry["targets"] = _targets(entry)
            report["models"].append(entry)
    report["fits"] = _fits(report)
    return report


def _summarize_cold(results: list[h.ProbeResult], clip_s: float) -> dict[str, Any]:
    ok = [r for r in results if r.ok]
    out: dict[str, Any] = {
        "clip_s": clip_s,
        "runs": [_probe_entry(r) for r in results],
        "ok": len(ok) == len(results),
    }
    if not out["ok"]:
        out["error"] = next(r.error for r in results if not r.ok)
    if ok:
        out["process_wall"] = h.summarize_ms(r.wall_s for r in ok)
        for key in ("import_s", "load_s", "first_predict_s", "in_process_s"):
            out[key.removesuffix("_s")] = h.summarize_ms(r.value[key] for r in ok)
        out["peak_rss_mb"] = max(r.value["peak_rss_mb"] for r in ok)
        out["heavy_modules"] = sorted({m for r in ok for m in r.value["heavy_modules"]})
    return out


def _p50(stages: dict[str, Any] | None, name: str) -> float | None:
    return (stages or {}).get(name, {}).get("p50_ms")


def _ratios(entry: dict[str, Any], opensmile: dict[str, Any]) -> list[dict[str, Any]]:
    """Per 16 kHz clip duration: peer p50 divided by edgeser p50 (features and whole pipeline)."""
    warm = {
        (c["duration_s"], c["input"]): c["stages"]
        for c in entry["warm"].get("clips", [])
        if c["sample_rate"] == 16000
    }
    lib = {c["duration_s"]: c["stages"] for c in entry["librosa"].get("clips", [])}
    smile = {c["duration_s"]: c["total"] for c in opensmile.get("clips", [])}
    out = []
    for (dur, kind), stages in sorted(warm.items()):
        if kind != "file":
            continue
        ours_total, ours_feat = _p50(stages, "total"), _p50(stages, "features")
        ungated = _p50(warm.get((dur, "file, no VAD")), "total")

        def ratio(a: float | None, b: float | None) -> float | None:
            return a / b if a is not None and b else None

        out.append(
            {
                "duration_s": dur,
                "edgeser_total_ms": ours_total,
                "edgeser_no_vad_total_ms": ungated,
                "edgeser_features_ms": ours_feat,
                "librosa_total_ms": _p50(lib.get(dur), "total"),
                "librosa_features_ms": _p50(lib.get(dur), "features"),
                "opensmile_ms": (smile.get(dur) or {}).get("p50_ms"),
                "librosa_total_x": ratio(_p50(lib.get(dur), "total"), ungated),
                "librosa_vs_gated_x": ratio(_p50(lib.get(dur), "total"), ours_total),
                "librosa_features_x": ratio(_p50(lib.get(dur), "features"), ours_feat),
                "opensmile_vs_total_x": ratio((smile.get(dur) or {}).get("p50_ms"), ours_total),
                "opensmile_vs_features_x": ratio((smile.get(dur) or {}).get("p50_ms"), ours_feat),
            }
        )
    return out


# The runtime issue's targets: (what, key in `_target_values`, limit, unit).
TARGETS = (
    ("cold start: new process imports, loads, predicts a 3 s file", "cold_wall_ms", 300.0, "ms"),
    ("cold start peak RSS", "cold_rss_mb", 80.0, "MB"),
    ("warm predict of a 3 s clip (16 kHz array, p50)", "warm_3s_array_ms", 3.0, "ms"),
    ("warm predict of a 3 s clip (16 kHz file, p50)", "warm_3s_file_ms", 3.0, "ms"),
)


def _targets(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """Each issue target beside the measured value (None when that measurement is missing)."""
    cold = entry["cold_start"]
    warm = {
        (c["duration_s"], c["sample_rate"], c["input"]): c["stages"]
        for c in entry["warm"].get("clips", [])
    }
    values = {
        "cold_wall_ms": (cold.get("process_wall") or {}).get("p50_ms"),
        "cold_rss_mb": cold.get("peak_rss_mb"),
        "warm_3s_array_ms": _p50(warm.get((3.0, 16000, "array")), "total"),
        "warm_3s_file_ms": _p50(warm.get((3.0, 16000, "file")), "total"),
    }
    return [
        {
            "what": what,
            "target": limit,
            "unit": unit,
            "measured": values[key],
            "met": None if values[key] is None else values[key] < limit,
        }
        for what, key, limit, unit in TARGETS
    ]


def _fits(report: dict[str, Any]) -> dict[str, Any]:
    """Which pipelines ran to the end under the run's limits (all of them when unconstrained)."""
    out = {"openSMILE eGeMAPS": _fit(report["opensmile"])}
    for m in report["models"]:
        out[f"edgeser {m['name']} (warm)"] = _fit(m["warm"])
        out[f"edgeser {m['name']} (cold start)"] = _fit(m["cold_start"])
        out[f"librosa + {m['name']}"] = _fit(m["librosa"])
    return out


def _fit(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "fits": bool(entry.get("ok")),
        **({"error": entry["error"]} if entry.get("error") else {}),
    }


# ---- presentation --------------------------------------------------------------------------------
def render(report: dict[str, Any]) -> str:
    """The human-readable tables of a result (times are p50 unless named)."""
    parts = [
        f"edgeser latency benchmark — {report['date']}",
        f"machine: {report['machine']['cpu']}, {report['machine']['cores']} cores; "
        f"python {report['machine']['python']}; load average at start "
        f"{report['machine']['load_average_1m']}; audio: {report['audio_source']}",
        f"limits: {report['settings']['limits']}; threads={report['settings']['threads']}; "
        f"python start-up floor (p50) "
        f"{report['python_startup']['p50_ms']:.0f} ms",
    ]
    for m in report["models"]:
        warm = m["warm"]
        parts.append("")
        if not warm.get("ok"):
            parts.append(f"model {m['name']}: warm probe does not fit / failed: {warm['error']}")
        else:
            stages = [s for s in CHART_STAGES if any(s in c["stages"] for c in warm["clips"])]
            rows = [
                [
                    f"{c['duration_s']:g} s @ {c['sample_rate'] / 1000:g} kHz {c['input']}"
                    + ("" if c["speech"] else " (no speech found!)")
                ]
                + [_p50(c["stages"], s) for s in stages]
                + [c["stages"]["total"][k] for k in ("p50_ms", "p95_ms", "p99_ms")]
                for c in warm["clips"]
            ]
            parts.append(
                h.format_table(
                    ["clip"] + stages + ["total p50", "p95", "p99"],
                    rows,
                    f"model {m['name']} ({m['features']}), front end {warm['backend']}: "
                    "warm predict, ms (stage columns are p50)",
                )
            )
            srows = [
                [
                    f"{s['chunk_ms']:g} ms @ {s['sample_rate'] / 1000:g} kHz",
                    s["per_chunk"]["p50_ms"],
                    s["per_chunk"]["p95_ms"],
                    s["per_chunk"]["p99_ms"],
                    s["flush_ms"],
                    s["real_time_factor"],
                ]
                for s in warm["stream"]
            ]
            if srows:
                parts.append(
                    h.format_table(
                        ["stream push", "p50 ms", "p95", "p99", "flush ms", "RTF"], srows
                    )
                )
            else:
                parts.append(f"streaming skipped: {warm.get('stream_skipped')}")
            tp = warm["throughput"]
            parts.append(
                f"throughput ({tp['clip_s']:g} s clips): "
                f"{tp['batch_clips_per_s']:.1f} clips/s in batches of "
                f"{tp['batch_size']}, {tp['sequential_clips_per_s']:.1f} clips/s "
                "one by one"
            )
        cold = m["cold_start"]
        if cold.get("process_wall"):
            parts.append(
                f"cold start ({cold['clip_s']:g} s file, {len(cold['runs'])} fresh processes): "
                f"process wall p50 {cold['process_wall']['p50_ms']:.0f} ms, min "
                f"{cold['process_wall']['min_ms']:.0f} ms (p50 in-process: import "
                f"{cold['import']['p50_ms']:.0f} + load {cold['load']['p50_ms']:.0f} + "
                f"first predict {cold['first_predict']['p50_ms']:.0f} ms), peak RSS "
                f"{cold['peak_rss_mb']:.1f} MB; heavy modules loaded: "
                f"{', '.join(cold['heavy_modules']) or 'none'}"
            )
        if not cold.get("ok"):
            parts.append(f"cold start does not fit / failed: {cold['error']}")
        if m["ratios"]:
            rows = [
                [
                    f"{r['duration_s']:g} s",
                    r["edgeser_total_ms"],
                    r["edgeser_no_vad_total_ms"],
                    r["edgeser_features_ms"],
                    r["librosa_total_ms"],
                    r["librosa_features_ms"],
                    r["opensmile_ms"],
                    _x(r["librosa_total_x"]),
                    _x(r["librosa_features_x"]),
                    _x(r["opensmile_vs_total_x"]),
                ]
                for r in m["ratios"]
            ]
            parts.append(
                h.format_table(
                    [
                        "16 kHz file",
                        "edgeser",
                        "no VAD",
                        "features",
                        "librosa",
                        "features",
                        "openSMILE",
                        "librosa/no-VAD",
                        "features",
                        "openSMILE/edgeser",
                    ],
                    rows,
                    "side by side, p50 ms (librosa: load + features + same TFLite model, no voice "
                    "gate; openSMILE: eGeMAPSv02 functionals only)",
                )
            )
        if m["librosa"].get("skipped"):
            parts.append(f"librosa pipeline skipped: {m['librosa']['skipped']}")
        parts.append(
            h.format_table(
                ["issue target", "target", "measured", "met"],
                [
                    [
                        t["what"],
                        f"< {t['target']:g} {t['unit']}",
                        t["measured"],
                        {True: "yes", False: "NO", None: "-"}[t["met"]],
                    ]
                    for t in m["targets"]
                ],
            )
        )
    parts.append("")
    constrained = report["settings"]["constrained"]
    failed = "does not fit" if constrained else "failed"
    parts.append(
        h.format_table(
            ["pipeline", "fits" if constrained else "ran"],
            [
                [k, "yes" if v["fits"] else f"{failed}: {v.get('error')}"]
                for k, v in report["fits"].items()
            ],
            "under the limits above" if constrained else "ran to the end (no limits)",
        )
    )
    return "\n".join(parts)


def _x(v: float | None) -> str | None:
    return None if v is None else f"{v:.1f}x"


def chart(report: dict[str, Any], path: str | Path) -> Path:
    """Left: edgeser's p50 stages per model and clip file. Right: whole pipelines side by side."""
    stage_labels: list[str] = []
    stages: dict[str, list[float]] = {s: [] for s in CHART_STAGES}
    peer_labels: list[str] = []
    peers: dict[str, list[float]] = {
        "edgeser": [],
        "librosa + same model": [],
        "openSMILE eGeMAPS": [],
    }
    for m in report["models"]:
        for c in m["warm"].get("clips", []):
            if c["input"] != "file":
                continue
            stage_labels.append(
                f"{m['name']} {c['duration_s']:g} s @ {c['sample_rate'] / 1000:g} kHz"
            )
            for s in CHART_STAGES:
                stages[s].append(_p50(c["stages"], s) or 0.0)
        for r in m["ratios"]:
            for who, key in zip(peers, ("edgeser_total_ms", "librosa_total_ms", "opensmile_ms")):
                if r.get(key):
                    peer_labels.append(f"{who.split()[0]} {r['duration_s']:g} s ({m['name']})")
                    for name in peers:
                        peers[name].append(r[key] if name == who else 0.0)
    panels = [
        h.BarPanel(
            "edgeser warm predict, p50 per stage",
            tuple(stage_labels),
            {k: v for k, v in stages.items() if any(v)},
            "milliseconds",
        )
    ]
    if peer_labels:
        panels.append(
            h.BarPanel(
                "whole pipeline at 16 kHz, p50 (log scale)",
                tuple(peer_labels),
                {k: v for k, v in peers.items() if any(v)},
                "milliseconds",
                log_x=True,
            )
        )
    limits = (
        "constrained: " + str(report["settings"]["limits"])
        if report["settings"]["constrained"]
        else "unconstrained"
    )
    return h.bar_chart(path, panels, f"edgeser latency ({report['machine']['cpu']}, {limits})")


# ---- command line -------------------------------------------------------------------------------
def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.latency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="PATH",
        help="a .edgeser bundle to benchmark besides the bundled models (repeatable)",
    )
    p.add_argument(
        "--no-bundled",
        action="store_true",
        help="benchmark only the --model bundles, not edgeser's bundled models",
    )
    p.add_argument(
        "--threads",
        type=int,
        default=1,
        help="interpreter threads and numeric thread pools (default 1)",
    )
    p.add_argument(
        "--backend",
        choices=("cpp", "numba", "numpy"),
        help="front-end backend (sets EDGESER_BACKEND; default: the best available)",
    )
    p.add_argument(
        "--runs", type=int, help="timed calls per warm measurement (default 100; quick 5)"
    )
    p.add_argument("--cold-runs", type=int, help="fresh processes for cold start (default 10)")
    p.add_argument(
        "--peer-runs", type=int, help="timed calls per librosa / openSMILE measurement (default 20)"
    )
    h.add_process_arguments(
        p, "smoke test: 1 and 3 s clips at 16/48 kHz, a handful of runs", "probe", "latency.json"
    )
    return p.parse_args(argv)


def settings_from_args(args: argparse.Namespace) -> LatencySettings:
    given = {
        k: v
        for k, v in {
            "runs": args.runs,
            "cold_runs": args.cold_runs,
            "peer_runs": args.peer_runs,
        }.items()
        if v is not None
    }
    common = dict(
        threads=args.threads,
        backend=args.backend,
        audio=args.audio,
        constrained=args.constrained,
        cpu=args.cpu,
        address_space_mb=args.memory_cap_mb,
        **given,
    )
    return LatencySettings.quick(**common) if args.quick else LatencySettings(**common)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    try:
        settings = settings_from_args(args)
        models = find_models(args.model, bundled=not args.no_bundled)
    except (ValueError, OSError) as exc:
        print(f"benchmarks.latency: {exc}", file=sys.stderr)
        return 2
    if not models:
        print(
            "benchmarks.latency: no model to benchmark: edgeser has no bundled model yet; "
            "pass --model PATH of a .edgeser bundle",
            file=sys.stderr,
        )
        return 2
    report = run(settings, models, argv)
    h.publish(report, args.json, render, chart, with_chart=not args.no_chart)
    return 0


if __name__ == "__main__":
    sys.exit(main())
