#!/usr/bin/env bash
# C++ tests of the front end's core, without Python (csrc/tests, ctest): one normal Release
# build (build/cpp-tests) and one with AddressSanitizer + UndefinedBehaviorSanitizer
# (build/cpp-asan, EDGESER_SANITIZE=ON), each configured, built and run with ctest.
# Idempotent: reruns reuse both build folders. Installs g++ / cmake from Debian when missing.
#
#   bash .ci/cpp-tests.sh            # both builds
#   EDGESER_CPP_TESTS=plain bash .ci/cpp-tests.sh      # or: asan
#   EDGESER_RANDOM_CASES=2000 bash .ci/cpp-tests.sh    # a longer randomized campaign
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
cmake_ok() { "$1" --version >/dev/null 2>&1; }
CMAKE=""
for c in cmake .venv/bin/cmake; do
  if command -v "$c" >/dev/null 2>&1 && cmake_ok "$c"; then CMAKE=$c; break; fi
done
[ -n "$CMAKE" ] || need_apt+=(cmake)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "cpp-tests: installing ${need_apt[*]} from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${need_apt[@]}" >/dev/null
  [ -n "$CMAKE" ] || CMAKE=cmake
fi
# ctest from the same CMake installation as cmake.
CTEST="$(dirname "$(command -v "$CMAKE")")/ctest"
[ -x "$CTEST" ] || CTEST=ctest
GENERATOR=()
if command -v ninja >/dev/null 2>&1 && ninja --version >/dev/null 2>&1; then
  GENERATOR=(-G Ninja)
fi
JOBS=$(nproc 2>/dev/null || echo 2)

run_build() {  # name, build dir, extra cmake args...
  local name=$1 dir=$2
  shift 2
  echo "== C++ tests ($name): $dir"
  # A folder configured with another generator cannot be reused: start it afresh.
  if [ -f "$dir/CMakeCache.txt" ] && ! grep -q "CMAKE_GENERATOR:INTERNAL=${GENERATOR[1]:-Unix Makefiles}\$" "$dir/CMakeCache.txt"; then
    rm -rf "$dir"
  fi
  "$CMAKE" -S . -B "$dir" "${GENERATOR[@]}" -DEDGESER_BUILD_TESTS=ON -DEDGESER_BUILD_PYTHON=OFF "$@" >/dev/null
  "$CMAKE" --build "$dir" --parallel "$JOBS"
  "$CTEST" --test-dir "$dir" --output-on-failure --parallel "$JOBS"
}

which_builds=${EDGESER_CPP_TESTS:-all}
if [ "$which_builds" = all ] || [ "$which_builds" = plain ]; then
  run_build plain build/cpp-tests -DCMAKE_BUILD_TYPE=Release -DEDGESER_SANITIZE=OFF
fi
if [ "$which_builds" = all ] || [ "$which_builds" = asan ]; then
  # Any report aborts the test that caused it (-fno-sanitize-recover, halt_on_error).
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:abort_on_error=0}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  run_build "asan+ubsan" build/cpp-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGESER_SANITIZE=ON
fi
