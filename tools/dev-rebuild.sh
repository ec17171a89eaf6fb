#!/usr/bin/env bash
# Incremental rebuild of the extension into the editable install made by `make setup` (much
# faster than `pip install -e .`): build/dev, copied over the installed module. Serialised with
# a lock so parallel shells never build at once.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
"$py" -c "import pybind11" 2>/dev/null || "$py" -m pip install -q pybind11
exec 9>/tmp/edgeser-dev-build.lock
flock 9
if [ ! -f build/dev/CMakeCache.txt ]; then
  gen=(); command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  cmake -S . -B build/dev "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$py" \
    -Dpybind11_DIR="$("$py" -m pybind11 --cmakedir)" >/dev/null
fi
cmake --build build/dev --target _frontend --parallel 2
site=$("$py" -c "import sysconfig; print(sysconfig.get_paths()['platlib'])")
# copy then rename: a process that has the old module mapped keeps its (unlinked) file
for so in build/dev/_frontend*.so; do
  cp "$so" "$site/edgeser/.$(basename "$so").tmp"
  mv -f "$site/edgeser/.$(basename "$so").tmp" "$site/edgeser/$(basename "$so")"
done
