#!/usr/bin/env bash
# An aarch64 CPython 3.11 on an x86-64 Debian machine, from Debian's own arm64 packages (no
# Docker, no emulated container): unpacked into build/aarch64-python/root, run with
# `qemu-aarch64 -L build/aarch64-python/root build/aarch64-python/root/usr/bin/python3.11`.
# libstdc++ is there for numpy's wheels (manylinux lets them expect it). Its headers (with the
# aarch64 pyconfig.h) go to build/aarch64-python/include, which is what a cross build of the
# extension compiles against (tools/build-manylinux2014-wheel.sh --arch aarch64). Idempotent; needs root the first time (dpkg --add-architecture arm64, apt-get).
#
#   bash tools/aarch64-python.sh        # ~30 s: 27 MB of packages
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/aarch64-python
[ -x "$dir/root/usr/bin/python3.11" ] && [ -f "$dir/include/Python.h" ] &&
  [ -e "$dir/root/usr/lib/aarch64-linux-gnu/libstdc++.so.6" ] && exit 0

export DEBIAN_FRONTEND=noninteractive
if ! command -v qemu-aarch64 >/dev/null 2>&1; then
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends qemu-user >/dev/null
fi
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
  dpkg --add-architecture arm64
fi
apt-get update -q >/dev/null
rm -rf "$dir"
mkdir -p "$dir/debs" "$dir/root" "$dir/include"
# An empty dpkg status file: apt resolves the packages' whole dependency closure for arm64
# (nothing of this machine's own x86-64 installation counts as already there).
: > "$dir/empty-status"
apt-get -q -y --download-only --no-install-recommends \
  -o Dir::Cache::archives="$PWD/$dir/debs" -o Dir::State::status="$PWD/$dir/empty-status" \
  -o APT::Architecture=arm64 -o APT::Architectures=arm64 \
  install python3.11-minimal libpython3.11-stdlib libpython3.11-dev libstdc++6 >/dev/null
for deb in "$dir"/debs/*.deb; do dpkg-deb -x "$deb" "$dir/root"; done
# Debian's /usr/include/python3.11/pyconfig.h only dispatches on the architecture to
# <aarch64-linux-gnu/python3.11/pyconfig.h>; put the real one beside the other headers.
cp -r "$dir/root/usr/include/python3.11/." "$dir/include/"
cp "$dir/root/usr/include/aarch64-linux-gnu/python3.11/pyconfig.h" "$dir/include/pyconfig.h"
rm -rf "$dir/debs"
qemu-aarch64 -L "$dir/root" "$dir/root/usr/bin/python3.11" -c \
  "import platform, sys; assert platform.machine() == 'aarch64'; print('aarch64 Python', sys.version.split()[0])"
