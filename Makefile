# One-command workflows. `make test` sets everything up from scratch and runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
AUDIO ?=
PYTEST_ARGS ?= -n 2 --dist loadfile
# The pip package clang-format (dev extra) puts the binary in the venv.
CLANG_FORMAT ?= $(VENV)/bin/clang-format
CXX_SOURCES := $(wildcard csrc/*.h csrc/*.cc csrc/python/*.h csrc/python/*.cc csrc/tests/*.h csrc/tests/*.cc)

.PHONY: setup test lint format predict bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# silero-vad without its dependencies: only its ONNX model file is used (benchmarks.speech_gate's
# peer, run with onnxruntime); its PyTorch dependency serves the package's own wrapper.
setup: $(PY)
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m pip install -q --no-deps "silero-vad==6.2.3"
	$(PY) -c "import edgeser.frontend as f; print('front-end backends:', f.available_backends())"

# EDGESER_REQUIRE_CPP=1: a missing C++ extension fails the suite instead of skipping its tests.
# Lint first (seconds): a style or type error fails CI before the suite runs.
test: setup lint
	EDGESER_REQUIRE_CPP=1 $(PY) -m pytest $(PYTEST_ARGS) tests

# Checks only, changes nothing: Python lint and format (ruff), C++ format, types (mypy).
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(CLANG_FORMAT) --dry-run -Werror $(CXX_SOURCES)
	$(PY) -m mypy

# Rewrites the sources in place: ruff format and safe fixes, clang-format.
format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .
	$(CLANG_FORMAT) -i $(CXX_SOURCES)

# Sets up the runtime only, then predicts with the bundled default model: make predict AUDIO=clip.wav
predict: $(PY)
	@test -n "$(AUDIO)" || (echo "usage: make predict AUDIO='clip.wav [more.wav ...]'" && exit 2)
	$(PY) -m pip install -q -e .
	$(VENV)/bin/edgeser predict $(AUDIO)

bench: setup
	$(PY) -m benchmarks.frontend

clean:
	rm -rf build _skbuild *.egg-info .pytest_cache .mypy_cache .ruff_cache
