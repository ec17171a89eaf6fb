"""The `edgeser` command: predict emotions of audio files and inspect the bundled models.

    edgeser predict clip.wav more.flac [--model M] [--json] [--timeline] [--threads N]
    edgeser info [MODEL]
    edgeser models

Exit status: 0 when every file was processed, 1 when any file failed (each failure is named
on stderr and the other files are still processed), 2 for a bad model or bad arguments.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from . import __version__

EXIT_OK, EXIT_FILE_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="edgeser",
        description="Speech emotion recognition for small devices.",
        epilog="Exit status: 0 ok, 1 some file failed (named on stderr), 2 bad model/usage.",
    )
    p.add_argument("--version", action="version", version=f"edgeser {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    pr = sub.add_parser(
        "predict",
        help="predict the emotion of audio files",
        description="Predict the emotion of each FILE (WAV, FLAC, OGG, ...; any "
        "sample rate, mono or multi-channel).",
    )
    pr.add_argument(
        "files", nargs="+", metavar="FILE", help="audio files to analyse ('-': read standard input)"
    )
    pr.add_argument(
        "--model",
        "-m",
        default="default",
        help="bundled model name, 'default', or a path to a .edgeser bundle (default: %(default)s)",
    )
    pr.add_argument(
        "--fuse",
        action="append",
        default=[],
        metavar="MODEL",
        help="also run MODEL (repeatable) and average its probabilities with --model's, "
        "equal weights (late fusion, edgeser.FusedRecognizer; not with --timeline)",
    )
    pr.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per file (JSON lines) instead of a table",
    )
    pr.add_argument(
        "--timeline",
        action="store_true",
        help="also give the emotion of every feature window with its start/end time",
    )
    pr.add_argument(
        "--threads",
        type=_positive_int,
        default=1,
        metavar="N",
        help="interpreter threads (default: %(default)s)",
    )
    pr.add_argument(
        "--runtime",
        default="auto",
        choices=("auto", "litert", "tflite_runtime", "tensorflow"),
        help="TFLite runtime to use (default: %(default)s)",
    )
    pr.add_argument(
        "--no-vad", action="store_true", help="score every window, even without detected speech"
    )
    pr.add_argument(
        "--same-speaker",
        action="store_true",
        help="the FILEs are one speaker, in this order: a speaker-calibrated model "
        "calibrates on each speech clip before scoring it (edgeser info shows whether a "
        "model is one)",
    )

    info = sub.add_parser(
        "info",
        help="describe a model: labels, features, size, training",
        description="Describe a model: labels, features, size, training data, "
        "protocol and figures.",
    )
    info.add_argument(
        "model",
        nargs="?",
        default="default",
        help="bundled model name, 'default', or a bundle path (default: %(default)s)",
    )
    info.add_argument("--json", action="store_true", help="print the metadata as JSON")

    models = sub.add_parser(
        "models",
        help="list the bundled models",
        description="List the models bundled with edgeser (or in $EDGESER_MODELS_DIR).",
    )
    models.add_argument("--json", action="store_true", help="print one JSON object per model")

    sv = sub.add_parser(
        "serve",
        help="run the HTTP + WebSocket API and its web page",
        description="Serve POST /v1/predict (an audio file as the body or a form field; "
        "?timeline=1 for per-window results), WS /v1/stream (live audio), GET /v1/model, "
        "/v1/health, /metrics, /openapi.json and the record-and-predict page at / (uvicorn; "
        "needs pip install 'edgeser[serve]'). Binds 127.0.0.1; any other address needs an "
        "API key.",
    )
    _serve_options(sv)
    return p


def _positive_int(text: str) -> int:
    """Interpreter threads: 1..MAX_NUM_THREADS (tens of thousands crashed the runtime)."""
    from .interpreter import MAX_NUM_THREADS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not 1 <= value <= MAX_NUM_THREADS:
        raise argparse.ArgumentTypeError(f"expected 1..{MAX_NUM_THREADS}, got {value}")
    return value


@contextlib.contextmanager
def _native_stderr_silenced():
    """Hide what native code writes to fd 2 (LiteRT's "INFO: Created ... XNNPACK delegate").

    The command's stderr is kept for naming failed files; Python exceptions are unaffected.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real fd 2 (embedded interpreters, some test runners)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _error(message: str, err: TextIO) -> None:
    print(f"edgeser: error: {message}", file=err, flush=True)


# ---- predict ------------------------------------------------------------------------------------
def _scores_text(pred) -> str:
    if not pred.is_speech:
        return pred.reason
    return ", ".join(f"{lab} {p:.2f}" for lab, p in pred.top(3))


def _table_row(name: str, pred, width: int = 32) -> str:
    label = pred.label if pred.label is not None else "-"
    conf = f"{pred.confidence:.2f}" if pred.is_speech else "-"
    return f"{name:<{width}} {label:<12} {conf:>5} {pred.duration_s:>8.2f}s  {_scores_text(pred)}"


def _predict(args, out: TextIO, err: TextIO) -> int:
    from .fusion import FusedRecognizer
    from .recognizer import Recognizer
    from .vad import VadConfig

    if args.fuse and args.timeline:
        _error("--timeline: a fusion gives one result per clip (drop --fuse or --timeline)", err)
        return EXIT_USAGE
    members = []
    for name in (args.model, *args.fuse):
        try:
            with _native_stderr_silenced():
                members.append(
                    Recognizer(
                        name,
                        num_threads=args.threads,
                        runtime=args.runtime,
                        vad=None if args.no_vad else VadConfig(),
                    )
                )
        except Exception as exc:  # a bad model stops everything: nothing can be predicted
            _error(f"cannot load model {name!r}: {exc}", err)
            return EXIT_USAGE
    try:
        rec: Any = FusedRecognizer(members) if args.fuse else members[0]
    except ValueError as exc:
        _error(f"--fuse: {exc}", err)
        return EXIT_USAGE
    calibration = None
    if args.same_speaker:
        if not rec.calibrated:
            what = "none of the fused models is" if args.fuse else f"model {rec.name!r} is not"
            _error(f"--same-speaker: {what} speaker-calibrated", err)
            return EXIT_USAGE
        calibration = rec.new_calibration()
    failed = 0
    width = max(32, *(len(f) for f in args.files))  # file column fits the longest name
    if not args.json:
        print(
            f"{'file':<{width}} {'label':<12} {'conf':>5} {'duration':>9}  top scores "
            f"(model {rec.name})",
            file=out,
        )
    if args.files.count("-") > 1:
        _error("'-' (standard input) can be given once", err)
        return EXIT_USAGE
    for path in args.files:
        try:
            source = sys.stdin.buffer if path == "-" else path  # '-': audio piped on stdin
            clip = rec.load_audio(source)  # decoded once for both
            pred = rec.predict(clip, calibration=calibration)
            timeline = rec.timeline(clip) if args.timeline else None
        except Exception as exc:  # report this file, go on with the others
            failed += 1
            msg = str(exc)
            _error(msg if path in msg else f"{path}: {msg}", err)
            continue
        if args.json:
            row: dict[str, Any] = pred.to_dict()
            if timeline is not None:
                row["timeline"] = [p.to_dict() for p in timeline]
            print(json.dumps(row), file=out, flush=True)
            continue
        print(_table_row(path, pred, width), file=out)
        for w in pred.warnings:
            print(f"{'':<{width}} warning: {w}", file=out)
        for p in timeline or ():
            span = f"  {p.start_s:7.2f}-{p.end_s:7.2f}s"
            print(
                f"{span:<{width}} {p.label or '-':<12} "
                f"{(f'{p.confidence:.2f}' if p.is_speech else '-'):>5} {'':>9}  "
                f"{_scores_text(p)}",
                file=out,
            )
        out.flush()
    return EXIT_FILE_FAILED if failed else EXIT_OK


# ---- info / models ------------------------------------------------------------------------------
def _metrics_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {_metrics_text(v)}" for k, v in value.items())
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _nested_lines(key: str, value: Any) -> list[tuple[str, str]]:
    """One line per innermost mapping: a table of per-corpus figures stays readable."""
    if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()):
        flat = {k: v for k, v in value.items() if not isinstance(v, dict)}
        out = [(key, _metrics_text(flat))] if flat else []
        for k, v in value.items():
            if isinstance(v, dict):
                out.extend(_nested_lines(f"{key} {k}", v))
        return out
    return [(key, _metrics_text(value))]


def _info(args, out: TextIO, err: TextIO) -> int:
    from . import registry

    try:
        info = registry.describe(args.model)
    except Exception as exc:
        _error(f"cannot load model {args.model!r}: {exc}", err)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(info.to_dict()), file=out)
        return EXIT_OK
    lines = [
        ("name", info.name + (" (default)" if info.is_default else "")),
        ("file", info.path),
        ("description", info.description or "-"),
        ("labels", ", ".join(info.labels)),
        ("sample rate", f"{info.sample_rate} Hz"),
        ("features", info.features),
        ("quantization", info.quantization),
        ("model size", f"{info.size_bytes / 1024:.1f} KiB"),
        *([("output head", info.head)] if info.head else []),
    ]
    for key, value in info.training.items():
        lines.extend(_nested_lines(f"training {key}", value))
    width = max(len(k) for k, _ in lines)
    for key, value in lines:
        print(f"{key:<{width}}  {value}", file=out)
    return EXIT_OK


def _models(args, out: TextIO, err: TextIO) -> int:
    from . import registry

    try:
        found = registry.models()
    except Exception as exc:
        _error(str(exc), err)
        return EXIT_USAGE
    if args.json:
        for m in found:
            print(json.dumps(m.to_dict()), file=out)
        return EXIT_OK
    if not found:
        print(f"no models in {registry.models_dir()}", file=out)
        return EXIT_OK
    names = [m.name + (" *" if m.is_default else "") for m in found]
    width = max(24, *map(len, names))
    print(
        f"{'name':<{width}} {'labels':>6} {'quant':<8} {'size':>9}  {'corpus':<12} features",
        file=out,
    )
    for m, name in zip(found, names):
        print(
            f"{name:<{width}} {len(m.labels):>6} {m.quantization:<8} "
            f"{m.size_bytes / 1024:>7.1f}Ki  {str(m.corpus or '-'):<12} {m.features}",
            file=out,
        )
    if any(m.is_default for m in found):
        print("* default model", file=out)
    return EXIT_OK


def _serve_number(lo: float, hi: float, unit: str, integer: bool = False, above: bool = False):
    """An argparse type: a finite number in [lo, hi] (or (lo, hi] when `above`)."""
    kind = "an integer" if integer else "a finite number"
    span = f"{'(' if above else '['}{lo:g}, {hi:g}]"

    def parse(text: str) -> float | int:
        try:
            value: float | int = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {kind} of {unit}, got {text!r}") from None
        if not (math.isfinite(value) and (value > lo if above else value >= lo) and value <= hi):
            raise argparse.ArgumentTypeError(f"expected {kind} in {span} {unit}, got {text!r}")
        return value

    return parse


def _serve_options(sv: argparse.ArgumentParser) -> None:
    from .server.config import MAX_THREADS, ServerConfig, default_workers

    d = ServerConfig()
    sv.add_argument(
        "--model",
        "-m",
        default="default",
        help="bundled model name, 'default', or a bundle path (default: %(default)s)",
    )
    sv.add_argument(
        "--host",
        default=d.host,
        help="address to bind, IPv4 or IPv6 (default: %(default)s; a non-loopback address "
        "needs --api-key)",
    )
    sv.add_argument(
        "--port",
        type=_serve_number(0, 65535, "port", integer=True),
        default=d.port,
        help="port, 0 for any free one (default: %(default)s)",
    )
    sv.add_argument(
        "--threads",
        type=_serve_number(1, MAX_THREADS, "threads", integer=True),
        default=1,
        metavar="N",
        help="interpreter threads per prediction (default: %(default)s)",
    )
    sv.add_argument(
        "--api-key",
        default=None,
        metavar="KEY",
        help="require 'Authorization: Bearer KEY' (default: $EDGESER_API_KEY; prefer the "
        "variable, a command line is visible to other users)",
    )
    sv.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests whose Host header is NAME (repeatable; the bound address, "
        "localhost, 127.0.0.1 and ::1 always are)",
    )
    sv.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow browser calls from ORIGIN, e.g. https://app.example (repeatable; "
        "default: same origin only)",
    )
    limits = sv.add_argument_group("limits")
    limits.add_argument(
        "--max-upload-mb",
        type=_serve_number(0, 4096, "MiB", above=True),
        default=d.max_upload_bytes / 1024**2,
        metavar="MB",
        help="largest accepted upload in MiB (default: %(default)g)",
    )
    limits.add_argument(
        "--max-duration-s",
        type=_serve_number(0, 86400, "seconds", above=True),
        default=d.max_duration_s,
        metavar="S",
        help="longest audio per request or stream, read from the header (default: %(default)g)",
    )
    limits.add_argument(
        "--memory-budget-mb",
        type=_serve_number(32, 1024**2, "MiB"),
        default=d.memory_budget_bytes / 1024**2,
        metavar="MB",
        help="memory the whole server may use; requests that would pass it are refused "
        "(default: %(default)g)",
    )
    limits.add_argument(
        "--workers",
        type=_serve_number(1, 1024, "workers", integer=True),
        default=default_workers(),
        metavar="N",
        help="predictions run at once (default: the usable cores, %(default)s)",
    )
    limits.add_argument(
        "--max-queue",
        type=_serve_number(0, 100_000, "requests", integer=True),
        default=d.max_queue,
        metavar="N",
        help="requests waiting for a worker; beyond: 503 + Retry-After (default: %(default)s)",
    )
    limits.add_argument(
        "--max-connections",
        type=_serve_number(1, 100_000, "connections", integer=True),
        default=d.max_connections,
        metavar="N",
        help="open HTTP connections (default: %(default)s)",
    )
    limits.add_argument(
        "--max-streams",
        type=_serve_number(0, 10_000, "streams", integer=True),
        default=d.max_streams,
        metavar="N",
        help="open WebSocket streams (default: %(default)s)",
    )
    for name, default, what in (
        ("header", d.header_timeout_s, "request line and headers"),
        ("body", d.body_timeout_s, "the whole upload"),
        ("request", d.request_timeout_s, "headers received to response"),
    ):
        limits.add_argument(
            f"--{name}-timeout-s",
            type=_serve_number(0, 3600, "seconds", above=True),
            default=default,
            metavar="S",
            help=f"deadline of {what} (default: %(default)g)",
        )
    sv.add_argument("--verbose", action="store_true", help="log every request (stderr)")


def _serve_warm_up(rec) -> None:
    """One prediction before serving, so the memory the server starts with includes it."""
    import numpy as np

    t = np.arange(rec.sample_rate) / rec.sample_rate
    rec.predict((0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rec.sample_rate)


def _serve(args, out: TextIO, err: TextIO) -> int:
    import logging

    try:
        from .server import App, Server, ServerConfig
    except ImportError as exc:
        _error(str(exc), err)
        return EXIT_USAGE
    from .recognizer import Recognizer

    try:
        config = ServerConfig(
            host=args.host,
            port=args.port,
            api_key=args.api_key or os.environ.get("EDGESER_API_KEY") or None,
            allowed_hosts=tuple(args.allowed_host),
            cors_origins=tuple(args.cors_origin),
            max_upload_bytes=max(1, int(args.max_upload_mb * 1024 * 1024)),
            max_duration_s=args.max_duration_s,
            memory_budget_bytes=int(args.memory_budget_mb * 1024 * 1024),
            workers=args.workers,
            max_queue=args.max_queue,
            max_connections=args.max_connections,
            max_streams=args.max_streams,
            header_timeout_s=args.header_timeout_s,
            body_timeout_s=args.body_timeout_s,
            request_timeout_s=args.request_timeout_s,
        )
    except ValueError as exc:
        _error(str(exc), err)
        return EXIT_USAGE
    from .server.limits import tune_allocator

    tune_allocator()  # freed large buffers go back to the OS: RSS stays within the budget
    try:
        with _native_stderr_silenced():
            rec = Recognizer(args.model, num_threads=args.threads)
            _serve_warm_up(rec)
    except Exception as exc:
        _error(f"cannot load model {args.model!r}: {exc}", err)
        return EXIT_USAGE
    try:
        server = Server(App(rec, config), verbose=args.verbose)
    except (ValueError, OSError) as exc:
        _error(str(exc), err)
        return EXIT_USAGE
    print(
        f"edgeser: serving model {rec.name!r} at {server.url}/ (Ctrl-C to stop)",
        file=out,
        flush=True,
    )
    if out is sys.stdout:
        _detach_stdout()
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=err,
    )
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def _detach_stdout() -> None:
    """After the start-up line the server writes nothing to stdout: point fd 1 at /dev/null, so
    native code that prints (decoders) can neither corrupt a consumer's stream nor block on a
    pipe nobody reads. Logs go to stderr."""
    try:
        sys.stdout.flush()
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 1)
    except (OSError, ValueError):
        pass


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    out = out or sys.stdout
    err = err or sys.stderr
    args = _parser().parse_args(argv)
    handler = {"predict": _predict, "info": _info, "models": _models, "serve": _serve}[args.command]
    try:
        return handler(args, out, err)
    except BrokenPipeError:  # e.g. piped into `head`
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
