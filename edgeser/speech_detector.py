"""The learned voice gate: a tiny 2-class model deciding whether a stretch of audio is speech.

The loudness gate (`edgeser.vad`) keeps what is loud and moves like speech; music, sirens,
clicks and tones do too. A model names the detector it was meant to run behind
(`BundleMeta.speech_detector`); the detector is itself a bundle (labels non_speech, speech)
over front-end windows, run on its own front-end frames of the same audio. A stretch (one
emotion window, or a whole clip) is speech when the mean speech probability of the detector
windows inside it reaches the threshold. Decisions depend only on the audio of the stretch, so
a stream and an offline call agree.
"""

from __future__ import annotations

import numpy as np

from .bundle import ModelBundle
from .errors import BundleError
from .feature_configs import FrontendFeatures
from .interpreter import ModelRunner
from .windows import standardise, window_starts

SPEECH_LABEL = "speech"
DEFAULT_SPEECH_DETECTOR = "speech-gate-int8"  # the gate shipped in edgeser/models/detectors


class SpeechDetector:
    """A loaded speech-detector bundle; thread-safe like `ModelRunner`."""

    def __init__(
        self,
        bundle: ModelBundle,
        *,
        threshold: float = 0.5,
        runtime: str = "auto",
        num_threads: int = 1,
        backend: str | None = None,
    ):
        meta, f = bundle.meta, bundle.meta.features
        if not isinstance(f, FrontendFeatures) or SPEECH_LABEL not in meta.labels:
            raise BundleError(
                f"{bundle.source}: not a speech detector (needs front-end features and a "
                f"{SPEECH_LABEL!r} label)"
            )
        if f.frontend.deltas:
            raise BundleError(
                f"{bundle.source}: a speech detector over delta features would lag a stream"
            )
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"speech threshold must be in (0, 1), got {threshold!r}")
        self.name = meta.name
        self.features = f
        self.sample_rate = meta.sample_rate
        self.threshold = float(threshold)
        self.backend = backend
        self._speech = meta.labels.index(SPEECH_LABEL)
        self._mean = np.asarray(meta.norm_mean, dtype=np.float32)
        self._std = np.asarray(meta.norm_std, dtype=np.float32)
        self._runner = ModelRunner(
            bundle.model, runtime=runtime, num_threads=num_threads, source=bundle.source
        )
        if tuple(self._runner.input.shape[1:]) != tuple(f.input_shape[1:]):
            raise BundleError(f"{bundle.source}: model input does not match its metadata")

    # ---- frames ---------------------------------------------------------------------------------
    def frame_features(self, samples: np.ndarray) -> np.ndarray:
        """The detector's own (raw) front-end frames of samples at its rate."""
        from . import frontend

        return frontend.features(
            samples, self.features.frontend, self.features.kind, backend=self.backend
        )

    def frame_stream(self):
        """A `FrameStream` giving the frames of `frame_features` chunk by chunk."""
        from .frontend import FrameStream

        return FrameStream(self.features.frontend, self.features.kind, backend=self.backend)

    def frame_range(self, first_sample: int, end_sample: int) -> tuple[int, int]:
        """Indices [i0, i1) of the detector frames lying inside samples [first, end)."""
        cfg = self.features.frontend
        i0 = -(-first_sample // cfg.frame_shift)
        i1 = max(i0 + 1, (end_sample - cfg.frame_length) // cfg.frame_shift + 1)
        return i0, i1

    # ---- decisions ------------------------------------------------------------------------------
    def confirm(
        self,
        loud: list[bool],
        spans: list[tuple[int, int]],
        frames: np.ndarray,
        offset: int = 0,
    ) -> list[bool]:
        """The loudness gate's decisions `loud`, each True one kept only if the detector calls
        its stretch (`spans`: [first, end) samples) speech; `frames` are the detector frames
        from index `offset` on. Overlapping stretches share their detector windows, which are
        scored once."""
        keep = [k for k, is_loud in enumerate(loud) if is_loud]
        ranges = []
        for k in keep:
            i0, i1 = self.frame_range(*spans[k])
            i0, i1 = max(0, i0 - offset), min(len(frames), max(0, i1 - offset))
            ranges.append((i0, max(i0, i1)))
        probs = self._mean_probabilities(ranges, frames)
        out = list(loud)
        for k, p in zip(keep, probs):
            out[k] = bool(p >= self.threshold)
        return out

    def _normalise(self, frames: np.ndarray) -> np.ndarray:
        return standardise(frames, self._mean, self._std)

    def _mean_probabilities(self, ranges: list[tuple[int, int]], frames: np.ndarray) -> np.ndarray:
        """Mean speech probability over the detector windows of each frame range [i0, i1) of
        `frames` (0 for an empty range). A window is keyed by (start, length), so windows
        shared by overlapping ranges are scored once."""
        f = self.features
        keys: dict[tuple[int, int], int] = {}
        members: list[list[int]] = []
        for i0, i1 in ranges:
            n = i1 - i0
            if n <= 0:
                members.append([])
                continue
            if n <= f.window_frames:  # one (zero-padded) window, as feature_windows cuts it
                starts, length = [0], n
            else:
                starts, length = window_starts(n, f.window_frames, f.hop_frames), f.window_frames
            members.append([keys.setdefault((i0 + s, length), len(keys)) for s in starts])
        out = np.zeros(len(ranges))
        if not keys:
            return out
        w = f.window_frames
        order = list(keys)  # dicts keep insertion order: index = position
        wins = np.empty((len(order), w, frames.shape[1]), np.float32)
        full = [k for k, (_, length) in enumerate(order) if length == w]
        if full:  # normalised once over their span, then cut together
            lo = min(order[k][0] for k in full)
            hi = max(order[k][0] for k in full) + w
            z = self._normalise(frames[lo:hi])
            wins[full] = f.windows(z, self._std, starts=[order[k][0] - lo for k in full])
        for k, (start, length) in enumerate(order):
            if length != w:  # a range shorter than one window: zero-padded past its end
                wins[k] = f.windows(self._normalise(frames[start : start + length]), self._std)[0]
        p = self._runner.run(wins)[:, self._speech]
        for k, idx in enumerate(members):
            if idx:
                out[k] = float(np.mean(p[idx]))
        return out
