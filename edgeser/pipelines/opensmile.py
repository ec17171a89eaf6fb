"""The openSMILE pipeline: one functional vector per clip -> the model -> a `Prediction`."""

from __future__ import annotations

import threading
import time

import numpy as np

from ..audio import Audio
from ..errors import BundleError
from ..feature_configs import OpenSmileFeatures
from ..opensmile_sets import make_smile
from ..prediction import NO_SPEECH, Prediction
from ..vad import VoiceGate, frame_energy_db
from . import LoadedModel

# the voice gate reads 25 ms / 10 ms frames, the usual speech framing (openSMILE's too)
GATE_FRAME_S, GATE_SHIFT_S = 0.025, 0.010


class OpenSmilePipeline:
    """Clip -> voice gate -> openSMILE functionals (`features.select` of them) -> the model.

    openSMILE's `Smile` is not re-entrant, so calls to it are serialised; the rest is shared
    freely between threads.
    """

    def __init__(self, model: LoadedModel, features: OpenSmileFeatures):
        self.model = model
        self.features = features
        self._smile = make_smile(
            features.opensmile_set, needed_by=f"{model.source}: model {model.name!r}"
        )
        self._smile_lock = threading.Lock()
        self._select = (
            None if features.select is None else np.asarray(features.select, dtype=np.intp)
        )

    def predict(self, clip: Audio) -> Prediction:
        m, f = self.model, self.features
        t0 = time.perf_counter()
        energies = frame_energy_db(
            clip.samples,
            int(round(GATE_FRAME_S * m.sample_rate)),
            int(round(GATE_SHIFT_S * m.sample_rate)),
        )
        speech = m.vad is None or VoiceGate(m.vad).is_speech(energies)
        t1 = time.perf_counter()
        timings = {**clip.timings, "vad": t1 - t0}
        common = m.common(clip, timings)
        if not speech:
            return Prediction.no_speech(reason=NO_SPEECH, **common)
        with self._smile_lock:
            table = self._smile.process_signal(clip.samples, m.sample_rate)
        vec = np.asarray(table, dtype=np.float32).reshape(-1)
        if vec.size != f.source_dim:
            raise BundleError(
                f"{m.source}: openSMILE {f.opensmile_set} gave {vec.size} "
                f"values, the bundle describes {f.source_dim}"
            )
        if self._select is not None:
            vec = vec[self._select]
        t2 = time.perf_counter()
        probs = m.score(m.normalise(vec)[None, :])
        t3 = time.perf_counter()
        timings.update(features=t2 - t1, inference=t3 - t2)
        return Prediction.from_scores(m.labels, probs[0], **common)
