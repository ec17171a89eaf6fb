"""The HTTP server under load, against slow clients and memory attacks, on loopback.

    python -m benchmarks.serve                 # issue 14's targets: 16 clients x 30 s, 64 slow
    python -m benchmarks.serve --quick         # smoke test, well under a minute

`edgeser serve` runs in its own process (default settings: workers = usable cores, memory
budget 256 MiB). Phases, each reported with the issue's target:

1. in-process reference: the same model's `predict_batch` on the same 3 s WAV bytes, one
   thread per worker, in a fresh process (the throughput the server is compared with);
2. load: N keep-alive clients post the 3 s WAV for T seconds: requests/s, errors, latency
   percentiles (throughput also as a share of the in-process figure);
3. slow clients: one normal client's latency alone, then beside S slow clients that send a
   header line every second (reconnecting when the server drops them): the added delay;
4. memory: server RSS after a warm-up and after R more requests (growth), then hostile uploads
   (a 1 Hz header, a long FLAC of silence, several longest-allowed WAVs at once) and the
   server's peak RSS (VmHWM) against its memory budget.

The load clients are threads of this process sharing the machine's cores with the server, as a
loopback benchmark must; the machine and its load average are recorded in the result file.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from . import _harness as h

PACKAGES = ("edgeser", "starlette", "uvicorn", "h11", "anyio")
PROBE_MODULE = "benchmarks.serve"
MiB = 1024 * 1024


@dataclass(frozen=True)
class ServeSettings:
    clients: int = 16
    duration_s: float = 30.0
    slow_clients: int = 64
    slow_phase_s: float = 10.0
    rss_requests: int = 10_000
    warmup_requests: int = 300
    clip_s: float = 3.0
    workers: int | None = None  # server workers (default: the server's own, the usable cores)
    memory_budget_mb: int = 256
    audio: str = "auto"
    attacks: bool = True
    timeout_s: float = 900.0

    def __post_init__(self) -> None:
        for name in ("clients", "rss_requests", "warmup_requests"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"ServeSettings.{name}={v!r}: must be a positive integer")
        if self.slow_clients < 0:
            raise ValueError("ServeSettings.slow_clients must be >= 0")
        for name in ("duration_s", "slow_phase_s", "clip_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"ServeSettings.{name} must be positive")
        if self.workers is not None and self.workers < 1:
            raise ValueError("ServeSettings.workers must be positive")

    @classmethod
    def quick(cls, **overrides: Any) -> ServeSettings:
        base = dict(
            clients=4,
            duration_s=3.0,
            slow_clients=8,
            slow_phase_s=2.0,
            rss_requests=300,
            warmup_requests=100,
            timeout_s=120.0,
        )
        return cls(**{**base, **overrides})


# ---- a small, fast HTTP/1.1 client (keep-alive; one connection per thread) -----------------------
class Client:
    def __init__(self, port: int, timeout_s: float = 30.0):
        self.port = port
        self.timeout_s = timeout_s
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout_s)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        return sock

    def request(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.sock is None:
            self.sock = self._connect()
        try:
            self.sock.sendall(raw)
            status, headers, body = self._read()
        except OSError:
            self.close()
            raise
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body

    def _read(self) -> tuple[int, dict[str, str], bytes]:
        assert self.sock is not None
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection")
            self.buf += chunk
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("server closed the connection mid-body")
            rest += chunk
        self.buf = rest[length:]
        return int(lines[0].split()[1]), headers, rest[:length]

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
        self.sock = None


def post_bytes(body: bytes, path: str = "/v1/predict") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: audio/wav\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


# ---- the server process -----------------------------------------------------------------------
class ServerProcess:
    def __init__(self, model: str, settings: ServeSettings):
        cmd = [
            sys.executable,
            "-m",
            "edgeser",
            "serve",
            "--model",
            model,
            "--port",
            "0",
            "--memory-budget-mb",
            str(settings.memory_budget_mb),
            "--max-queue",
            str(max(32, 2 * settings.clients)),
        ]
        if settings.workers is not None:
            cmd += ["--workers", str(settings.workers)]
        self.proc = subprocess.Popen(
            cmd,
            cwd=h.PROJECT_ROOT,
            env=h.child_env(1),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        if "serving model" not in line:
            err = self.proc.stderr.read() if self.proc.stderr else ""
            self.proc.kill()
            raise RuntimeError(f"edgeser serve did not start: {line.strip()} {err[-2000:]}")
        self.port = int(line.rsplit(":", 1)[1].split("/")[0])
        self.command = " ".join(cmd[1:])

    def memory_mb(self) -> dict[str, float]:
        out = {}
        for ln in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = ln.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024.0
        return {"rss_mb": out.get("VmRSS", 0.0), "peak_rss_mb": out.get("VmHWM", 0.0)}

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---- probes and phases ------------------------------------------------------------------------
def probe_in_process(model: str, clip: str, threads: int, seconds: float) -> dict[str, Any]:
    """`predict_batch` throughput of one shared Recognizer in `threads` threads (fresh process)."""
    import edgeser

    rec = edgeser.Recognizer(model)
    data = Path(clip).read_bytes()
    rec.predict_batch([data] * 8)
    batch = [data] * 16
    counts = [0] * threads
    stop = time.perf_counter() + seconds

    def work(i: int) -> None:
        while time.perf_counter() < stop:
            rec.predict_batch(batch)
            counts[i] += len(batch)

    start = time.perf_counter()
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    return {"threads": threads, "clips": sum(counts), "clips_per_s": sum(counts) / elapsed}


def _load(port: int, body: bytes, clients: int, seconds: float) -> dict[str, Any]:
    raw = post_bytes(body)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: list[Counter[str]] = [Counter() for _ in range(clients)]
    stop = time.perf_counter() + seconds
    barrier = threading.Barrier(clients + 1)

    def client(i: int) -> None:
        c = Client(port)
        barrier.wait()
        while time.perf_counter() < stop:
            t0 = time.perf_counter()
            try:
                status, _, _ = c.request(raw)
                statuses[i][str(status)] += 1
            except OSError as exc:
                statuses[i][type(exc).__name__] += 1
                continue
            latencies[i].append(time.perf_counter() - t0)
        c.close()

    pool = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in pool:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    total: Counter[str] = sum(statuses, Counter())
    ok = [x for lat in latencies for x in lat]
    return {
        "clients": clients,
        "seconds": elapsed,
        "requests": sum(total.values()),
        "ok": total.get("200", 0),
        "errors": sum(v for k, v in total.items() if k != "200"),
        "statuses": dict(total),
        "requests_per_s": total.get("200", 0) / elapsed,
        "latency": h.summarize_ms(ok) if ok else None,
    }


def _sequential(port: int, body: bytes, seconds: float) -> list[float]:
    raw, c, out = post_bytes(body), Client(port), []
    stop = time.perf_counter() + seconds
    while time.perf_counter() < stop:
        t0 = time.perf_counter()
        status, _, _ = c.request(raw)
        if status == 200:
            out.append(time.perf_counter() - t0)
    c.close()
    return out


def _slow_clients(port: int, body: bytes, n: int, seconds: float) -> dict[str, Any]:
    """A normal client's latency alone, then with `n` header-dribbling clients beside it."""
    alone = _sequential(port, body, seconds)
    stop = threading.Event()
    stats = Counter[str]()

    def dribble() -> None:
        socks: list[socket.socket | None] = [None] * n
        while not stop.is_set():
            for i in range(n):
                try:
                    if socks[i] is None:
                        s = socket.create_connection(("127.0.0.1", port), timeout=5)
                        s.sendall(b"POST /v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                        socks[i] = s
                        stats["connections"] += 1
                    else:
                        socks[i].sendall(b"X-Slow: 1\r\n")  # type: ignore[union-attr]
                except OSError:
                    stats["dropped_by_server"] += 1
                    if socks[i] is not None:
                        socks[i].close()  # type: ignore[union-attr]
                    socks[i] = None
            stop.wait(1.0)
        for s in socks:
            if s is not None:
                s.close()

    t = threading.Thread(target=dribble)
    t.start()
    time.sleep(min(1.0, seconds / 4))  # all slow clients connected
    try:
        beside = _sequential(port, body, seconds)
    finally:
        stop.set()
        t.join()
    a, b = h.summarize_ms(alone), h.summarize_ms(beside)
    return {
        "slow_clients": n,
        "alone": a,
        "with_slow_clients": b,
        "added_p50_ms": b["p50_ms"] - a["p50_ms"],
        "added_p99_ms": b["p99_ms"] - a["p99_ms"],
        "slow_connections_made": stats["connections"],
        "slow_connections_dropped_by_server": stats["dropped_by_server"],
    }


def _rss_growth(
    server: ServerProcess, body: bytes, warmup: int, requests: int, clients: int
) -> dict[str, Any]:
    raw = post_bytes(body)

    def send(count: int) -> Counter[str]:
        per = [count // clients + (1 if i < count % clients else 0) for i in range(clients)]
        seen: list[Counter[str]] = [Counter() for _ in range(clients)]

        def run(i: int) -> None:
            c = Client(server.port)
            for _ in range(per[i]):
                try:
                    seen[i][str(c.request(raw)[0])] += 1
                except OSError as exc:
                    seen[i][type(exc).__name__] += 1
            c.close()

        pool = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        return sum(seen, Counter())

    send(warmup)
    before = server.memory_mb()
    t0 = time.perf_counter()
    statuses = send(requests)
    wall = time.perf_counter() - t0
    after = server.memory_mb()
    return {
        "warmup_requests": warmup,
        "requests": requests,
        "seconds": wall,
        "statuses": dict(statuses),
        "rss_before_mb": before["rss_mb"],
        "rss_after_mb": after["rss_mb"],
        "growth_mb": after["rss_mb"] - before["rss_mb"],
    }


def _attack_inputs(quick: bool) -> list[tuple[str, bytes, int]]:
    """(what, upload, how many at once) for the memory-amplification attempts."""
    import numpy as np
    import soundfile as sf

    def wav(x, rate: int, fmt: str = "WAV") -> bytes:
        buf = io.BytesIO()
        sf.write(buf, x, rate, format=fmt, subtype="PCM_16")
        return buf.getvalue()

    one_hz = bytearray(wav(np.zeros(3500, np.int16), 16000))
    one_hz[24:28] = (1).to_bytes(4, "little")
    one_hz[28:32] = (2).to_bytes(4, "little")
    silence_s = 600 if quick else 3600
    flac = wav(np.zeros(silence_s * 8000, np.int16), 8000, "FLAC")
    rng = np.random.default_rng(0)
    longest = wav((rng.standard_normal(299 * 16000) * 3000).astype(np.int16), 16000)
    return [
        ("7 KB WAV whose header says 1 Hz", bytes(one_hz), 4),
        (f"{len(flac) // 1024} KB FLAC of {silence_s} s of silence", flac, 4),
        (f"{len(longest) / MiB:.1f} MiB WAV of 299 s (the longest allowed)", longest, 6),
    ]


def _attacks(server: ServerProcess, quick: bool) -> dict[str, Any]:
    rows = []
    for what, body, at_once in _attack_inputs(quick):
        raw = post_bytes(body)
        seen: Counter[str] = Counter()
        lock = threading.Lock()

        def hit(raw: bytes = raw, seen: Counter[str] = seen, lock=lock) -> None:
            c = Client(server.port, timeout_s=120)
            try:
                status, _, reply = c.request(raw)
                code = json.loads(reply).get("error", {}).get("code", "ok")
                key = f"{status} {code}"
            except OSError as exc:
                key = type(exc).__name__
            finally:
                c.close()
            with lock:
                seen[key] += 1

        pool = [threading.Thread(target=hit) for _ in range(at_once)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        rows.append({"what": what, "at_once": at_once, "answers": dict(seen)})
    mem = server.memory_mb()
    return {"uploads": rows, **mem}


def run(settings: ServeSettings, model: str, argv: Sequence[str], quick: bool) -> dict[str, Any]:
    report = h.run_header("serve", argv, asdict(settings), PACKAGES)
    progress = h.Progress(4 + int(settings.attacks))
    with tempfile.TemporaryDirectory() as tmp:
        source = h.audio_source(settings.audio)
        (clip,) = h.prepare_clips(tmp, (settings.clip_s,), (16000,), source)
        body = Path(clip.path).read_bytes()
        report["audio_source"] = source
        report["model"] = model
        server = ServerProcess(model, settings)
        try:
            workers = settings.workers or len(os.sched_getaffinity(0))
            progress.step(f"in-process predict_batch, {workers} thread(s)")
            ref = h.run_probe(
                f"{PROBE_MODULE}:probe_in_process",
                {
                    "model": model,
                    "clip": clip.path,
                    "threads": workers,
                    "seconds": min(settings.duration_s, 10.0),
                },
                env=h.child_env(1),
                timeout_s=settings.timeout_s,
            )
            report["in_process"] = ref.value if ref.ok else {"error": ref.error}
            report["server"] = {"command": server.command, "workers": workers}
            report["server"].update(server.memory_mb())
            progress.step(f"load: {settings.clients} clients x {settings.duration_s:g} s")
            _load(server.port, body, settings.clients, min(2.0, settings.duration_s))  # warm
            report["load"] = _load(server.port, body, settings.clients, settings.duration_s)
            if ref.ok:
                report["load"]["vs_in_process"] = (
                    report["load"]["requests_per_s"] / ref.value["clips_per_s"]
                )
            progress.step(f"slow clients: {settings.slow_clients}")
            report["slow"] = _slow_clients(
                server.port, body, settings.slow_clients, settings.slow_phase_s
            )
            progress.step(f"memory: {settings.rss_requests} requests after warm-up")
            report["rss"] = _rss_growth(
                server, body, settings.warmup_requests, settings.rss_requests, settings.clients
            )
            if settings.attacks:
                progress.step("memory: hostile uploads")
                report["attacks"] = _attacks(server, quick)
            report["server"]["final"] = server.memory_mb()
        finally:
            server.stop()
    report["targets"] = _targets(report, settings)
    return report


def _targets(report: dict[str, Any], s: ServeSettings) -> list[dict[str, Any]]:
    load, slow, rss = report["load"], report["slow"], report["rss"]
    peak = report["server"]["final"]["peak_rss_mb"]
    rows = [
        ("errors under load", load["errors"], "==", 0, ""),
        ("throughput / in-process predict_batch", load.get("vs_in_process"), ">=", 0.6, "x"),
        ("p99 latency under load", (load["latency"] or {}).get("p99_ms"), "<", 50.0, "ms"),
        (f"added p99 beside {s.slow_clients} slow clients", slow["added_p99_ms"], "<", 100.0, "ms"),
        (f"RSS growth over {s.rss_requests} requests", rss["growth_mb"], "<", 5.0, "MB"),
        ("peak RSS of the whole run", peak, "<", float(s.memory_budget_mb), "MB"),
    ]
    out = []
    for what, measured, op, target, unit in rows:
        met = None
        if measured is not None:
            met = {"==": measured == target, ">=": measured >= target, "<": measured < target}[op]
        out.append(
            {
                "what": what,
                "measured": measured,
                "op": op,
                "target": target,
                "unit": unit,
                "met": met,
            }
        )
    return out


def render(report: dict[str, Any]) -> str:
    load, slow, rss = report["load"], report["slow"], report["rss"]
    ref = report["in_process"]
    lat = load["latency"] or {}
    machine = report["machine"]
    lines = [
        f"edgeser serve benchmark ({machine['cpu']}, {machine['usable_cores']} usable cores, "
        f"load average {machine['load_average_1m']:.2f} at the start)",
        f"server: {report['server']['command']}",
        "",
        h.format_table(
            ["phase", "figure"],
            [
                ("in-process predict_batch", f"{ref.get('clips_per_s', 0):.0f} clips/s"),
                (
                    f"load {load['clients']} clients x {load['seconds']:.0f} s",
                    f"{load['requests_per_s']:.0f} req/s, {load['ok']} ok, {load['errors']} "
                    f"errors, p50 {lat.get('p50_ms', 0):.1f} / p99 {lat.get('p99_ms', 0):.1f} ms",
                ),
                (
                    f"{slow['slow_clients']} slow clients",
                    f"p50 {slow['alone']['p50_ms']:.1f} -> "
                    f"{slow['with_slow_clients']['p50_ms']:.1f} ms, "
                    f"p99 {slow['alone']['p99_ms']:.1f} -> "
                    f"{slow['with_slow_clients']['p99_ms']:.1f} ms",
                ),
                (
                    f"RSS over {rss['requests']} requests",
                    f"{rss['rss_before_mb']:.1f} -> {rss['rss_after_mb']:.1f} MB "
                    f"({rss['growth_mb']:+.1f})",
                ),
            ],
        ),
    ]
    if "attacks" in report:
        lines += ["", "hostile uploads:"]
        for row in report["attacks"]["uploads"]:
            lines.append(f"  {row['what']} x{row['at_once']}: {row['answers']}")
        lines.append(f"  server peak RSS {report['attacks']['peak_rss_mb']:.1f} MB")
    lines += ["", "issue target                                   measured     target   met"]
    for t in report["targets"]:
        m = "-" if t["measured"] is None else f"{t['measured']:.3g}"
        lines.append(
            f"{t['what']:<46} {m:>9} {t['unit']:<2} {t['op']} {t['target']:g} {t['unit']:<2}"
            f" {'yes' if t['met'] else 'no'}"
        )
    return "\n".join(lines)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks.serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model", metavar="PATH", help="the .edgeser bundle (default: bundled)")
    p.add_argument("--quick", action="store_true", help="smoke test, well under a minute")
    p.add_argument("--clients", type=int, help="load clients (default 16, quick 4)")
    p.add_argument("--duration-s", type=float, help="load seconds (default 30, quick 3)")
    p.add_argument("--slow-clients", type=int, help="slow clients (default 64, quick 8)")
    p.add_argument("--slow-phase-s", type=float, help="seconds per slow-client half (10)")
    p.add_argument("--rss-requests", type=int, help="requests for RSS growth (10000)")
    p.add_argument("--workers", type=int, help="server workers (default: usable cores)")
    p.add_argument("--no-attacks", action="store_true", help="skip the hostile uploads")
    p.add_argument(
        "--audio", choices=("auto", "emodb", "synthetic"), default="auto", help="clip source"
    )
    p.add_argument(
        "--json",
        default=str(h.RESULTS_DIR / "serve.json"),
        metavar="FILE",
        help="where to write the results (default benchmarks/results/serve.json)",
    )
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    given = {
        "clients": args.clients,
        "duration_s": args.duration_s,
        "slow_clients": args.slow_clients,
        "slow_phase_s": args.slow_phase_s,
        "rss_requests": args.rss_requests,
        "workers": args.workers,
    }
    common = {k: v for k, v in given.items() if v is not None}
    common.update(audio=args.audio, attacks=not args.no_attacks)
    try:
        settings = ServeSettings.quick(**common) if args.quick else ServeSettings(**common)
        model = str(Path(args.model).resolve()) if args.model else h.bundled_model()
        if model is None:
            raise ValueError("edgeser has no bundled model: pass --model PATH")
        from edgeser.bundle import ModelBundle

        ModelBundle.load(model)
    except (ValueError, OSError) as exc:
        print(f"benchmarks.serve: {exc}", file=sys.stderr)
        return 2
    report = run(settings, model, argv, args.quick)
    h.publish(report, args.json, render, chart=None, with_chart=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
