"""The recognizer: audio in, `Prediction` out, for whole clips, long recordings and live streams.

For front-end models the path is: samples at the model rate -> `edgeser.frontend.features` with
the bundle's config -> (f - norm_mean) / norm_std -> `feature_windows` (the exact windows the
model was trained on) -> voice gate drops windows without speech -> model -> probabilities
averaged over the kept windows. openSMILE models read one functional vector per clip instead.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from typing import Any, Iterable

import numpy as np

from . import audio as audio_io
from . import registry
from .audio import AudioLimits
from .bundle import OPENSMILE_MEMBERS, ModelBundle
from .errors import BundleError, MissingDependencyError
from .interpreter import ModelRunner
from .prediction import NO_SPEECH, Prediction
from .vad import EnergyStream, VadConfig, VoiceGate, frame_energy_db
from .windows import feature_windows, window_starts

_WINDOWS_PER_BLOCK = 256
FEATURE_BLOCK_S = 30.0  # recordings longer than this get their features block by block
_DEFAULT_VAD = VadConfig()
_DEFAULT_LIMITS = AudioLimits()


class Recognizer:
    """A loaded model, reused across calls and safe to share between threads.

        r = Recognizer("default", num_threads=1)
        r.predict("clip.wav"); r.timeline(x, sample_rate=16000); s = r.stream(sample_rate=48000)

    model: a bundled model name, "default", a bundle path, or a `ModelBundle`.
    vad: thresholds of the voice gate, or None to score every window.
    runtime: "auto" | "litert" | "tflite_runtime" | "tensorflow".
    backend: force a front-end backend ("cpp" | "numba" | "numpy"); None picks the fastest.
    """

    def __init__(self, model: Any = "default", *, num_threads: int = 1, runtime: str = "auto",
                 vad: VadConfig | None = _DEFAULT_VAD, limits: AudioLimits = _DEFAULT_LIMITS,
                 xnnpack: bool = True, max_batch: int = 32, backend: str | None = None,
                 models_dir: str | os.PathLike | None = None):
        if vad is not None and not isinstance(vad, VadConfig):
            raise TypeError(f"vad must be a VadConfig or None, got {type(vad).__name__}")
        if not isinstance(limits, AudioLimits):
            raise TypeError(f"limits must be an AudioLimits, got {type(limits).__name__}")
        self.bundle: ModelBundle = registry.resolve(model, models_dir)
        meta = self.bundle.meta
        self.name = meta.name
        self.labels = tuple(meta.labels)
        self.sample_rate = int(meta.sample_rate)
        self.features = meta.features
        self.vad = vad
        self.limits = limits
        self.backend = backend
        self._mean = np.asarray(meta.norm_mean, dtype=np.float32)
        self._std = np.asarray(meta.norm_std, dtype=np.float32)
        self._runner = ModelRunner(self.bundle.model, runtime=runtime, num_threads=num_threads,
                                   xnnpack=xnnpack, max_batch=max_batch,
                                   source=self.bundle.source)
        expected = tuple(self.features.input_shape[1:])
        if tuple(self._runner.input.shape[1:]) != expected:
            raise BundleError(f"{self.bundle.source}: the model reads input "
                              f"{list(self._runner.input.shape)} but the metadata describes "
                              f"[n, {', '.join(map(str, expected))}]")
        if self._runner.output.shape[-1] != len(self.labels):
            raise BundleError(f"{self.bundle.source}: the model has "
                              f"{self._runner.output.shape[-1]} outputs for "
                              f"{len(self.labels)} labels")
        self._smile = self._make_opensmile() if self.features.type == "opensmile" else None
        self._select = None if self.features.select is None else \
            np.asarray(self.features.select, dtype=np.intp)
        self._smile_lock = threading.Lock()
        self._window_norm = self.features.window_norm or "none"

    # ---- public API -----------------------------------------------------------------------------
    @property
    def runtime(self) -> str:
        return self._runner.runtime

    @property
    def num_threads(self) -> int:
        return self._runner.num_threads

    @property
    def info(self) -> registry.ModelInfo:
        return registry.ModelInfo.from_bundle(self.bundle)

    def __repr__(self) -> str:
        return (f"Recognizer({self.name!r}, labels={list(self.labels)}, "
                f"quantization={self.bundle.meta.quantization!r}, runtime={self.runtime!r})")

    def load_audio(self, source: Any, sample_rate: int | None = None) -> audio_io.Audio:
        """Decode/convert and resample `source` to the model rate (see `edgeser.audio.load`)."""
        return audio_io.load(source, sample_rate, target_rate=self.sample_rate,
                             limits=self.limits)

    def predict(self, source: Any, sample_rate: int | None = None) -> Prediction:
        """The emotion of a whole clip (path, bytes, file-like, or array with `sample_rate`)."""
        clip = self.load_audio(source, sample_rate)
        if self.features.type == "opensmile":
            return self._predict_opensmile(clip)
        starts, speech, probs, timings = self._analyse(clip)
        common = self._common(clip, timings)
        if not starts:
            return Prediction.no_speech(reason=self._too_short(clip), **common)
        if probs.shape[0] == 0:
            return Prediction.no_speech(reason=NO_SPEECH, **common)
        return Prediction.from_scores(self.labels, probs.mean(axis=0), windows=probs.shape[0],
                                      **common)

    def predict_batch(self, sources: Iterable[Any],
                      sample_rate: int | None = None) -> list[Prediction]:
        """`predict` over several inputs (`sample_rate` applies to the arrays among them)."""
        return [self.predict(s, sample_rate) for s in sources]

    def timeline(self, source: Any, sample_rate: int | None = None) -> list[Prediction]:
        """One Prediction per feature window over a long recording, with start_s/end_s.

        Windows without speech come back with label None; the average of the speech windows'
        scores is what `predict` returns for the same audio.
        """
        self._require_frontend("timeline")
        clip = self.load_audio(source, sample_rate)
        starts, speech, probs, timings = self._analyse(clip)
        frames = self._num_frames(len(clip.samples))
        out, k = [], 0
        for start, is_speech in zip(starts, speech):
            span = self._span(start, frames)
            if is_speech:
                out.append(Prediction.from_scores(self.labels, probs[k], windows=1,
                                                  source=clip.source, model=self.name,
                                                  duration_s=span[1] - span[0], start_s=span[0],
                                                  end_s=span[1], warnings=clip.warnings))
                k += 1
            else:
                out.append(Prediction.no_speech(source=clip.source, model=self.name,
                                                duration_s=span[1] - span[0], start_s=span[0],
                                                end_s=span[1], warnings=clip.warnings))
        return out

    def stream(self, sample_rate: int | None = None) -> "RecognizerStream":
        """A live stream at `sample_rate` (default: the model rate); see `RecognizerStream`."""
        self._require_frontend("streaming")
        return RecognizerStream(self, sample_rate)

    # ---- front-end models -----------------------------------------------------------------------
    def _require_frontend(self, what: str) -> None:
        if self.features.type != "frontend":
            raise ValueError(f"{what} needs a model over front-end feature windows; "
                             f"{self.name!r} reads one openSMILE vector per clip (use predict)")

    def _num_frames(self, num_samples: int) -> int:
        return self.features.frontend.num_frames(num_samples)

    def _span(self, start: int, total_frames: int) -> tuple[float, float]:
        """Seconds covered by the real (unpadded) frames of the window starting at `start`."""
        cfg = self.features.frontend
        last = min(start + self.features.window_frames, total_frames) - 1
        return (start * cfg.frame_shift / self.sample_rate,
                (last * cfg.frame_shift + cfg.frame_length) / self.sample_rate)

    def normalise(self, feats: np.ndarray) -> np.ndarray:
        """(features - norm_mean) / norm_std with the bundle's training statistics."""
        return ((feats - self._mean) / self._std).astype(np.float32, copy=False)

    def frame_features(self, samples: np.ndarray) -> np.ndarray:
        """Normalised front-end features [frames, dim] of samples at the model rate.

        Long recordings go through the front end's `FrameStream` a block at a time (same
        numbers as one offline call) so memory does not grow with the backend's intermediates.
        """
        from . import frontend

        f = self.features
        block = int(FEATURE_BLOCK_S * self.sample_rate)
        if len(samples) <= block or f.frontend.cmvn != "none":  # CMVN needs the whole clip
            return self.normalise(frontend.features(samples, f.frontend, f.kind,
                                                    backend=self.backend))
        stream = frontend.FrameStream(f.frontend, f.kind, backend=self.backend)
        parts = [stream.push(samples[i:i + block]) for i in range(0, len(samples), block)]
        parts.append(stream.flush())
        return self.normalise(np.concatenate(parts))

    def speech_windows(self, energies_db: np.ndarray, starts: list[int]) -> list[bool]:
        """Voice-gate decision per window (all True when the gate is off)."""
        if self.vad is None:
            return [True] * len(starts)
        gate = VoiceGate(self.vad)
        w = self.features.window_frames
        return [gate.is_speech(energies_db[s:s + w]) for s in starts]

    def score_windows(self, windows: np.ndarray) -> np.ndarray:
        """[n, window_frames, dim] normalised windows -> [n, classes] probabilities."""
        return self._runner.run(windows)

    def score_starts(self, feats: np.ndarray, starts: list[int]) -> np.ndarray:
        """Probabilities of the windows of `feats` starting at `starts`, [len(starts), classes].

        Each window is cut by `feature_windows` (zero-padded past the end, as in training), a
        block at a time so a long recording never holds all its windows in memory at once.
        """
        w = self.features.window_frames
        out = [np.zeros((0, len(self.labels)))]
        for b in range(0, len(starts), _WINDOWS_PER_BLOCK):
            block = starts[b:b + _WINDOWS_PER_BLOCK]
            windows = np.concatenate([feature_windows(feats[s:s + w], w, w, self._window_norm)
                                      for s in block])
            out.append(self.score_windows(windows))
        return np.concatenate(out)

    def _analyse(self, clip: audio_io.Audio):
        """(window starts, speech flags, probabilities of the speech windows, timings)."""
        cfg = self.features.frontend
        t0 = time.perf_counter()
        feats = self.frame_features(clip.samples)
        t1 = time.perf_counter()
        energies = (None if self.vad is None else
                    frame_energy_db(clip.samples, cfg.frame_length, cfg.frame_shift))
        starts = window_starts(feats.shape[0], self.features.window_frames,
                               self.features.hop_frames)
        speech = self.speech_windows(energies, starts)
        t2 = time.perf_counter()
        probs = self.score_starts(feats, [s for s, sp in zip(starts, speech) if sp])
        t3 = time.perf_counter()
        timings = {**clip.timings, "features": t1 - t0, "vad": t2 - t1, "inference": t3 - t2}
        return starts, speech, probs, timings

    def _common(self, clip: audio_io.Audio, timings: dict[str, float]) -> dict[str, Any]:
        return dict(source=clip.source, model=self.name, duration_s=clip.duration_s,
                    start_s=0.0, end_s=clip.duration_s, timings=timings, warnings=clip.warnings)

    def _too_short(self, clip: audio_io.Audio) -> str:
        cfg = self.features.frontend
        return (f"audio too short to analyse ({clip.duration_s:.3f} s, less than one "
                f"{cfg.frame_length_ms:g} ms frame)")

    # ---- openSMILE models -----------------------------------------------------------------------
    def _make_opensmile(self):
        try:
            import opensmile
        except ImportError:
            raise MissingDependencyError(
                f"{self.bundle.source}: model {self.name!r} reads openSMILE features and the "
                "opensmile package is not installed: pip install edgeser[opensmile]") from None
        member = OPENSMILE_MEMBERS[self.features.opensmile_set]
        return opensmile.Smile(feature_set=opensmile.FeatureSet[member],
                               feature_level=opensmile.FeatureLevel.Functionals)

    def _predict_opensmile(self, clip: audio_io.Audio) -> Prediction:
        t0 = time.perf_counter()
        energies = frame_energy_db(clip.samples, int(round(0.025 * self.sample_rate)),
                                   int(round(0.010 * self.sample_rate)))
        speech = self.vad is None or VoiceGate(self.vad).is_speech(energies)
        t1 = time.perf_counter()
        timings = {**clip.timings, "vad": t1 - t0}
        common = self._common(clip, timings)
        if not speech:
            return Prediction.no_speech(reason=NO_SPEECH, **common)
        with self._smile_lock:
            table = self._smile.process_signal(clip.samples, self.sample_rate)
        vec = np.asarray(table, dtype=np.float32).reshape(-1)
        f = self.features
        if vec.size != f.source_dim:
            raise BundleError(f"{self.bundle.source}: openSMILE {f.opensmile_set} gave "
                              f"{vec.size} values, the bundle describes {f.source_dim}")
        if self._select is not None:
            vec = vec[self._select]
        t2 = time.perf_counter()
        probs = self.score_windows(self.normalise(vec)[None, :])
        t3 = time.perf_counter()
        timings.update(features=t2 - t1, inference=t3 - t2)
        return Prediction.from_scores(self.labels, probs[0], **common)


class RecognizerStream:
    """Live recognition: `push(chunk)` returns the Predictions completed so far, `flush()` the rest.

    A Prediction is emitted every `hop_frames` frames once a full window is available; `flush()`
    adds what `Recognizer.timeline` gives for the end (the end-aligned last window, or the one
    zero-padded window of a short recording). At the model rate the emitted windows and scores
    equal `timeline()` on the concatenated audio; at another rate the audio is resampled with a
    streaming resampler (soxr ResampleStream), whose output differs slightly from one-shot
    resampling, so scores agree only approximately. Each prediction carries the level warnings
    (clipping, samples beyond full scale) of the audio its own window covers. Not thread-safe:
    one producer per stream.
    """

    def __init__(self, recognizer: Recognizer, sample_rate: int | None = None):
        from .frontend import FrameStream

        rec = recognizer
        self.recognizer = rec
        self.sample_rate = rec.sample_rate if sample_rate is None else \
            audio_io.check_sample_rate(sample_rate)
        cfg = rec.features.frontend
        self._resampler = None
        if self.sample_rate != rec.sample_rate:
            import soxr

            self._resampler = soxr.ResampleStream(self.sample_rate, rec.sample_rate, 1,
                                                  dtype="float32", quality="HQ")
        self._frames = FrameStream(cfg, rec.features.kind, backend=rec.backend)
        self._energy = EnergyStream(cfg.frame_length, cfg.frame_shift)
        self._gate = VoiceGate(rec.vad) if rec.vad is not None else None
        self._window = rec.features.window_frames
        self._hop = rec.features.hop_frames
        self._feats = np.zeros((0, rec.features.dim), dtype=np.float32)
        self._energies = np.zeros(0, dtype=np.float64)
        self._offset = 0  # absolute frame index of _feats[0] and _energies[0]
        self._total = 0  # feature frames received
        self._next_start = 0
        self._samples_in = 0
        self._flushed = False
        # Input-rate positions and |values| of samples at or over full scale (usually none),
        # for per-window level warnings as `predict` gives for a whole clip.
        self._hot = np.zeros(0, dtype=np.int64)
        self._hot_mag = np.zeros(0, dtype=np.float32)

    @property
    def duration_s(self) -> float:
        """Seconds of audio pushed so far."""
        return self._samples_in / float(self.sample_rate)

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
        feats = self._frames.push(x) if x.size else np.zeros((0, self._feats.shape[1]),
                                                               dtype=np.float32)
        energies = self._energy.push(x)
        if final:
            feats = np.concatenate([feats, self._frames.flush()])
        if feats.shape[0]:
            self._feats = np.concatenate([self._feats, self.recognizer.normalise(feats)])
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
            self._feats = self._feats[keep_from - self._offset:]
            self._energies = self._energies[keep_from - self._offset:]
            self._offset = keep_from
            rec = self.recognizer
            kept_s = keep_from * rec.features.frontend.frame_shift / rec.sample_rate
            done = int(np.searchsorted(self._hot, int(kept_s * self.sample_rate)))
            if done:  # no window to come starts before kept_s
                self._hot, self._hot_mag = self._hot[done:], self._hot_mag[done:]
        return out

    def _level_warnings(self, a_s: float, b_s: float) -> tuple[str, ...]:
        i0 = int(a_s * self.sample_rate)
        i1 = max(i0, min(self._samples_in, int(np.ceil(b_s * self.sample_rate))))
        lo, hi = np.searchsorted(self._hot, [i0, i1])
        peak = float(self._hot_mag[lo:hi].max()) if hi > lo else 0.0
        return audio_io.level_warnings_for(peak, int(hi - lo), i1 - i0, self.recognizer.limits)

    def _score(self, starts: list[int]) -> list[Prediction]:
        if not starts:
            return []
        rec, w, o = self.recognizer, self._window, self._offset
        speech = [self._gate.is_speech(self._energies[s - o:s - o + w])
                  if self._gate is not None else True for s in starts]
        keep = [s - o for s, sp in zip(starts, speech) if sp]
        t0 = time.perf_counter()
        probs = rec.score_starts(self._feats, keep)
        dt = time.perf_counter() - t0
        out, k = [], 0
        for s, is_speech in zip(starts, speech):
            a, b = rec._span(s, self._total)
            kw = dict(source="<stream>", model=rec.name, start_s=a, end_s=b, duration_s=b - a,
                      warnings=self._level_warnings(a, b))
            if is_speech:
                out.append(Prediction.from_scores(rec.labels, probs[k], windows=1,
                                                  timings={"inference": dt / len(keep)}, **kw))
                k += 1
            else:
                out.append(Prediction.no_speech(**kw))
        return out


# ---- module-level helpers (the `edgeser.predict` shortcut) ------------------------------------
@functools.lru_cache(maxsize=8)
def _shared_recognizer(model: str, num_threads: int, models_dir: str) -> Recognizer:
    return Recognizer(model, num_threads=num_threads, models_dir=models_dir)


def shared_recognizer(model: Any = "default", num_threads: int = 1) -> Recognizer:
    """A cached Recognizer per (model, threads, models folder), loaded on first use."""
    key = os.fspath(model) if isinstance(model, os.PathLike) else model
    if not isinstance(key, str):
        return Recognizer(model, num_threads=num_threads)
    return _shared_recognizer(key, num_threads, str(registry.models_dir()))


def predict(source: Any, sample_rate: int | None = None, *, model: Any = "default",
            num_threads: int = 1) -> Prediction:
    """One-call recognition with a cached Recognizer: `edgeser.predict("clip.wav")`."""
    return shared_recognizer(model, num_threads).predict(source, sample_rate)


def load_model(path: Any, **kwargs: Any) -> Recognizer:
    """A Recognizer for a bundle file exported by `train` (or any model name)."""
    return Recognizer(path, **kwargs)
