"""How fast edgeser turns samples into features, beside the libraries people use instead.

    python -m benchmarks.frontend                      # full run (a few minutes)
    python -m benchmarks.frontend --quick              # smoke test: few repeats, small batch
    python -m benchmarks.frontend --backends cpp,librosa,knf --repeats 500

One process, one thread (OMP/MKL/OpenBLAS/Numba pools pinned to 1 before NumPy loads, and
num_threads=1). For MFCC and log-mel (40 mels, 13 MFCC, 25 ms / 10 ms Hamming frames, 512-point
FFT, 16 kHz): the median time per call on a 1 s and a 3 s clip, per batch of clips (100 x 3 s),
and per pushed 10 ms chunk when streaming, for edgeser's backends (cpp, numba, numpy; through
the public edgeser.frontend API), librosa, python_speech_features (psf), kaldi-native-fbank (knf,
its Python API) and `scipy.fft.rfft` alone over the already framed and windowed frames: the
FFT-bound floor that a front end cannot beat by much. The input is a synthetic speech-like clip
(benchmarks._harness.speech_like), the same for every implementation.

Peers are configured for the equivalent features; small convention differences remain (psf
pre-emphasises the whole signal and pads the last frame, knf uses its own log floor). Prints a
table and the targets, and writes JSON (default benchmarks/results/frontend.json).
"""

from __future__ import annotations

import os

for _var in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
):
    os.environ[_var] = "1"

import argparse  # noqa: E402  (the thread pins above must precede any NumPy import)
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402

from . import _harness as h  # noqa: E402

SAMPLE_RATE = 16000
TASKS = ("mfcc", "log_mel")
EDGESER_BACKENDS = ("cpp", "numba", "numpy")
PEERS = ("librosa", "psf", "knf", "scipy_rfft")
ALL_IMPLEMENTATIONS = EDGESER_BACKENDS + PEERS
LABELS = {
    "cpp": "edgeser cpp",
    "numba": "edgeser numba",
    "numpy": "edgeser numpy",
    "librosa": "librosa",
    "psf": "python_speech_features",
    "knf": "kaldi-native-fbank",
    "scipy_rfft": "scipy.fft.rfft alone",
}
PACKAGES = ("edgeser", "scipy", "librosa", "python_speech_features", "kaldi-native-fbank", "numba")
# (numerator, denominator, workload, target, "min" = ratio must be >= target / "max" = <=)
RATIO_TARGETS = (
    ("librosa", "cpp", "1s", 8.0, "min"),
    ("knf", "cpp", "1s", 15.0, "min"),
    ("cpp", "scipy_rfft", "1s", 1.5, "max"),
)
STREAM_TARGET_US = 10.0


# ---- settings ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class FrontendBenchSettings:
    """One run's knobs; `quick()` is the smoke-test variant."""

    repeats: int = 200  # timed calls per single-clip measurement
    batch_repeats: int = 5  # timed batches per batch measurement
    stream_repeats: int = 3  # times the stream clip is pushed through, chunk by chunk
    batch_size: int = 100
    batch_clip_s: float = 3.0
    stream_clip_s: float = 3.0
    chunk_ms: float = 10.0
    min_time_s: float = 1.0  # per measurement: keep repeating at least this long (noise)
    budget_s: float = 5.0  # per measurement: stop repeating after this long (at least 3 runs)
    backends: tuple[str, ...] = ALL_IMPLEMENTATIONS

    def __post_init__(self) -> None:
        for name in ("repeats", "batch_repeats", "stream_repeats", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        for name in ("batch_clip_s", "stream_clip_s", "chunk_ms", "budget_s", "min_time_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)!r}")
        unknown = sorted(set(self.backends) - set(ALL_IMPLEMENTATIONS))
        if unknown or not self.backends:
            raise ValueError(f"unknown backends {unknown}; choose from {ALL_IMPLEMENTATIONS}")

    @classmethod
    def quick(cls, **overrides: Any) -> FrontendBenchSettings:
        base = dict(
            repeats=3,
            batch_repeats=1,
            stream_repeats=1,
            batch_size=4,
            stream_clip_s=1.0,
            min_time_s=0.01,
            budget_s=2.0,
        )
        return cls(**{**base, **overrides})


# ---- timing -----------------------------------------------------------------------------------
def time_repeated(
    fn: Callable[[], Any], repeats: int, budget_s: float, min_time_s: float = 0.0
) -> list[float]:
    """Seconds per call of `fn` after one untimed warm-up call (JIT, caches).

    Times at least `repeats` calls and keeps going until `min_time_s` has passed, so that a
    fast call's median spans enough wall time to shrug off short bursts of other processes;
    stops once `budget_s` is spent (with at least 3 calls timed)."""
    fn()
    out: list[float] = []
    start = time.perf_counter()
    while True:
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - start
        if len(out) >= 3 and elapsed > budget_s:
            break
        if len(out) >= repeats and elapsed >= min_time_s:
            break
    return out


def stats_us(seconds: Sequence[float], per: int = 1) -> dict[str, float]:
    """Median / min / mean in microseconds (divided by `per` items per call)."""
    a = np.asarray(seconds, dtype=np.float64) * 1e6 / per
    return {
        "median_us": float(np.median(a)),
        "min_us": float(a.min()),
        "mean_us": float(a.mean()),
        "runs": int(a.size),
    }


# ---- the implementations ----------------------------------------------------------------------
class Impl:
    """One implementation: offline features of one clip, and optionally a streaming session."""

    name = ""

    def features(self, x: np.ndarray, task: str) -> np.ndarray:
        raise NotImplementedError

    def batch(self, clips: Sequence[np.ndarray], task: str) -> list:
        return [self.features(x, task) for x in clips]

    def stream(self, task: str):  # -> (push(chunk) -> rows, flush() -> rows), or None
        return None


class Edgeser(Impl):
    def __init__(self, backend: str):
        from edgeser import frontend

        if backend not in frontend.available_backends():
            raise ImportError(f"edgeser backend {backend!r} is not available")
        self.name, self.fe = backend, frontend
        self.cfg = frontend.FrontendConfig(
            n_mels=40,
            n_mfcc=13,
            frame_length_ms=25.0,
            frame_shift_ms=10.0,
            n_fft=512,
            window="hamming",
        )

    def features(self, x, task):
        return self.fe.features(x, self.cfg, task, backend=self.name)

    def batch(self, clips, task):
        return self.fe.features_batch(clips, self.cfg, task, num_threads=1, backend=self.name)

    def stream(self, task):
        s = self.fe.FrameStream(self.cfg, task, backend=self.name)
        return s.push, s.flush


class Librosa(Impl):
    name = "librosa"

    def __init__(self):
        import librosa

        self.librosa = librosa
        self.kw = dict(
            sr=SAMPLE_RATE,
            n_fft=512,
            win_length=400,
            hop_length=160,
            window="hamming",
            center=False,
            n_mels=40,
            fmin=20.0,
            htk=True,
        )

    def features(self, x, task):
        if task == "mfcc":
            return self.librosa.feature.mfcc(y=x, n_mfcc=13, **self.kw).T
        return np.log(np.maximum(self.librosa.feature.melspectrogram(y=x, **self.kw), 1e-10)).T


class Psf(Impl):
    name = "psf"

    def __init__(self):
        import python_speech_features as psf

        self.psf = psf
        self.kw = dict(
            samplerate=SAMPLE_RATE,
            winlen=0.025,
            winstep=0.01,
            nfilt=40,
            nfft=512,
            lowfreq=20,
            preemph=0.97,
            winfunc=np.hamming,
        )

    def features(self, x, task):
        if task == "mfcc":
            return self.psf.mfcc(x, numcep=13, ceplifter=0, appendEnergy=False, **self.kw)
        feat, _ = self.psf.fbank(x, **self.kw)  # logfbank() cannot take a Hamming window
        return np.log(feat)


class Knf(Impl):
    name = "knf"

    def __init__(self):
        import kaldi_native_fbank as knf

        self.knf = knf

    def _session(self, task):
        knf = self.knf
        opts = knf.MfccOptions() if task == "mfcc" else knf.FbankOptions()
        opts.frame_opts.samp_freq = SAMPLE_RATE
        opts.frame_opts.dither = 0.0
        opts.frame_opts.window_type = "hamming"
        opts.frame_opts.remove_dc_offset = False
        opts.mel_opts.num_bins = 40
        opts.mel_opts.low_freq = 20.0
        opts.use_energy = False
        if task == "mfcc":
            opts.num_ceps = 13
            return knf.OnlineMfcc(opts)
        return knf.OnlineFbank(opts)

    def features(self, x, task):
        s = self._session(task)
        s.accept_waveform(SAMPLE_RATE, x)
        s.input_finished()
        return np.array([s.get_frame(i) for i in range(s.num_frames_ready)], dtype=np.float32)

    def stream(self, task):
        s = self._session(task)
        state = {"next": 0}

        def take():
            ready = s.num_frames_ready
            rows = [s.get_frame(i) for i in range(state["next"], ready)]
            state["next"] = ready
            return rows

        def push(chunk):
            s.accept_waveform(SAMPLE_RATE, chunk)
            return take()

        def flush():
            s.input_finished()
            return take()

        return push, flush


class ScipyRfft(Impl):
    """Only the FFT of the frames, already cut and windowed outside the timing (float64, the
    precision edgeser computes in): what a front end costs at the least."""

    name = "scipy_rfft"

    def __init__(self):
        import scipy.fft

        self.rfft = scipy.fft.rfft
        self._frames: dict[int, np.ndarray] = {}

    def prepared(self, x: np.ndarray) -> np.ndarray:
        key = id(x)
        if key not in self._frames:
            n = 1 + (len(x) - 400) // 160
            idx = np.arange(n)[:, None] * 160 + np.arange(400)[None, :]
            self._frames[key] = x.astype(np.float64)[idx] * np.hamming(400)[None, :]
        return self._frames[key]

    def features(self, x, task):
        return self.rfft(self.prepared(x), n=512, axis=1)


def make_impl(name: str) -> Impl:
    if name in EDGESER_BACKENDS:
        return Edgeser(name)
    return {"librosa": Librosa, "psf": Psf, "knf": Knf, "scipy_rfft": ScipyRfft}[name]()


# ---- measurements -----------------------------------------------------------------------------
def measure(
    impl: Impl,
    s: FrontendBenchSettings,
    clips: dict[str, np.ndarray],
    batch: list[np.ndarray],
    stream_clip: np.ndarray,
) -> list[dict[str, Any]]:
    rows = []
    tasks = TASKS if impl.name != "scipy_rfft" else ("mfcc",)  # the floor is task independent
    for task in tasks:
        for workload, x in clips.items():
            out = impl.features(x, task)
            t = time_repeated(
                lambda x=x, task=task: impl.features(x, task), s.repeats, s.budget_s, s.min_time_s
            )
            rows.append(
                {
                    "impl": impl.name,
                    "task": task,
                    "workload": workload,
                    "unit": "per call",
                    "frames": int(np.shape(out)[0]),
                    **stats_us(t),
                }
            )
        t = time_repeated(
            lambda task=task: impl.batch(batch, task), s.batch_repeats, s.budget_s, s.min_time_s
        )
        rows.append(
            {
                "impl": impl.name,
                "task": task,
                "workload": f"batch{len(batch)}",
                "unit": "per batch",
                "clips": len(batch),
                **stats_us(t),
            }
        )
        session = impl.stream(task)
        if session is not None:
            rows.append(measure_stream(impl, task, s, stream_clip))
    return rows


def measure_stream(
    impl: Impl, task: str, s: FrontendBenchSettings, x: np.ndarray
) -> dict[str, Any]:
    """Per-push time of consecutive chunk_ms chunks (each completes about one frame)."""
    hop = int(round(SAMPLE_RATE * s.chunk_ms / 1000.0))
    chunks = [x[i : i + hop] for i in range(0, len(x) - hop + 1, hop)]
    push, flush = impl.stream(task)  # warm-up session
    for c in chunks[:50]:
        push(c)
    flush()
    per_push, emitted = [], 0
    for _ in range(s.stream_repeats):
        push, flush = impl.stream(task)
        for c in chunks:
            t = time.perf_counter()
            out = push(c)
            per_push.append(time.perf_counter() - t)
            emitted += len(out)
        emitted += len(flush())
    return {
        "impl": impl.name,
        "task": task,
        "workload": f"stream{s.chunk_ms:g}ms",
        "unit": "per pushed chunk",
        "chunks": len(per_push),
        "frames": emitted // s.stream_repeats,
        **stats_us(per_push),
    }


def find(results: list[dict], impl: str, task: str, workload: str) -> dict | None:
    for r in results:
        if (r["impl"], r["task"], r["workload"]) == (impl, task, workload):
            return r
    return None


def evaluate_targets(results: list[dict], s: FrontendBenchSettings) -> list[dict[str, Any]]:
    out = []
    for num, den, workload, target, kind in RATIO_TARGETS:
        a, b = find(results, num, "mfcc", workload), find(results, den, "mfcc", workload)
        ratio = a["median_us"] / b["median_us"] if a and b else None
        met = None if ratio is None else (ratio >= target if kind == "min" else ratio <= target)
        text = (
            f"{LABELS[den]} {target:g}x+ faster than {LABELS[num]}"
            if kind == "min"
            else f"{LABELS[num]} within {target:g}x of {LABELS[den]}"
        )
        out.append(
            {"target": f"MFCC {workload}: {text}", "ratio": ratio, "threshold": target, "met": met}
        )
    stream = find(results, "cpp", "mfcc", f"stream{s.chunk_ms:g}ms")
    value = stream["median_us"] if stream else None
    out.append(
        {
            "target": f"streaming: < {STREAM_TARGET_US:g} us per {s.chunk_ms:g} ms hop "
            "(edgeser cpp, MFCC)",
            "value_us": value,
            "threshold": STREAM_TARGET_US,
            "met": None if value is None else value < STREAM_TARGET_US,
        }
    )
    return out


# ---- report -----------------------------------------------------------------------------------
def table(results: list[dict], s: FrontendBenchSettings) -> str:
    columns = [
        ("mfcc", "1s"),
        ("mfcc", "3s"),
        ("log_mel", "1s"),
        ("log_mel", "3s"),
        ("mfcc", f"batch{s.batch_size}"),
        ("log_mel", f"batch{s.batch_size}"),
        ("mfcc", f"stream{s.chunk_ms:g}ms"),
        ("log_mel", f"stream{s.chunk_ms:g}ms"),
    ]
    headers = [
        "implementation",
        "MFCC 1s us",
        "MFCC 3s us",
        "logmel 1s us",
        "logmel 3s us",
        f"MFCC {s.batch_size}x{s.batch_clip_s:g}s ms",
        f"logmel {s.batch_size}x{s.batch_clip_s:g}s ms",
        "MFCC stream us/hop",
        "logmel stream us/hop",
    ]
    rows = []
    for impl in s.backends:
        cells = [LABELS[impl]]
        for task, workload in columns:
            r = find(results, impl, task, workload)
            if (
                r is None
                and impl == "scipy_rfft"
                and task == "log_mel"
                and "stream" not in workload
            ):
                r = find(results, impl, "mfcc", workload)
            if r is None:
                cells.append(None)
            else:
                cells.append(
                    r["median_us"] / 1000.0 if workload.startswith("batch") else r["median_us"]
                )
        rows.append(cells)
    return h.format_table(headers, rows, title="Median time (one thread)")


def run(s: FrontendBenchSettings, argv: Sequence[str]) -> dict[str, Any]:
    long_clip = h.speech_like(max(3.0, s.batch_clip_s, s.stream_clip_s), SAMPLE_RATE, seed=1)
    clips = {"1s": long_clip[:SAMPLE_RATE], "3s": long_clip[: 3 * SAMPLE_RATE]}
    batch_len = int(round(s.batch_clip_s * SAMPLE_RATE))
    batch = [
        h.speech_like(s.batch_clip_s, SAMPLE_RATE, seed=10 + i)[:batch_len]
        for i in range(s.batch_size)
    ]
    stream_clip = long_clip[: int(round(s.stream_clip_s * SAMPLE_RATE))]
    header = h.run_header("frontend", argv, asdict(s), PACKAGES)
    try:
        from edgeser import _frontend

        header["machine"]["edgeser_simd"] = _frontend.simd_isa()
    except ImportError:
        header["machine"]["edgeser_simd"] = None
    if hasattr(os, "getloadavg"):  # other processes on the machine skew every timing
        header["machine"]["load_average_before"] = list(os.getloadavg())
    results, unavailable = [], {}
    for name in s.backends:
        try:
            impl = make_impl(name)
        except ImportError as exc:
            unavailable[name] = str(exc)
            print(f"  {LABELS[name]}: unavailable ({exc})", file=sys.stderr)
            continue
        print(f"  measuring {LABELS[name]} ...", file=sys.stderr, flush=True)
        results.extend(measure(impl, s, clips, batch, stream_clip))
    if hasattr(os, "getloadavg"):
        header["machine"]["load_average_after"] = list(os.getloadavg())
    return {
        **header,
        "workloads": {
            "clips": {k: len(v) / SAMPLE_RATE for k, v in clips.items()},
            "batch": f"{s.batch_size} clips of {s.batch_clip_s:g} s",
            "stream": f"{s.stream_clip_s:g} s in {s.chunk_ms:g} ms chunks, x{s.stream_repeats}",
            "features": "40 mels, 13 MFCC, 25/10 ms Hamming, 512-point FFT, 16 kHz, float32 in",
        },
        "results": results,
        "unavailable": unavailable,
        "targets": evaluate_targets(results, s),
    }


def format_targets(targets: list[dict]) -> str:
    lines = ["Targets"]
    for t in targets:
        status = {True: "MET", False: "NOT MET", None: "n/a"}[t["met"]]
        value = (
            f"{t['ratio']:.2f}x"
            if t.get("ratio") is not None
            else f"{t['value_us']:.2f} us"
            if t.get("value_us") is not None
            else "-"
        )
        lines.append(f"  [{status:7s}] {t['target']}: {value}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.frontend",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--repeats",
        type=int,
        help="least timed calls per single-clip measurement "
        "(default 200, and at least 1 s of calls)",
    )
    p.add_argument("--quick", action="store_true", help="smoke test: few repeats, batch of 4")
    p.add_argument("--backends", help="comma-separated subset of " + ",".join(ALL_IMPLEMENTATIONS))
    p.add_argument(
        "--json",
        default=str(h.RESULTS_DIR / "frontend.json"),
        metavar="FILE",
        help="where to write the results (default benchmarks/results/frontend.json)",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.repeats is not None:
        overrides["repeats"] = args.repeats
    if args.backends:
        overrides["backends"] = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    try:
        s = (
            FrontendBenchSettings.quick(**overrides)
            if args.quick
            else FrontendBenchSettings(**overrides)
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    data = run(s, argv)
    m = data["machine"]
    load = m.get("load_average_before")
    print(
        f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, NumPy {m['packages']['numpy']}, "
        f"edgeser SIMD: {m['edgeser_simd']}"
        + (f", load average before: {load[0]:.2f}" if load else "")
    )
    print(table(data["results"], s))
    print(format_targets(data["targets"]))
    from train.report import write_json

    path = write_json(args.json, data)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
