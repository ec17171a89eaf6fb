"""Formants: the C++ FormantAnalyzer (through `edgeser._frontend.analyze_formants`) against the
NumPy reference `formant_reference`, known truths of synthetic vowels (on both), Praat's Burg
formants (informative), silence, hostile windows and gain invariance."""

from __future__ import annotations

import wave
from functools import cache

import numpy as np
import pytest

from edgeser.frontend import descriptors
from edgeser.frontend import formant_reference as ref
from edgeser.frontend.descriptor_config import DESCRIPTOR_NAMES, DescriptorConfig

CFG = DescriptorConfig()
N = CFG.spectral_length
RATE = CFG.sample_rate
COLUMNS = ("f1_hz", "f1_bw_hz", "f2_hz", "f2_bw_hz", "f3_hz", "f3_bw_hz")
# Both sides compute in double from the same float32 samples; they differ in the order of a few
# sums (the mean, the autocorrelation), the last bits of the window's cosines and the root finder
# (numpy.roots: companion-matrix eigenvalues; C++: Aberth-Ehrlich converged on p(z) = 0). The
# roots that make formants are well conditioned: measured worst |cpp - ref| / |ref| 2e-11 on
# speech and every synthetic set below. 1e-6 still catches any difference of formula. A frame
# whose candidate root sits within that of a threshold (90 Hz, formant_max_hz, formant_max_bw_hz,
# R_0 = 1e-12) can keep or drop a formant on one side only: up to 1% of the frames may differ.
RTOL, ATOL = 1e-6, 1e-6
MIN_AGREEMENT = 0.99

# Vowels (F1-F3 in Hz with their bandwidths; Peterson & Barney-like male values), each with the
# F4 and F5 real vowels have.
VOWELS = {
    "a": ((700, 80), (1220, 90), (2600, 120)),
    "i": ((270, 60), (2290, 90), (3010, 100)),
    "u": ((300, 60), (870, 80), (2240, 100)),
    "e": ((530, 60), (1840, 90), (2480, 120)),
    "o": ((570, 60), (840, 80), (2410, 120)),
}
UPPER = ((3500, 200), (4500, 250))


def options(ext, cfg: DescriptorConfig):
    return descriptors.cpp_options(cfg)


def cpp(ext, windows, cfg: DescriptorConfig = CFG) -> np.ndarray:
    return ext.analyze_formants(options(ext, cfg), np.ascontiguousarray(windows, np.float32))


def reference(windows, cfg: DescriptorConfig = CFG) -> np.ndarray:
    windows = np.asarray(windows, np.float32)
    return np.array([ref.analyze(w, cfg) for w in windows]).reshape(len(windows), 6)


@pytest.fixture(params=("cpp", "reference"))
def analyze(request):
    """Known truths hold for both implementations."""
    if request.param == "reference":
        return reference
    ext = request.getfixturevalue("ext")
    return lambda windows, cfg=CFG: cpp(ext, windows, cfg)


# ---- signals -----------------------------------------------------------------------------------
def frames_of(x: np.ndarray, n: int = N, hop: int = 160) -> np.ndarray:
    count = 1 + (len(x) - n) // hop
    return np.stack([x[i * hop : i * hop + n] for i in range(count)]).astype(np.float32)


@cache
def impulse_response(formants: tuple, tilt: float, rate: int, n: int) -> np.ndarray:
    """Impulse response of 1 / ((1 - tilt z^-1) prod_k (1 - 2 r_k cos t_k z^-1 + r_k^2 z^-2))
    with r_k = exp(-pi B_k / rate), t_k = 2 pi F_k / rate."""
    a = np.array([1.0, -tilt])
    for hz, bw in formants:
        r = np.exp(-np.pi * bw / rate)
        a = np.convolve(a, [1.0, -2.0 * r * np.cos(2 * np.pi * hz / rate), r * r])
    h = np.zeros(n)
    for i in range(n):
        acc = 1.0 if i == 0 else 0.0
        for k in range(1, min(len(a) - 1, i) + 1):
            acc -= a[k] * h[i - k]
        h[i] = acc
    return h


def vowel(
    name: str, f0: float = 120.0, tilt: float = 0.97, seconds: float = 0.3, rate: int = RATE
) -> np.ndarray:
    """An impulse train at f0 through the vowel's formants (F1-F5). tilt = 0.97 gives the source
    the -6 dB/octave slope of a glottal pulse train after lip radiation, which is what the 0.97
    pre-emphasis flattens; tilt = 0 leaves it flat. Peak 0.5, float32."""
    n = int(round(rate * seconds))
    train = np.zeros(n)
    train[np.round(np.arange(0.0, n - 0.5, rate / f0)).astype(int)] = 1.0
    h = impulse_response(VOWELS[name] + UPPER, tilt, rate, n)
    y = np.convolve(train, h)[:n]
    return (0.5 * y / np.abs(y).max()).astype(np.float32)


def vowel_windows(name: str, f0: float = 120.0, tilt: float = 0.97) -> np.ndarray:
    """Windows of the steady part (from 0.1 s, after the filter's onset), 5 ms apart."""
    return frames_of(vowel(name, f0, tilt)[1600:], hop=80)


def windows_for(cfg: DescriptorConfig, seed: int) -> dict[str, np.ndarray]:
    n, rate = cfg.spectral_length, cfg.sample_rate
    hop, count = max(1, n // 3), 24
    total = n + hop * (count - 1)
    rng = np.random.default_rng(seed)
    t = np.arange(total) / rate
    chirp = np.sin(2 * np.pi * (50 * t + 0.5 * 0.4 * rate / t[-1] * t * t))
    sig = {
        "noise": 0.3 * rng.standard_normal(total),
        "chirp": chirp,
        "sines": np.sin(2 * np.pi * 440 * t) + 0.3 * np.sin(2 * np.pi * 1330 * t + 0.3),
        "clipped": np.clip(3 * np.sin(2 * np.pi * 220 * t), -1, 1),
        "square": np.sign(np.sin(2 * np.pi * 0.013 * rate * t)),
        "dc": np.full(total, 0.25),
        "dc_plus_noise": 0.5 + 1e-3 * rng.standard_normal(total),
        "silence": np.zeros(total),
        "tiny": 1e-30 * rng.standard_normal(total),
        "huge": rng.uniform(-3e38, 3e38, total),
        "int16": np.round(8000 * rng.standard_normal(total)),
        "impulses": np.where(rng.uniform(size=total) < 0.01, 1.0, 0.0),
        "brown": np.cumsum(rng.standard_normal(total)) * 0.01,
    }
    out = {name: frames_of(x.astype(np.float32), n, hop) for name, x in sig.items()}
    out["random"] = (rng.standard_normal((count, n)) * rng.uniform(1e-3, 10, (count, 1))).astype(
        np.float32
    )
    return out


def agreement(got: np.ndarray, want: np.ndarray) -> tuple[np.ndarray, float]:
    """Per-frame agreement (all six values within RTOL, ATOL) and the worst relative error of
    the frames that agree."""
    close = np.abs(got - want) <= RTOL * np.abs(want) + ATOL
    ok = close.all(axis=1)
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1.0)
    return ok, float(rel[ok].max()) if ok.any() else 0.0


def assert_parity(got: np.ndarray, want: np.ndarray, what: str) -> float:
    assert got.shape == want.shape
    assert np.isfinite(got).all(), what
    ok, worst = agreement(got, want)
    if not ok.all():
        rows = "\n".join(
            f"  frame {i}: cpp {np.round(got[i], 3)} ref {np.round(want[i], 3)}"
            for i in np.flatnonzero(~ok)[:10]
        )
        print(f"{what}: {np.count_nonzero(~ok)} of {len(ok)} frames differ\n{rows}")
    assert ok.mean() >= MIN_AGREEMENT, f"{what}: only {ok.mean():.1%} of frames agree"
    return worst


# ---- the reference itself ----------------------------------------------------------------------
def test_lpc_solves_the_normal_equations():
    rng = np.random.default_rng(1)
    x = np.convolve(rng.standard_normal(N), [1.0, 0.8, 0.3], "same").astype(np.float32)
    for order in (4, 16, 30):
        a = ref.lpc(x, order)
        r = ref.autocorrelation(ref.prepare(x), order)
        r[0] *= 1 + ref.WHITE_NOISE_CORRECTION
        toeplitz = r[np.abs(np.arange(order)[:, None] - np.arange(order)[None, :])]
        np.testing.assert_allclose(a, np.linalg.solve(toeplitz, -r[1:]), rtol=1e-9, atol=1e-12)


def test_prepare_and_autocorrelation_follow_the_definition():
    x = np.random.default_rng(2).standard_normal(N).astype(np.float32)
    d = x.astype(np.float64) - x.astype(np.float64).mean()
    y = np.concatenate(([d[0]], d[1:] - 0.97 * d[:-1]))
    w = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(N) / (N - 1))
    np.testing.assert_allclose(ref.prepare(x), y * w, rtol=1e-12, atol=1e-15)
    u = ref.prepare(x)
    full = np.correlate(u, u, "full")[N - 1 :]
    np.testing.assert_allclose(ref.autocorrelation(u, 16), full[:17], rtol=1e-12, atol=1e-12)


def test_a_failed_or_silent_lpc_is_all_zeros():
    assert not ref.lpc(np.zeros(N, np.float32), 16).any()
    assert not ref.lpc(np.full(N, 0.3, np.float32), 16).any()
    assert not ref.analyze(np.zeros(N, np.float32), CFG).any()


def test_formant_columns_are_descriptor_columns():
    start = DESCRIPTOR_NAMES.index("f1_hz")
    assert DESCRIPTOR_NAMES[start : start + 6] == COLUMNS


# ---- parity ------------------------------------------------------------------------------------
CONFIGS = {
    "16k": CFG,
    "16k_order12": DescriptorConfig(lpc_order=12),
    "16k_order24": DescriptorConfig(lpc_order=24, formant_max_bw_hz=600.0),
    "8k_order10": DescriptorConfig(sample_rate=8000, lpc_order=10, formant_max_hz=3800.0),
    "22k_order20": DescriptorConfig(sample_rate=22050, lpc_order=20, spectral_window_ms=30.0),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_cpp_matches_the_reference(ext, name):
    cfg = CONFIGS[name]
    worst = 0.0
    for kind, windows in windows_for(cfg, seed=len(name)).items():
        worst = max(worst, assert_parity(cpp(ext, windows, cfg), reference(windows, cfg), kind))
    print(f"{name}: worst relative difference {worst:.1e}")


def test_cpp_matches_the_reference_on_vowels(ext):
    worst = 0.0
    for name in VOWELS:
        for f0 in (100.0, 120.0, 210.0):
            for tilt in (0.0, 0.97):
                w = vowel_windows(name, f0, tilt)
                what = f"/{name}/ f0 {f0:g} tilt {tilt:g}"
                worst = max(worst, assert_parity(cpp(ext, w), reference(w), what))
    print(f"vowels: worst relative difference {worst:.1e}")


def test_cpp_matches_the_reference_on_speech(ext, datasets_dir):
    files = sorted((datasets_dir / "emodb" / "wav").glob("*.wav"))[::53][:8]
    if not files:
        pytest.skip("no EmoDB wav files")
    windows = []
    for path in files:
        with wave.open(str(path)) as f:
            assert f.getframerate() == RATE and f.getsampwidth() == 2
            x = np.frombuffer(f.readframes(f.getnframes()), "<i2").astype(np.float32) / 32768
        windows.append(frames_of(x)[::2])
    windows = np.concatenate(windows)[:2000]
    got, want = cpp(ext, windows), reference(windows)
    worst = assert_parity(got, want, "speech")
    voiced = np.count_nonzero(want[:, 0])
    print(f"speech: {len(windows)} frames ({voiced} with F1), worst difference {worst:.1e}")


# ---- known truths ------------------------------------------------------------------------------
def formant_errors(values: np.ndarray, name: str) -> np.ndarray:
    """|estimate - truth| / truth of F1-F3 per frame, [frames, 3]."""
    truth = np.array([hz for hz, _ in VOWELS[name]])
    return np.abs(values[:, 0::2] - truth) / truth


@pytest.mark.parametrize(
    ("f0", "limit", "bw_factor"),
    [(100.0, 0.06, 3), (120.0, 0.06, 3), (150.0, 0.12, 4), (210.0, 0.12, 4)],
)
def test_vowels_give_their_formants(analyze, f0, limit, bw_factor):
    """F1-F3 within ~5% (6%) in every frame at a male F0; at higher F0 the harmonics lie further
    apart and pull a low F1 towards one of them (/i/ at 150 Hz: 297 for 270 Hz), so 12% there.
    Bandwidths of the right order (within a factor of 3, or 4 at the higher F0)."""
    lines = []
    for name, formants in VOWELS.items():
        v = analyze(vowel_windows(name, f0))
        err = formant_errors(v, name)
        bw, truth_bw = v[:, 1::2], np.array([b for _, b in formants])
        lines.append(
            f"/{name}/ median error {np.median(err, 0).round(3)} worst {err.max(0).round(3)}, "
            f"bandwidth / truth {(bw.min(0) / truth_bw).round(2)}-{(bw.max(0) / truth_bw).round(2)}"
        )
        assert err.max() < limit, lines[-1]
        assert np.all((bw > truth_bw / bw_factor) & (bw < bw_factor * truth_bw)), lines[-1]
    print(f"F0 {f0:g} Hz\n" + "\n".join(lines))


def test_a_flat_source_lifts_a_low_f1(analyze):
    """Informative: without the source slope the pre-emphasis tilts the spectrum up, which pulls
    a low F1 upwards (by up to ~30% for /i/ and /u/ at 100-150 Hz); F2 and F3 stay within 6%."""
    lines = []
    for name in VOWELS:
        for f0 in (100.0, 120.0):
            err = formant_errors(analyze(vowel_windows(name, f0, tilt=0.0)), name)
            lines.append(f"/{name}/ F0 {f0:g}: worst error {err.max(0).round(3)}")
            assert err[:, 1:].max() < 0.06, lines[-1]
            assert err[:, 0].max() < 0.4, lines[-1]
    print("\n".join(lines))


def test_silence_and_dc_have_no_formants(analyze):
    windows = np.stack([np.zeros(N), np.full(N, 0.5), np.full(N, -1.0), 1e-30 * np.ones(N)])
    assert not analyze(windows).any()


def test_white_noise_gives_finite_plausible_values(analyze):
    v = analyze(np.random.default_rng(3).standard_normal((40, N)))
    check_plausible(v, CFG)


def check_plausible(v: np.ndarray, cfg: DescriptorConfig) -> None:
    assert np.isfinite(v).all()
    freq, bw = v[:, 0::2], v[:, 1::2]
    present = freq > 0
    assert np.all(present[:, 1:] <= present[:, :-1])  # a missing formant has no later ones
    assert np.all(bw[~present] == 0)
    assert np.all((freq[present] > 90) & (freq[present] < cfg.formant_max_hz))
    assert np.all(bw[present] < cfg.formant_max_bw_hz)
    assert np.all((freq[:, 1:] >= freq[:, :-1]) | ~present[:, 1:])  # sorted


def test_hostile_windows_are_finite(ext):
    for cfg in CONFIGS.values():
        for windows in windows_for(cfg, seed=7).values():
            check_plausible(cpp(ext, windows, cfg), cfg)


@pytest.mark.parametrize("gain", [0.25, 1024.0, 2.0**-10, 0.3, 7.7, 1e-3, 3e4])
def test_a_gain_changes_nothing(analyze, gain):
    windows = np.concatenate(
        [vowel_windows("e", 110.0)[:6], np.random.default_rng(4).standard_normal((6, N))]
    ).astype(np.float32)
    base = analyze(windows)
    scaled = analyze((windows * gain).astype(np.float32))
    # A power of two scales every intermediate exactly; other gains round the float32 samples.
    # (Down to where R_0 falls below 1e-12: a vowel at 5e-7 has no formants.)
    exact = np.log2(gain) == np.round(np.log2(gain))
    np.testing.assert_allclose(scaled, base, rtol=0 if exact else 1e-5, atol=0)


# ---- Praat -------------------------------------------------------------------------------------
def test_praat_burg_agrees_on_vowels(ext):
    """Informative: Praat's `To Formant (burg)` (5 formants below 5500 Hz, 25 ms, pre-emphasis
    from 50 Hz) on the same vowels; medians of F1-F3 within 8% of each other."""
    parselmouth = pytest.importorskip("parselmouth")
    lines = []
    for name in VOWELS:
        x = vowel(name, 120.0)
        sound = parselmouth.Sound(x.astype(np.float64), sampling_frequency=RATE)
        formant = sound.to_formant_burg(
            time_step=0.01,
            max_number_of_formants=5,
            maximum_formant=5500.0,
            window_length=0.025,
            pre_emphasis_from=50.0,
        )
        times = [t for t in formant.ts() if 0.12 < t < 0.28]
        praat = np.nanmedian(
            [[formant.get_value_at_time(k, t) for k in (1, 2, 3)] for t in times], 0
        )
        ours = np.median(cpp(ext, vowel_windows(name, 120.0))[:, 0::2], axis=0)
        truth = np.array([hz for hz, _ in VOWELS[name]])
        lines.append(f"/{name}/ truth {truth} praat {praat.round(0)} edgeser {ours.round(0)}")
        np.testing.assert_allclose(ours, praat, rtol=0.08, err_msg=lines[-1])
    print("\n".join(lines))
