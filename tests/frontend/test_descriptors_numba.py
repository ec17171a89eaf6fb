"""The numba descriptor backend (edgeser.frontend._numba_descriptors) against the NumPy
reference: parity on synthetic signals and configs, exact streaming for any chunking, batches,
and the backend selection (numba is really used when asked for; without numba a request for it
is an ImportError, as in the front end)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from edgeser.frontend import descriptors
from edgeser.frontend.descriptor_config import COLUMN, DESCRIPTOR_NAMES, DescriptorConfig

from .test_descriptors import RATE, signals, voiced

pytest.importorskip("numba", reason="numba is not installed (pip install edgeser[numba])")

from edgeser.frontend import _numba_descriptors  # noqa: E402

FORMANTS = [COLUMN[n] for n in ("f1_hz", "f1_bw_hz", "f2_hz", "f2_bw_hz", "f3_hz", "f3_bw_hz")]
OTHER = [i for i in range(len(DESCRIPTOR_NAMES)) if i not in FORMANTS]


def vibrato(seconds: float, f0: float = 180.0, seed: int = 11) -> np.ndarray:
    """A harmonic voice with 5.5 Hz vibrato (+-4%), a -12 dB/octave tilt and light breath."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f = f0 * (1 + 0.04 * np.sin(2 * np.pi * 5.5 * t))
    ph = 2 * np.pi * np.cumsum(f) / RATE
    x = sum(np.sin(k * ph + rng.uniform(0, 6)) / k**2 for k in range(1, 25))
    return (0.25 * x + 0.002 * rng.standard_normal(t.size)).astype(np.float32)


def clicks(seconds: float, rate_hz: float = 97.0) -> np.ndarray:
    """A click train: unit impulses every 1/rate_hz s (a flat, perfectly periodic source)."""
    x = np.zeros(int(seconds * RATE), np.float32)
    x[(np.arange(0, seconds, 1.0 / rate_hz) * RATE).astype(int)] = 0.8
    return x


def parity_signals() -> dict[str, np.ndarray]:
    cfg = DescriptorConfig()
    out = dict(signals())
    out["vibrato"] = vibrato(1.0)
    out["clicks"] = clicks(0.6)
    out["shorter_than_a_frame"] = voiced(0.1)[: cfg.analysis_length - 1]
    out["one_frame"] = voiced(0.1)[: cfg.analysis_length]
    out["one_frame_and_a_bit"] = voiced(0.1)[: cfg.analysis_length + cfg.frame_shift - 1]
    return out


def assert_reference_parity(got: np.ndarray, want: np.ndarray, cfg: DescriptorConfig) -> None:
    """The tolerances of the cpp parity test (test_descriptors.py): rtol = atol = 2e-4 on every
    column but the formants; the formants within rtol 1e-3 / atol 0.5 Hz, here on every frame
    (the numba backend finds the roots with the reference's own np.roots computation)."""
    assert got.shape == want.shape
    assert got.dtype == np.float32
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got[:, OTHER], want[:, OTHER], rtol=2e-4, atol=2e-4)
    same = np.isclose(got[:, FORMANTS], want[:, FORMANTS], rtol=1e-3, atol=0.5).all(axis=1)
    assert same.all(), f"formants differ on frames {np.flatnonzero(~same)}"


@pytest.mark.parametrize("name", list(parity_signals()))
def test_numba_matches_the_numpy_reference(name):
    x = parity_signals()[name]
    cfg = DescriptorConfig()
    got = descriptors.compute(x, cfg, backend="numba")
    want = descriptors.compute(x, cfg, backend="numpy")
    assert got.shape == (cfg.num_frames(len(x)), len(DESCRIPTOR_NAMES))
    assert_reference_parity(got, want, cfg)


def test_numba_matches_the_reference_on_a_long_input():
    """Longer than one kernel block (BLOCK_FRAMES frames): blocks join without a seam."""
    cfg = DescriptorConfig()
    x = np.concatenate([voiced(1.6, seed=21), vibrato(1.4, 120.0)])
    assert cfg.num_frames(len(x)) > _numba_descriptors.BLOCK_FRAMES
    got = descriptors.compute(x, cfg, backend="numba")
    assert_reference_parity(got, descriptors.compute(x, cfg, backend="numpy"), cfg)
    assert (got[:, COLUMN["f0_hz"]] > 0).mean() > 0.5  # the voiced frames are in there


CONFIGS = {
    "8k": dict(sample_rate=8000, formant_max_hz=4000.0),
    "22k": dict(sample_rate=22050),
    "48k-narrow": dict(sample_rate=48000, f0_min_hz=80.0, f0_max_hz=400.0, pitch_window_ms=40.0),
    "lpc8-wide-bw": dict(lpc_order=8, formant_max_bw_hz=800.0),
    "shift-80ms": dict(frame_shift_ms=80.0),
    "short-shift": dict(frame_shift_ms=3.0),
    "strict-voicing": dict(voicing_threshold=0.2, silence_dbfs=-40.0),
    "long-spectral": dict(spectral_window_ms=64.0),
}


@pytest.mark.parametrize("change", list(CONFIGS))
def test_numba_matches_the_reference_for_other_configs(change):
    cfg = DescriptorConfig(**CONFIGS[change])
    t = np.arange(int(0.3 * cfg.sample_rate)) / cfg.sample_rate
    rng = np.random.default_rng(3)
    ph = 2 * np.pi * np.cumsum(140 * (1 + 0.1 * np.sin(2 * np.pi * 3 * t))) / cfg.sample_rate
    x = sum(np.sin(k * ph) * 0.6**k for k in range(1, 12)) * np.hanning(t.size)
    x = np.concatenate([x, 0.05 * rng.standard_normal(t.size // 2)]).astype(np.float32)
    got = descriptors.compute(x, cfg, backend="numba")
    assert_reference_parity(got, descriptors.compute(x, cfg, backend="numpy"), cfg)


def test_blocking_does_not_change_the_rows(monkeypatch):
    x = voiced(0.7, seed=5)
    want = descriptors.compute(x, backend="numba")
    monkeypatch.setattr(_numba_descriptors, "BLOCK_FRAMES", 7)
    np.testing.assert_array_equal(descriptors.compute(x, backend="numba"), want)


def stream_through(x: np.ndarray, sizes, cfg: DescriptorConfig | None = None) -> np.ndarray:
    s = descriptors.DescriptorStream(cfg, backend="numba")
    assert s.backend == "numba"
    parts, pos, k = [], 0, 0
    while pos < len(x):
        n = sizes[k % len(sizes)]
        parts.append(s.push(x[pos : pos + n]))
        pos, k = pos + n, k + 1
    parts.append(s.flush())
    assert s.flush().shape == (0, len(DESCRIPTOR_NAMES))
    with pytest.raises(RuntimeError, match="flushed"):
        s.push(x[:10])
    return np.concatenate(parts)


CHUNKINGS = {
    "whole": [10**9],
    "frame-shift": [160],
    "odd": [333],
    "large": [4001],
    "mixed": [0, 1, 7, 160, 333, 800, 4000, 3, 1200],
}


@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_stream_equals_offline(chunking):
    x = np.concatenate([voiced(0.6, seed=8), np.zeros(900, np.float32), clicks(0.3)])
    want = descriptors.compute(x, backend="numba")
    np.testing.assert_array_equal(stream_through(x, CHUNKINGS[chunking]), want)


def test_stream_equals_offline_for_random_chunkings_and_a_long_shift():
    rng = np.random.default_rng(17)
    x = vibrato(0.8, seed=2)
    want = descriptors.compute(x, backend="numba")
    for _ in range(3):
        sizes = [int(v) for v in rng.choice([0, 1, 5, 99, 160, 641, 2500], size=25)]
        np.testing.assert_array_equal(stream_through(x, sizes), want)
    cfg = DescriptorConfig(frame_shift_ms=80.0)
    want = descriptors.compute(x, cfg, backend="numba")
    np.testing.assert_array_equal(stream_through(x, [333], cfg), want)


def test_stream_of_a_short_signal_emits_its_frames_on_flush():
    cfg = DescriptorConfig()
    x = voiced(0.1)[: cfg.analysis_length + 2 * cfg.frame_shift]  # three frames
    s = descriptors.DescriptorStream(cfg, backend="numba")
    early = s.push(x)
    assert early.shape == (1, len(DESCRIPTOR_NAMES))  # two frames wait for their look-ahead
    got = np.concatenate([early, s.flush()])
    np.testing.assert_array_equal(got, descriptors.compute(x, cfg, backend="numba"))
    empty = descriptors.DescriptorStream(cfg, backend="numba")
    assert empty.push(x[:100]).shape == (0, len(DESCRIPTOR_NAMES))
    assert empty.flush().shape == (0, len(DESCRIPTOR_NAMES))


def test_batch_equals_single_calls():
    xs = [voiced(0.3 + 0.2 * i, seed=i) for i in range(4)] + [np.zeros(100, np.float32)]
    got = descriptors.compute_batch(xs, num_threads=2, backend="numba")
    for x, g in zip(xs, got):
        np.testing.assert_array_equal(g, descriptors.compute(x, backend="numba"))
    assert got[-1].shape == (0, len(DESCRIPTOR_NAMES))


def test_numba_is_the_backend_used(monkeypatch):
    assert descriptors.backend("numba") == "numba"
    monkeypatch.setenv("EDGESER_BACKEND", "numba")
    assert descriptors.backend() == "numba"
    assert descriptors.DescriptorStream().backend == "numba"
    monkeypatch.setenv("EDGESER_BACKEND", "numpy")
    assert descriptors.backend() == "numpy"


def test_numba_does_not_fall_back_to_the_reference(monkeypatch):
    """A "numba" request runs the numba kernels: with every reference entry point broken it
    still computes, and its row function is what computes the rows."""
    from edgeser.frontend import (
        descriptors_reference,
        formant_reference,
        pitch_reference,
        spectral_reference,
    )

    def broken(*args, **kwargs):
        raise AssertionError("the numba backend called the NumPy reference")

    for module, names in (
        (descriptors_reference, ("compute", "compute_batch", "raw_row", "finish_row")),
        (descriptors_reference, ("make_stream", "DescriptorStream")),
        (pitch_reference, ("analyze", "smooth_f0", "pulse_measures", "difference_function")),
        (spectral_reference, ("analyze", "power_spectrum")),
        (formant_reference, ("analyze", "lpc", "candidates", "levinson")),
    ):
        for name in names:
            monkeypatch.setattr(module, name, broken)
    calls = []
    real = _numba_descriptors.raw_rows

    def spy(*args, **kwargs):
        calls.append(args[2])  # frames
        return real(*args, **kwargs)

    monkeypatch.setattr(_numba_descriptors, "raw_rows", spy)
    x = voiced(0.4, seed=6)
    d = descriptors.compute(x, backend="numba")
    assert calls == [d.shape[0]] and d.shape[0] > 0
    assert len(descriptors.compute_batch([x, x], backend="numba", num_threads=2)) == 2
    s = descriptors.DescriptorStream(backend="numba")
    streamed = np.concatenate([s.push(x), s.flush()])
    np.testing.assert_array_equal(streamed, d)


def _run(code: str) -> subprocess.CompletedProcess:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {k: v for k, v in os.environ.items() if k != "EDGESER_BACKEND"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )


def test_without_numba_a_numba_request_is_an_error():
    """As the front end: a forced "numba" without numba raises ImportError (by name or by
    EDGESER_BACKEND); the automatic choice skips it (cpp, else the reference)."""
    code = """
import os, sys
sys.modules["numba"] = None  # numba not installed
sys.modules["edgeser._frontend"] = None  # nor the extension
import numpy as np
from edgeser.frontend import descriptors
for call in (lambda: descriptors.backend("numba"),
             lambda: descriptors.compute(np.zeros(2000, np.float32), backend="numba"),
             lambda: descriptors.DescriptorStream(backend="numba")):
    try:
        call()
    except ImportError as exc:
        assert "descriptor backend 'numba' is not available" in str(exc), exc
    else:
        raise SystemExit("a numba request without numba did not raise")
os.environ["EDGESER_BACKEND"] = "numba"
try:
    descriptors.backend()
except ImportError:
    pass
else:
    raise SystemExit("EDGESER_BACKEND=numba without numba did not raise")
del os.environ["EDGESER_BACKEND"]
assert descriptors.backend() == "numpy", descriptors.backend()
assert descriptors.compute(np.zeros(2000, np.float32)).shape == (8, 22)
print("ok")
"""
    proc = _run(code)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:] + proc.stdout


def test_default_backend_order_and_lazy_numba():
    """Without a name: cpp when the extension imports (numba is then never loaded), numba when
    only it is there."""
    code = """
import sys
from edgeser.frontend import descriptors
try:
    import edgeser._frontend
except ImportError:
    pass
else:
    assert descriptors.backend() == "cpp", descriptors.backend()
    assert "numba" not in sys.modules, "numba imported although cpp is there"
import edgeser
sys.modules["edgeser._frontend"] = None  # the extension missing from here on
edgeser.__dict__.pop("_frontend", None)
descriptors._cpp.cache_clear()
assert descriptors.backend() == "numba", descriptors.backend()
print("ok")
"""
    proc = _run(code)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:] + proc.stdout


def test_pairwise_sum_is_numpys_sum_to_the_bit():
    """The kernels' sums are np.sum's (the pitch thresholds compare them): every length
    around the block sizes, and long runs."""
    from edgeser.frontend._numba_descriptor_kernels import pairwise_sum

    rng = np.random.default_rng(0)
    for n in [*range(0, 300), 511, 512, 533, 800, 1023, 4097, 8193, 50001]:
        a = rng.standard_normal(n + 5) * 10.0 ** rng.uniform(-6, 6, n + 5)
        assert pairwise_sum(a, 3, n) == np.sum(a[3 : 3 + n]), n
