"""Numba kernels of the per-frame front end: framing -> DC -> pre-emphasis -> window -> FFT ->
|X|**power -> mel -> log -> DCT -> lifter, all in float64 like the NumPy reference.

numba cannot call numpy.fft inside nopython code, so the FFT is written here: a radix-2 real FFT
(a half-size complex FFT plus an untangling pass) for power-of-two sizes and Bluestein's chirp-z
algorithm (three power-of-two FFTs) for any other size. The tables these kernels read are built
once per config by `_numba_backend.build_plan`.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import numba
import numpy as np

KIND_CODES = {"spectrogram": 0, "log_mel": 1, "mfcc": 2}
FFT_RADIX2 = 0
FFT_BLUESTEIN = 1


def jit_kernel(fn):
    """`numba.njit(cache=True, nogil=True)`, without the on-disk cache where none can be written.

    numba refuses `cache=True` when neither the package folder nor a user cache folder is
    writable (read-only installs); the kernels then compile at first use in every process.
    """
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError as exc:
        warnings.warn(
            f"edgeser numba kernels will not be cached on disk: {exc}", RuntimeWarning, stacklevel=2
        )
        return numba.njit(cache=False, nogil=True)(fn)


class FramePlan(NamedTuple):
    """Everything the frame kernel needs for one config (all arrays C-contiguous)."""

    frame_length: int
    frame_shift: int
    remove_dc: bool
    preemphasis: float
    window: np.ndarray  # float64 [frame_length]
    n_fft: int
    fft_mode: int  # FFT_RADIX2 or FFT_BLUESTEIN
    bitrev: np.ndarray  # int64 [inner FFT size]
    twiddles: np.ndarray  # complex128 [inner size / 2]: exp(-2 pi i j / inner size)
    post_twiddles: np.ndarray  # radix-2: complex128 [n_fft/2 + 1]: exp(-2 pi i k / n_fft)
    chirp: np.ndarray  # Bluestein: complex128 exp(-i pi m^2 / n_fft), m < max(L, n_bins)
    chirp_filter_fft: np.ndarray  # Bluestein: FFT of the conjugate chirp filter
    power_is_2: bool
    mel_start: np.ndarray  # int64 [n_mels]: first nonzero bin of each filter
    mel_offset: (
        np.ndarray
    )  # int64 [n_mels + 1]: filter m's weights are weights[offset[m]:offset[m+1]]
    mel_weights: np.ndarray  # float64, the nonzero span of every filter, concatenated
    log_db: bool
    log_floor: float
    dct: np.ndarray  # float64 [n_mfcc, n_mels]
    lifter: np.ndarray  # float64 [n_mfcc]


@jit_kernel
def complex_fft(buf, bitrev, twiddles):
    """In-place iterative radix-2 decimation-in-time FFT of a power-of-two complex buffer."""
    n = buf.shape[0]
    for i in range(n):
        j = bitrev[i]
        if j > i:
            tmp = buf[i]
            buf[i] = buf[j]
            buf[j] = tmp
    size = 2
    while size <= n:
        half = size // 2
        stride = n // size
        for start in range(0, n, size):
            for k in range(half):
                w = twiddles[k * stride]
                a = start + k
                b = a + half
                t = w * buf[b]
                buf[b] = buf[a] - t
                buf[a] = buf[a] + t
        size *= 2


@jit_kernel
def real_fft_radix2(frame, plan, packed, out):
    """rFFT of `frame` zero-padded to the power-of-two plan.n_fft into `out[:n_fft/2 + 1]`.

    Even/odd samples are packed as the real/imaginary parts of a half-size complex signal,
    transformed once, then separated with X[k] = E[k] + exp(-2 pi i k / N) O[k].
    """
    h = packed.shape[0]
    length = frame.shape[0]
    for j in range(h):
        re = frame[2 * j] if 2 * j < length else 0.0
        im = frame[2 * j + 1] if 2 * j + 1 < length else 0.0
        packed[j] = complex(re, im)
    complex_fft(packed, plan.bitrev, plan.twiddles)
    for k in range(h + 1):
        zk = packed[k % h]
        zc = packed[(h - k) % h].conjugate()
        even = 0.5 * (zk + zc)
        odd = -0.5j * (zk - zc)
        out[k] = even + plan.post_twiddles[k] * odd


@jit_kernel
def real_fft_bluestein(frame, plan, work, out):
    """DFT bins 0..len(out)-1 of `frame` zero-padded to any n_fft, by Bluestein's algorithm.

    X[k] = c[k] * sum_n (x[n] c[n]) conj(c[k - n]) with c[m] = exp(-i pi m^2 / N): a linear
    convolution computed with power-of-two FFTs (the filter's FFT is precomputed).
    """
    m = work.shape[0]
    length = frame.shape[0]
    for j in range(m):
        work[j] = frame[j] * plan.chirp[j] if j < length else 0.0j
    complex_fft(work, plan.bitrev, plan.twiddles)
    for j in range(m):
        # conj(FFT(conj(y))) / M is the inverse FFT of y.
        work[j] = (work[j] * plan.chirp_filter_fft[j]).conjugate()
    complex_fft(work, plan.bitrev, plan.twiddles)
    scale = 1.0 / m
    for k in range(out.shape[0]):
        out[k] = plan.chirp[k] * work[k].conjugate() * scale


@jit_kernel
def frame_power_spectrum(x, start, plan, frame, work, spectrum, power):
    """Fill `power` with |X|**p of the frame starting at sample `start` (float64 scratch)."""
    length = plan.frame_length
    mean = 0.0
    if plan.remove_dc:
        for i in range(length):
            mean += x[start + i]
        mean /= length
    for i in range(length):
        frame[i] = x[start + i] - mean
    c = plan.preemphasis
    if c != 0.0:
        for i in range(length - 1, 0, -1):
            frame[i] -= c * frame[i - 1]
        frame[0] -= c * frame[0]
    for i in range(length):
        frame[i] *= plan.window[i]
    if plan.fft_mode == FFT_RADIX2:
        real_fft_radix2(frame, plan, work, spectrum)
    else:
        real_fft_bluestein(frame, plan, work, spectrum)
    for k in range(power.shape[0]):
        re = spectrum[k].real
        im = spectrum[k].imag
        p = re * re + im * im
        power[k] = p if plan.power_is_2 else np.sqrt(p)


@jit_kernel
def static_features(x, n_frames, plan, kind, dim):
    """Per-frame features before deltas/CMVN: float64 [n_frames, dim] for kind code `kind`."""
    n_bins = plan.n_fft // 2 + 1
    n_mels = plan.mel_start.shape[0]
    out = np.empty((n_frames, dim), dtype=np.float64)
    frame = np.empty(plan.frame_length, dtype=np.float64)
    if plan.fft_mode == FFT_RADIX2:
        work = np.empty(max(1, plan.n_fft // 2), dtype=np.complex128)
    else:
        work = np.empty(plan.bitrev.shape[0], dtype=np.complex128)
    spectrum = np.empty(n_bins, dtype=np.complex128)
    power = np.empty(n_bins, dtype=np.float64)
    log_mel = np.empty(n_mels, dtype=np.float64)
    for t in range(n_frames):
        frame_power_spectrum(x, t * plan.frame_shift, plan, frame, work, spectrum, power)
        if kind == 0:
            out[t, :] = power
            continue
        for m in range(n_mels):
            lo = plan.mel_start[m]
            acc = 0.0
            for j in range(plan.mel_offset[m], plan.mel_offset[m + 1]):
                acc += plan.mel_weights[j] * power[lo + j - plan.mel_offset[m]]
            acc = max(acc, plan.log_floor)
            log_mel[m] = 10.0 * np.log10(acc) if plan.log_db else np.log(acc)
        if kind == 1:
            out[t, :] = log_mel
            continue
        for c in range(dim):
            acc = 0.0
            for m in range(n_mels):
                acc += plan.dct[c, m] * log_mel[m]
            out[t, c] = acc * plan.lifter[c]
    return out
