"""Pitch and voice quality of one pitch window in plain NumPy: the slow, obviously-correct
specification of csrc/pitch.cc (F0 and voicing from the cumulative mean normalised difference,
HNR, local jitter and shimmer, octave-jump smoothing), written straight from the section "Pitch
and voice quality" of docs/voice-descriptors.md; the C++ code must agree with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .descriptor_config import DescriptorConfig

# d(t) at or below this share of e0 + e_t counts as 0 (the C++ FFT knows d only to round-off).
DIFFERENCE_FLOOR = 1e-11


def remove_dc(window: np.ndarray) -> np.ndarray:
    """The window minus its mean. The mean is pinned to the last bit, as the C++ code sums it:
    four partial sums of x[q::4], each left to right (cumsum), then ((s0 + s1) + (s2 + s3)) / n;
    so both subtract the same mean, and a constant window becomes exactly zero in both or in
    neither."""
    x = np.asarray(window, dtype=np.float64)
    s = [np.cumsum(x[q::4])[-1] if x[q::4].size else 0.0 for q in range(4)]
    return x - ((s[0] + s[1]) + (s[2] + s[3])) / x.size


def difference_function(x: np.ndarray, tau_max: int) -> np.ndarray:
    """d(t) = sum_{j<W} (x[j] - x[j+t])^2 for t = 0..tau_max, W = len(x) - tau_max, floored."""
    w = x.size - tau_max
    e0 = np.sum(x[:w] ** 2)
    d = np.zeros(tau_max + 1)
    for t in range(1, tau_max + 1):
        dt = np.sum((x[:w] - x[t : t + w]) ** 2)
        d[t] = dt if dt > DIFFERENCE_FLOOR * (e0 + np.sum(x[t : t + w] ** 2)) else 0.0
    return d


def cmnd(d: np.ndarray) -> np.ndarray:
    """c(t) = d(t) t / sum_{k=1..t} d(k) (1 where the sum is 0); c[0] is unused (1)."""
    c = np.ones_like(d)
    cum = np.cumsum(d[1:])
    for t in range(1, d.size):
        if cum[t - 1] > 0:
            c[t] = d[t] * t / cum[t - 1]
    return c


def pulse_measures(x: np.ndarray, period: float) -> tuple[float, float]:
    """(jitter_local, shimmer_local_db) from the peaks picked one period apart."""
    n = x.size
    pulses = [int(np.argmax(x[: math.ceil(period)]))]
    while True:
        lo = pulses[-1] + round(0.8 * period)
        hi = pulses[-1] + round(1.2 * period)
        if hi > n - 1:
            break
        pulses.append(lo + int(np.argmax(x[lo : hi + 1])))
    periods = np.diff(pulses)
    jitter = 0.0
    if periods.size >= 2:
        jitter = float(np.mean(np.abs(np.diff(periods))) / np.mean(periods))
    db = [
        abs(20.0 * math.log10(x[b] / x[a]))
        for a, b in zip(pulses[:-1], pulses[1:])
        if x[a] > 0 and x[b] > 0
    ]
    shimmer = float(np.mean(db)) if db else 0.0
    return jitter, shimmer


def analyze(window: np.ndarray, cfg: DescriptorConfig) -> np.ndarray:
    """Raw (f0_hz, voicing, hnr_db, jitter_local, shimmer_local_db) of one pitch window of
    cfg.pitch_length samples; f0 before the octave-jump smoothing, 0 when unvoiced."""
    x = remove_dc(window)
    if x.size != cfg.pitch_length:
        raise ValueError(f"pitch window has {x.size} samples, expected {cfg.pitch_length}")
    tau_min, tau_max = cfg.tau_min, cfg.tau_max
    w = x.size - tau_max
    c = cmnd(difference_function(x, tau_max))
    silent = 10.0 * math.log10(np.mean(x**2) + 1e-20) < cfg.silence_dbfs

    below = [t for t in range(tau_min, tau_max + 1) if c[t] < cfg.voicing_threshold]
    dip = bool(below)
    if dip:
        t = below[0]
        while t + 1 <= tau_max and c[t + 1] < c[t]:
            t += 1
    else:
        t = tau_min + int(np.argmin(c[tau_min : tau_max + 1]))
    t_hat = float(t)
    if tau_min < t < tau_max:
        a, b, cc = c[t - 1], c[t], c[t + 1]
        den = a - 2.0 * b + cc
        if den > 0:
            t_hat = min(max(t + 0.5 * (a - cc) / den, t - 0.5), t + 0.5)

    voicing = min(max(1.0 - c[t], 0.0), 1.0)
    e0, et = np.sum(x[:w] ** 2), np.sum(x[t : t + w] ** 2)
    r = np.sum(x[:w] * x[t : t + w]) / math.sqrt(e0 * et) if e0 * et > 0 else 0.0
    r = min(max(r, 0.01), 0.9999)
    hnr_db = 10.0 * math.log10(r / (1.0 - r))
    f0 = jitter = shimmer = 0.0
    if dip and not silent:
        f0 = cfg.sample_rate / t_hat
        jitter, shimmer = pulse_measures(x, t_hat)
    return np.array([f0, voicing, hnr_db, jitter, shimmer])


def smooth_f0(raw: Sequence[float]) -> float:
    """Octave-jump smoothing of raw[2] given the raw F0 of frames i-2..i+2 (0 = unvoiced,
    negative = no such frame): 0 for an isolated voiced frame, else halved or doubled when it
    is an octave off the median of the voiced values around it."""
    if len(raw) != 5:
        raise ValueError("smooth_f0 takes the raw F0 of 5 frames")
    f0 = float(raw[2])
    if not f0 > 0:
        return 0.0
    if not (raw[1] > 0 or raw[3] > 0):
        return 0.0
    m = float(np.median([v for v in raw if v > 0]))
    if f0 > 1.8 * m:
        return f0 / 2.0
    if f0 < 0.55 * m:
        return 2.0 * f0
    return f0
