#!/usr/bin/env bash
# Second CI leg (issue 13): the runtime tests on the oldest stack edgeser promises to run on,
# numpy 1.26 + tflite-runtime 2.14 and no ai-edge-litert, in a venv of its own.
#
#   bash .ci/runtime-leg.sh            (after `make setup`: the main .venv builds the test bundles)
#
# Idempotent: the venv (build/venv-oldrt) and its C++ build folder are reused, nothing of the
# main .venv changes. Steps: (1) create the venv with numpy 1.26 and tflite-runtime 2.14 (a
# constraint file keeps numpy at 1.26 for every later install); (2) check that pip, asked to
# install edgeser with its default dependencies here, keeps numpy 1.26 (the no-forced-upgrade
# promise); (3) install edgeser editable without ai-edge-litert and the test tools; (4) run
# tests/runtime and the C++ front-end tests with EDGESER_EXPECT_RUNTIME=tflite_runtime.
#
# Settings (environment): OLDRT_PYTHON (a Python 3.10 or 3.11: tflite-runtime has no wheels for
# newer), OLDRT_VENV, OLDRT_NUMPY (default 1.26.*), OLDRT_TFLITE (default 2.14.*), MAIN_PYTHON
# (the interpreter with TensorFlow that builds the tiny test bundles), PYTEST_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=${OLDRT_VENV:-build/venv-oldrt}
NUMPY=${OLDRT_NUMPY:-1.26.*}
TFLITE=${OLDRT_TFLITE:-2.14.*}
MAIN_PYTHON=${MAIN_PYTHON:-$ROOT/.venv/bin/python}
PY=$VENV/bin/python
say() { printf '[runtime-leg] %s\n' "$*"; }
started=$(date +%s)

pick_python() {
    local c
    for c in ${OLDRT_PYTHON:-} python3.11 python3.10 \
        "$("$MAIN_PYTHON" -c 'import sys; print(sys._base_executable)' 2>/dev/null || true)"; do
        [ -n "$c" ] || continue
        command -v "$c" >/dev/null 2>&1 || continue
        if "$c" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 11))' 2>/dev/null; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

[ -x "$MAIN_PYTHON" ] || { say "no $MAIN_PYTHON: run 'make setup' first (it builds the test bundles)"; exit 2; }

# (1) the venv, numpy and the old runtime
if ! "$PY" -c 'import sys' 2>/dev/null; then
    base=$(pick_python) || { say "needs Python 3.10 or 3.11 (set OLDRT_PYTHON): tflite-runtime has no wheels for newer"; exit 2; }
    say "creating $VENV with $base"
    rm -rf "$VENV"
    "$base" -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
fi
CONSTRAINTS=$VENV/constraints.txt
printf 'numpy==%s\ntflite-runtime==%s\n' "$NUMPY" "$TFLITE" >"$CONSTRAINTS"
"$PY" -m pip install -q -c "$CONSTRAINTS" numpy tflite-runtime

# (2) the promise: pip keeps numpy where it is when installing edgeser and its default runtime
REPORT=$VENV/install-report.json
"$PY" -m pip install -q --dry-run --report "$REPORT" .
"$PY" - "$REPORT" <<'EOF'
import json, sys
install = {i["metadata"]["name"].lower(): i["metadata"]["version"]
           for i in json.load(open(sys.argv[1]))["install"]}
import numpy
print(f"[runtime-leg] pip install edgeser here would add: "
      + ", ".join(f"{k} {v}" for k, v in sorted(install.items())))
if "numpy" in install:
    sys.exit(f"[runtime-leg] FAIL: pip would change numpy {numpy.__version__} -> {install['numpy']}")
EOF

# (3) edgeser without ai-edge-litert: its dependencies minus the runtimes, the serve extra, the
# test tools
mapfile -t DEPS < <("$PY" -c '
import re, tomllib
project = tomllib.load(open("pyproject.toml", "rb"))["project"]
skip = {"ai-edge-litert", "ml-dtypes", "tflite-runtime"}
for req in project["dependencies"]:
    name = re.split(r"[\s;<>=!~\[]", req, maxsplit=1)[0].lower().replace("_", "-")
    if name not in skip:
        print(req)
extras = project.get("optional-dependencies", {})
for req in extras.get("serve", []):  # the server tests, where the extra exists
    print(req)
tools = {"pytest", "hypothesis", "httpx2", "psutil"}  # the light test tools of the dev extra
for req in extras.get("dev", []):
    if re.split(r"[\s;<>=!~\[]", req, maxsplit=1)[0].lower() in tools:
        print(req)
')
mapfile -t BUILD_REQS < <("$PY" -c '
import tomllib
print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")
')
"$PY" -m pip install -q -c "$CONSTRAINTS" "${DEPS[@]}" "${BUILD_REQS[@]}" pytest hypothesis
"$PY" -m pip uninstall -q -y ai-edge-litert ml_dtypes 2>/dev/null || true
# No build isolation and a build folder of its own: the C++ build is incremental on reruns.
"$PY" -m pip install -q -c "$CONSTRAINTS" --no-deps --no-build-isolation \
    -C build-dir="$VENV/cmake-build/{wheel_tag}" -e .
"$PY" - <<'EOF'
import importlib.util, numpy, tflite_runtime
from edgeser import frontend
from edgeser.interpreter import available_runtimes, resolve_runtime
assert importlib.util.find_spec("ai_edge_litert") is None, "ai-edge-litert is installed"
assert numpy.__version__.startswith("1."), numpy.__version__
print(f"[runtime-leg] numpy {numpy.__version__}, tflite-runtime {tflite_runtime.__version__}, "
      f"runtimes {available_runtimes()}, auto -> {resolve_runtime()[0]}, "
      f"front end {frontend.backend()}")
EOF

# (4) the tests
say "setup took $(($(date +%s) - started)) s; running the tests"
# shellcheck disable=SC2086
EDGESER_REQUIRE_CPP=1 EDGESER_EXPECT_RUNTIME=tflite_runtime EDGESER_BUNDLE_PYTHON=$MAIN_PYTHON \
    "$PY" -m pytest -q ${PYTEST_ARGS:-} tests/runtime tests/frontend/test_cpp_backend.py
say "passed in $(($(date +%s) - started)) s"
