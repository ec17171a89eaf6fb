"""Shared machinery of the latency and memory benchmarks.

Every measurement runs in its own fresh Python subprocess (a "probe"), so import costs, peak RSS
and crashes of one library never leak into another measurement, and the parent process stays
lean. With `Limits` a probe is pinned to one CPU and its address space is capped, to emulate a
Raspberry-Pi-Zero-2-class device; a probe that fails there is reported, not raised.

This module imports only the standard library at the top: probes import it too, and whatever it
imports would count against their start-up time and memory.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import math
import os
import resource
import signal
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = Path(__file__).resolve().parent / "results"
RESULT_MARKER = "@@edgeser-bench-result@@ "
# Thread pools of numeric libraries, set in every probe so a measurement uses the threads asked.
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
PERCENTILES = (50, 95, 99)


# ---- where the corpora are -------------------------------------------------------------------
def datasets_dir() -> Path:
    """`<project root>/../shared/datasets`, or $EDGESER_DATASETS (`train.shared_data`)."""
    from train.shared_data import datasets_dir as lookup

    return lookup()


# ---- models -------------------------------------------------------------------------------------
def bundled_model() -> str | None:
    """The file of edgeser's bundled default model (else the first bundled one), or None."""
    from edgeser import registry

    if registry.default_name() is not None:
        return registry.resolve("default").source
    bundled = registry.models()
    return bundled[0].path if bundled else None


# ---- test audio -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Clip:
    """One WAV file the benchmarks feed to every pipeline."""

    path: str
    duration_s: float
    sample_rate: int

    @property
    def label(self) -> str:
        return f"{self.duration_s:g} s @ {self.sample_rate / 1000:g} kHz"


def speech_like(duration_s: float, sample_rate: int, seed: int = 0):
    """A synthetic voiced signal with speech's rough shape, float32 in [-0.5, 0.5].

    Harmonics of a gliding 95-260 Hz pitch shaped by three moving formants, syllables at about
    4 Hz with a pause every ~1.7 s, short fricative noise bursts and a faint noise floor: enough
    for a voice-activity gate to call it speech and for every stage to do realistic work.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    n = int(round(duration_s * sample_rate))
    t = np.arange(n) / sample_rate
    f0 = 160 + 45 * np.sin(2 * np.pi * 0.7 * t) + 20 * np.sin(2 * np.pi * 3.1 * t + 1.0)
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    formants = [
        (550 + 200 * np.sin(2 * np.pi * 2.3 * t), 110.0),
        (1500 + 500 * np.sin(2 * np.pi * 1.7 * t + 0.5), 160.0),
        (2600 + 150 * np.sin(2 * np.pi * 0.9 * t), 220.0),
    ]
    top = min(7000.0, 0.45 * sample_rate)
    voiced = np.zeros(n)
    for k in range(1, int(top // f0.min()) + 1):
        fk = k * f0
        gain = sum(np.exp(-0.5 * ((fk - fc) / bw) ** 2) for fc, bw in formants) + 0.05 / k
        voiced += np.where(fk < top, gain, 0.0) * np.sin(k * phase)
    syllables = np.sqrt(np.clip(np.sin(2 * np.pi * 4.0 * t), 0.0, None))
    pauses = (np.mod(t, 1.7) < 1.4).astype(np.float64)
    noise = np.diff(rng.standard_normal(n + 1))
    bursts = (np.mod(t + 0.12, 0.55) < 0.05).astype(np.float64)
    x = voiced * syllables * pauses + 0.15 * noise * bursts * pauses
    x = x / max(1e-9, np.abs(x).max()) + 2e-4 * rng.standard_normal(n)
    return (0.5 * x / np.abs(x).max()).astype(np.float32)


def emodb_speech(duration_s: float, root: Path):
    """`duration_s` of real EmoDB speech (16 kHz): files in manifest order, joined and cut."""
    import numpy as np
    import soundfile as sf

    manifest = root / "emodb" / "manifest.csv"
    rows = manifest.read_text().splitlines()[1:]
    need = int(round(duration_s * 16000))
    parts, have = [], 0
    for row in rows:
        x, sr = sf.read(root / "emodb" / row.split(",", 1)[0], dtype="float32")
        if sr != 16000:
            raise ValueError(f"{manifest}: {row.split(',', 1)[0]} is {sr} Hz, expected 16000")
        parts.append(x)
        have += len(x)
        if have >= need:
            return np.concatenate(parts)[:need]
    raise ValueError(f"{manifest}: only {have / 16000:.1f} s of audio, need {duration_s:g} s")


def audio_source(requested: str) -> str:
    """'emodb' or 'synthetic': what `prepare_clips` will use for `requested` (auto/emodb/...)."""
    if requested not in ("auto", "emodb", "synthetic"):
        raise ValueError(f"unknown audio source {requested!r}; choose auto, emodb or synthetic")
    have = (datasets_dir() / "emodb" / "manifest.csv").is_file()
    if requested == "emodb" and not have:
        raise FileNotFoundError(
            f"{datasets_dir() / 'emodb'}: EmoDB not found "
            "(set EDGESER_DATASETS or use --audio synthetic)"
        )
    if requested == "auto":
        return "emodb" if have else "synthetic"
    return requested


def add_process_arguments(
    p: argparse.ArgumentParser, quick_help: str, unit: str, results_file: str
) -> None:
    """The options the fresh-process benchmarks (latency, memory) share: clip source, --quick,
    the --constrained budget and where the JSON and its chart go. `unit` names what runs in
    a fresh process ("probe", "process")."""
    p.add_argument(
        "--audio",
        choices=("auto", "emodb", "synthetic"),
        default="auto",
        help="clip source: EmoDB if ../shared/datasets has it (auto), or synthetic",
    )
    p.add_argument("--quick", action="store_true", help=quick_help)
    p.add_argument(
        "--constrained",
        action="store_true",
        help=f"each {unit} pinned to one core with its address space capped",
    )
    p.add_argument("--cpu", type=int, help="the core --constrained pins to (default: the last)")
    p.add_argument(
        "--memory-cap-mb",
        type=int,
        default=512,
        help="address-space cap of --constrained, MiB (default 512)",
    )
    p.add_argument(
        "--json",
        default=str(RESULTS_DIR / results_file),
        metavar="FILE",
        help=f"where to write the results (default benchmarks/results/{results_file}); "
        "the chart goes next to it with a .png suffix",
    )
    p.add_argument("--no-chart", action="store_true", help="skip the PNG chart")


def prepare_clips(
    folder: str | os.PathLike, durations: Sequence[float], rates: Sequence[int], source: str
) -> list[Clip]:
    """16-bit WAV clips of every duration at every rate, written to `folder` (a temp dir).

    Shorter clips are the start of the longest one; other rates come from the 16 kHz signal
    resampled with soxr (EmoDB) or synthesised at that rate (synthetic).
    """
    import soundfile as sf

    folder = Path(folder)
    longest = max(durations)
    clips = []
    base16 = emodb_speech(longest, datasets_dir()) if source == "emodb" else None
    for rate in rates:
        if base16 is None:
            signal_ = speech_like(longest, rate)
        elif rate == 16000:
            signal_ = base16
        else:
            import soxr

            signal_ = soxr.resample(base16, 16000, rate, "HQ")
        for d in durations:
            path = folder / f"{source}_{d:g}s_{rate}.wav"
            sf.write(path, signal_[: int(round(d * rate))], rate, subtype="PCM_16")
            clips.append(Clip(str(path), float(d), int(rate)))
    return clips


# ---- statistics --------------------------------------------------------------------------------
def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method) of already sorted values."""
    if not sorted_values:
        raise ValueError("percentile of an empty sample")
    pos = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def summarize_ms(seconds: Iterable[float]) -> dict[str, float]:
    """Durations in seconds -> {n, mean_ms, min_ms, p50_ms, p95_ms, p99_ms, max_ms}."""
    ms = sorted(float(s) * 1000.0 for s in seconds)
    if not ms:
        raise ValueError("no timings to summarise")
    out: dict[str, float] = {"n": len(ms), "mean_ms": sum(ms) / len(ms), "min_ms": ms[0]}
    for q in PERCENTILES:
        out[f"p{q}_ms"] = percentile(ms, q)
    out["max_ms"] = ms[-1]
    return out


def time_calls(fn: Callable[[], Any], runs: int, warmup: int = 1) -> list[float]:
    """Seconds per call of `fn` over `runs` calls, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


# ---- constrained subprocesses ------------------------------------------------------------------
@dataclass(frozen=True)
class Limits:
    """What a probe may use: one pinned CPU and an address-space cap in MiB (None = no limit)."""

    cpu: int | None = None
    address_space_mb: int | None = None

    def __post_init__(self) -> None:
        if self.cpu is not None:
            if not hasattr(os, "sched_setaffinity"):
                raise ValueError("Limits.cpu: CPU pinning needs Linux (os.sched_setaffinity)")
            allowed = sorted(os.sched_getaffinity(0))
            if self.cpu not in allowed:
                raise ValueError(f"Limits.cpu={self.cpu}: not one of this process's CPUs {allowed}")
        if self.address_space_mb is not None and self.address_space_mb < 64:
            raise ValueError(
                f"Limits.address_space_mb={self.address_space_mb}: must be at least 64"
            )

    @classmethod
    def constrained(cls, cpu: int | None = None, address_space_mb: int = 512) -> Limits:
        """One core (the last one this process may use, unless named) and a capped address space."""
        if cpu is None and hasattr(os, "sched_getaffinity"):
            cpu = max(os.sched_getaffinity(0))
        return cls(cpu=cpu, address_space_mb=address_space_mb)

    @property
    def active(self) -> bool:
        return self.cpu is not None or self.address_space_mb is not None

    def preexec_fn(self) -> Callable[[], None] | None:
        """Runs in the forked child before `exec`: pin the CPU, cap the address space."""
        if not self.active:
            return None
        cpu, cap = self.cpu, self.address_space_mb

        def apply() -> None:
            if cpu is not None:
                os.sched_setaffinity(0, {cpu})
            if cap is not None:
                limit = cap * 1024 * 1024
                _, hard = resource.getrlimit(resource.RLIMIT_AS)
                if hard != resource.RLIM_INFINITY:
                    limit = min(limit, hard)
                resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

        return apply

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one probe: its returned dict, or why it did not finish."""

    target: str
    ok: bool
    value: dict[str, Any]
    error: str | None
    returncode: int
    wall_s: float  # spawn to exit, as seen by the parent (interpreter start-up included)

    def to_dict(self) -> dict[str, Any]:
        d = {"ok": self.ok, "wall_s": self.wall_s, "returncode": self.returncode}
        if self.error:
            d["error"] = self.error
        return d


# Every child program is wrapped in this: a start time, a way to hand back a JSON dict after a
# marker line (libraries print their own noise), failures reported the same way, and the peak
# RSS. It imports only `json` and `sys`, so a program's own imports are what it measures.
_PROGRAM = """\
import time as _time
_T0 = _time.perf_counter()
import json as _json, sys as _sys
def _emit(d):
    _sys.stdout.write("\\n" + {marker!r} + _json.dumps(d) + "\\n"); _sys.stdout.flush()
def _peak_rss_mb():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1048576.0 if _sys.platform == "darwin" else rss / 1024.0
try:
{body}
except BaseException as _exc:
    _error = type(_exc).__name__
    try:  # no imports here: this may run out of memory itself
        _error = (_error + ": " + str(_exc)).strip(" :")
        _tb = _exc.__traceback__
        while _tb is not None and _tb.tb_next is not None:
            _tb = _tb.tb_next
        if _tb is not None:
            _error += " (at " + _tb.tb_frame.f_code.co_filename.rsplit("site-packages/", 1)[-1] \
                + ":" + str(_tb.tb_lineno) + ")"
    except BaseException:
        pass
    _emit({{"error": _error}})
    _sys.exit(3)
result.setdefault("peak_rss_mb", _peak_rss_mb())
_emit(result)
"""

# The body `run_probe` runs: call module.function(**kwargs), which returns the result dict.
_CALL = """\
import importlib
result = dict(getattr(importlib.import_module({module!r}), {function!r})(**_json.loads({kwargs!r})))
"""


def program(body: str) -> str:
    """A child program around `body`, which must set `result` (a JSON-able dict).

    The body may read `_T0` (perf_counter at the first line) and call `_peak_rss_mb()`.
    """
    indented = "\n".join("    " + ln if ln.strip() else "" for ln in body.strip("\n").splitlines())
    return _PROGRAM.format(marker=RESULT_MARKER, body=indented)


def child_env(threads: int = 1, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a probe: project on sys.path, numeric thread pools at `threads`."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    )
    for var in THREAD_ENV_VARS:
        env[var] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def _describe_failure(returncode: int, stderr: str) -> str:
    tail = [ln for ln in stderr.strip().splitlines() if ln.strip()][-3:]
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        head = f"killed by {name}"
    else:
        head = f"exit status {returncode}"
    return head + (": " + " | ".join(tail) if tail else "")


def run_program(
    body: str,
    *,
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
    timeout_s: float = 600.0,
    name: str = "<program>",
) -> ProbeResult:
    """Run `program(body)` in a fresh interpreter; never raises for the child's failures."""
    import subprocess

    limits = limits or Limits()
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", program(body)],
            cwd=PROJECT_ROOT,
            env=dict(env) if env is not None else child_env(),
            preexec_fn=limits.preexec_fn(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return ProbeResult(
            name, False, {}, f"timed out after {timeout_s:g} s", -1, time.perf_counter() - start
        )
    wall = time.perf_counter() - start
    value: dict[str, Any] | None = None
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_MARKER):
            value = json.loads(line[len(RESULT_MARKER) :])
            break
    if value is None:
        return ProbeResult(
            name, False, {}, _describe_failure(proc.returncode, proc.stderr), proc.returncode, wall
        )
    if "error" in value or proc.returncode != 0:
        error = value.pop("error", None) or _describe_failure(proc.returncode, proc.stderr)
        return ProbeResult(name, False, value, error, proc.returncode, wall)
    return ProbeResult(name, True, value, None, 0, wall)


def run_probe(target: str, kwargs: Mapping[str, Any] | None = None, **options: Any) -> ProbeResult:
    """Run `module:function(**kwargs)` in a fresh interpreter (options as `run_program`).

    The function returns a JSON-able dict; the child's `peak_rss_mb` is added unless the
    function set it itself.
    """
    module, _, function = target.partition(":")
    if not module or not function:
        raise ValueError(f"probe target {target!r} must look like 'package.module:function'")
    body = _CALL.format(module=module, function=function, kwargs=json.dumps(dict(kwargs or {})))
    return run_program(body, name=target, **options)


# ---- machine description -----------------------------------------------------------------------
def _cpu_model() -> str:
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _total_memory_mb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def _version(dist: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def machine_info(packages: Sequence[str] = ()) -> dict[str, Any]:
    """CPU model, cores, memory, OS, Python and the versions of `packages` (not imported)."""
    import platform

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return {
        "cpu": _cpu_model(),
        "machine": platform.machine(),
        "cores": cores,
        "usable_cores": usable,
        "memory_mb": _total_memory_mb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        # Other work on the machine skews timings: the load when the run started says how much.
        "load_average_1m": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "packages": {name: _version(name) for name in ("numpy", *packages)},
    }


def run_header(
    benchmark: str, argv: Sequence[str], settings: Mapping[str, Any], packages: Sequence[str] = ()
) -> dict[str, Any]:
    """The common top of every result file: what ran, when, where, with which settings."""
    import shlex

    return {
        "benchmark": benchmark,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "command": " ".join(
            shlex.quote(a) for a in ["python", "-m", f"benchmarks.{benchmark}", *argv]
        ),
        "machine": machine_info(packages),
        "settings": dict(settings),
    }


# ---- output -----------------------------------------------------------------------------------
def publish(
    report: Mapping[str, Any], json_path: str | os.PathLike, render, chart, with_chart: bool = True
) -> None:
    """Write the JSON, print the table, and draw the PNG chart beside the JSON."""
    from train.report import write_json

    path = write_json(json_path, report)
    print(render(report))
    print(f"\nresults: {path}")
    if with_chart:
        print(f"chart: {chart(report, path.with_suffix('.png'))}")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "") -> str:
    """A plain-text table; floats get 3 significant-ish digits, None prints as '-'."""

    def cell(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            if v == 0 or abs(v) >= 100:
                return f"{v:.0f}"
            return f"{v:.2f}" if abs(v) >= 1 else f"{v:.3f}"
        return str(v)

    rows_ = [list(r) for r in rows]
    body = [[cell(v) for v in row] for row in rows_]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(headers)]

    numeric = [
        i > 0
        and all(
            isinstance(row[i], (int, float))
            or row[i] is None
            or str(row[i]).endswith("x")
            and _is_number(str(row[i])[:-1])
            for row in rows_
        )
        for i in range(len(headers))
    ]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            c.rjust(w) if numeric[i] else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    out = ([title] if title else []) + [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in body]
    return "\n".join(out)


@dataclass(frozen=True)
class BarPanel:
    """One chart panel: a horizontal bar per label, each split into the named segments."""

    title: str
    labels: tuple[str, ...]
    segments: Mapping[str, Sequence[float]]
    xlabel: str
    log_x: bool = False


def bar_chart(path: str | os.PathLike, panels: Sequence[BarPanel], title: str = "") -> Path:
    """Panels of stacked horizontal bars, side by side, as a PNG (matplotlib, Agg backend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = max([len(p.labels) for p in panels] + [1])
    fig, axes = plt.subplots(
        1, len(panels), figsize=(6.5 * len(panels), 1.6 + 0.4 * rows), squeeze=False
    )
    for ax, panel in zip(axes[0], panels):
        left = [0.0] * len(panel.labels)
        for i, (name, values) in enumerate(panel.segments.items()):
            vals = [float(v or 0.0) for v in values]
            drawn = [j for j, v in enumerate(vals) if v > 0]  # zero-width bars upset log axes
            ax.barh(
                drawn,
                [vals[j] for j in drawn],
                left=[left[j] for j in drawn],
                label=name,
                color=f"C{i}",
            )
            left = [a + b for a, b in zip(left, vals)]
        ax.set_yticks(range(len(panel.labels)), labels=list(panel.labels))
        ax.set_ylim(len(panel.labels) - 0.5, -0.5)
        ax.set_xlabel(panel.xlabel)
        if panel.log_x:
            from matplotlib.ticker import NullFormatter, ScalarFormatter

            ax.set_xscale("log")
            ax.set_xlim(left=min([v for v in left if v > 0] or [1.0]) / 2)
            ax.xaxis.set_major_formatter(ScalarFormatter())
            ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(panel.title, fontsize="medium")
        if len(panel.segments) > 1:
            ax.legend(
                loc="upper center",
                bbox_to_anchor=(0.5, -0.16 - 1.2 / (rows + 4)),
                ncol=min(6, len(panel.segments)),
                fontsize="small",
                frameon=False,
            )
        ax.grid(axis="x", alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


class Progress:
    """One line per step on stderr: `[ 3/12   4.1 s] what is running`."""

    def __init__(self, total: int, stream=None):
        self.total = max(1, int(total))
        self.done = 0
        self.start = time.perf_counter()
        self.stream = stream if stream is not None else sys.stderr

    def step(self, what: str) -> None:
        self.done += 1
        elapsed = time.perf_counter() - self.start
        width = len(str(self.total))
        self.stream.write(f"[{self.done:>{width}}/{self.total} {elapsed:6.1f} s] {what}\n")
        self.stream.flush()
