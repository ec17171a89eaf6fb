"""FrontendConfig: serialisation, presets, immutability and the derived sizes backends rely on."""

from __future__ import annotations

import dataclasses
import json

import pytest

from edgeser.frontend import PRESETS, FrontendConfig

CUSTOM = FrontendConfig(
    sample_rate=22050,
    frame_length_ms=30.0,
    frame_shift_ms=12.5,
    n_fft=1000,
    window="povey",
    preemphasis=0.0,
    remove_dc=True,
    n_mels=64,
    fmin=50.0,
    fmax=-300.0,
    mel_scale="slaney",
    mel_norm="slaney",
    triangle_domain="mel",
    power=1.0,
    log_type="db",
    log_floor=1e-6,
    n_mfcc=20,
    lifter=22.0,
    deltas=2,
    delta_window=3,
    cmvn="meanvar",
    vtlp_alpha=0.9,
    vtlp_high_hz=5000.0,
)


@pytest.mark.parametrize(
    "cfg",
    [FrontendConfig(), CUSTOM, *(FrontendConfig.preset(name) for name in sorted(PRESETS))],
    ids=["default", "custom", *sorted(PRESETS)],
)
def test_dict_and_json_round_trip(cfg):
    data = cfg.to_dict()
    assert set(data) == {f.name for f in dataclasses.fields(FrontendConfig)}
    assert FrontendConfig.from_dict(data) == cfg
    restored = FrontendConfig.from_dict(json.loads(json.dumps(data)))
    assert restored == cfg and hash(restored) == hash(cfg)


def test_from_dict_rejects_unknown_fields_and_validates_values():
    data = FrontendConfig().to_dict()
    with pytest.raises(ValueError, match="unknown FrontendConfig fields.*n_filters"):
        FrontendConfig.from_dict({**data, "n_filters": 40})
    with pytest.raises(ValueError, match="FrontendConfig.deltas"):
        FrontendConfig.from_dict({**data, "deltas": 5})
    partial = FrontendConfig.from_dict({"n_mels": 64})
    assert partial.n_mels == 64 and partial.n_mfcc == FrontendConfig().n_mfcc


def test_every_preset_loads_with_its_settings_and_overrides():
    for name, settings in PRESETS.items():
        cfg = FrontendConfig.preset(name)
        for field, value in settings.items():
            assert getattr(cfg, field) == value, (name, field)
    kaldi = FrontendConfig.preset("kaldi", n_mels=40)
    assert kaldi.n_mels == 40 and kaldi.window == "povey"
    assert FrontendConfig.preset("dycnn_mfcc39").feature_dim("mfcc") == 39
    with pytest.raises(ValueError, match="unknown preset 'htk'.*kaldi"):
        FrontendConfig.preset("htk")
    with pytest.raises(ValueError, match="FrontendConfig.n_mfcc"):
        FrontendConfig.preset("kaldi", n_mfcc=30)  # kaldi has 23 mels


def test_config_is_frozen_and_replace_validates():
    cfg = FrontendConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.n_mels = 80
    bigger = cfg.replace(n_mels=80)
    assert bigger.n_mels == 80 and cfg.n_mels == 40
    with pytest.raises(ValueError, match="FrontendConfig.n_mfcc"):
        cfg.replace(n_mels=8)
    assert len({FrontendConfig(), FrontendConfig(), bigger}) == 2


@pytest.mark.parametrize(
    "rate, length_ms, shift_ms, n_fft, frame, shift, fft",
    [
        (16000, 25.0, 10.0, 0, 400, 160, 512),
        (16000, 32.0, 16.0, 0, 512, 256, 512),
        (8000, 25.0, 10.0, 0, 200, 80, 256),
        (22050, 25.0, 10.0, 0, 551, 220, 1024),
        (48000, 25.0, 10.0, 1200, 1200, 480, 1200),
        (16000, 25.0625, 10.0625, 401, 401, 161, 401),
    ],
)
def test_derived_sizes(rate, length_ms, shift_ms, n_fft, frame, shift, fft):
    cfg = FrontendConfig(
        sample_rate=rate,
        frame_length_ms=length_ms,
        frame_shift_ms=shift_ms,
        n_fft=n_fft,
        vtlp_high_hz=rate / 4,
    )
    assert (cfg.frame_length, cfg.frame_shift, cfg.fft_size) == (frame, shift, fft)
    assert cfg.n_bins == fft // 2 + 1
    assert cfg.static_dim("spectrogram") == fft // 2 + 1
    assert cfg.num_frames(frame - 1) == 0 and cfg.num_frames(frame) == 1
    assert cfg.num_frames(frame + shift - 1) == 1 and cfg.num_frames(frame + shift) == 2


def test_fmax_conventions_and_feature_dims():
    assert FrontendConfig(fmax=0.0).fmax_hz == 8000.0
    assert FrontendConfig(fmax=-400.0).fmax_hz == 7600.0
    assert FrontendConfig(fmax=6000.0).fmax_hz == 6000.0
    cfg = FrontendConfig(n_mels=30, n_mfcc=12, deltas=2)
    assert [cfg.feature_dim(k) for k in ("spectrogram", "log_mel", "mfcc")] == [771, 90, 36]
    with pytest.raises(ValueError, match="feature kind"):
        cfg.feature_dim("chroma")
