"""Shared test fixtures: synthetic signals, the datasets folder and the front-end backends.

Keep this file generic; fixtures for one area belong next to its tests. Signals are synthesised
(deterministic seeds) so the core suite needs no audio files.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

# Property tests draw the same cases on every run by default so CI gives a reproducible verdict;
# HYPOTHESIS_PROFILE=explore draws fresh random cases (run it locally to hunt for new failures).
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config) -> None:
    """Import openSMILE (when installed) before any test can import TensorFlow: openSMILE aborts
    a process in which TensorFlow was imported first, and the runtime refuses openSMILE models
    there (`edgeser.pipelines.opensmile.check_tensorflow_free`). One pytest worker runs both
    the training tests (TensorFlow) and the openSMILE model tests; this order makes that safe."""
    try:
        import opensmile  # noqa: F401
    except ImportError:
        pass


SIGNAL_KINDS = ("sine", "chirp", "noise", "silence", "clipped", "impulses", "int16_scale")


def backends() -> list[str]:
    """Front-end backends that import in this environment ("cpp" only once it is built)."""
    from edgeser import frontend

    return frontend.available_backends()


def require_cpp() -> bool:
    """EDGESER_REQUIRE_CPP=1 turns a missing C++ backend into a test failure (CI after a build)."""
    return os.environ.get("EDGESER_REQUIRE_CPP", "").strip() == "1"


def _backend_or_skip(name: str) -> str:
    if name not in backends():
        if name == "cpp" and require_cpp():
            pytest.fail(
                "EDGESER_REQUIRE_CPP=1 but the cpp front-end backend does not import "
                "(build and install the extension: pip install -e .)"
            )
        pytest.skip(f"front-end backend {name!r} is not available here")
    return name


@pytest.fixture(scope="session")
def available_backends() -> list[str]:
    """`backends()` as a fixture, for tests that cannot import this conftest."""
    return backends()


@pytest.fixture(scope="session")
def cpp_required() -> bool:
    return require_cpp()


@pytest.fixture(scope="session")
def ext(cpp_required):
    """The compiled module edgeser._frontend; skips without it (fails under
    EDGESER_REQUIRE_CPP=1)."""
    try:
        from edgeser import _frontend
    except ImportError as exc:
        if cpp_required:
            pytest.fail(f"EDGESER_REQUIRE_CPP=1 but edgeser._frontend does not import: {exc}")
        pytest.skip(f"edgeser._frontend is not built ({exc}); run `pip install -e .`")
    return _frontend


@pytest.fixture(scope="session", params=("cpp", "numba", "numpy"))
def backend_name(request) -> str:
    """Every front-end backend in turn; missing ones skip (cpp fails under EDGESER_REQUIRE_CPP)."""
    return _backend_or_skip(request.param)


@pytest.fixture(scope="session", params=("cpp", "numba"))
def fast_backend_name(request) -> str:
    """The backends that are not the NumPy reference, for parity against it."""
    return _backend_or_skip(request.param)


# Parity tolerances of every backend against the NumPy reference (see feature_mismatch).
SPECTROGRAM_RTOL = 1e-4  # relative to the largest value of the same frame
LOG_MEL_RTOL, LOG_MEL_ATOL = 1e-4, 1e-4
MFCC_ATOL = 1e-3


def feature_mismatch(got: np.ndarray, want: np.ndarray, kind: str) -> float:
    """Worst error as a fraction of the allowed error for `kind` (<= 1 means within tolerance)."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        raise AssertionError(f"shape {got.shape} != reference shape {want.shape}")
    if want.size == 0:
        return 0.0
    if not np.isfinite(got).all():
        return float("inf")
    err = np.abs(got - want)
    if kind == "spectrogram":
        allowed = SPECTROGRAM_RTOL * np.maximum(np.abs(want).max(axis=1, keepdims=True), 1e-20)
    elif kind == "log_mel":
        allowed = LOG_MEL_RTOL * np.abs(want) + LOG_MEL_ATOL
    elif kind == "mfcc":
        allowed = np.full_like(want, MFCC_ATOL)
    else:
        raise ValueError(f"unknown feature kind {kind!r}")
    return float((err / allowed).max())


def assert_features_match(got: np.ndarray, want: np.ndarray, kind: str, context: str = "") -> None:
    """Fail with the worst absolute error when `got` is outside the `kind` tolerance of `want`."""
    ratio = feature_mismatch(got, want, kind)
    if ratio > 1.0:
        worst = float(np.abs(np.asarray(got, np.float64) - np.asarray(want, np.float64)).max())
        raise AssertionError(
            f"{kind} differs from the reference{' (' + context + ')' if context else ''}: "
            f"max abs error {worst:.3g}, {ratio:.3g}x the tolerance"
        )


@pytest.fixture(scope="session")
def features_match() -> Callable[..., None]:
    """`features_match(got, want, kind, context="")`: assert parity within the kind's tolerance."""
    return assert_features_match


def make_signal(
    kind: str, sample_rate: int = 16000, seconds: float = 0.5, seed: int = 0
) -> np.ndarray:
    """A deterministic synthetic test signal, float32 in [-1, 1] except "int16_scale"."""
    n = int(round(sample_rate * seconds))
    t = np.arange(n) / sample_rate
    rng = np.random.default_rng(seed)
    nyq = sample_rate / 2.0
    if kind == "sine":
        x = 0.5 * np.sin(2 * np.pi * 440.0 * t) + 0.2 * np.sin(2 * np.pi * 1330.0 * t + 0.3)
    elif kind == "chirp":
        f0, f1 = 50.0, 0.9 * nyq  # linear sweep over nearly the whole band
        x = 0.8 * np.sin(2 * np.pi * (f0 * t + 0.5 * (f1 - f0) / max(seconds, 1e-9) * t * t))
    elif kind == "noise":
        x = 0.3 * rng.standard_normal(n)
    elif kind == "silence":
        x = np.zeros(n)
    elif kind == "clipped":
        x = np.clip(3.0 * np.sin(2 * np.pi * 220.0 * t), -1.0, 1.0)
    elif kind == "impulses":
        x = np.zeros(n)
        x[rng.choice(n, size=max(1, n // 997), replace=False)] = rng.uniform(
            -1, 1, max(1, n // 997)
        )
    elif kind == "int16_scale":
        x = np.round(
            np.clip(
                9000.0 * np.sin(2 * np.pi * 300.0 * t) + 2000.0 * rng.standard_normal(n),
                -32768,
                32767,
            )
        )
    else:
        raise ValueError(f"unknown synthetic signal kind {kind!r}; choose from {SIGNAL_KINDS}")
    return x.astype(np.float32)


@pytest.fixture(scope="session")
def signal_factory() -> Callable[..., np.ndarray]:
    """`signal_factory(kind, sample_rate=16000, seconds=0.5, seed=0)` -> float32 signal."""
    return make_signal


@pytest.fixture(scope="session")
def signal_kinds() -> tuple[str, ...]:
    return SIGNAL_KINDS


@pytest.fixture(scope="session")
def datasets_dir() -> Path:
    """The shared corpora folder (<project>/../shared/datasets or $EDGESER_DATASETS)."""
    from train.shared_data import datasets_dir as lookup

    path = lookup()
    if not path.is_dir():
        pytest.skip(f"datasets folder {path} is absent (set EDGESER_DATASETS to use real corpora)")
    return path
