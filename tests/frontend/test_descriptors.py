"""Voice descriptors as a whole (edgeser.frontend.descriptors): the C++ DescriptorComputer
against the NumPy reference, exact streaming for any chunking, batches, the config mirror and
hostile input. The per-analyzer checks (pitch, spectral, formants) have their own files."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from edgeser.frontend import descriptors
from edgeser.frontend.descriptor_config import COLUMN, DESCRIPTOR_NAMES, DescriptorConfig

RATE = 16000


def voiced(seconds: float, f0: float = 150.0, seed: int = 0) -> np.ndarray:
    """A vowel-like signal with a gliding F0, a syllable envelope, and pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    f = f0 * (1 + 0.15 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6)))
    ph = 2 * np.pi * np.cumsum(f) / RATE
    x = sum(np.sin(k * ph) * 0.7**k for k in range(1, 15))
    env = np.clip(np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, 6)), 0, None)
    return (0.3 * x * env + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


def signals():
    rng = np.random.default_rng(7)
    return {
        "voiced": voiced(1.2),
        "noise": (0.1 * rng.standard_normal(9000)).astype(np.float32),
        "silence": np.zeros(6000, np.float32),
        "clipped": np.clip(voiced(0.8, 220.0, 1) * 8, -1, 1).astype(np.float32),
        "dc": np.full(5000, 0.25, np.float32),
        "tiny": (1e-30 * rng.standard_normal(4000)).astype(np.float32),
    }


def test_config_mirrors_cpp_validation(ext):
    """Every field the dataclass checks, the C++ options check too (same accept / refuse)."""
    cases = [
        {},
        {"f0_min_hz": 10.0},
        {"f0_max_hz": 50.0},
        {"pitch_window_ms": 20.0},
        {"voicing_threshold": 1.0},
        {"lpc_order": 3},
        {"formant_max_hz": 9000.0},
        {"frame_shift_ms": 0.01},
        {"sample_rate": 8000, "formant_max_hz": 4000.0},
        {"sample_rate": 8000},
        {"silence_dbfs": 5.0},
        {"power_floor": 1e-3},
        {"spectrum_floor": 0.0},
    ]
    for change in cases:
        opts = ext.DescriptorOptions()
        fields = {**DescriptorConfig().to_dict(), **change}
        for k, v in fields.items():
            setattr(opts, k, v)
        try:
            cfg = DescriptorConfig(**fields)
        except ValueError:
            with pytest.raises(ValueError):
                opts.validate()
            continue
        opts.validate()
        for name in ("frame_shift", "pitch_length", "spectral_length", "analysis_length"):
            assert getattr(opts, name) == getattr(cfg, name), (change, name)
        for name in ("pitch_offset", "spectral_offset", "fft_size", "tau_min", "tau_max"):
            assert getattr(opts, name) == getattr(cfg, name), (change, name)
        assert opts.num_frames(12345) == cfg.num_frames(12345)


def test_a_stored_config_without_the_floors_means_the_old_floors():
    """Configs stored before bundle format 10 lack power_floor / spectrum_floor: they meant
    1e-10 / 1e-12, and they are written back without them (an older reader reads the same)."""
    new = DescriptorConfig()
    assert new.min_format_version == 10 and new.to_dict()["power_floor"] == 1e-20
    stored = {k: v for k, v in new.to_dict().items() if k not in ("power_floor", "spectrum_floor")}
    old = DescriptorConfig.from_dict({**stored, "silence_dbfs": -80.0})
    assert (old.power_floor, old.spectrum_floor, old.silence_dbfs) == (1e-10, 1e-12, -80.0)
    assert old.min_format_version == 5 and set(old.to_dict()) == set(stored)
    assert DescriptorConfig.from_dict(old.to_dict()) == old
    assert DescriptorConfig.from_dict(new.to_dict()) == new
    one = DescriptorConfig(spectrum_floor=1e-12, power_floor=1e-20)
    assert one.min_format_version == 10 and "spectrum_floor" not in one.to_dict()
    assert DescriptorConfig.pre_format_10() == old
    assert (
        DescriptorConfig.pre_format_10(sample_rate=8000, formant_max_hz=4000.0).sample_rate == 8000
    )


def test_bad_config_names_the_field():
    with pytest.raises(ValueError, match="f0_max_hz"):
        DescriptorConfig(f0_max_hz=40.0)
    with pytest.raises(ValueError, match="lpc_order.*integer"):
        DescriptorConfig(lpc_order=16.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown DescriptorConfig fields"):
        DescriptorConfig.from_dict({"bogus": 1})
    with pytest.raises(ValueError, match="pitch_window_ms"):
        DescriptorConfig(f0_min_hz=30.0)  # two periods of 30 Hz do not fit 50 ms


@pytest.mark.parametrize("name", list(signals()))
def test_cpp_matches_the_numpy_reference(ext, name):
    x = signals()[name]
    cfg = DescriptorConfig()
    a = descriptors.compute(x, cfg, backend="cpp")
    b = descriptors.compute(x, cfg, backend="numpy")
    assert a.shape == b.shape == (cfg.num_frames(len(x)), len(DESCRIPTOR_NAMES))
    assert np.isfinite(a).all() and np.isfinite(b).all()
    # formant candidates on a selection threshold may differ: compare them on most frames
    formant_cols = [COLUMN[c] for c in DESCRIPTOR_NAMES if c.startswith("f") and c[1] in "123"]
    other = [i for i in range(len(DESCRIPTOR_NAMES)) if i not in formant_cols]
    np.testing.assert_allclose(a[:, other], b[:, other], rtol=2e-4, atol=2e-4)
    same = np.isclose(a[:, formant_cols], b[:, formant_cols], rtol=1e-3, atol=0.5).all(axis=1)
    assert same.mean() >= 0.95, f"formants differ on {np.flatnonzero(~same)}"


@pytest.mark.parametrize("backend", ["cpp", "numpy"])
def test_stream_equals_offline_for_any_chunking(ext, backend):
    x = voiced(0.9, seed=3) if backend == "numpy" else voiced(2.0, seed=3)
    cfg = DescriptorConfig()
    want = descriptors.compute(x, cfg, backend=backend)
    rng = np.random.default_rng(5)
    for _ in range(3 if backend == "cpp" else 1):
        s = descriptors.DescriptorStream(cfg, backend=backend)
        parts, pos = [], 0
        while pos < len(x):
            n = int(rng.choice([0, 1, 7, 160, 333, 800, 4000]))
            parts.append(s.push(x[pos : pos + n]))
            pos += n
        parts.append(s.flush())
        got = np.concatenate(parts)
        np.testing.assert_array_equal(got, want)
        assert s.flush().shape == (0, len(DESCRIPTOR_NAMES))
        with pytest.raises(RuntimeError, match="flushed"):
            s.push(x[:10])


def test_stream_with_a_shift_longer_than_the_frame(ext):
    cfg = DescriptorConfig(frame_shift_ms=80.0)
    x = voiced(1.0, seed=4)
    want = descriptors.compute(x, cfg, backend="cpp")
    s = descriptors.DescriptorStream(cfg, backend="cpp")
    got = np.concatenate([s.push(x[i : i + 333]) for i in range(0, len(x), 333)] + [s.flush()])
    np.testing.assert_array_equal(got, want)


def test_batch_equals_single_calls(ext):
    xs = [voiced(0.5 + 0.3 * i, seed=i) for i in range(5)] + [np.zeros(100, np.float32)]
    cfg = DescriptorConfig()
    got = descriptors.compute_batch(xs, cfg, num_threads=3)
    for x, g in zip(xs, got):
        np.testing.assert_array_equal(g, descriptors.compute(x, cfg))
    assert got[-1].shape == (0, len(DESCRIPTOR_NAMES))


def test_short_and_bad_input():
    cfg = DescriptorConfig()
    assert descriptors.compute(np.zeros(cfg.analysis_length - 1, np.float32)).shape[0] == 0
    assert descriptors.compute(np.zeros(cfg.analysis_length, np.float32)).shape[0] == 1
    with pytest.raises(ValueError, match="NaN"):
        descriptors.compute(np.array([0.0, np.nan] * 500, np.float32))
    with pytest.raises(ValueError, match="empty"):
        descriptors.compute(np.zeros(0, np.float32))
    with pytest.raises(TypeError, match="DescriptorConfig"):
        descriptors.compute(np.zeros(1000, np.float32), cfg=dataclasses.asdict(cfg))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown descriptor backend"):
        descriptors.compute(np.zeros(1000, np.float32), backend="fortran")


def test_voiced_signal_is_voiced_and_silence_is_not(ext):
    x = voiced(1.5, f0=150.0, seed=9)
    d = descriptors.compute(x)
    loud = d[:, COLUMN["energy_db"]] > d[:, COLUMN["energy_db"]].max() - 20
    f0 = d[loud, COLUMN["f0_hz"]]
    assert (f0 > 0).mean() > 0.9
    assert 110 < np.median(f0[f0 > 0]) < 200
    quiet = descriptors.compute(np.zeros(8000, np.float32))
    assert (quiet[:, COLUMN["f0_hz"]] == 0).all() and np.isfinite(quiet).all()


_HOSTILE = [0.0, -1.0, 1e-300, 1e-9, 0.5, 3.0, 55.0, 999.0, 1e6, 1e308, float("inf"), float("nan")]


@pytest.mark.parametrize("seed", range(40))
def test_raw_options_with_hostile_values_raise_or_compute(ext, seed):
    """Any value in any field of the raw extension's DescriptorOptions: a ValueError naming the
    field, or finite descriptors (never a crash, a hang or NaN)."""
    rng = np.random.default_rng(seed)
    opts = ext.DescriptorOptions()
    fields = DescriptorConfig().to_dict()
    for name in rng.choice(sorted(fields), size=int(rng.integers(1, 4)), replace=False):
        if name in ("sample_rate", "lpc_order"):
            value = int(rng.choice([0, -5, 1, 3, 8000, 44100, 384000, 10**6, 2**31 - 1]))
        else:
            value = float(rng.choice(_HOSTILE))
        setattr(opts, str(name), value)
    try:
        opts.validate()
    except ValueError as exc:
        assert "DescriptorOptions." in str(exc)
        with pytest.raises(ValueError):
            ext.DescriptorComputer(opts)
        return
    if opts.analysis_length > 20000 or opts.lpc_order > 40:
        return  # valid but slow to exercise here
    comp = ext.DescriptorComputer(opts)
    x = voiced(0.3, seed=seed)
    out = comp.compute(x)
    assert out.shape == (opts.num_frames(len(x)), len(DESCRIPTOR_NAMES)) and np.isfinite(out).all()
