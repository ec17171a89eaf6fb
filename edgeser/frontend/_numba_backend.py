"""Numba backend: the fallback used when the C++ extension cannot be imported.

Same numbers as the NumPy reference (float64 inside, float32 out) but compiled per frame, with
no temporary [frames, n_fft] arrays. The dispatcher imports this module lazily, so numba is only
loaded when the cpp backend is missing or this backend is asked for by name. Deltas, CMVN and
streaming reuse the reference's code on top of these kernels.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import filters, reference
from ._numba_kernels import (
    FFT_BLUESTEIN,
    FFT_RADIX2,
    KIND_CODES,
    FramePlan,
    complex_fft,
)
from ._numba_kernels import (
    static_features as _static_kernel,
)
from .config import FrontendConfig, check_kind

NAME = "numba"


def _next_pow2(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())


def _bit_reversal(n: int) -> np.ndarray:
    bits = max(0, n.bit_length() - 1)
    idx = np.arange(n, dtype=np.int64)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(bits):
        rev |= ((idx >> b) & 1) << (bits - 1 - b)
    return rev


def _twiddles(n: int) -> np.ndarray:
    """exp(-2 pi i j / n) for j < n/2 (at least one entry, so size-1 FFTs have a table)."""
    j = np.arange(max(1, n // 2), dtype=np.float64)
    return np.exp(-2j * np.pi * j / n)


def _mel_spans(cfg: FrontendConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each filter restricted to its nonzero bins: (start bin, weight offsets, weights)."""
    bank = filters.mel_filterbank(cfg)
    starts, offsets, weights = [], [0], []
    for row in bank:
        nz = np.flatnonzero(row)
        lo, hi = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 0)
        starts.append(lo)
        weights.append(row[lo:hi])
        offsets.append(offsets[-1] + hi - lo)
    flat = np.concatenate(weights) if weights else np.zeros(0)
    return (
        np.asarray(starts, dtype=np.int64),
        np.asarray(offsets, dtype=np.int64),
        np.ascontiguousarray(flat, dtype=np.float64),
    )


@functools.lru_cache(maxsize=32)
def build_plan(cfg: FrontendConfig) -> FramePlan:
    """The tables of one config (window, FFT, mel spans, DCT, lifter), built once and reused."""
    n_fft, length = cfg.fft_size, cfg.frame_length
    empty_c = np.zeros(1, dtype=np.complex128)
    if n_fft & (n_fft - 1) == 0:
        half = max(1, n_fft // 2)
        fft_mode, bitrev, twiddles = FFT_RADIX2, _bit_reversal(half), _twiddles(half)
        post = np.exp(-2j * np.pi * np.arange(n_fft // 2 + 1) / n_fft)
        chirp, chirp_filter_fft = empty_c, empty_c
    else:
        n_bins = cfg.n_bins
        inner = _next_pow2(n_bins + length - 1)
        fft_mode, bitrev, twiddles = FFT_BLUESTEIN, _bit_reversal(inner), _twiddles(inner)
        m = np.arange(max(length, n_bins), dtype=np.int64)
        # m^2 mod 2N keeps the chirp phase exact for long frames.
        chirp = np.exp(-1j * np.pi * ((m * m) % (2 * n_fft)) / n_fft)
        kernel = np.zeros(inner, dtype=np.complex128)
        kernel[:n_bins] = chirp[:n_bins].conj()
        kernel[inner - (length - 1) :] = chirp[1:length][::-1].conj()
        complex_fft(kernel, bitrev, twiddles)
        chirp_filter_fft, post = kernel, empty_c
    mel_start, mel_offset, mel_weights = _mel_spans(cfg)
    return FramePlan(
        frame_length=length,
        frame_shift=cfg.frame_shift,
        remove_dc=bool(cfg.remove_dc),
        preemphasis=float(cfg.preemphasis),
        window=np.ascontiguousarray(filters.window(cfg), dtype=np.float64),
        n_fft=n_fft,
        fft_mode=fft_mode,
        bitrev=bitrev,
        twiddles=twiddles,
        post_twiddles=np.ascontiguousarray(post),
        chirp=np.ascontiguousarray(chirp),
        chirp_filter_fft=chirp_filter_fft,
        power_is_2=cfg.power == 2.0,
        mel_start=mel_start,
        mel_offset=mel_offset,
        mel_weights=mel_weights,
        log_db=cfg.log_type == "db",
        log_floor=float(cfg.log_floor),
        dct=np.ascontiguousarray(filters.dct_matrix(cfg)),
        lifter=np.ascontiguousarray(filters.lifter_coeffs(cfg)),
    )


def static_features(x: np.ndarray, cfg: FrontendConfig, kind: str) -> np.ndarray:
    """Per-frame features before deltas/CMVN, float64 [frames, static_dim]."""
    check_kind(kind)
    samples = np.ascontiguousarray(x, dtype=np.float64)
    n_frames = cfg.num_frames(samples.shape[0])
    return _static_kernel(
        samples, n_frames, build_plan(cfg), KIND_CODES[kind], cfg.static_dim(kind)
    )


def compute(x: np.ndarray, cfg: FrontendConfig, kind: str) -> np.ndarray:
    return reference.postprocess(static_features(x, cfg, kind), cfg)


def compute_batch(signals, cfg: FrontendConfig, kind: str, num_threads: int = 1) -> list:
    """Features of many signals; the kernels release the GIL, so threads run in parallel."""
    signals = list(signals)
    if num_threads <= 1 or len(signals) <= 1:
        return [compute(x, cfg, kind) for x in signals]
    with ThreadPoolExecutor(max_workers=min(num_threads, len(signals))) as pool:
        return list(pool.map(lambda x: compute(x, cfg, kind), signals))


def make_stream(cfg: FrontendConfig, kind: str) -> reference.SampleStream:
    check_kind(kind)
    return reference.SampleStream(cfg, kind, static_fn=lambda s: static_features(s, cfg, kind))
