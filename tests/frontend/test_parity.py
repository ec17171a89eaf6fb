"""Every non-reference backend (numba, cpp once built) against the NumPy reference.

Tolerances (tests/conftest.py): spectrogram 1e-4 of the frame maximum, log-mel rtol 1e-4 +
atol 1e-4, MFCC atol 1e-3. Deltas and CMVN are checked through the same tolerances.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from edgeser import frontend
from edgeser.frontend import FrontendConfig, reference

KINDS = ("spectrogram", "log_mel", "mfcc")

CONFIGS = {
    "default": {},
    "hann": dict(window="hann"),
    "povey": dict(window="povey"),
    "rectangular": dict(window="rectangular"),
    "slaney-scale": dict(mel_scale="slaney"),
    "slaney-scale-norm": dict(mel_scale="slaney", mel_norm="slaney"),
    "htk-scale-slaney-norm": dict(mel_norm="slaney"),
    "mel-triangles": dict(triangle_domain="mel"),
    "mel-triangles-slaney": dict(triangle_domain="mel", mel_scale="slaney", mel_norm="slaney"),
    "magnitude": dict(power=1.0),
    "db": dict(log_type="db"),
    "magnitude-db": dict(power=1.0, log_type="db", log_floor=1e-5),
    "lifter22": dict(lifter=22.0),
    "deltas1": dict(deltas=1),
    "deltas2": dict(deltas=2),
    "deltas2-window1": dict(deltas=2, delta_window=1),
    "cmvn-mean": dict(cmvn="mean"),
    "cmvn-meanvar-deltas": dict(cmvn="meanvar", deltas=1),
    "vtlp-0.9": dict(vtlp_alpha=0.9),
    "vtlp-1.1": dict(vtlp_alpha=1.1, vtlp_high_hz=6000.0),
    "nfft-400-non-pow2": dict(n_fft=400),
    "nfft-1000-non-pow2": dict(n_fft=1000),
    "odd-frame-401-shift-161": dict(frame_length_ms=25.0625, frame_shift_ms=10.0625),
    "odd-frame-prime-nfft": dict(frame_length_ms=25.0625, n_fft=401),
    "tiny-frame-16": dict(frame_length_ms=1.0, frame_shift_ms=0.5, n_mels=8, n_mfcc=8),
    "many-mels-small-fft": dict(frame_length_ms=16.0, n_mels=80, n_mfcc=20),
    "remove-dc-no-preemph": dict(remove_dc=True, preemphasis=0.0),
    "band-limited": dict(fmin=300.0, fmax=-1000.0),
    "rate-8k": dict(sample_rate=8000, n_mels=23, vtlp_high_hz=3000.0),
    "rate-22k": dict(sample_rate=22050, n_mels=64, fmax=8000.0),
    "rate-48k": dict(sample_rate=48000, n_mels=64, mel_scale="slaney", mel_norm="slaney"),
    "rate-48k-nfft-1200": dict(sample_rate=48000, n_fft=1200),
    "preset-kaldi": "kaldi",
    "preset-librosa": "librosa_slaney",
    "preset-dycnn": "dycnn_mfcc39",
    "preset-cnn-lstm": "cnn_lstm_logmel",
}


def make_config(spec) -> FrontendConfig:
    return FrontendConfig.preset(spec) if isinstance(spec, str) else FrontendConfig(**spec)


def signals_for(cfg: FrontendConfig, signal_factory, kinds) -> dict[str, np.ndarray]:
    """Synthetic signals at the config's rate plus two random ones of awkward lengths."""
    sigs = {k: signal_factory(k, cfg.sample_rate, 0.3) for k in kinds}
    rng = np.random.default_rng(cfg.sample_rate)
    n = cfg.frame_length + 3 * cfg.frame_shift + 7
    sigs["uniform"] = rng.uniform(-1, 1, n).astype(np.float32)
    sigs["random-walk"] = np.cumsum(rng.standard_normal(5 * n)).astype(np.float32) * 1e-2
    return sigs


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("spec", list(CONFIGS.values()), ids=list(CONFIGS))
def test_backend_matches_reference(
    fast_backend_name, spec, kind, signal_factory, signal_kinds, features_match
):
    cfg = make_config(spec)
    for name, x in signals_for(cfg, signal_factory, signal_kinds).items():
        got = frontend.features(x, cfg, kind, backend=fast_backend_name)
        want = reference.compute(as_float32(x), cfg, kind)
        assert got.dtype == np.float32 and got.flags.c_contiguous
        assert got.shape == (cfg.num_frames(len(x)), cfg.feature_dim(kind))
        features_match(got, want, kind, f"{fast_backend_name}, signal {name}")


def as_float32(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32)


def test_reference_is_not_trivially_constant(signal_factory):
    """Guards the parity tests: different signals must give clearly different features."""
    cfg = FrontendConfig()
    a = reference.compute(signal_factory("sine"), cfg, "mfcc")
    b = reference.compute(signal_factory("noise"), cfg, "mfcc")
    assert np.abs(a - b).max() > 1.0


@pytest.mark.parametrize("kind", KINDS)
def test_batch_equals_single_calls(backend_name, kind, signal_factory):
    cfg = FrontendConfig(deltas=1)
    sigs = [
        signal_factory(k, seconds=s)
        for k, s in [("noise", 0.3), ("sine", 0.02), ("chirp", 0.5), ("impulses", 0.2)]
    ]
    single = [frontend.features(x, cfg, kind, backend=backend_name) for x in sigs]
    for threads in (1, 2, 3):
        batch = frontend.features_batch(sigs, cfg, kind, num_threads=threads, backend=backend_name)
        assert len(batch) == len(sigs)
        for b, s in zip(batch, single):
            np.testing.assert_array_equal(b, s)


def test_required_cpp_backend_is_available(cpp_required, available_backends):
    """With EDGESER_REQUIRE_CPP=1 (CI after building the extension) a missing cpp must fail."""
    if not cpp_required:
        pytest.skip("EDGESER_REQUIRE_CPP is not 1")
    assert "cpp" in available_backends, (
        "EDGESER_REQUIRE_CPP=1 but edgeser's cpp backend does not import"
    )


def test_importing_frontend_does_not_import_numba():
    """numba is a fallback: loading the front end (the predict path) must not pay for it."""
    code = (
        "import sys, edgeser.frontend as f; f.FrontendConfig(); "
        "assert 'numba' not in sys.modules, 'numba imported'"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(
            filter(
                None,
                [os.path.dirname(os.path.dirname(frontend.__file__)), os.environ.get("PYTHONPATH")],
            )
        ),
    }
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


def test_numba_kernels_work_where_no_cache_can_be_written():
    """A function numba cannot cache (no writable locator) still compiles, with a warning."""
    pytest.importorskip("numba")
    from edgeser.frontend._numba_kernels import jit_kernel

    namespace: dict = {}
    exec(compile("def twice(v):\n    return 2.0 * v\n", "<no file on disk>", "exec"), namespace)
    with pytest.warns(RuntimeWarning, match="not be cached"):
        kernel = jit_kernel(namespace["twice"])
    assert kernel(1.5) == 3.0
