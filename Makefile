# One-command workflows. `make test` sets everything up from scratch and runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
AUDIO ?=
PYTEST_ARGS ?= -n 2 --dist loadfile

.PHONY: setup test predict bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

setup: $(PY)
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -c "import edgeser.frontend as f; print('front-end backends:', f.available_backends())"

# EDGESER_REQUIRE_CPP=1: a missing C++ extension fails the suite instead of skipping its tests.
test: setup
	EDGESER_REQUIRE_CPP=1 $(PY) -m pytest $(PYTEST_ARGS) tests

# Sets up the runtime only, then predicts with the bundled default model: make predict AUDIO=clip.wav
predict: $(PY)
	@test -n "$(AUDIO)" || (echo "usage: make predict AUDIO='clip.wav [more.wav ...]'" && exit 2)
	$(PY) -m pip install -q -e .
	$(VENV)/bin/edgeser predict $(AUDIO)

bench: setup
	$(PY) -m benchmarks.frontend

clean:
	rm -rf build _skbuild *.egg-info .pytest_cache
