"""Smoke test of an installed edgeser wheel (cibuildwheel's test-command; docs/wheels.md).

    python tools/wheel_smoke.py
    python tools/wheel_smoke.py --python "qemu-aarch64 -L ROOT ROOT/usr/bin/python3.11"

Imports the compiled front end, then, on every SIMD path this CPU can run (each in a fresh
process, as EDGESER_SIMD selects the path once per process), computes MFCC, log-mel and
spectrogram features of a test signal and compares them with the NumPy reference at the test
suite's parity tolerances. Exits non-zero on any failure. Needs only numpy and the wheel.
`--python` names the command that runs each probe (default: this interpreter), e.g. an
emulated aarch64 Python (tools/aarch64-wheel-check.sh), which cannot start itself again.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys

PROBE = r"""
import json
import numpy as np
from edgeser import _frontend
from edgeser.frontend import FrontendConfig, reference
from edgeser.frontend import _cpp_backend as cpp

n = np.arange(16000)
x = (0.5 * np.sin(2 * np.pi * 440 * n / 16000)
     + 0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)
worst = {}
for kind in ("spectrogram", "log_mel", "mfcc"):
    got = cpp.compute(x, FrontendConfig(), kind).astype(np.float64)
    want = reference.compute(x, FrontendConfig(), kind).astype(np.float64)
    if kind == "spectrogram":
        allowed = 1e-4 * want.max(axis=1, keepdims=True)
    elif kind == "log_mel":
        allowed = 1e-4 * np.abs(want) + 1e-4
    else:
        allowed = np.full_like(want, 1e-3)
    worst[kind] = float((np.abs(got - want) / allowed).max())
print(json.dumps({"isa": _frontend.simd_isa(), "worst": worst}))
"""


def run(python: list[str], isa: str | None) -> dict:
    env = dict(os.environ)
    env.pop("EDGESER_SIMD", None)
    if isa:
        env["EDGESER_SIMD"] = isa
    proc = subprocess.run(
        [*python, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    if proc.returncode != 0:
        raise SystemExit(f"wheel smoke test failed on path {isa or 'default'}:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", help="command that runs a probe (default: this Python)")
    args = parser.parse_args(argv)
    python = shlex.split(args.python) if args.python else [sys.executable]
    failures = 0
    seen = set()
    for isa in (None, "generic", "neon", "avx2", "avx512"):
        res = run(python, isa)
        if res["isa"] in seen:
            continue  # this CPU or build falls back to a path already checked
        seen.add(res["isa"])
        ok = all(v <= 1.0 for v in res["worst"].values())
        failures += not ok
        worst = ", ".join(f"{k} {v:.3g}" for k, v in res["worst"].items())
        print(f"{'ok  ' if ok else 'FAIL'} {res['isa']:8s} worst error / tolerance: {worst}")
    print(f"{len(seen) - failures} passed, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
