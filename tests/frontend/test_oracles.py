"""The reference and every backend against libraries people trust, where the configs line up.

Each test's docstring names how the two configurations are aligned. Tolerances are the parity
tolerances of tests/conftest.py (log-mel rtol 1e-4 + atol 1e-4, MFCC atol 1e-3); the measured
differences are far smaller (librosa ~4e-6 dB, kaldi-native-fbank ~5e-5, psf ~1e-6).
"""

from __future__ import annotations

import numpy as np
import pytest

from edgeser import frontend
from edgeser.frontend import FrontendConfig, filters, reference

librosa = pytest.importorskip("librosa")
knf = pytest.importorskip("kaldi_native_fbank")
psf = pytest.importorskip("python_speech_features")

SIGNALS = ("sine", "chirp", "noise", "silence", "clipped", "impulses", "int16_scale")
# kaldi computes in float32: narrow-band signals push far bands under its rounding noise, so
# only broadband signals are compared with it.
BROADBAND = ("noise", "silence", "clipped", "impulses", "int16_scale")
INT16_GAIN = {"int16_scale": 1.0}  # others are in [-1, 1]; scale them to the int16 range


def librosa_db_mel(x: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    """librosa dB mel spectrogram [frames, n_mels] for a config with frame_length == n_fft."""
    mel = librosa.feature.melspectrogram(
        y=x.astype(np.float64),
        sr=cfg.sample_rate,
        n_fft=cfg.fft_size,
        hop_length=cfg.frame_shift,
        win_length=cfg.frame_length,
        window=filters.window(cfg),
        center=False,
        power=cfg.power,
        n_mels=cfg.n_mels,
        fmin=cfg.fmin,
        fmax=cfg.fmax_hz,
        htk=cfg.mel_scale == "htk",
        norm="slaney" if cfg.mel_norm == "slaney" else None,
        dtype=np.float64,
    )
    return librosa.power_to_db(mel, ref=1.0, amin=cfg.log_floor, top_db=None).T


LIBROSA_CONFIGS = {
    "slaney-scale-slaney-norm": {},
    "htk-scale-no-norm": dict(mel_scale="htk", mel_norm="none"),
    "magnitude": dict(power=1.0),
    "band-limited-64": dict(n_mels=64, fmin=60.0, fmax=7600.0),
}


@pytest.mark.parametrize("over", list(LIBROSA_CONFIGS.values()), ids=list(LIBROSA_CONFIGS))
def test_log_mel_and_mfcc_match_librosa(backend_name, over, signal_factory, features_match):
    """Alignment: preset librosa_slaney (no pre-emphasis, Hz triangles, dB with floor = amin),
    hann window passed to librosa as our symmetric array, frame length = n_fft = 512 (32 ms at
    16 kHz), center=False, power_to_db(ref=1, amin=log_floor, top_db=None); MFCC = librosa's
    DCT-II ortho of that dB mel with lifter 0."""
    cfg = FrontendConfig.preset("librosa_slaney", window="hann", frame_length_ms=32.0, **over)
    assert cfg.frame_length == cfg.fft_size
    for name in SIGNALS:
        x = signal_factory(name)
        want = librosa_db_mel(x, cfg)
        got = frontend.log_mel(x, cfg, backend=backend_name)
        features_match(got, want, "log_mel", f"{backend_name}, {name}")
        want_mfcc = librosa.feature.mfcc(
            S=want.T, n_mfcc=cfg.n_mfcc, dct_type=2, norm="ortho", lifter=0
        ).T
        got_mfcc = frontend.mfcc(x, cfg, backend=backend_name)
        features_match(got_mfcc, want_mfcc, "mfcc", f"{backend_name}, {name}")


def kaldi_features(x: np.ndarray, cfg: FrontendConfig, kind: str) -> np.ndarray:
    """kaldi-native-fbank fbank (log-mel) or MFCC of `x`, options mirrored from `cfg`."""
    opts = knf.MfccOptions() if kind == "mfcc" else knf.FbankOptions()
    fo = opts.frame_opts
    fo.dither = 0.0
    fo.samp_freq = float(cfg.sample_rate)
    fo.frame_length_ms = cfg.frame_length_ms
    fo.frame_shift_ms = cfg.frame_shift_ms
    fo.window_type = cfg.window
    fo.remove_dc_offset = cfg.remove_dc
    fo.preemph_coeff = cfg.preemphasis
    fo.snip_edges = True
    fo.round_to_power_of_two = True
    opts.mel_opts.num_bins = cfg.n_mels
    opts.mel_opts.low_freq = cfg.fmin
    opts.mel_opts.high_freq = cfg.fmax
    opts.use_energy = False
    if kind == "mfcc":
        opts.num_ceps = cfg.n_mfcc
        opts.cepstral_lifter = cfg.lifter
        extractor = knf.OnlineMfcc(opts)
    else:
        opts.use_log_fbank = True
        opts.use_power = cfg.power == 2.0
        extractor = knf.OnlineFbank(opts)
    extractor.accept_waveform(float(cfg.sample_rate), x.astype(np.float32).tolist())
    extractor.input_finished()
    rows = [extractor.get_frame(i) for i in range(extractor.num_frames_ready)]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), cfg.static_dim(kind))


KALDI_CONFIGS = {
    "preset": {},
    "high-freq-offset": dict(fmax=-400.0, fmin=64.0),
    "8k": dict(sample_rate=8000, vtlp_high_hz=3000.0),
    "hamming-40-bins": dict(window="hamming", n_mels=40, n_mfcc=20, lifter=0.0),
}


@pytest.mark.parametrize("kind", ("log_mel", "mfcc"))
@pytest.mark.parametrize("over", list(KALDI_CONFIGS.values()), ids=list(KALDI_CONFIGS))
def test_fbank_and_mfcc_match_kaldi(backend_name, over, kind, signal_factory, features_match):
    """Alignment: preset "kaldi" (povey window, remove_dc, in-frame pre-emphasis 0.97, mel-domain
    triangles on the HTK mel scale, log floor FLT_EPSILON, lifter 22, 23 bins) against
    kaldi-native-fbank with dither 0, snip_edges, n_fft rounded to a power of two and
    use_energy=False (MFCC would otherwise replace C0 by log energy); int16-scale samples."""
    cfg = FrontendConfig.preset("kaldi", **over)
    for name in BROADBAND:
        x = signal_factory(name, cfg.sample_rate) * INT16_GAIN.get(name, 20000.0)
        want = kaldi_features(x, cfg, kind)
        got = frontend.features(x, cfg, kind, backend=backend_name)
        features_match(got, want, kind, f"{backend_name}, {name}")


def psf_features(x: np.ndarray, cfg: FrontendConfig, kind: str, monkeypatch) -> np.ndarray:
    """python_speech_features log filter bank or MFCC, with our mel bank swapped in.

    psf quantises each triangle's edges to whole FFT bins, a different filter design, so its
    `get_filterbanks` is replaced by ours; framing, window, power spectrum, log, DCT and lifter
    stay psf's. psf divides the power spectrum by n_fft: scaling the input by sqrt(n_fft)
    undoes that exactly.
    """
    import python_speech_features.base as psf_base

    bank = filters.mel_filterbank(cfg)
    monkeypatch.setattr(psf_base, "get_filterbanks", lambda *args, **kw: bank)
    winfunc = (lambda n: np.ones(n)) if cfg.window == "rectangular" else np.hamming
    scaled = x.astype(np.float64) * np.sqrt(cfg.fft_size)
    common = dict(
        samplerate=cfg.sample_rate,
        winlen=cfg.frame_length_ms / 1000.0,
        winstep=cfg.frame_shift_ms / 1000.0,
        nfilt=cfg.n_mels,
        nfft=cfg.fft_size,
        preemph=0.0,
    )
    if kind == "mfcc":
        return psf.mfcc(
            scaled,
            numcep=cfg.n_mfcc,
            ceplifter=cfg.lifter,
            appendEnergy=False,
            winfunc=winfunc,
            **common,
        )
    if cfg.window == "rectangular":
        return psf.logfbank(scaled, **common)
    return np.log(psf_base.fbank(scaled, winfunc=winfunc, **common)[0])


@pytest.mark.parametrize("kind", ("log_mel", "mfcc"))
@pytest.mark.parametrize("window", ("rectangular", "hamming"))
def test_logfbank_and_mfcc_match_python_speech_features(
    backend_name, window, kind, signal_factory, features_match, monkeypatch
):
    """Alignment: no pre-emphasis (psf pre-emphasises the whole signal, we do it per frame),
    psf winfunc = our window (numpy's symmetric hamming, or ones), 26 filters from 0 Hz, lifter
    22, appendEnergy=False; the signal length leaves no partial last frame (psf zero-pads one)."""
    cfg = FrontendConfig(window=window, preemphasis=0.0, n_mels=26, fmin=0.0, lifter=22.0)
    np.testing.assert_allclose(
        np.hamming(cfg.frame_length), filters.window(cfg.replace(window="hamming")), atol=1e-12
    )
    n = cfg.frame_length + 30 * cfg.frame_shift
    for name in ("sine", "chirp", "noise", "clipped", "int16_scale"):
        x = signal_factory(name)[:n]
        want = psf_features(x, cfg, kind, monkeypatch)
        got = frontend.features(x, cfg, kind, backend=backend_name)
        features_match(got, want, kind, f"{backend_name}, {name}")


@pytest.mark.parametrize("window", (1, 2, 3))
def test_deltas_match_python_speech_features(backend_name, window, signal_factory):
    """Alignment: psf.delta(feat, N) is the same HTK regression with edge frames repeated;
    the second-order block is the delta of the delta."""
    cfg = FrontendConfig(deltas=2, delta_window=window)
    x = signal_factory("chirp")
    static = reference.static_features(x, cfg, "mfcc")
    d1 = psf.delta(static, window)
    d2 = psf.delta(d1, window)
    np.testing.assert_allclose(reference.delta(static, window), d1, atol=1e-9)
    got = frontend.mfcc(x, cfg, backend=backend_name)
    k = cfg.n_mfcc
    assert np.abs(d1).max() > 0.1  # the comparison below is not trivially zero
    np.testing.assert_allclose(got[:, k : 2 * k], d1, atol=1e-3)
    np.testing.assert_allclose(got[:, 2 * k :], d2, atol=1e-3)
