#!/usr/bin/env bash
# Third CI leg (issue 13): the portable wheel. Builds the manylinux2014 (glibc 2.17) x86-64
# wheel with tools/build-manylinux2014-wheel.sh, checks its tag, installs it in a venv of its
# own (nothing from the source tree on the path) and runs the front-end test suite and
# tools/wheel_smoke.py (every SIMD path of this CPU) against the installed extension.
#
#   bash .ci/wheel-leg.sh            (after `make setup`; ~5 min on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DIST=build/wheel-dist
VENV=build/venv-wheel
CHECK=build/wheel-check
say() { printf '[wheel-leg] %s\n' "$*"; }
[ "$(uname -m)" = x86_64 ] || { say "not x86-64: skipped"; exit 0; }

rm -rf "$DIST"
bash tools/build-manylinux2014-wheel.sh "$DIST"  # fails unless the wheel is manylinux_2_17
wheel=$(ls "$DIST"/edgeser-*manylinux_2_17_x86_64*.whl)
say "built $(basename "$wheel") ($(stat -c %s "$wheel") bytes)"

rm -rf "$VENV" "$CHECK"
"$ROOT/.venv/bin/python" -m venv "$VENV"
"$VENV/bin/pip" install -q "$wheel" pytest hypothesis pytest-xdist
# the tests and `train` (shared-data helpers) beside each other, outside the source tree
mkdir -p "$CHECK/tests"
cp -r tests/frontend tests/conftest.py "$CHECK/tests/"
cp -r train "$CHECK/"
printf '[pytest]\naddopts = -ra -p no:cacheprovider\npythonpath = .\n' > "$CHECK/pytest.ini"
cd "$CHECK"
where=$("$ROOT/$VENV/bin/python" -c "import edgeser._frontend as f; print(f.__file__)")
case "$where" in
  "$ROOT/$VENV"/*) say "testing $where" ;;
  *) say "edgeser._frontend came from $where, not the wheel"; exit 1 ;;
esac
EDGESER_REQUIRE_CPP=1 "$ROOT/$VENV/bin/python" -m pytest -q -n 2 tests/frontend
"$ROOT/$VENV/bin/python" "$ROOT/tools/wheel_smoke.py"
