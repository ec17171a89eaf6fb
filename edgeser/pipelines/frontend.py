"""The front-end pipeline: samples -> features -> windows -> voice gate -> model -> `Prediction`.

Samples at the model rate go through `edgeser.frontend.features` with the bundle's config, are
normalised with the training statistics, cut by `feature_windows` into the exact windows the
model was trained on, windows without speech are dropped by the voice gate, and the model's
probabilities are averaged over the kept windows. `edgeser.stream` reuses these steps live.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import Any

import numpy as np

from ..audio import Audio
from ..feature_configs import FrontendFeatures
from ..prediction import NO_SPEECH, Prediction
from ..vad import VoiceGate, frame_energy_db
from ..windows import window_starts
from . import LoadedModel

WINDOWS_PER_BLOCK = 256  # windows scored at once: memory stays flat on long recordings
FEATURE_BLOCK_S = 30.0  # recordings longer than this get their features block by block


class FrontendPipeline:
    """Front-end features in fixed windows (`FrontendFeatures`): whole clips and timelines."""

    def __init__(self, model: LoadedModel, features: FrontendFeatures, backend: str | None = None):
        self.model = model
        self.features = features
        self.backend = backend

    # ---- whole clips ------------------------------------------------------------------------
    def predict(self, clip: Audio) -> Prediction:
        starts, _, probs, timings = self._analyse(clip)
        common = self.model.common(clip, timings)
        if not starts:
            return Prediction.no_speech(reason=self._too_short(clip), **common)
        if probs.shape[0] == 0:
            return Prediction.no_speech(reason=NO_SPEECH, **common)
        return self.model.prediction(probs.mean(axis=0), windows=probs.shape[0], **common)

    def timeline(self, clip: Audio) -> list[Prediction]:
        """One Prediction per window (label None where the gate found no speech)."""
        starts, speech, probs, _ = self._analyse(clip)
        frames = self.features.frontend.num_frames(len(clip.samples))
        m, out, k = self.model, [], 0
        for start, is_speech in zip(starts, speech):
            a, b = self.span(start, frames)
            kw: dict[str, Any] = dict(
                source=clip.source,
                model=m.name,
                duration_s=b - a,
                start_s=a,
                end_s=b,
                warnings=clip.warnings,
            )
            if is_speech:
                out.append(m.prediction(probs[k], windows=1, **kw))
                k += 1
            else:
                out.append(Prediction.no_speech(**kw))
        return out

    # ---- steps (shared with the stream) ---------------------------------------------------------
    def span(self, start: int, total_frames: int) -> tuple[float, float]:
        """Seconds covered by the real (unpadded) frames of the window starting at `start`."""
        first, end = self.sample_span(start, total_frames)
        return first / self.model.sample_rate, end / self.model.sample_rate

    def frame_features(self, samples: np.ndarray) -> np.ndarray:
        """Normalised front-end features [frames, dim] of samples at the model rate."""
        return self.model.normalise(self.raw_features(samples))

    def raw_features(self, samples: np.ndarray) -> np.ndarray:
        """Front-end features [frames, dim] before the training normalisation.

        Long recordings go through the front end's `FrameStream` a block at a time (same
        numbers as one offline call) so memory does not grow with the backend's intermediates.
        """
        from .. import frontend

        f = self.features
        block = int(FEATURE_BLOCK_S * self.model.sample_rate)
        if len(samples) <= block or not f.frontend.streamable:  # CMVN needs the whole clip
            return frontend.features(samples, f.frontend, f.kind, backend=self.backend)
        stream = frontend.FrameStream(f.frontend, f.kind, backend=self.backend)
        parts = [stream.push(samples[i : i + block]) for i in range(0, len(samples), block)]
        parts.append(stream.flush())
        return np.concatenate(parts)

    @property
    def detector_shares_frames(self) -> bool:
        """Whether the learned gate reads the model's own frames (see `detector_frame_floor`),
        so they are computed once."""
        return self.detector_frame_floor is not None

    @functools.cached_property
    def detector_frame_floor(self) -> np.ndarray | None:
        """How the learned gate's frames follow from the model's raw frames: None when they
        do not (the gate runs its own front end), else the per-dimension floor to raise them
        to (-inf: the same config). A model whose front end differs only by a lower
        `log_floor` (a level-invariant model's 1e-20 against the gate's 1e-10) has frames
        log(max(p, 1e-20)); raising them to the gate's floor value log(1e-10), read from the
        gate's own front end on silence, gives its log(max(p, 1e-10)) exactly."""
        det = self.model.detector
        if det is None or det.features.kind != self.features.kind:
            return None
        mine, theirs = self.features.frontend, det.features.frontend
        if mine == theirs:
            return np.full(det.features.dim, -np.inf, np.float32)
        if (
            self.features.kind == "mfcc"  # the DCT mixes bands: a floor does not carry over
            or theirs.deltas
            or theirs.cmvn != "none"
            or mine.log_floor > theirs.log_floor
            or dataclasses.replace(mine, log_floor=theirs.log_floor) != theirs
        ):
            return None
        from .. import frontend

        silence = np.zeros(theirs.frame_length, np.float32)
        floor = frontend.features(silence, theirs, det.features.kind, backend=self.backend)[0]
        return np.ascontiguousarray(floor, dtype=np.float32)

    def shared_detector_frames(self, raw: np.ndarray) -> np.ndarray:
        """The learned gate's frames made from the model's raw frames (`detector_frame_floor`
        must not be None)."""
        floor = self.detector_frame_floor
        assert floor is not None
        return raw if np.isneginf(floor).all() else np.maximum(raw, floor)

    def is_speech(self, gate: VoiceGate | None, energies_db: np.ndarray | None, start: int) -> bool:
        """The gate's decision on the window starting at `start` (True when the gate is off)."""
        if gate is None or energies_db is None:
            return True
        return gate.is_speech(energies_db[start : start + self.features.window_frames])

    def score_starts(self, feats: np.ndarray, starts: list[int]) -> np.ndarray:
        """Model outputs of the windows of `feats` starting at `starts`, [len(starts), outputs].

        Each window is cut by `feature_windows` (zero-padded past the end, as in training), a
        block at a time so a long recording never holds all its windows in memory at once.
        """
        f = self.features
        out = [np.zeros((0, self.model.output_dim))]
        for b in range(0, len(starts), WINDOWS_PER_BLOCK):
            block = starts[b : b + WINDOWS_PER_BLOCK]
            windows = f.windows(feats, self.model.norm_std, starts=block)
            out.append(self.model.score(windows))
        return np.concatenate(out)

    def sample_span(self, start: int, total_frames: int) -> tuple[int, int]:
        """Samples [first, end) of the real frames of the window starting at `start`."""
        cfg = self.features.frontend
        last = min(start + self.features.window_frames, total_frames) - 1
        return start * cfg.frame_shift, last * cfg.frame_shift + cfg.frame_length

    def speech_flags(
        self,
        gate: VoiceGate | None,
        energies_db: np.ndarray | None,
        starts: list[int],
        total_frames: int,
        detector_frames: np.ndarray | None,
        offset: int = 0,
        detector_offset: int = 0,
    ) -> list[bool]:
        """Speech decision per window: the loudness gate, then the learned gate (if any) on
        the windows it kept. `offset`: absolute frame index of energies_db[0]."""
        loud = [self.is_speech(gate, energies_db, s - offset) for s in starts]
        det = self.model.detector
        if det is None or detector_frames is None or not any(loud):
            return loud
        spans = [self.sample_span(s, total_frames) for s in starts]
        return det.confirm(loud, spans, detector_frames, detector_offset)

    def detector_frames(self, samples: np.ndarray) -> np.ndarray | None:
        """The learned gate's frames of a whole clip (None without a learned gate)."""
        det = self.model.detector
        return None if det is None else det.frame_features(samples)

    def new_gate(self) -> VoiceGate | None:
        """A fresh voice gate for one clip or stream (None when the gate is off)."""
        return None if self.model.vad is None else VoiceGate(self.model.vad)

    def _analyse(self, clip: Audio):
        """(window starts, speech flags, probabilities of the speech windows, timings)."""
        cfg = self.features.frontend
        t0 = time.perf_counter()
        raw = self.raw_features(clip.samples)
        feats = self.model.normalise(raw)
        t1 = time.perf_counter()
        gate = self.new_gate()
        energies = (
            None
            if gate is None
            else frame_energy_db(clip.samples, cfg.frame_length, cfg.frame_shift)
        )
        starts = window_starts(
            feats.shape[0], self.features.window_frames, self.features.hop_frames
        )
        det_frames = None
        if gate is not None:
            det_frames = (
                self.shared_detector_frames(raw)
                if self.detector_shares_frames
                else self.detector_frames(clip.samples)
            )
        speech = self.speech_flags(gate, energies, starts, feats.shape[0], det_frames)
        t2 = time.perf_counter()
        probs = self.score_starts(feats, [s for s, sp in zip(starts, speech) if sp])
        t3 = time.perf_counter()
        timings = {**clip.timings, "features": t1 - t0, "vad": t2 - t1, "inference": t3 - t2}
        return starts, speech, probs, timings

    def _too_short(self, clip: Audio) -> str:
        cfg = self.features.frontend
        return (
            f"audio too short to analyse ({clip.duration_s:.3f} s, less than one "
            f"{cfg.frame_length_ms:g} ms frame)"
        )
