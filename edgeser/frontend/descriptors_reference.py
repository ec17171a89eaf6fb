"""NumPy reference of the voice descriptors: frames a signal and runs the per-window references
(`pitch_reference`, `spectral_reference`, `formant_reference`), then the F0 smoothing.

The slow, obviously-correct oracle of `csrc/descriptor_computer.cc` (same framing, same row
layout, float64 inside, float32 out). Definitions: docs/voice-descriptors.md.
"""

from __future__ import annotations

import numpy as np

from . import formant_reference, pitch_reference, spectral_reference
from .descriptor_config import COLUMN, DESCRIPTOR_NAMES, F0_LOOKAHEAD, DescriptorConfig

NAME = "numpy"
_F0, _JITTER, _SHIMMER = COLUMN["f0_hz"], COLUMN["jitter_local"], COLUMN["shimmer_local_db"]
_SPECTRAL = [COLUMN[n] for n in spectral_reference.SPECTRAL_NAMES]
_FORMANTS = [COLUMN[n] for n in ("f1_hz", "f1_bw_hz", "f2_hz", "f2_bw_hz", "f3_hz", "f3_bw_hz")]


def raw_row(
    frame: np.ndarray, previous: np.ndarray | None, cfg: DescriptorConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Unsmoothed descriptors of one analysis frame (float64 [22]) and its spectrum for the
    next frame's flux."""
    frame = np.asarray(frame, dtype=np.float64)
    pitch_window = frame[cfg.pitch_offset : cfg.pitch_offset + cfg.pitch_length]
    spectral_window = frame[cfg.spectral_offset : cfg.spectral_offset + cfg.spectral_length]
    row = np.zeros(len(DESCRIPTOR_NAMES), dtype=np.float64)
    row[:5] = pitch_reference.analyze(pitch_window, cfg)
    values, spectrum = spectral_reference.analyze(spectral_window, previous, cfg)
    row[_SPECTRAL] = values
    if row[_F0] > 0:  # formants of voiced frames only (0 elsewhere)
        row[_FORMANTS] = formant_reference.analyze(spectral_window, cfg)
    return row, spectrum


def finish_row(raw: np.ndarray, f0_context: np.ndarray) -> np.ndarray:
    """The output row (float32) of a frame from its raw row and the raw F0 of frames i-2..i+2
    (negative = no such frame), as DescriptorComputer::FinishRow."""
    out = raw.astype(np.float32)
    f0 = pitch_reference.smooth_f0(f0_context.tolist())
    out[_F0] = f0
    if f0 <= 0.0 and raw[_F0] > 0.0:  # unvoiced by the smoothing
        out[_JITTER] = out[_SHIMMER] = 0.0
        out[_FORMANTS] = 0.0
    return out


def _f0_context(raw_f0: np.ndarray, first: int, n: int, i: int) -> np.ndarray:
    ctx = np.full(2 * F0_LOOKAHEAD + 1, -1.0)
    for d in range(-F0_LOOKAHEAD, F0_LOOKAHEAD + 1):
        j = i + d
        if first <= j < n:
            ctx[d + F0_LOOKAHEAD] = raw_f0[j - first]
    return ctx


def compute(x: np.ndarray, cfg: DescriptorConfig) -> np.ndarray:
    """Descriptors of one signal: float32 [frames, 22]."""
    n = cfg.num_frames(len(x))
    out = np.zeros((n, len(DESCRIPTOR_NAMES)), dtype=np.float32)
    raw = np.zeros((n, len(DESCRIPTOR_NAMES)), dtype=np.float64)
    previous = None
    for i in range(n):
        start = i * cfg.frame_shift
        raw[i], previous = raw_row(x[start : start + cfg.analysis_length], previous, cfg)
    for i in range(n):
        out[i] = finish_row(raw[i], _f0_context(raw[:, _F0], 0, n, i))
    return out


def compute_batch(signals, cfg: DescriptorConfig, num_threads: int = 1) -> list[np.ndarray]:
    return [compute(x, cfg) for x in signals]


class DescriptorStream:
    """Streaming reference: the same rows as `compute`, two frames late, any chunking."""

    def __init__(self, cfg: DescriptorConfig):
        self.cfg = cfg
        self._pending = np.zeros(0, dtype=np.float64)  # samples from _pending_start on
        self._pending_start = 0
        self._total = 0
        self._next_frame = 0
        self._emitted = 0
        self._raw: list[np.ndarray] = []  # raw rows of frames [_raw_base, _next_frame)
        self._raw_base = 0
        self._previous: np.ndarray | None = None
        self.flushed = False

    def _analyse(self, start: int, frames: int) -> None:
        """Raw rows of frames [_next_frame, frames), the first at `start` in `_pending`."""
        cfg = self.cfg
        for k in range(frames - self._next_frame):
            a = start + k * cfg.frame_shift
            row, self._previous = raw_row(
                self._pending[a : a + cfg.analysis_length], self._previous, cfg
            )
            self._raw.append(row)

    def _emit(self, upto: int) -> np.ndarray:
        rows = []
        raw_f0 = np.array([r[_F0] for r in self._raw])
        for i in range(self._emitted, upto):
            ctx = _f0_context(raw_f0, self._raw_base, self._next_frame, i)
            rows.append(finish_row(self._raw[i - self._raw_base], ctx))
        self._emitted = max(self._emitted, upto)
        keep_from = max(self._raw_base, self._emitted - F0_LOOKAHEAD)
        del self._raw[: keep_from - self._raw_base]
        self._raw_base = keep_from
        if not rows:
            return np.zeros((0, len(DESCRIPTOR_NAMES)), dtype=np.float32)
        return np.stack(rows)

    def push(self, chunk: np.ndarray) -> np.ndarray:
        if self.flushed:
            raise RuntimeError("stream already flushed; create a new DescriptorStream")
        cfg = self.cfg
        self._pending = np.concatenate([self._pending, np.asarray(chunk, dtype=np.float64)])
        self._total += len(chunk)
        frames = cfg.num_frames(self._total)
        if frames > self._next_frame:
            self._analyse(self._next_frame * cfg.frame_shift - self._pending_start, frames)
            self._next_frame = frames
        drop = min(self._next_frame * cfg.frame_shift - self._pending_start, len(self._pending))
        self._pending = self._pending[drop:]
        self._pending_start += drop
        return self._emit(max(self._emitted, frames - F0_LOOKAHEAD))

    def flush(self) -> np.ndarray:
        if self.flushed:
            return np.zeros((0, len(DESCRIPTOR_NAMES)), dtype=np.float32)
        out = self._emit(self._next_frame)
        self.flushed = True
        return out


def make_stream(cfg: DescriptorConfig) -> DescriptorStream:
    return DescriptorStream(cfg)
