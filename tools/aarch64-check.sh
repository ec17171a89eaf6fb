#!/usr/bin/env bash
# Correctness of the front end on 64-bit ARM, on an x86-64 Debian machine: cross-compiles the
# C++ core and its tests (csrc/tests) with Debian's g++-aarch64-linux-gnu and runs them under
# qemu-user (qemu-aarch64), so both aarch64 paths are checked: NEON (the default there) and
# generic, each against the naive reference and against each other (ctest suite "simd"), plus
# every other suite. Timings under qemu mean nothing; this checks results only.
#
#   bash tools/aarch64-check.sh                # build/aarch64, all suites
#   EDGESER_RANDOM_CASES=500 bash tools/aarch64-check.sh
#
# Installs g++-aarch64-linux-gnu and qemu-user with apt-get when they are missing (needs root).
# It does not build a Python wheel for aarch64: that needs an aarch64 Python (cibuildwheel in an
# emulated manylinux container, see docs/wheels.md).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v aarch64-linux-gnu-g++ >/dev/null 2>&1 || missing+=(g++-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null 2>&1 || missing+=(qemu-user)
command -v cmake >/dev/null 2>&1 && cmake --version >/dev/null 2>&1 || missing+=(cmake)
if [ ${#missing[@]} -gt 0 ]; then
  echo "aarch64-check: installing ${missing[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

dir=build/aarch64
generator=()
if command -v ninja >/dev/null 2>&1 && ninja --version >/dev/null 2>&1; then generator=(-G Ninja); fi
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${generator[1]:-Unix Makefiles}\$" "$dir/CMakeCache.txt"; then
  rm -rf "$dir"
fi
cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_TOOLCHAIN_FILE=tools/aarch64-linux-gnu.cmake \
  -DCMAKE_BUILD_TYPE=Release -DEDGESER_BUILD_PYTHON=OFF -DEDGESER_BUILD_TESTS=ON >/dev/null
cmake --build "$dir" --parallel "$(nproc 2>/dev/null || echo 2)"
if command -v file >/dev/null 2>&1; then
  file "$dir/csrc/tests/edgeser_cpp_tests" | grep -q aarch64 ||
    { echo "aarch64-check: the test binary is not an aarch64 executable" >&2; exit 1; }
fi

echo "== aarch64 (qemu-aarch64), default path (neon): every suite"
ctest --test-dir "$dir" --output-on-failure --parallel "$(nproc 2>/dev/null || echo 2)"
echo "== aarch64 (qemu-aarch64), EDGESER_SIMD=generic: features and streaming on the generic path"
EDGESER_SIMD=generic qemu-aarch64 -L /usr/aarch64-linux-gnu "$dir/csrc/tests/edgeser_cpp_tests" \
  features stream random
