"""Fixtures of the runtime tests: tiny TFLite bundles (built once, in a subprocess) and audio.

The bundles come from `make_tiny_bundles.py`, run with this interpreter in a separate process so
TensorFlow never enters the test processes. They are cached in pytest's cache folder, keyed by
the sources that shape them, and built once even under pytest-xdist (a file lock).
EDGESER_BUNDLE_PYTHON names another interpreter to build them with, for a test environment
without TensorFlow (the old-runtime CI leg, .ci/runtime-leg.sh, uses the main venv's).
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from .support import RATE, ROOT, speechlike, subprocess_env

HERE = Path(__file__).resolve().parent
BUILDER = HERE / "make_tiny_bundles.py"
_KEY_SOURCES = [
    BUILDER,
    HERE / "support.py",
    ROOT / "edgeser" / "bundle.py",
    ROOT / "edgeser" / "windows.py",
    *(
        ROOT / "edgeser" / "frontend" / f
        for f in (
            "config.py",
            "filters.py",
            "reference.py",
            "descriptor_config.py",
            "functionals.py",
        )
    ),
]


def _cache_key() -> str:
    h = hashlib.sha256(sys.version.encode())
    for path in _KEY_SOURCES:
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def _build(target: Path) -> None:
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    python = os.environ.get("EDGESER_BUNDLE_PYTHON") or sys.executable
    proc = subprocess.run(
        [python, str(BUILDER), str(tmp)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"building the tiny test bundles failed:\n{proc.stderr[-3000:]}")
    os.replace(tmp, target)


@pytest.fixture(scope="session")
def bundle_dir(request, tmp_path_factory) -> Path:
    """Read-only folder of the tiny bundles (tiny_float, tiny_int8, tiny_fixed, tiny_logits,
    and tiny_smile when openSMILE is installed)."""
    try:
        cache_root = Path(request.config.cache.mkdir("edgeser-tiny-bundles"))
    except (AttributeError, OSError):  # cache plugin disabled
        cache_root = tmp_path_factory.getbasetemp().parent
    target = cache_root / _cache_key()
    with open(cache_root / "build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one xdist worker builds, the others wait
        try:
            if not target.is_dir():
                _build(target)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if importlib.util.find_spec("opensmile") is None and any(target.glob("tiny_smile*")):
        # Built by an interpreter with openSMILE (EDGESER_BUNDLE_PYTHON) for one without it:
        # leave the openSMILE bundles out, as a build here would have.
        view = tmp_path_factory.mktemp("tiny-bundles-without-opensmile")
        for p in target.glob("*.edgeser"):
            if not p.name.startswith("tiny_smile"):
                shutil.copy(p, view / p.name)
        return view
    return target


@pytest.fixture
def models_dir(bundle_dir, tmp_path) -> Path:
    """A writable copy of the tiny bundles, usable as a models folder (DEFAULT not written)."""
    out = tmp_path / "models"
    out.mkdir()
    for p in bundle_dir.glob("*.edgeser"):
        shutil.copy(p, out / p.name)
    return out


@pytest.fixture(scope="session")
def recognizers(bundle_dir):
    """One shared Recognizer per tiny bundle name (loaded lazily)."""
    from edgeser import Recognizer

    cache: dict[str, Recognizer] = {}

    def get(name: str) -> Recognizer:
        if name not in cache:
            cache[name] = Recognizer(bundle_dir / f"{name}.edgeser")
        return cache[name]

    return get


@pytest.fixture(scope="session")
def speech() -> np.ndarray:
    """2.5 s of speech-like audio at 16 kHz."""
    return speechlike(2.5, seed=7)


@pytest.fixture(scope="session")
def long_audio() -> np.ndarray:
    """Speech 3 s, digital silence 1.5 s, speech 2.3 s: a recording with a pause."""
    return np.concatenate(
        [speechlike(3.0, 1), np.zeros(int(1.5 * RATE), np.float32), speechlike(2.3, 2)]
    )
