"""The voice gate keeps speech and rejects silence and low noise, the same offline and streamed."""

from __future__ import annotations

import numpy as np
import pytest

from edgeser.vad import EnergyStream, VadConfig, VoiceGate, frame_energy_db

from .support import RATE, noise, speechlike

L, S = 400, 160  # 25 ms / 10 ms at 16 kHz


def window_decisions(x: np.ndarray, cfg: VadConfig = VadConfig(), window: int = 100) -> list[bool]:
    e = frame_energy_db(x, L, S)
    gate = VoiceGate(cfg)
    return [gate.is_speech(e[s : s + window]) for s in range(0, max(1, len(e) - window + 1), 50)]


def test_frame_energy_matches_a_direct_rms():
    x = speechlike(0.3, seed=2)
    e = frame_energy_db(x, L, S)
    assert len(e) == 1 + (len(x) - L) // S
    for t in (0, 7, len(e) - 1):
        fr = x[t * S : t * S + L].astype(np.float64)
        want = 10 * np.log10(np.mean((fr - fr.mean()) ** 2))
        assert e[t] == pytest.approx(want, abs=1e-9)
    sine = (0.5 * np.sin(2 * np.pi * 1000 * np.arange(RATE) / RATE)).astype(np.float32)
    assert np.allclose(frame_energy_db(sine, L, S), 20 * np.log10(0.5 / np.sqrt(2)), atol=0.05)
    assert frame_energy_db(x[: L - 1], L, S).size == 0


def test_speech_is_kept_silence_and_steady_noise_rejected():
    assert all(window_decisions(speechlike(2.0, seed=4)))
    assert all(window_decisions(speechlike(2.0, seed=4, level=0.01)))  # quiet talker, ~-45 dBFS
    assert not any(window_decisions(np.zeros(2 * RATE, np.float32)))
    assert not any(window_decisions(noise(2.0, -65.0)))
    assert not any(window_decisions(noise(2.0, -58.0, seed=1)))
    # steady noise is rejected at any level: its frames do not rise and fall like syllables
    assert not any(window_decisions(noise(2.0, -20.0, seed=3)))


@pytest.mark.parametrize("gain_db", [-40.0, -30.0, -10.0, 0.0, 6.0])
def test_the_decision_does_not_depend_on_the_input_level(gain_db):
    x = speechlike(3.0, seed=8)
    want = window_decisions(x)
    assert all(want)
    assert window_decisions(x * np.float32(10 ** (gain_db / 20))) == want
    # DC offset is not energy
    assert not any(window_decisions(np.full(2 * RATE, 0.3, np.float32)))


def test_pause_after_loud_speech_is_rejected_relative_to_the_loud_part():
    x = np.concatenate([speechlike(1.5, seed=5, level=0.5), noise(1.5, -50.0, seed=2)])
    decisions = window_decisions(x)
    assert decisions[0] and not decisions[-1]
    # on its own the same noise is above the absolute floor and fails the spread test only
    assert not any(window_decisions(noise(1.5, -50.0, seed=2)))
    assert all(window_decisions(noise(1.5, -50.0, seed=2), VadConfig(min_spread_db=0.0)))


def test_thresholds_are_configurable():
    quiet = speechlike(1.5, seed=6, level=0.002)  # about -60 dBFS
    assert all(window_decisions(quiet))
    assert not any(window_decisions(quiet, VadConfig(floor_dbfs=-50.0)))


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(floor_dbfs=3.0),
        dict(relative_db=0.0),
        dict(loud_percentile=101.0),
        dict(min_speech_fraction=0.0),
        dict(min_speech_fraction=float("nan")),
        dict(floor_dbfs=True),
        dict(min_spread_db=-1.0),
    ],
)
def test_config_is_validated(kwargs):
    with pytest.raises(ValueError, match="VadConfig"):
        VadConfig(**kwargs)


@pytest.mark.parametrize("chunk", [1, 159, 400, 1001])
def test_energy_stream_equals_offline(chunk):
    x = speechlike(0.4, seed=8)
    stream = EnergyStream(L, S)
    got = np.concatenate([stream.push(x[i : i + chunk]) for i in range(0, len(x), chunk)])
    np.testing.assert_array_equal(got, frame_energy_db(x, L, S))


@pytest.mark.parametrize("length, shift", [(400, 160), (400, 400), (100, 250), (401, 1), (5, 3)])
def test_frame_energy_equals_direct_rms_after_dc_removal(length, shift):
    """The hop-sum shortcut against the obvious per-frame computation, DC offset included."""
    rng = np.random.default_rng(length + shift)
    x = np.concatenate(
        [0.1 * rng.standard_normal(6000), np.zeros(3000), 0.5 + 1e-3 * rng.standard_normal(5000)]
    ).astype(np.float32)
    n = 1 + (len(x) - length) // shift
    frames = np.stack([x[i * shift : i * shift + length] for i in range(n)]).astype(np.float64)
    frames -= frames.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        want = np.maximum(10 * np.log10(np.mean(frames * frames, axis=1)), -200.0)
    got = frame_energy_db(x, length, shift)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_gate_percentiles_equal_numpys():
    """The gate's own percentile is numpy's linear method, number for number (ties, one value,
    the ends)."""
    from edgeser.vad import percentiles

    rng = np.random.default_rng(0)
    for i in range(2000):
        x = rng.standard_normal(int(rng.integers(1, 300))) * rng.uniform(0.1, 60) - 50
        if i % 3 == 0:
            x = np.round(x)
        qs = (float(rng.uniform(0, 100)), 10.0, 95.0, 0.0, 100.0)
        assert percentiles(x, qs) == tuple(np.percentile(x, qs)), (i, qs)
