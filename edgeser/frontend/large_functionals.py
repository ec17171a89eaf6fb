"""The larger functional sets ``edgeser-large-v1`` and ``-v2``: ComParE-like statistics of the
spectral envelope and of the voice descriptors, from edgeser's own front end (no openSMILE).

``edgeser-gemaps-v1`` (76 values) keeps a few means and spreads per descriptor. This set keeps
the shape of each contour: 14 functionals of 126 low-level contours, plus the voiced fraction
(1765 values). Like the small set it is level-independent by construction: MFCC 0 is left out,
the log-mel bands enter relative to the utterance's mean log-mel level, loudness relative to its
mean, energy relative to its maximum; every other contour is a ratio, a frequency or a shape.
The two versions differ in one thing: v1 takes the spectral deltas over all frames before the
active ones are chosen, so an active frame next to digital silence has a delta against the
power floor, which moves with the input level; v2 takes them inside each run of active frames.
Definitions: docs/voice-descriptors.md ("The larger set").
"""

from __future__ import annotations

import numpy as np

from .descriptor_config import COLUMN, DESCRIPTOR_NAMES, DescriptorConfig
from .mask_runs import mask_runs

SET_LARGE_V1 = "edgeser-large-v1"
SET_LARGE_V2 = "edgeser-large-v2"  # the same values, spectral deltas inside active runs
LARGE_SETS = (SET_LARGE_V1, SET_LARGE_V2)
ACTIVE_RANGE_DB = 60.0  # as the small set: frames this far below the loudest are silence
N_MFCC = 12  # MFCC 1-12
N_MELS = 40  # the front end's default log-mel bands
_SEMITONE_REF_HZ = 27.5
CONSTANT_SPREAD = 1e-10  # std at or below this share of a contour's largest |value|: constant
FUNCTIONALS = (
    "mean",
    "std",
    "skewness",
    "kurtosis",
    "p1",
    "p20",
    "p50",
    "p80",
    "p99",
    "range_1_99",
    "range_20_80",
    "slope",
    "rise_mean",
    "fall_mean",
)
_PERCENTILES = (1, 20, 50, 80, 99)


def _span(first: str, last: str) -> tuple[str, ...]:
    """The descriptor columns from `first` to `last`, in the descriptors' order."""
    return DESCRIPTOR_NAMES[COLUMN[first] : COLUMN[last] + 1]


# Contours over active frames (besides the spectral envelope) and over voiced frames.
ACTIVE_DESCRIPTORS = _span("alpha_ratio_db", "slope_500_1500") + _span("spectral_flux", "zcr")
VOICED_DESCRIPTORS = _span("voicing", "shimmer_local_db") + _span("f1_hz", "f3_bw_hz")


def _contour_names() -> tuple[list[str], list[str], list[str]]:
    mfcc = [f"mfcc{k}" for k in range(1, N_MFCC + 1)]
    mel = [f"log_mel_rel{b}" for b in range(N_MELS)]
    spectral = mfcc + [f"{m}_delta" for m in mfcc] + mel + [f"{m}_delta" for m in mel]
    active = ["loudness_rel", "energy_db_rel_max", *ACTIVE_DESCRIPTORS]
    voiced = ["f0_semitone", *VOICED_DESCRIPTORS]
    return spectral, active, voiced


def names_large() -> tuple[str, ...]:
    """Functional-major within each group: all contours' means, then all their stds, ..."""
    out: list[str] = []
    for group in _contour_names():
        out += [f"{c}_{f}" for f in FUNCTIONALS for c in group]
    return (*out, "voiced_fraction")


def _deltas(a: np.ndarray) -> np.ndarray:
    """Regression deltas over +-2 frames, edges repeated (the front end's delta formula)."""
    if len(a) < 2:
        return np.zeros_like(a)
    p = np.pad(a, ((2, 2), (0, 0)), mode="edge")
    return (p[3:-1] - p[1:-3] + 2.0 * (p[4:] - p[:-4])) / 10.0


def _deltas_within_runs(a: np.ndarray, active: np.ndarray) -> np.ndarray:
    """`_deltas` of each run of active frames on its own (edges of the run repeated); zeros at
    inactive frames."""
    out = np.zeros_like(a)
    for start, stop in mask_runs(active):
        out[start:stop] = _deltas(a[start:stop])
    return out


def _functionals(v: np.ndarray, step_s: float) -> np.ndarray:
    """The 14 FUNCTIONALS of every column of `v` [T, C], functional-major; zeros for T < 2.
    Percentiles are numpy's default (linear), from one sort."""
    n, n_cols = v.shape
    if n < 2:
        return np.zeros(len(FUNCTIONALS) * n_cols)
    mean = v.mean(axis=0)
    dev = v - mean
    var = np.einsum("ij,ij->j", dev, dev) / n
    std = np.sqrt(var)
    # a contour constant but for round-off has no shape: skewness and kurtosis 0, not the
    # ratio of two round-off errors (which differs between summation orders and machines)
    constant = std <= CONSTANT_SPREAD * np.abs(v).max(axis=0)
    z = np.where(constant, 0.0, dev / np.where(constant, 1.0, std))
    z2 = z * z
    skew = np.einsum("ij,ij->j", z2, z) / n
    kurt = np.einsum("ij,ij->j", z2, z2) / n
    ordered = np.sort(v, axis=0)
    pos = np.asarray(_PERCENTILES, dtype=np.float64) / 100.0 * (n - 1)
    lo = np.floor(pos).astype(np.intp)
    hi = np.minimum(lo + 1, n - 1)
    frac = (pos - lo)[:, None]
    p1, p20, p50, p80, p99 = ordered[lo] + (ordered[hi] - ordered[lo]) * frac
    tc = (np.arange(n) - (n - 1) / 2.0) * step_s
    slope = (tc @ dev) / (tc @ tc)
    d = np.diff(v, axis=0) / step_s
    rising = d > 0
    falling = d < 0
    rise = np.where(rising, d, 0.0).sum(axis=0) / np.maximum(rising.sum(axis=0), 1)
    fall = -np.where(falling, d, 0.0).sum(axis=0) / np.maximum(falling.sum(axis=0), 1)
    return np.concatenate(
        [mean, std, skew, kurt, p1, p20, p50, p80, p99, p99 - p1, p80 - p20, slope, rise, fall]
    )


def spectral_offset(cfg: DescriptorConfig, frame_length: int) -> int:
    """Frames by which the front end's MFCC / log-mel grid (frames of `frame_length` samples,
    same hop) leads the descriptors' grid: descriptor frame i is centred nearest to spectral
    frame i + offset."""
    return max(0, int(round((cfg.analysis_length - frame_length) / 2 / cfg.frame_shift)))


def functionals_large(
    lld: np.ndarray,
    mfcc: np.ndarray,
    log_mel: np.ndarray,
    cfg: DescriptorConfig,
    offset: int = 0,
    feature_set: str = SET_LARGE_V1,
) -> np.ndarray:
    """The `feature_set` vector (float32; a LARGE_SETS name) of one utterance from its descriptors
    [frames, 22] and the front end's MFCCs [frames2, >= 13] and log-mel bands [frames2, 40] on
    the same hop, the spectral grid leading by `offset` frames (`spectral_offset`). Activity
    (energy within 60 dB of the loudest frame) and voicing come from the descriptors. The NumPy
    reference of the compiled `edgeser._frontend.large_functionals`, which `functionals.extract`
    uses when the extension is there (same numbers; `tests/frontend/test_large_functionals.py`)."""
    if feature_set not in LARGE_SETS:
        raise ValueError(f"feature_set must be one of {LARGE_SETS}, got {feature_set!r}")
    lld = np.asarray(lld, dtype=np.float64)
    mfcc = np.asarray(mfcc, dtype=np.float64)
    log_mel = np.asarray(log_mel, dtype=np.float64)
    if log_mel.ndim != 2 or log_mel.shape[1] != N_MELS or mfcc.ndim != 2 or mfcc.shape[1] <= N_MFCC:
        raise ValueError(
            f"{feature_set} needs {N_MELS} log-mel bands and at least {N_MFCC + 1} MFCCs, "
            f"got {log_mel.shape} and {mfcc.shape}"
        )
    step = cfg.frame_shift / cfg.sample_rate
    n = max(0, min(len(lld), len(mfcc) - offset, len(log_mel) - offset))
    lld = lld[:n]
    mfcc = mfcc[offset : offset + n, 1 : N_MFCC + 1]
    log_mel = log_mel[offset : offset + n]
    energy = lld[:, COLUMN["energy_db"]]
    active = energy >= energy.max() - ACTIVE_RANGE_DB if n else np.zeros(0, dtype=bool)
    voiced = lld[:, COLUMN["f0_hz"]] > 0
    # the spectral envelope: log-mel relative to its mean level over active frames
    mel_rel = log_mel - (log_mel[active].mean() if active.any() else 0.0)
    if feature_set == SET_LARGE_V1:
        deltas = [_deltas(mfcc), _deltas(mel_rel)]
    else:
        deltas = [_deltas_within_runs(mfcc, active), _deltas_within_runs(mel_rel, active)]
    spectral = np.column_stack([mfcc, deltas[0], mel_rel, deltas[1]])[active]
    loud = lld[:, COLUMN["loudness"]]
    mean_loud = float(loud[active].mean()) if active.any() else 0.0
    rel_loud = loud / mean_loud if mean_loud > 0 else np.zeros(n)
    level = np.column_stack(
        [
            rel_loud,
            energy - (energy.max() if n else 0.0),
            lld[:, [COLUMN[c] for c in ACTIVE_DESCRIPTORS]],
        ]
    )[active]
    f0 = lld[:, COLUMN["f0_hz"]]
    semitones = 12.0 * np.log2(np.maximum(f0, 1e-9) / _SEMITONE_REF_HZ)
    voice = np.column_stack([semitones, lld[:, [COLUMN[c] for c in VOICED_DESCRIPTORS]]])[voiced]
    vec = np.concatenate(
        [
            _functionals(spectral, step),
            _functionals(level, step),
            _functionals(voice, step),
            [voiced.sum() / max(int(active.sum()), 1)],
        ]
    )
    vec[~np.isfinite(vec)] = 0.0
    return vec.astype(np.float32)
