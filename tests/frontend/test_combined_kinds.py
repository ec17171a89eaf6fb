"""Combined front-end kinds ("spectrogram+log_mel", the TF-CNN's input): the parts side by side,
the spectrogram log-compressed like the mel bands, the same in every backend, batch and stream."""

from __future__ import annotations

import numpy as np
import pytest

from edgeser import frontend
from edgeser.frontend import COMBINED_KINDS, FrontendConfig

KIND = "spectrogram+log_mel"


def voice(seconds: float = 1.3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    x = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 8))
    x = 0.1 * x * (0.2 + np.sin(2 * np.pi * 3 * t) ** 2) + 1e-3 * rng.standard_normal(len(t))
    x[4000:6000] = 0.0  # digital silence: the spectrogram's log floor is reached
    return x.astype(np.float32)


@pytest.mark.parametrize("log_type", ["natural", "db"])
def test_combined_kind_is_the_log_spectrogram_then_the_log_mel_bands(log_type):
    cfg = FrontendConfig(log_type=log_type)
    x = voice()
    f = frontend.features(x, cfg, KIND)
    spec = frontend.spectrogram(x, cfg).astype(np.float64)
    floored = np.maximum(spec, cfg.log_floor)
    want = 10 * np.log10(floored) if log_type == "db" else np.log(floored)
    assert f.dtype == np.float32 and f.shape == (len(spec), cfg.feature_dim(KIND))
    assert cfg.feature_dim(KIND) == cfg.n_bins + cfg.n_mels
    np.testing.assert_allclose(f[:, : cfg.n_bins], want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(f[:, cfg.n_bins :], frontend.log_mel(x, cfg))
    assert COMBINED_KINDS[KIND] == ("spectrogram", "log_mel")


def test_every_backend_and_the_batch_give_the_same_frames():
    cfg = FrontendConfig()
    xs = [voice(1.3, 0), voice(0.4, 1), np.zeros(100, np.float32)]
    ref = [frontend.features(x, cfg, KIND, backend="numpy") for x in xs]
    for name in frontend.available_backends():
        got = frontend.features_batch(xs, cfg, KIND, num_threads=2, backend=name)
        for a, b in zip(got, ref):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)
    assert ref[2].shape == (0, cfg.n_bins + cfg.n_mels)


@pytest.mark.parametrize("chunk", [1, 160, 999, 10**6])
def test_stream_equals_offline(chunk):
    cfg = FrontendConfig()
    x = voice(1.1, 3)
    s = frontend.FrameStream(cfg, KIND)
    parts = [s.push(x[i : i + chunk]) for i in range(0, len(x), chunk)] + [s.flush()]
    got = np.concatenate(parts)
    assert s.dim == got.shape[1] == cfg.n_bins + cfg.n_mels
    np.testing.assert_array_equal(got, frontend.features(x, cfg, KIND))


def test_combined_kinds_refuse_deltas_cmvn_and_unknown_names():
    x = voice(0.3)
    with pytest.raises(ValueError, match="deltas"):
        frontend.features(x, FrontendConfig(deltas=1), KIND)
    with pytest.raises(ValueError, match="CMVN"):
        frontend.FrameStream(FrontendConfig(cmvn="mean"), KIND)
    with pytest.raises(ValueError, match="unknown feature kind"):
        frontend.features(x, FrontendConfig(), "spectrogram+mfcc")
