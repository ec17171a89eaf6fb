"""What the whole-clip pipelines (one feature vector per clip) share: the voice gate and the
predict step around their own vector."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..audio import Audio
from ..prediction import NO_SPEECH, Prediction
from ..vad import VoiceGate, frame_energy_db
from ..windows import window_starts
from . import LoadedModel

# the gate reads 25 ms / 10 ms frames, the usual speech framing, in 1.5 s windows every 0.5 s
# as the front-end models do; a clip is speech if any window is
GATE_FRAME_S, GATE_SHIFT_S = 0.025, 0.010
GATE_WINDOW, GATE_HOP = 150, 50


def clip_is_speech(m: LoadedModel, samples: np.ndarray) -> bool:
    """The model's voice gate (`m.vad`, and its learned detector when it names one) on a clip."""
    assert m.vad is not None  # callers skip the gate when it is off
    length = int(round(GATE_FRAME_S * m.sample_rate))
    shift = int(round(GATE_SHIFT_S * m.sample_rate))
    energies = frame_energy_db(samples, length, shift)
    if m.detector is None:  # the whole clip at once, as before the learned gate
        return VoiceGate(m.vad).is_speech(energies)
    gate = VoiceGate(m.vad)
    starts = window_starts(len(energies), GATE_WINDOW, GATE_HOP)
    loud = [gate.is_speech(energies[s : s + GATE_WINDOW]) for s in starts]
    if not any(loud):
        return False
    frames = m.detector.frame_features(samples)
    # the first loud window the detector confirms decides: each window's decision depends on
    # its own stretch only, so stopping there gives any() of all of them at a fraction of the cost
    for s, is_loud in zip(starts, loud):
        if not is_loud:
            continue
        last = min(s + GATE_WINDOW, len(energies)) - 1
        if m.detector.confirm([True], [(s * shift, last * shift + length)], frames)[0]:
            return True
    return False


def predict_whole_clip(
    m: LoadedModel, clip: Audio, vector: Callable[[np.ndarray], np.ndarray]
) -> Prediction:
    """Voice gate -> `vector(samples)` (the model's input before normalisation) -> the model."""
    t0 = time.perf_counter()
    speech = m.vad is None or clip_is_speech(m, clip.samples)
    t1 = time.perf_counter()
    timings = {**clip.timings, "vad": t1 - t0}
    common = m.common(clip, timings)
    if not speech:
        return Prediction.no_speech(reason=NO_SPEECH, **common)
    vec = vector(clip.samples)
    t2 = time.perf_counter()
    probs = m.score(m.normalise(vec)[None, :])
    t3 = time.perf_counter()
    timings.update(features=t2 - t1, inference=t3 - t2)
    return m.prediction(probs[0], **common)
