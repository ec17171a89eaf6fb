"""Plain NumPy reference of the front end: the slow, obviously-correct oracle for the others.

Everything is computed in float64 and returned as float32 `[frames, dims]`. The temporal
post-processing (`deltas`, `cmvn`) and the generic `SampleStream` are shared with the Numba
backend; the C++ extension has its own.
"""

from __future__ import annotations

import numpy as np

from . import filters
from .config import FrontendConfig, check_kind

NAME = "numpy"


def frames(x: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """Kaldi-style (snip-edges) frames, shape [num_frames, frame_length], float64."""
    n = cfg.num_frames(len(x))
    if n == 0:
        return np.zeros((0, cfg.frame_length), dtype=np.float64)
    idx = np.arange(n)[:, None] * cfg.frame_shift + np.arange(cfg.frame_length)[None, :]
    return np.asarray(x, dtype=np.float64)[idx]


def power_spectrum(fr: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """DC removal, in-frame pre-emphasis, window, zero-padded rFFT, |X|**power."""
    fr = np.array(fr, dtype=np.float64, copy=True)
    if cfg.remove_dc:
        fr -= fr.mean(axis=1, keepdims=True)
    if cfg.preemphasis:
        c = cfg.preemphasis
        fr[:, 1:] -= c * fr[:, :-1].copy()
        fr[:, 0] -= c * fr[:, 0]
    fr *= filters.window(cfg)[None, :]
    spec = np.abs(np.fft.rfft(fr, n=cfg.fft_size, axis=1))
    return spec**2 if cfg.power == 2.0 else spec


def log_compress(e: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    e = np.maximum(e, cfg.log_floor)
    return 10.0 * np.log10(e) if cfg.log_type == "db" else np.log(e)


def static_features(x: np.ndarray, cfg: FrontendConfig, kind: str) -> np.ndarray:
    """Per-frame features before deltas/CMVN, float64 [frames, static_dim]."""
    check_kind(kind)
    spec = power_spectrum(frames(x, cfg), cfg)
    if kind == "spectrogram":
        return spec
    lm = log_compress(spec @ filters.mel_filterbank(cfg).T, cfg)
    if kind == "log_mel":
        return lm
    return (lm @ filters.dct_matrix(cfg).T) * filters.lifter_coeffs(cfg)[None, :]


def delta(feats: np.ndarray, window: int) -> np.ndarray:
    """Regression delta over time with edge frames repeated (HTK/Kaldi formula)."""
    t = feats.shape[0]
    if t == 0:
        return np.zeros_like(feats)
    denom = 2.0 * sum(n * n for n in range(1, window + 1))
    out = np.zeros_like(feats, dtype=np.float64)
    idx = np.arange(t)
    for n in range(1, window + 1):
        ahead = feats[np.minimum(idx + n, t - 1)]
        behind = feats[np.maximum(idx - n, 0)]
        out += n * (ahead - behind)
    return out / denom


def add_deltas(static: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    parts = [np.asarray(static, dtype=np.float64)]
    for _ in range(cfg.deltas):
        parts.append(delta(parts[-1], cfg.delta_window))
    return np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]


def apply_cmvn(feats: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    if cfg.cmvn == "none" or feats.shape[0] == 0:
        return feats
    out = feats - feats.mean(axis=0, keepdims=True)
    if cfg.cmvn == "meanvar":
        out = out / np.maximum(feats.std(axis=0, keepdims=True), 1e-8)
    return out


def postprocess(static: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """Deltas then CMVN, returned as float32 C-contiguous."""
    return np.ascontiguousarray(apply_cmvn(add_deltas(static, cfg), cfg), dtype=np.float32)


def compute(x: np.ndarray, cfg: FrontendConfig, kind: str) -> np.ndarray:
    return postprocess(static_features(x, cfg, kind), cfg)


class SampleStream:
    """Streaming wrapper that reproduces the offline result exactly for any chunking.

    It keeps the samples of the unfinished frame and the last static frames needed for the
    delta context; output for frame t is emitted once frame t + deltas*delta_window exists.
    `static_fn(samples) -> float64 [frames, static_dim]` computes snip-edges frames.
    """

    def __init__(self, cfg: FrontendConfig, kind: str, static_fn=None):
        check_kind(kind)
        cfg.require_streamable()
        self.cfg, self.kind = cfg, kind
        self._static_fn = static_fn or (lambda s: static_features(s, cfg, kind))
        self._pending = np.zeros(0, dtype=np.float64)  # samples not yet consumed by a frame
        self._skip = 0  # gap samples (frame_shift > frame_length) still to arrive and drop
        self._lookahead = cfg.deltas * cfg.delta_window
        self._history = np.zeros((0, cfg.static_dim(kind)), dtype=np.float64)
        self._hist_start = 0  # absolute index of _history[0]
        self._emitted = 0  # frames emitted so far
        self._total = 0  # static frames computed so far
        self._flushed = False

    @property
    def dim(self) -> int:
        return self.cfg.feature_dim(self.kind)

    def push(self, chunk) -> np.ndarray:
        if self._flushed:
            raise RuntimeError("stream already flushed; create a new FrameStream")
        from ._input import as_signal

        chunk = as_signal(chunk, allow_empty=True)
        skipped = min(self._skip, chunk.shape[0])
        self._skip -= skipped
        buf = np.concatenate([self._pending, chunk[skipped:].astype(np.float64)])
        st = self._static_fn(buf)
        n = st.shape[0]
        consumed = n * self.cfg.frame_shift
        self._pending = buf[consumed:]
        self._skip += max(0, consumed - buf.shape[0])
        if n:
            self._history = np.concatenate([self._history, st])
            self._total += n
        return self._emit(final=False)

    def flush(self) -> np.ndarray:
        if self._flushed:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._flushed = True
        return self._emit(final=True)

    def _emit(self, final: bool) -> np.ndarray:
        last = self._total if final else self._total - self._lookahead
        if last <= self._emitted:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self.cfg.deltas == 0:
            out = self._history[self._emitted - self._hist_start : last - self._hist_start]
        else:
            # Deltas over the kept history, treating its ends as edges only where they are
            # the true utterance edges; interior context is always present in the history.
            full = add_deltas(self._history, self.cfg)
            out = full[self._emitted - self._hist_start : last - self._hist_start]
        self._emitted = last
        keep_from = max(0, self._emitted - self._lookahead)
        drop = keep_from - self._hist_start
        if drop > 0:
            self._history = self._history[drop:]
            self._hist_start = keep_from
        return np.ascontiguousarray(out, dtype=np.float32)


def compute_batch(signals, cfg: FrontendConfig, kind: str, num_threads: int = 1) -> list:
    return [compute(x, cfg, kind) for x in signals]


def make_stream(cfg: FrontendConfig, kind: str) -> SampleStream:
    return SampleStream(cfg, kind)
