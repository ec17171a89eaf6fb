"""Numba kernels of the voice descriptors: the per-frame loops of `pitch_reference`,
`spectral_reference` and `formant_reference` (difference function and CMNDF search, pulse
jitter and shimmer, spectral band sums, LPC autocorrelation and Levinson-Durbin, candidate
selection, F0 smoothing), in float64 like the reference.

numba has no FFT and no eigenvalue solver without SciPy, so the real FFT of the spectral windows
and the roots of the prediction polynomials are left to NumPy (`_numba_descriptors`), between
these kernels. Sums that the reference takes with `np.sum` / `np.mean` are taken here with
NumPy's own pairwise order (`pairwise_sum`), so thresholds on them (the difference floor, the
voicing threshold, the silence gate) decide the same way; the reference's `np.dot` (BLAS) and
`tri @ power` are plain sums here, equal to round-off. No fastmath: every operation is the
reference's, in its order. The tables the kernels read are built once per config by
`_numba_descriptors.build_plan`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ._numba_kernels import jit_kernel
from .descriptor_config import COLUMN, DESCRIPTOR_NAMES, F0_LOOKAHEAD

N_COLUMNS = len(DESCRIPTOR_NAMES)
LOOKAHEAD = F0_LOOKAHEAD
# Column indices: numba reads these globals as compile-time constants.
C_F0, C_VOICING, C_HNR = COLUMN["f0_hz"], COLUMN["voicing"], COLUMN["hnr_db"]
C_JITTER, C_SHIMMER = COLUMN["jitter_local"], COLUMN["shimmer_local_db"]
C_LOUDNESS, C_ENERGY = COLUMN["loudness"], COLUMN["energy_db"]
C_ALPHA, C_HAMMARBERG = COLUMN["alpha_ratio_db"], COLUMN["hammarberg_db"]
C_SLOPE0, C_SLOPE1 = COLUMN["slope_0_500"], COLUMN["slope_500_1500"]
C_FORMANTS = COLUMN["f1_hz"]  # f1_hz, f1_bw_hz, f2_hz, f2_bw_hz, f3_hz, f3_bw_hz in a row
C_FLUX, C_CENTROID = COLUMN["spectral_flux"], COLUMN["spectral_centroid_hz"]
C_ROLLOFF, C_ENTROPY, C_ZCR = (
    COLUMN["spectral_rolloff_hz"],
    COLUMN["spectral_entropy"],
    COLUMN["zcr"],
)
if DESCRIPTOR_NAMES[C_FORMANTS : C_FORMANTS + 6] != (
    "f1_hz",
    "f1_bw_hz",
    "f2_hz",
    "f2_bw_hz",
    "f3_hz",
    "f3_bw_hz",
):
    raise RuntimeError("the formant columns of DESCRIPTOR_NAMES are no longer contiguous")


class DescriptorPlan(NamedTuple):
    """Sizes, constants and tables of one DescriptorConfig (arrays C-contiguous float64 / int64)."""

    sample_rate: float
    frame_shift: int
    pitch_offset: int
    pitch_length: int
    spectral_offset: int
    spectral_length: int
    fft_size: int
    n_bins: int  # fft_size // 2 + 1
    tau_min: int
    tau_max: int
    voicing_threshold: float
    silence_dbfs: float
    power_floor: float  # added before energy_db's log
    difference_floor: float
    spectral_window: np.ndarray  # Hamming [spectral_length] (spectral_reference.hamming)
    spectral_window_power: float  # sum of its squares, the power spectrum's normaliser
    formant_window: np.ndarray  # Hamming [spectral_length] (formant_reference.hamming)
    freqs: np.ndarray  # [n_bins]
    loud_start: np.ndarray  # int64 [bands]: first nonzero bin of each loudness triangle
    loud_offset: np.ndarray  # int64 [bands + 1]: band b's weights are weights[off[b]:off[b+1]]
    loud_weights: np.ndarray
    loud_q: np.ndarray  # [bands] equal-loudness weights
    ranges: np.ndarray  # int64 [6, 2] bin ranges [lo, hi): alpha low/high, hammarberg low/high,
    # slope 0-500, slope 500-1500 (every selection of the reference is a contiguous range)
    slope0_xc: np.ndarray  # x - mean(x) of the 0-500 Hz bins (empty: fewer than two bins)
    slope0_sxx: float
    slope1_xc: np.ndarray
    slope1_sxx: float
    entropy_norm: float  # log2(n_bins)
    eps: float
    rolloff: float
    preemphasis: float
    white_noise_correction: float
    silence_r0: float
    lpc_order: int
    min_formant_hz: float
    formant_max_hz: float
    formant_max_bw_hz: float


@jit_kernel
def _block_sum(a, lo, n):
    """A leaf of NumPy's pairwise sum (n <= 128): 8 accumulators, then the remainder."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0 = a[lo]
    r1 = a[lo + 1]
    r2 = a[lo + 2]
    r3 = a[lo + 3]
    r4 = a[lo + 4]
    r5 = a[lo + 5]
    r6 = a[lo + 6]
    r7 = a[lo + 7]
    end = lo + n - n % 8
    i = lo + 8
    while i < end:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += a[i]
        i += 1
    return res


@jit_kernel
def pairwise_sum(a, lo, n):
    """sum(a[lo:lo+n]) in NumPy's pairwise order (what `np.sum` of a contiguous float64 array
    computes, to the last bit): blocks of at most 128 (`_block_sum`), a longer run split at
    half its length rounded down to a multiple of 8 and the two sums added.

    NumPy recurses; this walks the same tree with an explicit stack, because numba segfaults
    when it loads a cached recursive function (numba issue 6061)."""
    if n <= 128:
        return _block_sum(a, lo, n)
    node_lo = np.empty(64, dtype=np.int64)  # the path from the root: depth < log2(n) + 1
    node_n = np.empty(64, dtype=np.int64)
    left_sum = np.empty(64, dtype=np.float64)
    right_pending = np.empty(64, dtype=np.bool_)  # True: the left child is being summed
    depth = 0
    node_lo[0] = lo
    node_n[0] = n
    while True:
        m = node_n[depth]
        if m > 128:  # descend into the left child
            half = m // 2
            half -= half % 8
            right_pending[depth] = True
            node_lo[depth + 1] = node_lo[depth]
            node_n[depth + 1] = half
            depth += 1
            continue
        value = _block_sum(a, node_lo[depth], m)
        while True:  # hand the value up until a right child is still to do
            depth -= 1
            if depth < 0:
                return value
            if right_pending[depth]:
                right_pending[depth] = False
                left_sum[depth] = value
                half = node_n[depth] // 2
                half -= half % 8
                node_lo[depth + 1] = node_lo[depth] + half
                node_n[depth + 1] = node_n[depth] - half
                depth += 1
                break
            value = left_sum[depth] + value


@jit_kernel
def round_half_even(v):
    """Python's round(v) of a finite float, as an int."""
    r = math.floor(v)
    diff = v - r
    if diff > 0.5 or (diff == 0.5 and r % 2 != 0):
        r += 1.0
    return int(r)


@jit_kernel
def argmax_range(x, lo, hi):
    """First index of the maximum of x[lo:hi] (hi > lo)."""
    best = lo
    for i in range(lo + 1, hi):
        if x[i] > x[best]:
            best = i
    return best


@jit_kernel
def pulse_measures(x, period, pulses, scratch):
    """(jitter_local, shimmer_local_db) of the DC-free pitch window `x` (pitch_reference)."""
    n = x.shape[0]
    pulses[0] = argmax_range(x, 0, min(n, int(math.ceil(period))))
    count = 1
    lo_step = round_half_even(0.8 * period)
    hi_step = round_half_even(1.2 * period)
    while True:
        lo = pulses[count - 1] + lo_step
        hi = pulses[count - 1] + hi_step
        if hi > n - 1:
            break
        pulses[count] = argmax_range(x, lo, hi + 1)
        count += 1
    jitter = 0.0
    if count - 1 >= 2:  # at least two periods
        period_sum = 0
        change_sum = 0
        for k in range(count - 1):
            p = pulses[k + 1] - pulses[k]
            period_sum += p
            if k > 0:
                change_sum += abs(p - (pulses[k] - pulses[k - 1]))
        jitter = (float(change_sum) / (count - 2)) / (float(period_sum) / (count - 1))
    m = 0
    for k in range(count - 1):
        a = x[pulses[k]]
        b = x[pulses[k + 1]]
        if a > 0 and b > 0:
            scratch[m] = abs(20.0 * math.log10(b / a))
            m += 1
    shimmer = pairwise_sum(scratch, 0, m) / m if m > 0 else 0.0
    return jitter, shimmer


@jit_kernel
def pitch_frame(window, plan, out, x, sq, buf, d, c, pulses):
    """pitch_reference.analyze of one pitch window into out[0:5] (scratch: x, sq [L], buf [W],
    d, c [tau_max + 1], pulses [L + 1])."""
    n = window.shape[0]
    # remove_dc: four partial sums of x[q::4], each left to right
    s0 = s1 = s2 = s3 = 0.0
    if n > 0:
        s0 = window[0]
    if n > 1:
        s1 = window[1]
    if n > 2:
        s2 = window[2]
    if n > 3:
        s3 = window[3]
    for j in range(4, n):
        q = j % 4
        if q == 0:
            s0 += window[j]
        elif q == 1:
            s1 += window[j]
        elif q == 2:
            s2 += window[j]
        else:
            s3 += window[j]
    mean = ((s0 + s1) + (s2 + s3)) / n
    for j in range(n):
        x[j] = window[j] - mean
        sq[j] = x[j] * x[j]
    tau_min = plan.tau_min
    tau_max = plan.tau_max
    w = n - tau_max
    # difference function, floored, and the cumulative mean normalised difference
    e0 = pairwise_sum(sq, 0, w)
    d[0] = 0.0
    for t in range(1, tau_max + 1):
        for j in range(w):
            v = x[j] - x[j + t]
            buf[j] = v * v
        dt = pairwise_sum(buf, 0, w)
        d[t] = dt if dt > plan.difference_floor * (e0 + pairwise_sum(sq, t, w)) else 0.0
    c[0] = 1.0
    cum = 0.0
    for t in range(1, tau_max + 1):
        cum = d[t] if t == 1 else cum + d[t]
        c[t] = d[t] * t / cum if cum > 0 else 1.0
    silent = 10.0 * math.log10(pairwise_sum(sq, 0, n) / n + 1e-20) < plan.silence_dbfs

    t = -1
    for k in range(tau_min, tau_max + 1):
        if c[k] < plan.voicing_threshold:
            t = k
            break
    dip = t >= 0
    if dip:
        while t + 1 <= tau_max and c[t + 1] < c[t]:
            t += 1
    else:
        t = tau_min
        for k in range(tau_min + 1, tau_max + 1):
            if c[k] < c[t]:
                t = k
    t_hat = float(t)
    if tau_min < t < tau_max:
        a = c[t - 1]
        b = c[t]
        cc = c[t + 1]
        den = a - 2.0 * b + cc
        if den > 0:
            t_hat = min(max(t + 0.5 * (a - cc) / den, t - 0.5), t + 0.5)

    voicing = min(max(1.0 - c[t], 0.0), 1.0)
    et = pairwise_sum(sq, t, w)
    r = 0.0
    if e0 * et > 0:
        for j in range(w):
            buf[j] = x[j] * x[j + t]
        r = pairwise_sum(buf, 0, w) / math.sqrt(e0 * et)
    r = min(max(r, 0.01), 0.9999)
    out[C_F0] = 0.0
    out[C_VOICING] = voicing
    out[C_HNR] = 10.0 * math.log10(r / (1.0 - r))
    out[C_JITTER] = 0.0
    out[C_SHIMMER] = 0.0
    if dip and not silent:
        out[C_F0] = plan.sample_rate / t_hat
        jitter, shimmer = pulse_measures(x[:n], t_hat, pulses, buf)
        out[C_JITTER] = jitter
        out[C_SHIMMER] = shimmer


@jit_kernel
def _range_slope(power, lo, xc, sxx, eps, y):
    """Least-squares slope of 10 log10(P + eps) over bins lo..lo+len(xc) (0 with < 2 bins)."""
    m = xc.shape[0]
    if m < 2:
        return 0.0
    for k in range(m):
        y[k] = 10.0 * math.log10(power[lo + k] + eps)
    y_mean = pairwise_sum(y, 0, m) / m
    for k in range(m):
        y[k] = xc[k] * (y[k] - y_mean)
    return pairwise_sum(y, 0, m) / sxx


@jit_kernel
def _range_max(power, lo, hi):
    best = 0.0  # the max of no bins is 0
    for k in range(lo, hi):
        if k == lo or power[k] > best:
            best = power[k]
    return best


@jit_kernel
def spectral_frame(window, spectrum, plan, previous, has_previous, out, norm, s, buf, power):
    """spectral_reference.analyze of one spectral window, given the rFFT `spectrum` of its
    DC-removed, windowed samples: the 11 values into `out`, this frame's normalised magnitude
    spectrum into `norm` (`previous`: the previous frame's, when `has_previous`)."""
    n = window.shape[0]
    acc = window[0]
    for j in range(1, n):
        acc += window[j]
    mean = acc / n
    for j in range(n):
        s[j] = window[j] - mean
        buf[j] = s[j] * s[j]
    out[C_ENERGY] = 10.0 * math.log10(pairwise_sum(buf, 0, n) / n + plan.power_floor)

    wsum = plan.spectral_window_power
    n_bins = plan.n_bins
    for k in range(n_bins):
        re = spectrum[k].real
        im = spectrum[k].imag
        power[k] = (re * re + im * im) / wsum

    bands = plan.loud_q.shape[0]
    for b in range(bands):
        e = 0.0
        base = plan.loud_offset[b]
        first = plan.loud_start[b]
        for j in range(base, plan.loud_offset[b + 1]):
            e += plan.loud_weights[j] * power[first + j - base]
        buf[b] = (plan.loud_q[b] * e) ** 0.3
    out[C_LOUDNESS] = pairwise_sum(buf, 0, bands)

    rg = plan.ranges
    eps = plan.eps
    low = pairwise_sum(power, rg[0, 0], rg[0, 1] - rg[0, 0])
    high = pairwise_sum(power, rg[1, 0], rg[1, 1] - rg[1, 0])
    out[C_ALPHA] = 10.0 * math.log10((low + eps) / (high + eps))
    low = _range_max(power, rg[2, 0], rg[2, 1])
    high = _range_max(power, rg[3, 0], rg[3, 1])
    out[C_HAMMARBERG] = 10.0 * math.log10((low + eps) / (high + eps))
    out[C_SLOPE0] = _range_slope(power, rg[4, 0], plan.slope0_xc, plan.slope0_sxx, eps, buf)
    out[C_SLOPE1] = _range_slope(power, rg[5, 0], plan.slope1_xc, plan.slope1_sxx, eps, buf)

    for k in range(n_bins):
        buf[k] = math.sqrt(power[k])
    total_magnitude = pairwise_sum(buf, 0, n_bins)
    for k in range(n_bins):
        norm[k] = buf[k] / total_magnitude if total_magnitude > 0 else 0.0
    flux = 0.0
    if has_previous:
        for k in range(n_bins):
            v = norm[k] - previous[k]
            buf[k] = v * v
        flux = pairwise_sum(buf, 0, n_bins)
    out[C_FLUX] = flux

    total = power[0]
    for k in range(1, n_bins):
        total += power[k]
    centroid = rolloff = entropy = 0.0
    if not total < eps:
        for k in range(n_bins):
            buf[k] = plan.freqs[k] * power[k]
        centroid = pairwise_sum(buf, 0, n_bins) / total
        target = plan.rolloff * total
        cumulative = power[0]
        k = 0
        while not cumulative >= target and k + 1 < n_bins:
            k += 1
            cumulative += power[k]
        rolloff = plan.freqs[k] if cumulative >= target else plan.freqs[0]
        m = 0
        for k in range(n_bins):
            p = power[k] / total
            if p > 0:
                buf[m] = p * math.log2(p)
                m += 1
        entropy = -pairwise_sum(buf, 0, m) / plan.entropy_norm
    out[C_CENTROID] = centroid
    out[C_ROLLOFF] = rolloff
    out[C_ENTROPY] = entropy

    changes = 0
    for j in range(1, n):
        if (s[j] >= 0.0) != (s[j - 1] >= 0.0):
            changes += 1
    out[C_ZCR] = changes / (n - 1)


@jit_kernel
def lpc_frame(window, plan, a, u, r, prev):
    """formant_reference.lpc of one spectral window into `a` (all zeros: no formant)."""
    n = window.shape[0]
    order = plan.lpc_order
    mean = pairwise_sum(window, 0, n) / n
    last = 0.0
    for j in range(n):
        dj = window[j] - mean
        y = dj if j == 0 else dj - plan.preemphasis * last
        u[j] = y * plan.formant_window[j]
        last = dj
    for k in range(order + 1):
        acc = 0.0
        for j in range(n - k):
            acc += u[j] * u[j + k]
        r[k] = acc
    a[:] = 0.0
    if r[0] <= plan.silence_r0:
        return
    r[0] *= 1.0 + plan.white_noise_correction
    err = r[0]
    if not (err > 0.0 and math.isfinite(err)):
        return
    for i in range(order):
        acc = r[i + 1]
        for j in range(i):
            acc += a[j] * r[i - j]
        k = -acc / err
        for j in range(i):
            prev[j] = a[j]
        for j in range(i):
            a[j] = prev[j] + k * prev[i - 1 - j]
        a[i] = k
        err *= 1.0 - k * k
        if not (err > 0.0 and math.isfinite(err)):
            a[:] = 0.0
            return


@jit_kernel
def spectral_inputs(x, offset, n_frames, plan):
    """The DC-removed, Hamming-windowed spectral window of each frame (the rFFT input):
    float64 [n_frames, spectral_length]; frame i starts at x[offset + i * frame_shift]."""
    n = plan.spectral_length
    out = np.empty((n_frames, n), dtype=np.float64)
    for i in range(n_frames):
        start = offset + i * plan.frame_shift + plan.spectral_offset
        acc = x[start]
        for j in range(1, n):
            acc += x[start + j]
        mean = acc / n
        for j in range(n):
            out[i, j] = (x[start + j] - mean) * plan.spectral_window[j]
    return out


@jit_kernel
def analyze_frames(x, offset, n_frames, plan, spectra, previous, has_previous):
    """Unsmoothed rows (float64 [n_frames, 22], formants still 0), the LPC coefficients of the
    voiced frames ([n_frames, lpc_order], zeros elsewhere) and the last frame's normalised
    magnitude spectrum (`previous` when there are no frames)."""
    raw = np.zeros((n_frames, N_COLUMNS), dtype=np.float64)
    lpc = np.zeros((n_frames, plan.lpc_order), dtype=np.float64)
    length = plan.pitch_length
    slen = plan.spectral_length
    n_bins = plan.n_bins
    x_buf = np.empty(length, dtype=np.float64)
    sq = np.empty(length, dtype=np.float64)
    scratch = np.empty(max(length, slen, n_bins), dtype=np.float64)
    d = np.empty(plan.tau_max + 1, dtype=np.float64)
    c = np.empty(plan.tau_max + 1, dtype=np.float64)
    pulses = np.empty(length + 1, dtype=np.int64)
    s = np.empty(slen, dtype=np.float64)
    power = np.empty(n_bins, dtype=np.float64)
    norm = previous.copy()
    last = previous.copy()
    u = np.empty(slen, dtype=np.float64)
    r = np.empty(plan.lpc_order + 1, dtype=np.float64)
    prev = np.empty(plan.lpc_order, dtype=np.float64)
    for i in range(n_frames):
        start = offset + i * plan.frame_shift
        row = raw[i]
        pitch_window = x[start + plan.pitch_offset : start + plan.pitch_offset + length]
        pitch_frame(pitch_window, plan, row, x_buf, sq, scratch, d, c, pulses)
        window = x[start + plan.spectral_offset : start + plan.spectral_offset + slen]
        spectral_frame(
            window, spectra[i], plan, last, has_previous or i > 0, row, norm, s, scratch, power
        )
        last[:] = norm
        if row[C_F0] > 0:
            lpc_frame(window, plan, lpc[i], u, r, prev)
    return raw, lpc, last


@jit_kernel
def select_formants(raw, frames, freq, bw, valid, plan):
    """F1-F3 and their bandwidths into raw[frames[m], 11:17] from the roots of frame m: the
    candidates (valid: Im z > 0) in the formant range, sorted by frequency then bandwidth."""
    width = freq.shape[1]
    cand_f = np.empty(width, dtype=np.float64)
    cand_b = np.empty(width, dtype=np.float64)
    for m in range(frames.shape[0]):
        count = 0
        for j in range(width):
            f = freq[m, j]
            b = bw[m, j]
            if valid[m, j] and f > plan.min_formant_hz and f < plan.formant_max_hz:
                if b < plan.formant_max_bw_hz:
                    pos = count  # insertion sort on (frequency, bandwidth)
                    while pos > 0 and (
                        cand_f[pos - 1] > f or (cand_f[pos - 1] == f and cand_b[pos - 1] > b)
                    ):
                        cand_f[pos] = cand_f[pos - 1]
                        cand_b[pos] = cand_b[pos - 1]
                        pos -= 1
                    cand_f[pos] = f
                    cand_b[pos] = b
                    count += 1
        row = raw[frames[m]]
        for j in range(min(count, 3)):
            row[C_FORMANTS + 2 * j] = cand_f[j]
            row[C_FORMANTS + 2 * j + 1] = cand_b[j]


@jit_kernel
def smooth_f0(ctx):
    """pitch_reference.smooth_f0 of the raw F0 of frames i-2..i+2 (negative: no such frame)."""
    f0 = ctx[2]
    if not f0 > 0:
        return 0.0
    if not (ctx[1] > 0 or ctx[3] > 0):
        return 0.0
    voiced = np.empty(5, dtype=np.float64)
    count = 0
    for v in ctx:
        if v > 0:
            voiced[count] = v
            count += 1
    ordered = np.sort(voiced[:count])
    half = count // 2
    m = ordered[half] if count % 2 == 1 else (ordered[half - 1] + ordered[half]) / 2.0
    if f0 > 1.8 * m:
        return f0 / 2.0
    if f0 < 0.55 * m:
        return 2.0 * f0
    return f0


@jit_kernel
def finish_rows(raw, first, known, start, stop):
    """Output rows (float32) of frames start..stop-1 from the raw rows of frames
    first..first+len(raw)-1, of which frames below `known` exist (descriptors_reference's
    finish_row with its F0 context)."""
    out = np.empty((max(0, stop - start), N_COLUMNS), dtype=np.float32)
    ctx = np.empty(2 * LOOKAHEAD + 1, dtype=np.float64)
    for i in range(start, stop):
        for dd in range(-LOOKAHEAD, LOOKAHEAD + 1):
            j = i + dd
            ctx[dd + LOOKAHEAD] = raw[j - first, C_F0] if first <= j < known else -1.0
        row = raw[i - first]
        o = out[i - start]
        for k in range(N_COLUMNS):
            o[k] = np.float32(row[k])
        f0 = smooth_f0(ctx)
        o[C_F0] = np.float32(f0)
        if f0 <= 0.0 and row[C_F0] > 0.0:  # unvoiced by the smoothing
            o[C_JITTER] = 0.0
            o[C_SHIMMER] = 0.0
            for k in range(6):
                o[C_FORMANTS + k] = 0.0
    return out
