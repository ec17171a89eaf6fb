"""The raw extension module `edgeser._frontend` must refuse bad values with a ValueError that
names the field, never crash or hang (issue 14), for any value of any field.

`edgeser.frontend` validates through `FrontendConfig` first, but `edgeser._frontend` is
importable and its `FrontendOptions` is filled field by field. The exact crashes from the issue
run in a subprocess first (a regression must fail the test, not kill pytest), then a hypothesis
fuzz drives every entry point with arbitrary field values.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeser.frontend import FrontendConfig


def run_isolated(code: str) -> subprocess.CompletedProcess:
    """Runs `code` in a fresh interpreter: a crash shows as a signal, a hang as a timeout."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


# ---- the exact cases of issue 14 -----------------------------------------------------------------
ISSUE_CASES = {
    # SIGFPE: division by a zero shift in num_frames.
    "zero-shift-num-frames": (
        "o.frame_shift_ms = 0.01\no.num_frames(1000)",
        "frame_shift_ms",
    ),
    # An endless loop: the next power of two of a 2**31-sample frame overflowed.
    "huge-frame-fft-size": (
        "o.frame_length_ms = 134217727.9\no.fft_size",
        "frame_length_ms",
    ),
    "huge-frame-n-bins": ("o.frame_length_ms = 1e308\no.n_bins", "frame_length_ms"),
    "huge-shift-num-frames": ("o.frame_shift_ms = 1e308\no.num_frames(5)", "frame_shift_ms"),
    "nan-shift-frame-shift": ("o.frame_shift_ms = float('nan')\no.frame_shift", "frame_shift_ms"),
    "bad-n-mels-feature-dim": ("o.n_mels = -7\no.feature_dim('log_mel')", "n_mels"),
}


@pytest.mark.parametrize("case", list(ISSUE_CASES), ids=list(ISSUE_CASES))
def test_issue_14_cases_raise_value_error_in_a_fresh_process(ext, case):
    body, field = ISSUE_CASES[case]
    code = (
        "from edgeser import _frontend\n"
        "o = _frontend.FrontendOptions()\n"
        "try:\n" + "".join(f"    {line}\n" for line in body.splitlines()) + ""
        "except ValueError as e:\n"
        "    print('ValueError:', e)\n"
        "else:\n"
        "    print('no error')\n"
    )
    proc = run_isolated(code)
    assert proc.returncode == 0, f"crashed (rc {proc.returncode}): {proc.stderr[-2000:]}"
    assert proc.stdout.startswith("ValueError:") and field in proc.stdout, proc.stdout


def test_issue_14_cases_in_process(ext):
    o = ext.FrontendOptions()
    o.frame_shift_ms = 0.01
    with pytest.raises(ValueError, match="frame_shift_ms"):
        o.num_frames(1000)
    o = ext.FrontendOptions()
    o.frame_length_ms = 134217727.9
    with pytest.raises(ValueError, match="frame_length_ms"):
        _ = o.fft_size
    with pytest.raises(ValueError, match="frame_length_ms"):
        ext.FeatureComputer(o, "mfcc")


@pytest.mark.parametrize(
    "field,value",
    [
        ("frame_shift_ms", 1e308),
        ("frame_length_ms", 1e308),
        ("frame_shift_ms", 1e12),
        ("frame_length_ms", 5000.0),
    ],
)
def test_frontend_config_names_the_field_of_absurd_sizes(field, value):
    """Issue 14: FrontendConfig(frame_shift_ms=1e308) raised an OverflowError naming nothing."""
    with pytest.raises(ValueError, match=f"FrontendConfig.{field}="):
        FrontendConfig(**{field: value})


def test_valid_sizes_still_work(ext):
    cfg = FrontendConfig(frame_shift_ms=1e7)  # 1.6e8 samples: absurd but well defined
    assert cfg.frame_shift == 160_000_000
    o = ext.FrontendOptions()
    o.frame_shift_ms = 1e7
    assert o.frame_shift == cfg.frame_shift and o.num_frames(10**9) == cfg.num_frames(10**9)


# ---- fuzz: any value in any field, through every entry point -------------------------------------
FLOAT_VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [0.0, -0.0, 0.01, 0.5, 1.0, 2.0, 10.0, 25.0, 0.97, 22.0, 1e9, 134217727.9, 1e308, 5e-324]
    ),
)
INT_VALUES = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.sampled_from([0, 1, 2, 13, 40, 400, 512, 8000, 16000, 131072, 131073, 384000, 384001]),
)
ENUM_VALUES = {
    "window": ["hamming", "hann", "povey", "rectangular"],
    "mel_scale": ["htk", "slaney"],
    "mel_norm": ["none", "slaney"],
    "triangle_domain": ["hz", "mel"],
    "log_type": ["natural", "db"],
    "cmvn": ["none", "mean", "meanvar"],
}
DEFAULTS = {f.name: f.default for f in dataclasses.fields(FrontendConfig)}


def _strategy(name: str):
    default = DEFAULTS[name]
    if name in ENUM_VALUES:
        return st.sampled_from(ENUM_VALUES[name])
    if isinstance(default, bool):
        return st.booleans()
    if isinstance(default, int):
        return INT_VALUES
    return FLOAT_VALUES


@st.composite
def field_values(draw):
    """The defaults with one to four fields replaced by arbitrary values."""
    names = draw(st.lists(st.sampled_from(sorted(DEFAULTS)), min_size=1, max_size=4, unique=True))
    values = dict(DEFAULTS)
    for name in names:
        values[name] = draw(_strategy(name))
    return values


def _answers(fn):
    """fn() or None where it raised ValueError; any other exception fails the test."""
    try:
        return fn()
    except ValueError as exc:
        assert str(exc), "a ValueError must say what is wrong"
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(values=field_values())
def test_fuzz_every_entry_point_validates(ext, values):
    o = ext.FrontendOptions()
    for name, value in values.items():
        setattr(o, name, value)
    try:
        o.validate()
        valid = True
    except ValueError as exc:
        valid = False
        assert str(exc).startswith("FrontendOptions.")
    derived = {
        "frame_length": lambda: o.frame_length,
        "frame_shift": lambda: o.frame_shift,
        "fft_size": lambda: o.fft_size,
        "n_bins": lambda: o.n_bins,
        "fmax_hz": lambda: o.fmax_hz,
        "num_frames": lambda: o.num_frames(48000),
        "feature_dim": lambda: o.feature_dim("mfcc"),
        "window": lambda: ext.window(o),
        "dct_matrix": lambda: ext.dct_matrix(o),
        "lifter_coeffs": lambda: ext.lifter_coeffs(o),
        "mel_filter_ranges": lambda: ext.mel_filter_ranges(o),
    }
    got = {name: _answers(fn) for name, fn in derived.items()}
    answered = [name for name, v in got.items() if v is not None]
    assert answered == (list(derived) if valid else []), (valid, answered)

    # Python and C++ accept the same configs, with the same derived sizes.
    try:
        cfg = FrontendConfig(**values)
    except ValueError:
        cfg = None
    assert (cfg is not None) == valid, values
    if cfg is None:
        for kind in ("spectrogram", "log_mel", "mfcc"):
            with pytest.raises(ValueError):
                ext.FeatureComputer(o, kind)
        return
    assert (got["frame_length"], got["frame_shift"], got["fft_size"]) == (
        cfg.frame_length,
        cfg.frame_shift,
        cfg.fft_size,
    )
    assert got["num_frames"] == cfg.num_frames(48000)
    if cfg.fft_size <= 8192:  # keep the fuzz light: big FFTs allocate tens of MB
        comp = ext.FeatureComputer(o, "mfcc")
        x = np.linspace(-0.5, 0.5, 3000, dtype=np.float32)
        out = comp.compute(x)
        assert out.shape == (cfg.num_frames(3000), cfg.feature_dim("mfcc"))
        assert np.isfinite(out).all()
        if cfg.streamable:
            s = ext.FrameStream(comp)
            rows = np.concatenate([s.push(x[:1234]), s.push(x[1234:]), s.flush()])
            assert np.array_equal(rows, out)


def test_fuzz_ints_that_do_not_fit_are_type_errors(ext):
    o = ext.FrontendOptions()
    for name in ("sample_rate", "n_fft", "n_mels", "n_mfcc", "deltas", "delta_window"):
        with pytest.raises(TypeError):
            setattr(o, name, 2**70)
    assert math.isclose(o.frame_length_ms, 25.0)  # nothing was changed


def test_other_entry_points_validate(ext):
    comp = ext.FeatureComputer(ext.FrontendOptions(), "mfcc")
    with pytest.raises(ValueError, match="num_threads"):
        comp.compute_batch([np.zeros(500, np.float32)], -3)
    huge = comp.compute_batch([np.zeros(500, np.float32)] * 3, 10**6)  # capped, not 10**6 threads
    assert len(huge) == 3
    assert comp.num_frames(-10) == 0
    with pytest.raises(ValueError, match="window"):
        ext.add_deltas(np.zeros((3, 2)), 1, 0)
    with pytest.raises(ValueError, match="deltas"):
        ext.add_deltas(np.zeros((3, 2)), 5, 2)
    with pytest.raises(ValueError, match="columns"):
        ext.add_deltas(np.zeros((0, 2**31 + 1)), 1, 2)
    with pytest.raises(ValueError, match="columns"):
        ext.apply_cmvn(np.zeros((0, 2**31 + 1)), "mean")
    with pytest.raises(ValueError, match="cmvn"):
        ext.apply_cmvn(np.zeros((3, 2)), "median")
    with pytest.raises(ValueError, match="n must be"):
        ext.rfft(np.zeros(4), 0)
    with pytest.raises(ValueError, match="scale"):
        ext.hz_to_mel(100.0, "bark")
    assert math.isnan(ext.hz_to_mel(float("nan"), "htk"))
