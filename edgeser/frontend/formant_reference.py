"""NumPy reference of the formants F1-F3 and their bandwidths: the slow, obviously-correct
specification of `csrc/formants.cc` (DC removal, pre-emphasis, Hamming window, autocorrelation,
Levinson-Durbin, the roots of the prediction polynomial by `np.roots`, the candidate filter).
Definitions: docs/voice-descriptors.md, section "Formants". Float64 throughout.
"""

from __future__ import annotations

import numpy as np

from .descriptor_config import DescriptorConfig

PREEMPHASIS = 0.97
WHITE_NOISE_CORRECTION = 1e-9  # R_0 *= 1 + this: keeps the recursion away from singular R
SILENCE_R0 = 1e-12  # R_0 at or below this gives all zeros
MIN_FORMANT_HZ = 90.0


def hamming(n: int) -> np.ndarray:
    """The symmetric Hamming window 0.54 - 0.46 cos(2 pi j / (n - 1))."""
    return 0.54 - 0.46 * np.cos(2.0 * np.pi * np.arange(n) / (n - 1))


def prepare(window: np.ndarray) -> np.ndarray:
    """DC removed, pre-emphasised (y[0] = x[0], y[j] = x[j] - 0.97 x[j-1]), Hamming-windowed."""
    x = np.asarray(window, dtype=np.float64)
    x = x - x.mean()
    y = x.copy()
    y[1:] = x[1:] - PREEMPHASIS * x[:-1]
    return y * hamming(len(y))


def autocorrelation(u: np.ndarray, max_lag: int) -> np.ndarray:
    """r[k] = sum_j u[j] u[j + k], k = 0..max_lag."""
    n = len(u)
    return np.array([np.dot(u[: n - k], u[k:]) if k < n else 0.0 for k in range(max_lag + 1)])


def levinson(r: np.ndarray, order: int) -> np.ndarray | None:
    """a_1..a_p of A(z) = 1 + a_1 z^-1 + ... from r[0..p]; None when the prediction error
    becomes <= 0 (or not finite) at some order."""
    err = float(r[0])
    if not (err > 0.0 and np.isfinite(err)):
        return None
    a = np.zeros(order)
    for i in range(order):
        acc = r[i + 1]
        for j in range(i):
            acc += a[j] * r[i - j]
        k = -acc / err
        a[:i] = a[:i] + k * a[:i][::-1]
        a[i] = k
        err *= 1.0 - k * k
        if not (err > 0.0 and np.isfinite(err)):
            return None
    return a


def lpc(window: np.ndarray, order: int) -> np.ndarray:
    """a_1..a_p of one spectral window (prepared as `prepare`); all zeros (A(z) = 1, no
    formant) when R_0 <= 1e-12 or the recursion fails."""
    r = autocorrelation(prepare(window), order)
    if r[0] <= SILENCE_R0:
        return np.zeros(order)
    r[0] *= 1.0 + WHITE_NOISE_CORRECTION
    a = levinson(r, order)
    return np.zeros(order) if a is None else a


def candidates(a: np.ndarray, cfg: DescriptorConfig) -> np.ndarray:
    """(frequency, bandwidth) in Hz of the roots that qualify as formants, sorted by frequency:
    float64 [k, 2]."""
    roots = np.roots(np.concatenate(([1.0], a)))
    roots = roots[roots.imag > 0]
    freq = np.angle(roots) * cfg.sample_rate / (2.0 * np.pi)
    bw = -np.log(np.abs(roots)) * cfg.sample_rate / np.pi
    keep = (freq > MIN_FORMANT_HZ) & (freq < cfg.formant_max_hz) & (bw < cfg.formant_max_bw_hz)
    out = np.stack([freq[keep], bw[keep]], axis=1)
    return out[np.lexsort((out[:, 1], out[:, 0]))]


def analyze(window: np.ndarray, cfg: DescriptorConfig) -> np.ndarray:
    """f1_hz, f1_bw_hz, f2_hz, f2_bw_hz, f3_hz, f3_bw_hz of one spectral window (float64 [6];
    0 for a missing formant, all 0 for silence or a failed recursion)."""
    out = np.zeros(6)
    a = lpc(window, cfg.lpc_order)
    if not a.any():
        return out
    found = candidates(a, cfg)[:3]
    out[: 2 * len(found)] = found.reshape(-1)
    return out
