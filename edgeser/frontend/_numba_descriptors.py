"""Numba backend of the voice descriptors: the fallback used when the C++ extension cannot be
imported (or asked for by name), with the numbers of the NumPy reference `descriptors_reference`.

The per-frame loops run in `_numba_descriptor_kernels` (nopython, nogil); the real FFT of the
spectral windows (`np.fft.rfft`, batched over frames) and the roots of the LPC polynomials
(`np.linalg.eigvals` of the companion matrices, as `np.roots`, batched over voiced frames) stay
in NumPy between them, on the same inputs as in the reference, so they give its bits. Frames
are analysed in blocks of `BLOCK_FRAMES`; every row depends only on its analysis frame and the
previous frame's spectrum, so any blocking, and any chunking of a stream, gives the same rows.
The dispatcher (`descriptors.py`) imports this module lazily: numba is loaded only when the cpp
backend is missing or this backend is asked for.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from . import _numba_descriptor_kernels as kernels
from . import descriptors_reference, formant_reference, pitch_reference, spectral_reference
from .descriptor_config import DESCRIPTOR_NAMES, F0_LOOKAHEAD, DescriptorConfig

NAME = "numba"
BLOCK_FRAMES = 256  # frames per kernel call: bounds the [frames, bins] spectra in memory
_DIM = len(DESCRIPTOR_NAMES)


def _bin_range(mask: np.ndarray) -> tuple[int, int]:
    """[lo, hi) of the bins a frequency mask selects (always one run: frequencies increase)."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return 0, 0
    lo, hi = int(idx[0]), int(idx[-1]) + 1
    if idx.size != hi - lo:
        raise AssertionError("a descriptor bin selection is not contiguous")
    return lo, hi


def _slope_table(freqs: np.ndarray, lo: float, hi: float) -> tuple[int, np.ndarray, float]:
    """(first bin, x - mean x, sum (x - mean x)^2) of a slope's bins, as the reference."""
    sel = (freqs >= lo) & (freqs <= hi)
    start, _ = _bin_range(sel)
    if np.count_nonzero(sel) < 2:
        return start, np.zeros(0), 1.0
    x = freqs[sel] / 1000.0
    xc = x - x.mean()
    return start, np.ascontiguousarray(xc), float(np.sum(xc * xc))


def _loudness_spans(cfg: DescriptorConfig):
    tri, q = spectral_reference.loudness_bands(cfg)
    starts, offsets, weights = [], [0], []
    for row in tri:
        nz = np.flatnonzero(row)
        lo, hi = (int(nz[0]), int(nz[-1]) + 1) if nz.size else (0, 0)
        starts.append(lo)
        weights.append(row[lo:hi])
        offsets.append(offsets[-1] + hi - lo)
    return (
        np.asarray(starts, dtype=np.int64),
        np.asarray(offsets, dtype=np.int64),
        np.ascontiguousarray(np.concatenate(weights), dtype=np.float64),
        np.ascontiguousarray(q, dtype=np.float64),
    )


@functools.lru_cache(maxsize=16)
def build_plan(cfg: DescriptorConfig) -> kernels.DescriptorPlan:
    """The sizes and tables of one config, built once (with the reference's own functions)."""
    freqs = np.ascontiguousarray(spectral_reference.bin_frequencies(cfg), dtype=np.float64)
    window = np.ascontiguousarray(spectral_reference.hamming(cfg.spectral_length))
    loud_start, loud_offset, loud_weights, loud_q = _loudness_spans(cfg)
    slope0_start, slope0_xc, slope0_sxx = _slope_table(freqs, 0.0, 500.0)
    slope1_start, slope1_xc, slope1_sxx = _slope_table(freqs, 500.0, 1500.0)
    ranges = np.array(
        [
            _bin_range((freqs >= 50.0) & (freqs < 1000.0)),
            _bin_range((freqs >= 1000.0) & (freqs < 5000.0)),
            _bin_range((freqs > 0.0) & (freqs < 2000.0)),
            _bin_range((freqs >= 2000.0) & (freqs < 5000.0)),
            (slope0_start, slope0_start + slope0_xc.size),
            (slope1_start, slope1_start + slope1_xc.size),
        ],
        dtype=np.int64,
    )
    return kernels.DescriptorPlan(
        sample_rate=float(cfg.sample_rate),
        frame_shift=cfg.frame_shift,
        pitch_offset=cfg.pitch_offset,
        pitch_length=cfg.pitch_length,
        spectral_offset=cfg.spectral_offset,
        spectral_length=cfg.spectral_length,
        fft_size=cfg.fft_size,
        n_bins=cfg.fft_size // 2 + 1,
        tau_min=cfg.tau_min,
        tau_max=cfg.tau_max,
        voicing_threshold=float(cfg.voicing_threshold),
        silence_dbfs=float(cfg.silence_dbfs),
        power_floor=float(cfg.power_floor),
        difference_floor=pitch_reference.DIFFERENCE_FLOOR,
        spectral_window=window,
        spectral_window_power=float(np.sum(window * window)),
        formant_window=np.ascontiguousarray(
            formant_reference.hamming(cfg.spectral_length), dtype=np.float64
        ),
        freqs=freqs,
        loud_start=loud_start,
        loud_offset=loud_offset,
        loud_weights=loud_weights,
        loud_q=loud_q,
        ranges=ranges,
        slope0_xc=slope0_xc,
        slope0_sxx=slope0_sxx,
        slope1_xc=slope1_xc,
        slope1_sxx=slope1_sxx,
        entropy_norm=float(np.log2(freqs.size)),
        eps=float(cfg.spectrum_floor),
        rolloff=spectral_reference.ROLLOFF,
        preemphasis=formant_reference.PREEMPHASIS,
        white_noise_correction=formant_reference.WHITE_NOISE_CORRECTION,
        silence_r0=formant_reference.SILENCE_R0,
        lpc_order=cfg.lpc_order,
        min_formant_hz=formant_reference.MIN_FORMANT_HZ,
        formant_max_hz=float(cfg.formant_max_hz),
        formant_max_bw_hz=float(cfg.formant_max_bw_hz),
    )


def _formants(raw: np.ndarray, lpc: np.ndarray, plan: kernels.DescriptorPlan) -> None:
    """F1-F3 of the frames with a prediction polynomial, into raw (formant_reference's
    `candidates`: np.roots is eigvals of the companion matrix, here one call per degree)."""
    nonzero = lpc != 0.0
    frames = np.flatnonzero(nonzero.any(axis=1))
    if frames.size == 0:
        return
    # np.roots drops trailing zero coefficients (roots at 0: real, never candidates)
    degree = plan.lpc_order - np.argmax(nonzero[frames, ::-1], axis=1)
    order = plan.lpc_order
    roots = np.zeros((frames.size, order), dtype=np.complex128)
    valid = np.zeros((frames.size, order), dtype=bool)
    for deg in np.unique(degree):
        sel = np.flatnonzero(degree == deg)
        companion = np.zeros((sel.size, deg, deg))
        companion[:, np.arange(1, deg), np.arange(deg - 1)] = 1.0
        companion[:, 0, :] = -lpc[frames[sel], :deg]  # -p[1:] / p[0], p[0] = 1
        z = np.linalg.eigvals(companion)
        roots[sel, :deg] = z
        valid[sel, :deg] = z.imag > 0
    freq = np.angle(roots) * plan.sample_rate / (2.0 * np.pi)
    with np.errstate(divide="ignore"):  # padding roots at 0: never valid
        bw = -np.log(np.abs(roots)) * plan.sample_rate / np.pi
    kernels.select_formants(raw, frames, freq, bw, valid, plan)


def raw_rows(
    x: np.ndarray,
    offset: int,
    n_frames: int,
    plan: kernels.DescriptorPlan,
    previous: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Unsmoothed rows (float64 [n_frames, 22]) of the frames starting at x[offset + i *
    frame_shift] (x: float64), and the last one's normalised spectrum (`previous`: the one of
    the frame before them, None for the first frame of a signal)."""
    raw = np.zeros((n_frames, _DIM), dtype=np.float64)
    has_previous = previous is not None
    last = previous if previous is not None else np.zeros(plan.n_bins)
    for first in range(0, n_frames, BLOCK_FRAMES):
        count = min(BLOCK_FRAMES, n_frames - first)
        start = offset + first * plan.frame_shift
        windows = kernels.spectral_inputs(x, start, count, plan)
        spectra = np.fft.rfft(windows, plan.fft_size, axis=1)
        block, lpc, last = kernels.analyze_frames(
            x, start, count, plan, spectra, last, has_previous
        )
        _formants(block, lpc, plan)
        raw[first : first + count] = block
        has_previous = True
    return raw, (last if has_previous else None)


def _samples(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float64)


def compute(x: np.ndarray, cfg: DescriptorConfig) -> np.ndarray:
    """Descriptors of one signal: float32 [frames, 22]."""
    n = cfg.num_frames(len(x))
    if n == 0:
        return np.zeros((0, _DIM), dtype=np.float32)
    raw, _ = raw_rows(_samples(x), 0, n, build_plan(cfg), None)
    return kernels.finish_rows(raw, 0, n, 0, n)


def compute_batch(signals, cfg: DescriptorConfig, num_threads: int = 1) -> list[np.ndarray]:
    """Descriptors of many signals; the kernels release the GIL, so threads run in parallel."""
    signals = list(signals)
    if num_threads <= 1 or len(signals) <= 1:
        return [compute(x, cfg) for x in signals]
    with ThreadPoolExecutor(max_workers=min(num_threads, len(signals))) as pool:
        return list(pool.map(lambda x: compute(x, cfg), signals))


class DescriptorStream(descriptors_reference.DescriptorStream):
    """Streaming descriptors: the rows of `compute`, two frames late, for any chunking (the
    reference stream's bookkeeping, with the frames of each push analysed in one call)."""

    def __init__(self, cfg: DescriptorConfig):
        super().__init__(cfg)
        self._plan = build_plan(cfg)
        self._rows = np.zeros((0, _DIM), dtype=np.float64)  # frames [_raw_base, _next_frame)

    def _analyse(self, start: int, frames: int) -> None:
        rows, self._previous = raw_rows(
            self._pending, start, frames - self._next_frame, self._plan, self._previous
        )
        self._rows = np.concatenate([self._rows, rows])

    def _emit(self, upto: int) -> np.ndarray:
        out = kernels.finish_rows(self._rows, self._raw_base, self._next_frame, self._emitted, upto)
        self._emitted = max(self._emitted, upto)
        keep_from = max(self._raw_base, self._emitted - F0_LOOKAHEAD)
        self._rows = self._rows[keep_from - self._raw_base :]
        self._raw_base = keep_from
        return out


def make_stream(cfg: DescriptorConfig) -> DescriptorStream:
    return DescriptorStream(cfg)
