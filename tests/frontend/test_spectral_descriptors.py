"""Spectral shape and energy descriptors: the C++ SpectralAnalyzer (through
`edgeser._frontend.analyze_spectral`) against the NumPy reference `spectral_reference`, known
truths of synthetic signals (on both), gain invariance and hostile windows."""

from __future__ import annotations

import numpy as np
import pytest

from edgeser.frontend import descriptors
from edgeser.frontend import spectral_reference as ref
from edgeser.frontend.descriptor_config import DESCRIPTOR_NAMES, DescriptorConfig

CFG = DescriptorConfig()
N = CFG.spectral_length
RATE = CFG.sample_rate
COL = {name: i for i, name in enumerate(ref.SPECTRAL_NAMES)}
EXACT = ("spectral_rolloff_hz", "zcr")  # a bin frequency and a count: equal or wrong
# Both sides compute in double from the same float32 samples; they differ only by the rounding
# of two FFTs (~1e-15 relative), the order of sums and a reciprocal or two. Measured worst
# |cpp - ref| / (1 + |ref|) over the cases below: 5e-12 (the slopes); 1e-8 leaves room for
# other instruction sets and compilers while still catching any real formula difference.
RTOL = ATOL = 1e-8


def options(ext, cfg: DescriptorConfig):
    return descriptors.cpp_options(cfg)


def cpp(ext, windows, cfg: DescriptorConfig = CFG) -> np.ndarray:
    return ext.analyze_spectral(options(ext, cfg), np.ascontiguousarray(windows, np.float32))


def reference(windows, cfg: DescriptorConfig = CFG) -> np.ndarray:
    return ref.analyze_signal(np.asarray(windows, np.float32), cfg)


@pytest.fixture(params=("cpp", "reference"))
def analyze(request):
    """Known truths hold for both implementations."""
    if request.param == "reference":
        return reference
    ext = request.getfixturevalue("ext")
    return lambda windows, cfg=CFG: cpp(ext, windows, cfg)


def frames_of(x: np.ndarray, n: int, hop: int) -> np.ndarray:
    count = 1 + (len(x) - n) // hop
    return np.stack([x[i * hop : i * hop + n] for i in range(count)]).astype(np.float32)


def sine(hz: float, amp: float = 1.0, phase: float = 0.0, n: int = N, rate: int = RATE):
    return amp * np.sin(2 * np.pi * hz * np.arange(n) / rate + phase)


def voiced(n: int, rate: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    f0 = 120 * (1 + 0.2 * np.sin(2 * np.pi * 1.3 * t + rng.uniform(0, 6)))
    ph = 2 * np.pi * np.cumsum(f0) / rate
    x = sum(0.7**k * np.sin(k * ph + rng.uniform(0, 6)) for k in range(1, 30))
    env = np.clip(np.sin(2 * np.pi * 3.0 * t), 0.05, None)
    return 0.3 * x * env + 1e-3 * rng.standard_normal(n)


def windows_for(cfg: DescriptorConfig, seed: int) -> dict[str, np.ndarray]:
    """Consecutive windows (hop = a third of a window, so the flux chains across blocks of 8)."""
    n, rate = cfg.spectral_length, cfg.sample_rate
    hop, count = max(1, n // 3), 19
    total = n + hop * (count - 1)
    rng = np.random.default_rng(seed)
    t = np.arange(total) / rate
    sig = {
        "voiced": voiced(total, rate, seed),
        "noise": 0.3 * rng.standard_normal(total),
        "tone": np.sin(2 * np.pi * 0.11 * rate * t),
        "clipped": np.clip(6 * voiced(total, rate, seed + 1), -1, 1),
        "square": np.sign(np.sin(2 * np.pi * 0.013 * rate * t)),
        "dc": np.full(total, 0.25),
        "dc_plus_noise": 0.5 + 1e-3 * rng.standard_normal(total),
        "silence": np.zeros(total),
        "tiny": 1e-30 * rng.standard_normal(total),
        "subnormal": 1e-40 * rng.uniform(-1, 1, total),
        "huge": rng.uniform(-3e38, 3e38, total),
        "int16": np.round(8000 * rng.standard_normal(total)),
        "impulses": np.where(rng.uniform(size=total) < 0.01, 1.0, 0.0),
    }
    out = {name: frames_of(x.astype(np.float32), n, hop) for name, x in sig.items()}
    mixed = np.concatenate([w[:2] for w in out.values()])  # changes of kind between windows
    out["mixed"] = mixed
    out["random"] = (rng.standard_normal((count, n)) * rng.uniform(1e-3, 10, (count, 1))).astype(
        np.float32
    )
    return out


CONFIGS = {
    "16k": CFG,
    "8k": DescriptorConfig(sample_rate=8000, formant_max_hz=4000.0),
    "1k": DescriptorConfig(sample_rate=1000, f0_max_hz=250.0, formant_max_hz=500.0),
    "22k_32ms": DescriptorConfig(sample_rate=22050, spectral_window_ms=32.0),
    "44k_20ms": DescriptorConfig(sample_rate=44100, spectral_window_ms=20.0),
    "16k_32ms": DescriptorConfig(spectral_window_ms=32.0),  # N = K = 512
    "48k_long": DescriptorConfig(sample_rate=48000, spectral_window_ms=60.0),
}


# ---- parity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(CONFIGS))
def test_cpp_matches_the_reference(ext, name):
    cfg = CONFIGS[name]
    for kind, windows in windows_for(cfg, seed=len(name)).items():
        got, want = cpp(ext, windows, cfg), reference(windows, cfg)
        assert got.shape == want.shape == (len(windows), len(ref.SPECTRAL_NAMES))
        for c, col in enumerate(ref.SPECTRAL_NAMES):
            if col in EXACT:
                np.testing.assert_array_equal(got[:, c], want[:, c], err_msg=f"{kind} {col}")
            else:
                np.testing.assert_allclose(
                    got[:, c], want[:, c], rtol=RTOL, atol=ATOL, err_msg=f"{kind} {col}"
                )


def test_names_are_descriptor_columns():
    assert len(ref.SPECTRAL_NAMES) == 11
    positions = [DESCRIPTOR_NAMES.index(n) for n in ref.SPECTRAL_NAMES]
    assert positions[:6] == list(range(5, 11)) and positions[6:] == list(range(17, 22))


def test_power_spectrum_and_librosa_agree_on_centroid_and_rolloff():
    librosa = pytest.importorskip("librosa")
    x = voiced(N, RATE, 3)
    power, freqs = ref.power_spectrum(x, CFG)
    assert power.shape == freqs.shape == (CFG.fft_size // 2 + 1,)
    assert freqs[-1] == RATE / 2
    values, _ = ref.analyze(x, None, CFG)
    centroid = librosa.feature.spectral_centroid(S=power[:, None], freq=freqs)[0, 0]
    rolloff = librosa.feature.spectral_rolloff(S=power[:, None], freq=freqs, roll_percent=0.9)
    assert values[COL["spectral_centroid_hz"]] == pytest.approx(centroid, rel=1e-12)
    assert values[COL["spectral_rolloff_hz"]] == rolloff[0, 0]
    # Parseval: the windowed energy, normalised by sum w^2, is what the bins hold.
    s = ref.dc_removed(x) * ref.hamming(N)
    two_sided = power.sum() * 2 - power[0] - power[-1]
    assert two_sided / CFG.fft_size == pytest.approx(
        np.sum(s * s) / np.sum(ref.hamming(N) ** 2), rel=1e-12
    )


# ---- known truths ------------------------------------------------------------------------------
@pytest.mark.parametrize("hz", [440.0, 1000.0, 1234.5, 3000.0, 6500.0])
def test_a_tone(analyze, hz):
    v = analyze(sine(hz, 1.0, 0.3)[None])[0]
    bin_hz = RATE / CFG.fft_size
    assert abs(v[COL["spectral_centroid_hz"]] - hz) < bin_hz
    assert abs(v[COL["spectral_rolloff_hz"]] - hz) <= 2 * bin_hz
    assert v[COL["spectral_entropy"]] < 0.25  # 4-bin Hamming main lobe out of 257 bins
    assert abs(v[COL["zcr"]] - 2 * hz / RATE) <= 1 / (N - 1)
    assert v[COL["energy_db"]] == pytest.approx(-3.0103, abs=0.05)  # a full-scale sine


def test_white_noise_is_flat(analyze):
    x = np.random.default_rng(5).standard_normal((10, N))
    v = analyze(x)
    assert np.all(v[:, COL["spectral_entropy"]] > 0.85)
    assert np.mean(v[:, COL["spectral_centroid_hz"]]) == pytest.approx(RATE / 4, rel=0.1)
    assert np.mean(v[:, COL["zcr"]]) == pytest.approx(0.5, abs=0.05)


@pytest.mark.parametrize(("a1", "a2"), [(1.0, 0.1), (0.3, 0.6), (0.5, 0.5), (0.02, 0.9)])
def test_alpha_ratio_and_hammarberg_of_two_tones(analyze, a1, a2):
    v = analyze((sine(500, a1) + sine(3000, a2, 1.0))[None])[0]
    want = 20 * np.log10(a1 / a2)
    assert v[COL["alpha_ratio_db"]] == pytest.approx(want, abs=0.5)
    assert v[COL["hammarberg_db"]] == pytest.approx(want, abs=0.5)


def test_slopes_of_pre_emphasised_noise(analyze):
    """y = x[j] - 0.97 x[j-1] of white noise: 10 log10 |H(f)|^2 by least squares over the same
    bins is the expected slope (averaged over frames; the window and DC removal blur the
    notch at 0 Hz, so the low band is only roughly right)."""
    frames = 200
    x = np.random.default_rng(2).standard_normal(N + 1 + 160 * frames)
    y = x[1:] - 0.97 * x[:-1]
    v = analyze(frames_of(y, N, 160)).mean(axis=0)
    f = ref.bin_frequencies(CFG)
    h = 10 * np.log10(1 + 0.97**2 - 2 * 0.97 * np.cos(2 * np.pi * f / RATE))
    for col, lo, hi, rel in (("slope_0_500", 0, 500, 0.25), ("slope_500_1500", 500, 1500, 0.1)):
        sel = (f >= lo) & (f <= hi)
        want = np.polyfit(f[sel] / 1000, h[sel], 1)[0]
        assert v[COL[col]] == pytest.approx(want, rel=rel), col


def test_slope_of_a_falling_comb(analyze):
    """Sines every 25 Hz falling by 12 dB/kHz."""
    hz = np.arange(1, 80) * 25.0 + 3.0
    amp = 0.05 * 10 ** (-12 * hz / 1000 / 20)
    x = sum(sine(f, a, 0.7 * k * k) for k, (f, a) in enumerate(zip(hz, amp)))
    v = analyze(x[None])[0]
    assert -18 < v[COL["slope_500_1500"]] < -6
    assert -30 < v[COL["slope_0_500"]] < 0


def test_silence_and_dc(analyze):
    v = analyze(np.stack([np.zeros(N), np.full(N, 0.7), np.full(N, -1e-30)]))
    assert np.all(v[:, COL["energy_db"]] == pytest.approx(-200.0))  # the power floor, 1e-20
    others = [c for c in ref.SPECTRAL_NAMES if c != "energy_db"]
    assert np.all(v[:, [COL[c] for c in others]] == 0.0)


# ---- gain --------------------------------------------------------------------------------------
def test_loudness_follows_level(analyze):
    x = voiced(N * 4, RATE, 9)
    base = analyze(frames_of(x, N, 160))
    levels = [analyze(frames_of(g * x, N, 160))[:, COL["loudness"]] for g in (1e-3, 1e-2, 0.1, 1)]
    assert np.all(np.diff(np.stack(levels), axis=0) > 0)
    for g in (0.25, 4.0, 0.1):  # float32 is exact for powers of two only
        got = analyze(frames_of(np.float32(g) * x.astype(np.float32), N, 160))
        rel = 1e-9 if g != 0.1 else 1e-5
        np.testing.assert_allclose(
            got[:, COL["loudness"]], base[:, COL["loudness"]] * g**0.6, rtol=rel
        )
        np.testing.assert_allclose(
            got[:, COL["energy_db"]], base[:, COL["energy_db"]] + 20 * np.log10(g), atol=1e-4
        )


GAIN_INVARIANT = (
    "alpha_ratio_db",
    "hammarberg_db",
    "slope_0_500",
    "slope_500_1500",
    "spectral_flux",
    "spectral_centroid_hz",
    "spectral_rolloff_hz",
    "spectral_entropy",
    "zcr",
)


@pytest.mark.parametrize("g", [0.25, 4.0, 64.0])
def test_shape_descriptors_ignore_gain(analyze, g):
    x = voiced(N * 6, RATE, 4).astype(np.float32)
    x += 0.02 * np.random.default_rng(1).standard_normal(len(x)).astype(np.float32)
    base, got = analyze(frames_of(x, N, 160)), analyze(frames_of(np.float32(g) * x, N, 160))
    for col in GAIN_INVARIANT:
        # eps = 1e-12 in log10(P + eps) moves the slopes slightly where a bin is almost empty.
        atol = 1e-3 if col.startswith("slope") else 1e-9
        np.testing.assert_allclose(got[:, COL[col]], base[:, COL[col]], rtol=1e-7, atol=atol)


# ---- flux --------------------------------------------------------------------------------------
def test_flux_is_zero_for_a_repeated_window_and_positive_for_a_change(analyze):
    a, b = sine(1000, 0.5), sine(2500, 0.5)
    windows = np.stack([a, a, a, b, b, a] + [a] * 8 + [b])
    flux = analyze(windows)[:, COL["spectral_flux"]]
    assert flux[0] == 0.0  # the first window
    assert flux[1] == flux[2] == flux[4] == 0.0
    assert flux[3] > 0.1 and flux[5] > 0.1 and flux[5] == pytest.approx(flux[3], rel=1e-12)
    assert np.all(flux[6:14] == 0.0)  # across the block boundary of the C++ (8 windows)
    assert flux[14] == pytest.approx(flux[3], rel=1e-12)


def test_reference_previous_is_the_normalised_magnitude():
    x = voiced(N, RATE, 1)
    _, m = ref.analyze(x, None, CFG)
    power, _ = ref.power_spectrum(x, CFG)
    np.testing.assert_allclose(m, np.sqrt(power) / np.sqrt(power).sum())
    assert m.sum() == pytest.approx(1.0)
    _, zero = ref.analyze(np.zeros(N), None, CFG)
    assert np.all(zero == 0)
    v, _ = ref.analyze(x, zero, CFG)
    assert v[COL["spectral_flux"]] == pytest.approx(np.sum(m * m))
    with pytest.raises(ValueError, match="shape"):
        ref.analyze(np.zeros(N + 1), None, CFG)


# ---- hostile windows ---------------------------------------------------------------------------
def hostile() -> np.ndarray:
    big = np.finfo(np.float32).max
    tiny = np.finfo(np.float32).smallest_subnormal
    alt = np.where(np.arange(N) % 2, big, -big)
    spike = np.zeros(N)
    spike[N // 2] = big
    square = np.where((np.arange(N) // 20) % 2, 1.0, -1.0)
    rows = [
        np.zeros(N),
        np.full(N, big),
        np.full(N, -big),
        alt,
        spike,
        np.full(N, tiny),
        np.where(np.arange(N) % 3, tiny, 1e-30),
        square,
        np.clip(1e6 * sine(300), -1, 1),
        np.random.default_rng(0).uniform(-big, big, N),
    ]
    return np.stack(rows).astype(np.float32)


def test_hostile_windows_stay_finite(analyze):
    v = analyze(hostile())
    assert np.all(np.isfinite(v))
    assert np.all((v[:, COL["spectral_entropy"]] >= 0) & (v[:, COL["spectral_entropy"]] <= 1))
    assert np.all((v[:, COL["zcr"]] >= 0) & (v[:, COL["zcr"]] <= 1))
    assert np.all(v[:, COL["loudness"]] >= 0)


def test_hostile_windows_match(ext):
    windows = hostile()
    for order in (windows, windows[::-1], np.repeat(windows, 3, axis=0)):
        got, want = cpp(ext, order), reference(order)
        mask = np.array([c not in EXACT for c in ref.SPECTRAL_NAMES])
        np.testing.assert_allclose(got[:, mask], want[:, mask], rtol=RTOL, atol=ATOL)
        np.testing.assert_array_equal(got[:, ~mask], want[:, ~mask])


def test_binding_checks_the_window_length(ext):
    with pytest.raises((ValueError, TypeError)):
        ext.analyze_spectral(options(ext, CFG), np.zeros((3, N + 1), np.float32))
    assert cpp(ext, np.zeros((0, N), np.float32)).shape == (0, 11)
