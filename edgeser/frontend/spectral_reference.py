"""Spectral shape and energy of one spectral window, in plain float64 NumPy: the slow,
obviously-correct specification of `csrc/spectral.cc` (section "Spectral shape and energy" of
docs/voice-descriptors.md), against which the C++ analyzer is tested.
"""

from __future__ import annotations

import numpy as np

from .descriptor_config import DescriptorConfig

SPECTRAL_NAMES = (
    "loudness",
    "energy_db",
    "alpha_ratio_db",
    "hammarberg_db",
    "slope_0_500",
    "slope_500_1500",
    "spectral_flux",
    "spectral_centroid_hz",
    "spectral_rolloff_hz",
    "spectral_entropy",
    "zcr",
)

LOUDNESS_BANDS = 24
LOUDNESS_FMIN_HZ = 20.0
LOUDNESS_FMAX_HZ = 8000.0
ROLLOFF = 0.9


def dc_removed(window: np.ndarray) -> np.ndarray:
    """The window in float64 minus its mean. The sum runs left to right (np.cumsum), as in the
    C++, so both get the same bits and a sample that equals the mean counts the same in zcr."""
    x = np.asarray(window, dtype=np.float64)
    return x - np.cumsum(x)[-1] / x.size


def hamming(n: int) -> np.ndarray:
    """Symmetric Hamming window of n >= 2 samples."""
    j = np.arange(n, dtype=np.float64)
    return 0.54 - 0.46 * np.cos(2.0 * np.pi * j / (n - 1))


def bin_frequencies(cfg: DescriptorConfig) -> np.ndarray:
    """f_k = k * sample_rate / K for k = 0..K/2 (exact: K is a power of two)."""
    return np.arange(cfg.fft_size // 2 + 1) * cfg.sample_rate / cfg.fft_size


def power_spectrum(window: np.ndarray, cfg: DescriptorConfig) -> tuple[np.ndarray, np.ndarray]:
    """(P, freqs): P_k = |FFT(s w)_k|^2 / sum w^2 of the DC-removed, Hamming-windowed window."""
    s = dc_removed(window)
    w = hamming(s.size)
    spectrum = np.fft.rfft(s * w, cfg.fft_size)
    power = (spectrum.real**2 + spectrum.imag**2) / np.sum(w * w)
    return power, bin_frequencies(cfg)


def hz_to_mel(hz):
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def equal_loudness(hz):
    """Hermansky's PLP equal-loudness curve q(f), not normalised."""
    w2 = (2.0 * np.pi * np.asarray(hz, dtype=np.float64)) ** 2
    return (w2 + 56.8e6) * w2**2 / ((w2 + 6.3e6) ** 2 * (w2 + 0.38e9))


def loudness_bands(cfg: DescriptorConfig) -> tuple[np.ndarray, np.ndarray]:
    """(T [24, K/2+1], Q [24]): triangles in the mel domain between 26 HTK-mel-spaced edges from
    20 Hz to min(8000, Nyquist), and the equal-loudness weight of each centre, 1 at 1 kHz."""
    fmax = min(LOUDNESS_FMAX_HZ, cfg.sample_rate / 2.0)
    edges = np.linspace(hz_to_mel(LOUDNESS_FMIN_HZ), hz_to_mel(fmax), LOUDNESS_BANDS + 2)
    mel = hz_to_mel(bin_frequencies(cfg))
    tri = np.zeros((LOUDNESS_BANDS, mel.size))
    for b in range(LOUDNESS_BANDS):
        lo, mid, hi = edges[b], edges[b + 1], edges[b + 2]
        tri[b] = np.maximum(0.0, np.minimum((mel - lo) / (mid - lo), (hi - mel) / (hi - mid)))
    q = equal_loudness(mel_to_hz(edges[1:-1])) / equal_loudness(1000.0)
    return tri, q


def _slope_db_per_khz(
    power: np.ndarray, freqs: np.ndarray, lo: float, hi: float, eps: float
) -> float:
    """Least-squares slope of 10 log10(P + eps) against f / 1000 over lo <= f_k <= hi
    (0 with fewer than two bins)."""
    sel = (freqs >= lo) & (freqs <= hi)
    if np.count_nonzero(sel) < 2:
        return 0.0
    x = freqs[sel] / 1000.0
    y = 10.0 * np.log10(power[sel] + eps)
    xc = x - x.mean()
    return float(np.sum(xc * (y - y.mean())) / np.sum(xc * xc))


def _band_sum(power, freqs, lo, hi) -> float:
    return float(np.sum(power[(freqs >= lo) & (freqs < hi)]))


def _band_max(power, sel) -> float:
    return float(power[sel].max()) if np.any(sel) else 0.0  # the max of no bins is 0


def analyze(
    window: np.ndarray, previous: np.ndarray | None, cfg: DescriptorConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The 11 values of SPECTRAL_NAMES for one spectral window (cfg.spectral_length samples),
    and this frame's normalised magnitude spectrum, the `previous` of the next frame (None for
    the first frame of a signal: flux 0)."""
    window = np.asarray(window)
    if window.shape != (cfg.spectral_length,):
        raise ValueError(f"window must have shape ({cfg.spectral_length},), not {window.shape}")
    s = dc_removed(window)
    power, freqs = power_spectrum(window, cfg)

    energy_db = 10.0 * np.log10(np.mean(s * s) + cfg.power_floor)
    eps = cfg.spectrum_floor

    tri, q = loudness_bands(cfg)
    band_energy = tri @ power
    loudness = float(np.sum((q * band_energy) ** 0.3))

    alpha_ratio_db = 10.0 * np.log10(
        (_band_sum(power, freqs, 50.0, 1000.0) + eps)
        / (_band_sum(power, freqs, 1000.0, 5000.0) + eps)
    )
    hammarberg_db = 10.0 * np.log10(
        (_band_max(power, (freqs > 0.0) & (freqs < 2000.0)) + eps)
        / (_band_max(power, (freqs >= 2000.0) & (freqs < 5000.0)) + eps)
    )
    slope_0_500 = _slope_db_per_khz(power, freqs, 0.0, 500.0, eps)
    slope_500_1500 = _slope_db_per_khz(power, freqs, 500.0, 1500.0, eps)

    magnitude = np.sqrt(power)
    total_magnitude = magnitude.sum()
    norm = magnitude / total_magnitude if total_magnitude > 0 else np.zeros_like(magnitude)
    flux = 0.0 if previous is None else float(np.sum((norm - previous) ** 2))

    cumulative = np.cumsum(power)  # left to right, as the C++: the roll-off compares to it
    total = cumulative[-1]
    if total < eps:
        centroid = rolloff = entropy = 0.0
    else:
        centroid = float(np.sum(freqs * power) / total)
        rolloff = float(freqs[np.argmax(cumulative >= ROLLOFF * total)])
        p = power / total
        p = p[p > 0]
        entropy = float(-np.sum(p * np.log2(p)) / np.log2(freqs.size))

    non_negative = s >= 0.0
    zcr = float(np.mean(non_negative[1:] != non_negative[:-1]))

    values = np.array(
        [
            loudness,
            energy_db,
            alpha_ratio_db,
            hammarberg_db,
            slope_0_500,
            slope_500_1500,
            flux,
            centroid,
            rolloff,
            entropy,
            zcr,
        ],
        dtype=np.float64,
    )
    return values, norm


def analyze_signal(windows: np.ndarray, cfg: DescriptorConfig) -> np.ndarray:
    """float64 [n, 11] of consecutive spectral windows [n, spectral_length] of one signal."""
    windows = np.asarray(windows)
    out = np.zeros((windows.shape[0], len(SPECTRAL_NAMES)))
    previous = None
    for i, window in enumerate(windows):
        out[i], previous = analyze(window, previous, cfg)
    return out
