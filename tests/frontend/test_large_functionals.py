"""The edgeser-large-v1 functional set: shape, names, level independence, edge cases, and the
functionals against direct computations on hand-made contours."""

from __future__ import annotations

import numpy as np
import pytest

from edgeser.frontend import functionals
from edgeser.frontend.descriptor_config import COLUMN, DescriptorConfig
from edgeser.frontend.large_functionals import (
    FUNCTIONALS,
    LARGE_SETS,
    SET_LARGE_V1,
    SET_LARGE_V2,
    functionals_large,
    spectral_offset,
)

from .test_descriptors import voiced

NAMES = functionals.FEATURE_SETS[SET_LARGE_V1]


def idx(name: str) -> int:
    return NAMES.index(name)


def test_names_are_unique_and_match_the_vector():
    assert len(set(NAMES)) == len(NAMES) == functionals.set_dim(SET_LARGE_V1) == 1765
    v = functionals.extract(voiced(1.0), SET_LARGE_V1)
    assert v.shape == (len(NAMES),) and v.dtype == np.float32 and np.isfinite(v).all()


def test_numpy_and_compiled_descriptors_give_the_same_vector():
    pytest.importorskip("edgeser._frontend")
    x = voiced(1.5, seed=4)
    a = functionals.extract(x, SET_LARGE_V1, backend="cpp")
    b = functionals.extract(x, SET_LARGE_V1, backend="numpy")
    scale = np.maximum(np.abs(a), 1.0)
    assert (np.abs(a - b) / scale).max() < 1e-3


def test_the_set_is_level_independent():
    """A gain moves no value by more than 0.1% (measured 1e-5). With the spectrum floor
    bundles had before format 10 (1e-12), the 0-500 Hz slope of the quietest frames moved by
    5.4% at -30 dB."""
    x = voiced(2.5, seed=2)
    a = functionals.extract(x, SET_LARGE_V1)
    for gain_db in (-30.0, -12.0, 6.0):
        b = functionals.extract(x * np.float32(10 ** (gain_db / 20)), SET_LARGE_V1)
        scale = np.maximum(np.abs(a), 0.1)
        rel = np.abs(a - b) / scale
        worst = np.argsort(rel)[::-1][:3]
        assert rel.max() < 1e-3, [(NAMES[i], a[i], b[i]) for i in worst]


def test_v2_takes_the_deltas_inside_active_runs():
    """Two active runs with a ramp in MFCC 1 and silence between them: v2's deltas are those of
    each run on its own, v1's run across the silence; every other value is the same."""
    cfg = DescriptorConfig()
    n = 30
    lld = np.zeros((n, len(COLUMN)), np.float32)
    active = np.r_[np.ones(10), np.zeros(10), np.ones(10)].astype(bool)
    lld[:, COLUMN["energy_db"]] = np.where(active, -20.0, -200.0)
    lld[:, COLUMN["loudness"]] = 1.0
    mfcc = np.zeros((n, 13), np.float32)
    mfcc[:, 1] = np.where(active, np.arange(n), -50.0)
    log_mel = np.where(active[:, None], -5.0, -46.0).astype(np.float32).repeat(40, axis=1)
    v1, v2 = (functionals_large(lld, mfcc, log_mel, cfg, 0, s) for s in LARGE_SETS)
    deltas = np.array(["_delta_" in name for name in NAMES])
    assert np.array_equal(v1[~deltas], v2[~deltas]) and not np.array_equal(v1, v2)
    # each run of the ramp: edges repeated, deltas 0.5 0.8 1 ... 1 0.8 0.5 (mean 0.86)
    assert v2[idx("mfcc1_delta_mean")] == pytest.approx((2 * (0.5 + 0.8) + 6) / 10)
    assert v2[idx("log_mel_rel0_delta_std")] == 0.0  # constant inside each run
    assert v1[idx("log_mel_rel0_delta_std")] > 1.0  # the silence's -46 shows in v1
    assert functionals.extract(voiced(1.0), SET_LARGE_V2).shape == (len(NAMES),)


def test_what_the_functionals_measure():
    v = functionals.extract(voiced(2.5, f0=150.0, seed=3), SET_LARGE_V1)
    st = 12 * np.log2(150 / 27.5)
    assert abs(v[idx("f0_semitone_p50")] - st) < 2.0  # the glide is +-15% around 150 Hz
    assert v[idx("f0_semitone_p99")] > v[idx("f0_semitone_p50")] > v[idx("f0_semitone_p1")]
    assert 0.35 < v[idx("voiced_fraction")] < 0.75  # the envelope is 0 half of the time
    higher = functionals.extract(voiced(2.5, f0=240.0, seed=3), SET_LARGE_V1)
    assert higher[idx("f0_semitone_mean")] - v[idx("f0_semitone_mean")] == pytest.approx(
        12 * np.log2(240 / 150), abs=1.0
    )


def test_noise_silence_and_short_clips_give_finite_vectors():
    rng = np.random.default_rng(1)
    for x in (np.zeros(16000, np.float32), (0.1 * rng.standard_normal(16000)).astype(np.float32)):
        v = functionals.extract(x, SET_LARGE_V1)
        assert np.isfinite(v).all()
        assert v[idx("voiced_fraction")] < 0.1
    short = functionals.extract(np.zeros(100, np.float32), SET_LARGE_V1)  # no frames at all
    assert short.shape == (len(NAMES),) and not short.any()


def _table(n: int = 40):
    """Descriptors with a linear F0 ramp on 20 voiced frames, 10 silent frames at the end, and
    spectral contours whose values are known, the spectral grid leading by 2 frames."""
    cfg = DescriptorConfig()
    lld = np.zeros((n, len(COLUMN)))
    lld[:, COLUMN["energy_db"]] = -20.0
    lld[30:, COLUMN["energy_db"]] = -100.0  # more than 60 dB below the loudest: inactive
    lld[:20, COLUMN["f0_hz"]] = 100.0 * 2 ** (np.arange(20) / 12)  # one semitone per frame
    lld[:, COLUMN["loudness"]] = 2.0
    lld[:, COLUMN["zcr"]] = np.arange(n) % 2  # alternating 0, 1
    offset = 2
    mfcc = np.zeros((n + offset, 13))
    mfcc[offset:, 1] = np.arange(n, dtype=float)  # MFCC 1 = frame index of the descriptor grid
    mfcc[:offset, 1] = 1e6  # outside the aligned frames: must not count
    log_mel = np.full((n + offset, 40), -5.0)
    log_mel[offset:, 0] = -3.0  # band 0 is 2 above the others...
    return cfg, lld, mfcc, log_mel, offset


def test_functionals_of_known_contours():
    cfg, lld, mfcc, log_mel, offset = _table()
    v = functionals_large(lld, mfcc, log_mel, cfg, offset)
    step = cfg.frame_shift / cfg.sample_rate
    active = np.arange(30)  # frames 30-39 are silence
    m1 = active.astype(float)
    assert v[idx("mfcc1_mean")] == pytest.approx(m1.mean())
    assert v[idx("mfcc1_std")] == pytest.approx(m1.std())
    assert v[idx("mfcc1_p50")] == pytest.approx(np.percentile(m1, 50))
    assert v[idx("mfcc1_range_1_99")] == pytest.approx(np.ptp(np.percentile(m1, [1, 99])))
    assert v[idx("mfcc1_slope")] == pytest.approx(1 / step)  # one unit per frame
    assert v[idx("mfcc1_rise_mean")] == pytest.approx(1 / step)
    assert v[idx("mfcc1_fall_mean")] == 0.0
    assert v[idx("mfcc1_skewness")] == pytest.approx(0.0, abs=1e-9)
    assert v[idx("mfcc1_delta_mean")] == pytest.approx(1.0, abs=0.05)  # a ramp's delta is 1
    # ... relative to the mean level: (-3 + 39 * -5) / 40 = -4.95
    assert v[idx("log_mel_rel0_mean")] == pytest.approx(-3.0 + 4.95)
    assert v[idx("log_mel_rel1_mean")] == pytest.approx(-5.0 + 4.95)
    assert v[idx("loudness_rel_mean")] == pytest.approx(1.0)
    assert v[idx("energy_db_rel_max_mean")] == pytest.approx(0.0)
    assert v[idx("zcr_mean")] == pytest.approx(0.5)
    assert v[idx("zcr_rise_mean")] == pytest.approx(1 / step)
    assert v[idx("zcr_kurtosis")] == pytest.approx(1.0)  # two equally likely values
    st = 12 * np.log2(lld[:20, COLUMN["f0_hz"]] / 27.5)
    assert v[idx("f0_semitone_mean")] == pytest.approx(st.mean(), rel=1e-6)
    assert v[idx("f0_semitone_slope")] == pytest.approx(1 / step, rel=1e-5)
    assert v[idx("f0_semitone_range_20_80")] == pytest.approx(np.ptp(np.percentile(st, [20, 80])))
    assert v[idx("voiced_fraction")] == pytest.approx(20 / 30)


def test_every_functional_of_every_contour_is_named_in_group_order():
    for f in FUNCTIONALS:
        assert f"mfcc12_delta_{f}" in NAMES and f"f3_bw_hz_{f}" in NAMES
    assert NAMES.index("mfcc1_mean") < NAMES.index("mfcc1_std") < NAMES.index("loudness_rel_mean")
    assert NAMES[-1] == "voiced_fraction"


def test_the_spectral_grid_offset():
    cfg = DescriptorConfig()  # 50 ms analysis frames, 10 ms hop; MFCC frames of 25 ms
    assert spectral_offset(cfg, 400) == 1
    assert spectral_offset(cfg, cfg.analysis_length) == 0


def test_wrong_spectral_inputs_are_refused():
    cfg, lld, mfcc, log_mel, offset = _table()
    with pytest.raises(ValueError, match="40 log-mel bands"):
        functionals_large(lld, mfcc, log_mel[:, :20], cfg, offset)
    with pytest.raises(ValueError, match="MFCCs"):
        functionals_large(lld, mfcc[:, :5], log_mel, cfg, offset)


def test_a_constant_contour_has_no_shape():
    """Skewness and kurtosis of a contour that is constant but for round-off are 0, whatever
    the summation order gives."""
    cfg, lld, mfcc, log_mel, offset = _table()
    mfcc[:, 2] = 0.1 + 1e-17 * np.random.default_rng(0).standard_normal(len(mfcc))
    v = functionals_large(lld, mfcc, log_mel, cfg, offset)
    assert v[idx("mfcc2_skewness")] == 0.0 and v[idx("mfcc2_kurtosis")] == 0.0
    assert v[idx("mfcc2_mean")] == pytest.approx(0.1)


def _assert_same(got: np.ndarray, want: np.ndarray, what: str) -> None:
    """Compiled against the reference: within 1e-6 of max(|reference|, 1)."""
    assert got.dtype == np.float32 and got.shape == want.shape == (len(NAMES),), what
    rel = np.abs(got.astype(np.float64) - want) / np.maximum(np.abs(want), 1.0)
    worst = np.argsort(rel)[::-1][:3]
    assert rel.max() <= 1e-6, (what, [(NAMES[i], got[i], want[i]) for i in worst])


def _spectral_tables(rng: np.random.Generator, frames: int, mfcc_dim: int = 13):
    mfcc = (rng.normal(size=(frames, mfcc_dim)) * 5).astype(np.float32)
    log_mel = (rng.normal(size=(frames, 40)) * 3 - 5).astype(np.float32)
    return mfcc, log_mel


def _large_cases(rng: np.random.Generator):
    """(label, descriptors, MFCCs, log-mel, offset): random tables of 0 to 200 frames with the
    spectral grid leading by 0 or 1 frame (or longer or shorter than the descriptors), and the
    edge cases: no voicing, silence, all zeros, non-finite values."""
    from .test_functionals import random_descriptors

    for n in (0, 1, 2, 3, 5, 40, 200):
        for offset in (0, 1):
            extra = int(rng.integers(-1, 3))  # the spectral tables a frame short, or longer
            mfcc, log_mel = _spectral_tables(rng, max(n + offset + extra, 0), 13 + offset * 7)
            yield f"{n} frames, offset {offset}", random_descriptors(rng, n), mfcc, log_mel, offset
    mfcc, log_mel = _spectral_tables(rng, 31)
    unvoiced = random_descriptors(rng, 30)
    unvoiced[:, COLUMN["f0_hz"]] = 0.0
    yield "unvoiced", unvoiced, mfcc, log_mel, 1
    silent = np.zeros((30, len(COLUMN)), np.float32)
    silent[:, COLUMN["energy_db"]] = -120.0  # every frame as loud as the loudest, no loudness
    yield "silent", silent, np.zeros((31, 13), np.float32), np.full((31, 40), -23.0, np.float32), 1
    yield "zeros", np.zeros((30, len(COLUMN)), np.float32), mfcc, log_mel, 1
    for column in ("energy_db", "f0_hz", "hnr_db", "loudness", "f2_hz"):
        bad = random_descriptors(rng, 30)
        bad[4, COLUMN[column]] = np.nan
        yield f"NaN {column}", bad, mfcc, log_mel, 1
    bad_mel = log_mel.copy()
    bad_mel[5, 3] = -np.inf
    yield "-inf log-mel", random_descriptors(rng, 30), mfcc, bad_mel, 1
    bad_mfcc = mfcc.copy()
    bad_mfcc[6, 2] = np.nan
    yield "NaN MFCC", random_descriptors(rng, 30), bad_mfcc, log_mel, 1


@pytest.mark.parametrize("version", [1, 2])
def test_the_compiled_large_set_is_the_reference_on_tables(ext, version):
    """edgeser._frontend.large_functionals against functionals_large on random and edge-case
    tables, both versions."""
    cfg = DescriptorConfig()
    step = cfg.frame_shift / cfg.sample_rate
    assert ext.LARGE_V1_DIM == len(NAMES)
    feature_set = LARGE_SETS[version - 1]
    for label, lld, mfcc, log_mel, offset in _large_cases(np.random.default_rng(11)):
        with np.errstate(all="ignore"):
            want = functionals_large(lld, mfcc, log_mel, cfg, offset, feature_set)
        got = ext.large_functionals(lld, mfcc, log_mel, offset, step, version)
        _assert_same(got, want, label)
        assert np.isfinite(got).all(), label


@pytest.mark.parametrize("feature_set", LARGE_SETS)
def test_the_compiled_large_set_is_the_reference_in_extract(ext, feature_set):
    """`extract` (backend cpp, compiled functionals) against the reference on the same tables."""
    from edgeser.frontend import descriptors

    cfg = DescriptorConfig()
    offset = spectral_offset(cfg, functionals.mfcc_config(cfg).frame_length)
    for seconds, f0, seed in ((0.3, 120.0, 0), (1.0, 200.0, 1), (2.5, 150.0, 2), (3.0, 300.0, 5)):
        x = voiced(seconds, f0=f0, seed=seed)
        lld = descriptors.compute(x, cfg, backend="cpp")
        mfcc = functionals._frontend_features(x, functionals.mfcc_config(cfg), "mfcc")
        log_mel = functionals._frontend_features(x, functionals.mfcc_config(cfg), "log_mel")
        want = functionals_large(lld, mfcc, log_mel, cfg, offset, feature_set)
        got = functionals.extract(x, feature_set, backend="cpp")
        _assert_same(got, want, f"{seconds} s at {f0} Hz")
        assert np.array_equal(functionals.extract(x, feature_set), got)  # cpp is the default


def test_the_compiled_large_set_refuses_bad_tables(ext):
    lld = np.zeros((10, len(COLUMN)), np.float32)
    mfcc = np.zeros((10, 13), np.float32)
    log_mel = np.zeros((10, 40), np.float32)
    with pytest.raises(ValueError, match="lld must be"):
        ext.large_functionals(np.zeros((10, 21), np.float32), mfcc, log_mel, 0, 0.01)
    with pytest.raises(ValueError, match="mfcc must be"):
        ext.large_functionals(lld, np.zeros((10, 12), np.float32), log_mel, 0, 0.01)
    with pytest.raises(ValueError, match="log_mel must be"):
        ext.large_functionals(lld, mfcc, np.zeros((10, 20), np.float32), 0, 0.01)
    with pytest.raises(ValueError, match="log_mel must be"):
        ext.large_functionals(lld, mfcc, np.zeros(10, np.float32), 0, 0.01)
    with pytest.raises(ValueError, match="offset"):
        ext.large_functionals(lld, mfcc, log_mel, -1, 0.01)
    for step in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="frame_step_s"):
            ext.large_functionals(lld, mfcc, log_mel, 0, step)
    with pytest.raises(TypeError):
        ext.large_functionals(lld, mfcc, log_mel.astype(np.float64), 0, 0.01)
    for version in (0, 3):
        with pytest.raises(ValueError, match="version"):
            ext.large_functionals(lld, mfcc, log_mel, 0, 0.01, version)
    with pytest.raises(ValueError, match="feature_set"):
        functionals_large(lld, mfcc, log_mel, DescriptorConfig(), 0, "edgeser-large-v3")
