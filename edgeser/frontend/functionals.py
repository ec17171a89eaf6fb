"""Functionals over an utterance's voice descriptors: the named, versioned feature sets
``edgeser-gemaps-v1`` (an eGeMAPS-like set from edgeser's own front end, no openSMILE) and
``edgeser-large-v1`` / ``-v2`` (ComParE-like, `large_functionals`).

The set is level-independent by construction: loudness enters only relative to the utterance's
mean loudness, energy only as spreads in dB, and every other descriptor is a ratio, a
frequency or a spectral shape. `FEATURE_SETS` maps a set name to its functional names; the
bundle stores the name and the descriptor config, so a model is never fed another set.
Definitions of the functionals: docs/voice-descriptors.md ("Functionals").
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from . import descriptors as _descriptors
from . import features as _frontend_features
from .config import FrontendConfig
from .descriptor_config import COLUMN, DescriptorConfig
from .large_functionals import (
    LARGE_SETS,
    SET_LARGE_V1,
    SET_LARGE_V2,
    functionals_large,
    names_large,
    spectral_offset,
)
from .mask_runs import mask_runs

SET_V1 = "edgeser-gemaps-v1"
ACTIVE_RANGE_DB = 60.0  # frames more than this below the loudest frame count as silence
_SEMITONE_REF_HZ = 27.5
N_MFCC_USED = 4  # MFCC 1-4, as eGeMAPS

_CONTOUR = ("p20", "p50", "p80", "range_20_80", "rise_mean", "rise_std", "fall_mean", "fall_std")
_BALANCE = ("alpha_ratio_db", "hammarberg_db", "slope_0_500", "slope_500_1500")
_SHAPE = ("spectral_flux", "spectral_centroid_hz", "spectral_rolloff_hz", "spectral_entropy", "zcr")
_FORMANT_COLS = ("f1_hz", "f2_hz", "f3_hz", "f1_bw_hz", "f2_bw_hz", "f3_bw_hz")


def _names_v1() -> tuple[str, ...]:
    names = [f"f0_semitone_{s}" for s in ("mean", "std", *_CONTOUR)]
    names += [f"loudness_rel_{s}" for s in ("cov", *_CONTOUR)]
    names += ["energy_db_std", "energy_db_range_20_80"]
    for d in ("jitter_local", "shimmer_local_db", "hnr_db"):
        names += [f"{d}_voiced_mean", f"{d}_voiced_std"]
    for d in _FORMANT_COLS:
        names += [f"{d}_voiced_mean", f"{d}_voiced_std"]
    for d in _BALANCE:
        names += [f"{d}_voiced_mean", f"{d}_voiced_std", f"{d}_unvoiced_mean"]
    for d in _SHAPE:
        names += [f"{d}_mean", f"{d}_std"]
    for k in range(1, N_MFCC_USED + 1):
        names += [f"mfcc{k}_mean", f"mfcc{k}_std"]
    names += [
        "voiced_fraction",
        "voiced_segments_per_s",
        "voiced_segment_s_mean",
        "voiced_segment_s_std",
        "unvoiced_segment_s_mean",
        "unvoiced_segment_s_std",
        "loudness_peaks_per_s",
    ]
    return tuple(names)


FEATURE_SETS: dict[str, tuple[str, ...]] = {
    SET_V1: _names_v1(),
    SET_LARGE_V1: names_large(),
    SET_LARGE_V2: names_large(),
}
# The MFCCs (and the large set's log-mel bands): the front end's defaults (25 ms / 10 ms
# Hamming, 40 mels, 13 MFCCs) at the descriptors' sample rate and power floor (`mfcc_config`).
MFCC_CONFIG = FrontendConfig()
# The descriptors' defaults, built once (a config validates itself on construction: 0.1 ms).
DEFAULT_DESCRIPTORS = DescriptorConfig()


def set_dim(name: str) -> int:
    try:
        return len(FEATURE_SETS[name])
    except KeyError:
        raise ValueError(
            f"unknown functional set {name!r}; choose from {sorted(FEATURE_SETS)}"
        ) from None


def _mean_std(v: np.ndarray) -> list[float]:
    return [float(v.mean()), float(v.std())] if v.size else [0.0, 0.0]


def _masked_mean_std(values: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-column mean and (population) std of `values` [T, C] over the True cells of `mask`;
    0 for a column without any."""
    count = mask.sum(axis=0)
    safe = np.maximum(count, 1)
    mean = np.where(mask, values, 0.0).sum(axis=0) / safe
    dev = np.where(mask, values - mean, 0.0)
    std = np.sqrt((dev * dev).sum(axis=0) / safe)
    return np.where(count > 0, mean, 0.0), np.where(count > 0, std, 0.0)


def _interleave(*columns: np.ndarray) -> list[float]:
    """[a0, b0, a1, b1, ...] of equally long vectors a, b, ..."""
    return np.column_stack(columns).ravel().tolist()


def _percentiles(values: np.ndarray, qs: Sequence[float]) -> list[float]:
    """np.percentile's default (linear) percentiles, from one sort (np.percentile is slow on
    short vectors)."""
    v = np.sort(values)
    pos = np.asarray(qs, dtype=np.float64) / 100.0 * (len(v) - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, len(v) - 1)
    return (v[lo] + (v[hi] - v[lo]) * (pos - lo)).tolist()


def _contour(values: np.ndarray, runs: Sequence[tuple[int, int]], step_s: float) -> list[float]:
    """Percentiles 20/50/80, their range, and the mean / std of the rising and falling slopes
    (per second) between consecutive frames inside each run."""
    if values.size == 0:
        return [0.0] * len(_CONTOUR)
    p20, p50, p80 = _percentiles(values, (20, 50, 80))
    inside = np.ones(max(len(values) - 1, 0), dtype=bool)  # steps that stay inside a run
    covered = np.zeros(len(values), dtype=bool)
    for a, b in runs:
        covered[a:b] = True
        if a > 0:
            inside[a - 1] = False
    inside &= covered[1:] & covered[:-1]
    d = np.diff(values)[inside] / step_s
    rise, fall = d[d > 0], -d[d < 0]
    return [p20, p50, p80, p80 - p20] + _mean_std(rise) + _mean_std(fall)


def functionals_v1(lld: np.ndarray, mfcc: np.ndarray, cfg: DescriptorConfig) -> np.ndarray:
    """The ``edgeser-gemaps-v1`` vector (float32) of one utterance from its descriptors
    [frames, 22] and its front-end MFCCs [frames2, >= 5]: the NumPy reference of the compiled
    `edgeser._frontend.gemaps_v1`, which `compute` and `extract` use when the extension is
    there (same numbers; `tests/frontend/test_functionals.py`)."""
    lld = np.asarray(lld, dtype=np.float64)
    out: list[float] = []
    step = cfg.frame_shift / cfg.sample_rate
    n = len(lld)
    duration = max(n, 1) * step
    energy = lld[:, COLUMN["energy_db"]] if n else np.zeros(0)
    active = energy >= (energy.max() - ACTIVE_RANGE_DB) if n else np.zeros(0, dtype=bool)
    f0 = lld[:, COLUMN["f0_hz"]] if n else np.zeros(0)
    voiced = f0 > 0
    unvoiced = active & ~voiced

    # F0 in semitones over voiced frames; slopes inside voiced runs
    runs = mask_runs(voiced)
    st = np.zeros(n)
    st[voiced] = 12.0 * np.log2(f0[voiced] / _SEMITONE_REF_HZ)
    out += _mean_std(st[voiced])
    vals, local_runs, pos = [], [], 0
    for a, b in runs:
        vals.append(st[a:b])
        local_runs.append((pos, pos + b - a))
        pos += b - a
    out += _contour(np.concatenate(vals) if vals else np.zeros(0), local_runs, step)

    # loudness relative to the utterance mean, over active frames
    loud = lld[:, COLUMN["loudness"]] if n else np.zeros(0)
    mean_loud = float(loud[active].mean()) if active.any() else 0.0
    rel = loud / mean_loud if mean_loud > 0 else np.zeros(n)
    out += [float(rel[active].std()) if active.any() else 0.0]
    out += _contour(rel[active], mask_runs(active[active]) if active.any() else [], step)

    e = energy[active]
    out += [float(e.std()) if e.size else 0.0]
    if e.size:
        e20, e80 = _percentiles(e, (20, 80))
        out += [e80 - e20]
    else:
        out += [0.0]

    # per-column statistics in a few vectorised calls (dozens of tiny np.std calls cost ~1 ms)
    def cols(names: Sequence[str]) -> np.ndarray:
        return lld[:, [COLUMN[c] for c in names]] if n else np.zeros((0, len(names)))

    quality = cols(("jitter_local", "shimmer_local_db", "hnr_db"))
    out += _interleave(*_masked_mean_std(quality, np.broadcast_to(voiced[:, None], quality.shape)))
    formants = cols(_FORMANT_COLS)
    out += _interleave(*_masked_mean_std(formants, voiced[:, None] & (formants > 0)))
    balance = cols(_BALANCE)
    v_mean, v_std = _masked_mean_std(balance, np.broadcast_to(voiced[:, None], balance.shape))
    u_mean, _ = _masked_mean_std(balance, np.broadcast_to(unvoiced[:, None], balance.shape))
    out += _interleave(v_mean, v_std, u_mean)
    shape = cols(_SHAPE)
    out += _interleave(*_masked_mean_std(shape, np.broadcast_to(active[:, None], shape.shape)))
    mfcc = np.asarray(mfcc, dtype=np.float64)[:, 1 : N_MFCC_USED + 1]
    if len(mfcc):
        out += _interleave(mfcc.mean(axis=0), mfcc.std(axis=0))
    else:
        out += [0.0] * (2 * N_MFCC_USED)

    unvoiced_runs = mask_runs(active & ~voiced)
    out += [float(voiced.sum() / max(int(active.sum()), 1))]
    out += [len(runs) / duration]
    out += _mean_std(np.array([(b - a) * step for a, b in runs]))
    out += _mean_std(np.array([(b - a) * step for a, b in unvoiced_runs]))
    if n >= 3 and mean_loud > 0:
        smooth = np.convolve(rel, np.ones(3) / 3.0, mode="same")
        peaks = (smooth[1:-1] > smooth[:-2]) & (smooth[1:-1] >= smooth[2:]) & (smooth[1:-1] > 1.0)
        out += [float(peaks.sum()) / duration]
    else:
        out += [0.0]
    vec = np.asarray(out, dtype=np.float64)
    vec[~np.isfinite(vec)] = 0.0
    return vec.astype(np.float32)


def compute(
    lld: np.ndarray, mfcc: np.ndarray, cfg: DescriptorConfig, *, backend: str | None = None
) -> np.ndarray:
    """`functionals_v1` of descriptors and MFCCs, compiled (backend ``cpp``, the default when
    the extension imports) or the NumPy reference (``numba`` and ``numpy``: the functionals
    have no Numba kernels, NumPy is fast enough where the descriptors are not compiled)."""
    if _descriptors.backend(backend) != "cpp":
        return functionals_v1(lld, mfcc, cfg)
    return _descriptors._cpp().gemaps_v1(
        np.ascontiguousarray(lld, dtype=np.float32),
        np.ascontiguousarray(mfcc, dtype=np.float32),
        cfg.frame_shift / cfg.sample_rate,
    )


@functools.lru_cache(maxsize=16)
def mfcc_config(cfg: DescriptorConfig) -> FrontendConfig:
    """The front-end config of the functionals' MFCCs and log-mel bands for descriptors `cfg`
    (cached: a config validates itself on construction)."""
    if (MFCC_CONFIG.sample_rate, MFCC_CONFIG.log_floor) == (cfg.sample_rate, cfg.power_floor):
        return MFCC_CONFIG
    return MFCC_CONFIG.replace(sample_rate=cfg.sample_rate, log_floor=cfg.power_floor)


def extract(
    x,
    feature_set: str = SET_V1,
    cfg: DescriptorConfig | None = None,
    *,
    backend: str | None = None,
) -> np.ndarray:
    """The functional vector of one utterance (float32 [set_dim(feature_set)]) at the config's
    sample rate; the functionals compiled for backend ``cpp``, else their NumPy references."""
    set_dim(feature_set)
    cfg = cfg or DEFAULT_DESCRIPTORS
    mfcc_cfg = mfcc_config(cfg)
    lld = _descriptors.compute(x, cfg, backend=backend)
    front_backend = None if backend in (None, "cpp") else "numpy"
    enough = len(x) >= mfcc_cfg.frame_length

    def spectral(kind: str) -> np.ndarray:
        if not enough:
            return np.zeros((0, mfcc_cfg.static_dim(kind)), np.float32)
        return _frontend_features(x, mfcc_cfg, kind, backend=front_backend)

    mfcc = spectral("mfcc")
    if feature_set not in LARGE_SETS:
        return compute(lld, mfcc, cfg, backend=backend)
    offset = spectral_offset(cfg, mfcc_cfg.frame_length)
    log_mel = spectral("log_mel")
    # as `compute`: compiled (edgeser._frontend.large_functionals) for backend cpp, else the
    # reference
    if _descriptors.backend(backend) != "cpp":
        return functionals_large(lld, mfcc, log_mel, cfg, offset, feature_set)
    return _descriptors._cpp().large_functionals(
        np.ascontiguousarray(lld, dtype=np.float32),
        np.ascontiguousarray(mfcc, dtype=np.float32),
        np.ascontiguousarray(log_mel, dtype=np.float32),
        offset,
        cfg.frame_shift / cfg.sample_rate,
        LARGE_SETS.index(feature_set) + 1,
    )
