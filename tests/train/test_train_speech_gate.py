"""Training data of the learned voice gate (`train.speech_gate`): noise copies and config."""

from __future__ import annotations

import numpy as np
import pytest
from train_support import tone, write_wav

from train import augment as aug
from train import speech_gate as sg

SR = 16000


@pytest.fixture(scope="module")
def bank(tmp_path_factory):
    root = tmp_path_factory.mktemp("noise")
    rng = np.random.default_rng(0)
    for i in range(4):
        write_wav(root / "street" / f"n{i}.wav", 0.1 * rng.standard_normal(SR), SR)
        rir = np.zeros(SR // 8, np.float32)
        rir[10] = 0.9
        rir[11:] = (
            0.2 * rng.standard_normal(len(rir) - 11) * np.exp(-np.arange(len(rir) - 11) / 400)
        )
        write_wav(root / "rir" / f"r{i}.wav", rir, SR)
    return aug.NoiseBank(root, "train")


def test_noise_copies_are_seeded_and_vary_speed_and_level(bank):
    bark = np.asarray(tone(600, 2.0, SR, 0), np.float32) * 0.3
    a = sg.perturb_noise(bark, np.random.default_rng([0, 1, 2]), bank)
    b = sg.perturb_noise(bark, np.random.default_rng([0, 1, 2]), bank)
    np.testing.assert_array_equal(a, b)
    lengths, levels = [], []
    for c in range(40):
        y = sg.perturb_noise(bark, np.random.default_rng([0, 1, c]), bank)
        assert np.isfinite(y).all() and np.abs(y).max() <= 0.99
        lengths.append(len(y) / len(bark))
        levels.append(20 * np.log10(aug.rms(y) / aug.rms(bark)))
    assert 0.79 <= min(lengths) < 0.9 and 1.15 < max(lengths) <= 1.26  # speed 0.8-1.25
    assert min(levels) < -20 and max(levels) > 0


@pytest.mark.parametrize("bad", [dict(noise_copies=-1), dict(epochs=0), dict(noise_copies=True)])
def test_gate_config_is_validated(bad):
    with pytest.raises(ValueError, match="GateConfig"):
        sg.GateConfig(**bad)


def test_zero_noise_copies_is_allowed():
    assert sg.GateConfig(noise_copies=0).noise_copies == 0


def test_a_fifth_of_the_speech_copies_go_through_the_telephone_band(bank):
    """Phone speech must stay speech for the gate: band-limited noise copies alone taught an
    earlier gate that the 8 kHz band means non-speech."""
    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(SR)).astype(np.float32)  # broadband, like fricatives
    limited = 0
    for _ in range(200):
        y = sg.perturb_speech(x, rng, bank)
        spec = np.abs(np.fft.rfft(y)) ** 2
        f = np.fft.rfftfreq(len(y), 1 / SR)
        limited += spec[f > 4500].sum() < 1e-3 * spec.sum()
    assert 20 <= limited <= 60, limited
