"""Live recognition over a front-end pipeline: push chunks, get a `Prediction` per window."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from . import audio as audio_io
from .pipelines.frontend import FrontendPipeline
from .prediction import Prediction
from .vad import EnergyStream


class RecognizerStream:
    """Live recognition: `push(chunk)` returns the Predictions completed so far, `flush()` the rest.

    A Prediction is emitted every `hop_frames` frames once a full window is available; `flush()`
    adds what `Recognizer.timeline` gives for the end (the end-aligned last window, or the one
    zero-padded window of a short recording). At the model rate the emitted windows and scores
    equal `timeline()` on the concatenated audio; at another rate the audio is resampled with a
    streaming resampler (soxr ResampleStream), whose output differs slightly from one-shot
    resampling, so scores agree only approximately. Each prediction carries the level warnings
    (clipping, samples beyond full scale) of the audio its own window covers. Not thread-safe:
    one producer per stream. Made by `Recognizer.stream()`.
    """

    def __init__(self, pipeline: FrontendPipeline, sample_rate: int | None = None):
        from .frontend import FrameStream

        self._pipeline = pipeline
        model, features = pipeline.model, pipeline.features
        self.sample_rate = (
            model.sample_rate if sample_rate is None else audio_io.check_sample_rate(sample_rate)
        )
        cfg = features.frontend
        self._resampler = None
        if self.sample_rate != model.sample_rate:
            import soxr

            self._resampler = soxr.ResampleStream(
                self.sample_rate, model.sample_rate, 1, dtype="float32", quality="HQ"
            )
        self._frames = FrameStream(cfg, features.kind, backend=pipeline.backend)
        self._energy = EnergyStream(cfg.frame_length, cfg.frame_shift)
        self._gate = pipeline.new_gate()
        det = model.detector if self._gate is not None else None
        self._det_shared = det is not None and pipeline.detector_shares_frames
        self._det_stream = None if det is None or self._det_shared else det.frame_stream()
        self._det_shift = 1 if det is None else det.features.frontend.frame_shift
        self._det_frames = np.zeros((0, 0 if det is None else det.features.dim), np.float32)
        self._det_offset = 0  # absolute index of _det_frames[0]
        self._window = features.window_frames
        self._hop = features.hop_frames
        self._feats = np.zeros((0, features.dim), dtype=np.float32)
        self._energies = np.zeros(0, dtype=np.float64)
        self._offset = 0  # absolute frame index of _feats[0] and _energies[0]
        self._total = 0  # feature frames received
        self._next_start = 0
        self._samples_in = 0
        self._outputs_sum = np.zeros(model.output_dim)  # of the speech windows scored so far
        self._speech_windows = 0
        self._flushed = False
        # Input-rate positions and |values| of samples at or over full scale (usually none),
        # for per-window level warnings as `predict` gives for a whole clip.
        self._hot = np.zeros(0, dtype=np.int64)
        self._hot_mag = np.zeros(0, dtype=np.float32)

    @property
    def duration_s(self) -> float:
        """Seconds of audio pushed so far."""
        return self._samples_in / float(self.sample_rate)

    def utterance(self) -> Prediction:
        """The whole stream so far as one Prediction: the model outputs of every speech window
        emitted, averaged, as `predict` does for a clip (after `flush()`, the same windows as
        `predict` on the concatenated audio at the model rate)."""
        model = self._pipeline.model
        d = self.duration_s
        common: dict[str, Any] = dict(
            source="<stream>", model=model.name, start_s=0.0, end_s=d, duration_s=d
        )
        if not self._speech_windows:
            return Prediction.no_speech(**common)
        mean = self._outputs_sum / self._speech_windows
        return model.prediction(mean, windows=self._speech_windows, **common)

    def push(self, chunk: Any) -> list[Prediction]:
        if self._flushed:
            raise RuntimeError("stream already flushed; start a new one with Recognizer.stream()")
        arr = np.asarray(chunk)
        if arr.size == 0:
            return []
        x = audio_io.to_mono_float(arr, "<stream chunk>")
        mag = np.abs(x)
        hot = np.flatnonzero(mag >= audio_io.FULL_SCALE)
        if hot.size:
            self._hot = np.concatenate([self._hot, hot + self._samples_in])
            self._hot_mag = np.concatenate([self._hot_mag, mag[hot]])
        self._samples_in += len(x)
        if self._resampler is not None:
            x = np.asarray(self._resampler.resample_chunk(x, last=False), dtype=np.float32)
        return self._consume(x, final=False)

    def flush(self) -> list[Prediction]:
        """End of the audio: emit the remaining window(s), as `timeline()` would."""
        if self._flushed:
            return []
        tail = np.zeros(0, dtype=np.float32)
        if self._resampler is not None:
            tail = np.asarray(self._resampler.resample_chunk(tail, last=True), dtype=np.float32)
        out = self._consume(tail, final=True)
        self._flushed = True
        return out

    def _consume(self, x: np.ndarray, final: bool) -> list[Prediction]:
        feats = (
            self._frames.push(x)
            if x.size
            else np.zeros((0, self._feats.shape[1]), dtype=np.float32)
        )
        energies = self._energy.push(x)
        if self._det_stream is not None:
            parts = [self._det_stream.push(x)] if x.size else []
            if final:
                parts.append(self._det_stream.flush())
            if parts:
                self._det_frames = np.concatenate([self._det_frames, *parts])
        if final:
            feats = np.concatenate([feats, self._frames.flush()])
        if self._det_shared and feats.shape[0]:  # the gate reads the model's own raw frames
            shared = self._pipeline.shared_detector_frames(feats)
            self._det_frames = np.concatenate([self._det_frames, shared])
        if feats.shape[0]:
            self._feats = np.concatenate([self._feats, self._pipeline.model.normalise(feats)])
            self._total += feats.shape[0]
        if energies.size:
            self._energies = np.concatenate([self._energies, energies])
        starts = []
        while self._next_start + self._window <= self._total:
            starts.append(self._next_start)
            self._next_start += self._hop
        if final and self._total > 0:  # the remainder, exactly as window_starts() places it
            if self._next_start == 0:  # shorter than a window: one zero-padded window
                starts.append(0)
            elif self._next_start - self._hop + self._window < self._total:
                starts.append(self._total - self._window)  # end-aligned last window
        out = self._score(starts)
        keep_from = max(0, self._next_start - self._hop)
        if keep_from > self._offset:
            self._feats = self._feats[keep_from - self._offset :]
            self._energies = self._energies[keep_from - self._offset :]
            self._offset = keep_from
            p = self._pipeline
            det_keep = keep_from * p.features.frontend.frame_shift // self._det_shift
            if det_keep > self._det_offset:  # no later window reads a detector frame before it
                self._det_frames = self._det_frames[det_keep - self._det_offset :]
                self._det_offset = det_keep
            kept_s = keep_from * p.features.frontend.frame_shift / p.model.sample_rate
            done = int(np.searchsorted(self._hot, int(kept_s * self.sample_rate)))
            if done:  # no window to come starts before kept_s
                self._hot, self._hot_mag = self._hot[done:], self._hot_mag[done:]
        return out

    def _level_warnings(self, a_s: float, b_s: float) -> tuple[str, ...]:
        i0 = int(a_s * self.sample_rate)
        i1 = max(i0, min(self._samples_in, int(np.ceil(b_s * self.sample_rate))))
        lo, hi = np.searchsorted(self._hot, [i0, i1])
        peak = float(self._hot_mag[lo:hi].max()) if hi > lo else 0.0
        return audio_io.level_warnings_for(peak, int(hi - lo), i1 - i0, self._pipeline.model.limits)

    def _score(self, starts: list[int]) -> list[Prediction]:
        if not starts:
            return []
        p, o = self._pipeline, self._offset
        speech = p.speech_flags(
            self._gate,
            self._energies,
            starts,
            self._total,
            self._det_frames if (self._det_stream is not None or self._det_shared) else None,
            offset=o,
            detector_offset=self._det_offset,
        )
        keep = [s - o for s, sp in zip(starts, speech) if sp]
        t0 = time.perf_counter()
        probs = p.score_starts(self._feats, keep)
        dt = time.perf_counter() - t0
        self._outputs_sum += probs.sum(axis=0)
        self._speech_windows += len(keep)
        out, k = [], 0
        for s, is_speech in zip(starts, speech):
            a, b = p.span(s, self._total)
            kw: dict[str, Any] = dict(
                source="<stream>",
                model=p.model.name,
                start_s=a,
                end_s=b,
                duration_s=b - a,
                warnings=self._level_warnings(a, b),
            )
            if is_speech:
                out.append(
                    p.model.prediction(
                        probs[k], windows=1, timings={"inference": dt / len(keep)}, **kw
                    )
                )
                k += 1
            else:
                out.append(Prediction.no_speech(**kw))
        return out
