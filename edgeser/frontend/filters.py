"""Fixed matrices of the front end (windows, mel filter bank, DCT, lifter), built in float64.

These definitions are the specification: the NumPy reference and the Numba fallback use them
directly and the C++ extension (`csrc/window.cc`, `csrc/mel_banks.cc`, `csrc/dct.cc`) computes
the same formulas. Each depends only on the config, so callers may cache them.
"""

from __future__ import annotations

import numpy as np

from .config import FrontendConfig


def window(cfg: FrontendConfig) -> np.ndarray:
    """Symmetric window of `frame_length` samples (Kaldi convention: denominator L-1)."""
    n = cfg.frame_length
    i = np.arange(n, dtype=np.float64)
    a = 2.0 * np.pi * i / (n - 1)
    if cfg.window == "hamming":
        return 0.54 - 0.46 * np.cos(a)
    if cfg.window == "hann":
        return 0.5 - 0.5 * np.cos(a)
    if cfg.window == "povey":
        return (0.5 - 0.5 * np.cos(a)) ** 0.85
    return np.ones(n, dtype=np.float64)


# ---- mel scales -------------------------------------------------------------------------------
_SLANEY_F_SP = 200.0 / 3.0
_SLANEY_MIN_LOG_HZ = 1000.0
_SLANEY_MIN_LOG_MEL = _SLANEY_MIN_LOG_HZ / _SLANEY_F_SP
_SLANEY_LOGSTEP = np.log(6.4) / 27.0


def hz_to_mel(f: np.ndarray | float, scale: str) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    if scale == "htk":
        return 1127.0 * np.log1p(f / 700.0)
    lin = f / _SLANEY_F_SP
    log = _SLANEY_MIN_LOG_MEL + np.log(np.maximum(f, 1e-12) / _SLANEY_MIN_LOG_HZ) / _SLANEY_LOGSTEP
    return np.where(f >= _SLANEY_MIN_LOG_HZ, log, lin)


def mel_to_hz(m: np.ndarray | float, scale: str) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    if scale == "htk":
        return 700.0 * np.expm1(m / 1127.0)
    lin = m * _SLANEY_F_SP
    log = _SLANEY_MIN_LOG_HZ * np.exp(_SLANEY_LOGSTEP * (m - _SLANEY_MIN_LOG_MEL))
    return np.where(m >= _SLANEY_MIN_LOG_MEL, log, lin)


def vtlp_warp(f_hz: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """Piecewise-linear frequency warp of Jaitly & Hinton (2013); identity when alpha == 1."""
    f = np.asarray(f_hz, dtype=np.float64)
    alpha = cfg.vtlp_alpha
    if alpha == 1.0:
        return f
    nyq = cfg.sample_rate / 2.0
    lo = cfg.vtlp_high_hz * min(alpha, 1.0)
    boundary = lo / alpha
    upper = nyq - (nyq - lo) / (nyq - boundary) * (nyq - f)
    return np.where(f <= boundary, f * alpha, upper)


def mel_edges_hz(cfg: FrontendConfig) -> np.ndarray:
    """The n_mels + 2 filter edge frequencies in Hz (after the VTLP warp)."""
    m = np.linspace(
        hz_to_mel(cfg.fmin, cfg.mel_scale), hz_to_mel(cfg.fmax_hz, cfg.mel_scale), cfg.n_mels + 2
    )
    return vtlp_warp(mel_to_hz(m, cfg.mel_scale), cfg)


def mel_filterbank(cfg: FrontendConfig) -> np.ndarray:
    """Triangular filters, shape [n_mels, n_bins].

    triangle_domain "hz": triangles linear in Hz over the FFT bin frequencies (librosa);
    "mel": triangles linear in mel (Kaldi). mel_norm "slaney" scales each filter to unit area.
    """
    edges = mel_edges_hz(cfg)
    bins_hz = np.linspace(0.0, cfg.sample_rate / 2.0, cfg.n_bins)
    if cfg.triangle_domain == "mel":
        pts = hz_to_mel(edges, cfg.mel_scale)
        x = hz_to_mel(bins_hz, cfg.mel_scale)
    else:
        pts, x = edges, bins_hz
    left, centre, right = pts[:-2, None], pts[1:-1, None], pts[2:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        up = (x[None, :] - left) / (centre - left)
        down = (right - x[None, :]) / (right - centre)
    fb = np.maximum(0.0, np.minimum(up, down))
    fb = np.nan_to_num(fb, nan=0.0, posinf=0.0, neginf=0.0)
    if cfg.mel_norm == "slaney":
        fb *= (2.0 / (edges[2:] - edges[:-2]))[:, None]
    return fb


def dct_matrix(cfg: FrontendConfig) -> np.ndarray:
    """Orthonormal DCT-II rows 0..n_mfcc-1 over n_mels inputs, shape [n_mfcc, n_mels]."""
    m = cfg.n_mels
    k = np.arange(cfg.n_mfcc, dtype=np.float64)[:, None]
    j = np.arange(m, dtype=np.float64)[None, :]
    d = np.cos(np.pi * k * (j + 0.5) / m) * np.sqrt(2.0 / m)
    d[0] *= np.sqrt(0.5)
    return d


def lifter_coeffs(cfg: FrontendConfig) -> np.ndarray:
    """Sinusoidal cepstral lifter 1 + L/2 sin(pi k / L) (Kaldi/HTK), ones when lifter == 0."""
    k = np.arange(cfg.n_mfcc, dtype=np.float64)
    if cfg.lifter == 0:
        return np.ones_like(k)
    return 1.0 + 0.5 * cfg.lifter * np.sin(np.pi * k / cfg.lifter)
