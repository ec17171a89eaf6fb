"""C++-specific checks of edgeser._frontend: its building blocks against the Python spec,
zero-copy input, GIL release, threads, exact streaming, every SIMD code path, and a fuzz test
that no input crashes it.

Cross-backend parity on the standard configs lives in test_parity.py. Every test here needs the
built extension: without it they skip, unless EDGESER_REQUIRE_CPP=1 (CI), where they fail.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from edgeser import frontend
from edgeser.frontend import FrontendConfig, filters, reference

KINDS = ("spectrogram", "log_mel", "mfcc")


@pytest.fixture(scope="module")
def cpp(ext):
    from edgeser.frontend import _cpp_backend

    return _cpp_backend


def noise(n: int, seed: int = 0, scale: float = 0.3) -> np.ndarray:
    return (scale * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


# ---- building blocks against the Python spec ---------------------------------------------------
def test_rfft_matches_numpy_for_every_size_up_to_4096(ext):
    worst, worst_n = 0.0, None
    for n in range(2, 4097):  # powers of two take the split-radix path, the rest Bluestein
        x = np.random.default_rng(n).standard_normal(n)
        want = np.fft.rfft(x)
        err = np.abs(ext.rfft(x, n) - want[None, :]).max() / max(1.0, float(np.abs(want).max()))
        if err > worst:
            worst, worst_n = err, n
    assert worst <= 1e-13, f"size {worst_n}: relative error {worst:.3g}"


FFT_SIZES = sorted(
    set(range(1, 40))
    | {
        255,
        256,
        400,
        401,
        511,
        512,
        513,
        1000,
        1023,
        1024,
        1200,
        2047,
        2048,
        3001,
        4093,
        4096,
        65536,
        131072,
    }
)


@pytest.mark.parametrize("n", FFT_SIZES)
def test_rfft_crops_and_pads_like_numpy_in_every_lane(ext, n):
    rng = np.random.default_rng(n)
    for length in {max(1, n - 7), n, n + 5}:  # zero-padded, exact, cropped
        x = rng.standard_normal(length)
        want = np.fft.rfft(x, n)
        got = ext.rfft(x, n)  # one row per SIMD lane
        assert got.shape == (ext.LANES, n // 2 + 1)
        scale = max(1.0, float(np.abs(want).max()))
        assert np.abs(got - want[None, :]).max() <= 1e-12 * scale, (n, length)


def test_rfft_of_structured_inputs(ext):
    n = 512
    impulse = np.zeros(n)
    impulse[3] = 1.0
    np.testing.assert_allclose(
        ext.rfft(impulse, n)[0], np.exp(-2j * np.pi * 3 * np.arange(257) / n), atol=1e-14
    )
    dc = ext.rfft(np.ones(n), n)[0]
    assert abs(dc[0] - n) < 1e-12 and np.abs(dc[1:]).max() < 1e-12


def options_of(ext, cfg: FrontendConfig):
    from edgeser.frontend import _cpp_backend

    return _cpp_backend.options(cfg)


FILTER_CONFIGS = [
    {},
    dict(mel_scale="slaney"),
    dict(mel_scale="slaney", mel_norm="slaney"),
    dict(mel_norm="slaney"),
    dict(triangle_domain="mel"),
    dict(triangle_domain="mel", mel_scale="slaney", mel_norm="slaney"),
    dict(vtlp_alpha=0.9),
    dict(vtlp_alpha=1.1, vtlp_high_hz=6000.0),
    dict(fmin=300.0, fmax=-1000.0),
    dict(n_mels=128, frame_length_ms=16.0),
    dict(sample_rate=8000, n_mels=23, n_fft=401),
    dict(sample_rate=48000, n_mels=64, n_fft=1200),
    dict(window="hann"),
    dict(window="povey"),
    dict(window="rectangular"),
    dict(frame_length_ms=25.0625, lifter=22.0, n_mfcc=20),
]


@pytest.mark.parametrize(
    "overrides", FILTER_CONFIGS, ids=lambda d: ",".join(map(str, d.items())) or "default"
)
def test_filters_match_the_python_spec(ext, overrides):
    cfg = FrontendConfig(**overrides)
    opts = options_of(ext, cfg)
    want_fb = filters.mel_filterbank(cfg)
    got_fb = ext.mel_filterbank(opts)
    assert got_fb.shape == want_fb.shape
    # Weights near a triangle's edge come from differences of nearby frequencies: compare them
    # on the filter's own scale (libm and NumPy's exp/log differ in the last ulp).
    tol = 1e-11 * want_fb.max()
    np.testing.assert_allclose(got_fb, want_fb, rtol=1e-12, atol=tol)
    # Sparse storage: each filter keeps exactly the span of its own nonzero weights, which holds
    # every weight of the spec above the tolerance. A weight at a triangle's very edge can be
    # ~1e-16 on one side and exactly 0 on the other (it does with numpy 1.26 vs 2.x), so the
    # spans are compared on the same scale as the weights.
    for m, (first, count) in enumerate(ext.mel_filter_ranges(opts)):
        row = got_fb[m]
        assert not row[:first].any() and not row[first + count :].any()
        if count:
            assert row[first] != 0 and row[first + count - 1] != 0
        significant = np.flatnonzero(np.abs(want_fb[m]) > tol)
        if significant.size:
            assert first <= significant[0] and significant[-1] < first + count
    np.testing.assert_allclose(ext.window(opts), filters.window(cfg), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(
        ext.dct_matrix(opts), filters.dct_matrix(cfg), rtol=1e-13, atol=1e-15
    )
    np.testing.assert_allclose(ext.lifter_coeffs(opts), filters.lifter_coeffs(cfg), rtol=1e-13)


def test_mel_scales_match(ext):
    for scale in ("htk", "slaney"):
        for hz in (0.0, 1e-3, 440.0, 999.9, 1000.0, 1000.1, 7999.0, 24000.0):
            assert ext.hz_to_mel(hz, scale) == pytest.approx(
                float(filters.hz_to_mel(hz, scale)), rel=1e-14
            )
            mel = float(filters.hz_to_mel(hz, scale))
            assert ext.mel_to_hz(mel, scale) == pytest.approx(
                float(filters.mel_to_hz(mel, scale)), rel=1e-13, abs=1e-9
            )


@pytest.mark.parametrize("deltas,window", [(1, 1), (1, 2), (2, 2), (2, 3)])
@pytest.mark.parametrize("frames", [0, 1, 2, 5, 40])
def test_deltas_and_cmvn_match_the_reference(ext, deltas, window, frames):
    statics = np.random.default_rng(frames).standard_normal((frames, 6))
    cfg = FrontendConfig(deltas=deltas, delta_window=window)
    np.testing.assert_allclose(
        ext.add_deltas(statics, deltas, window),
        reference.add_deltas(statics, cfg),
        rtol=1e-12,
        atol=1e-12,
    )
    for mode in ("mean", "meanvar"):
        want = reference.apply_cmvn(statics, FrontendConfig(cmvn=mode))
        np.testing.assert_allclose(ext.apply_cmvn(statics, mode), want, rtol=1e-10, atol=1e-10)


# ---- options mirror the dataclass ----------------------------------------------------------------
def test_options_defaults_mirror_the_dataclass(ext):
    opts = ext.FrontendOptions()
    for field in dataclasses.fields(FrontendConfig):
        assert getattr(opts, field.name) == field.default, field.name


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        dict(sample_rate=1000, frame_length_ms=2.5, frame_shift_ms=1.5),  # 2.5 -> 2, 1.5 -> 2
        dict(
            sample_rate=1000, frame_length_ms=3.5, frame_shift_ms=0.5
        ),  # 3.5 -> 4, 0.5 -> 0 rejected
        dict(sample_rate=22050, frame_length_ms=23.2, frame_shift_ms=11.61, n_fft=0),
        dict(sample_rate=44100, frame_length_ms=25.0, n_fft=1500),
        dict(fmax=-400.0),
    ],
)
def test_derived_sizes_match_the_dataclass(ext, overrides):
    try:
        cfg = FrontendConfig(**overrides)
    except ValueError:
        opts = ext.FrontendOptions()
        for k, v in overrides.items():
            setattr(opts, k, v)
        with pytest.raises(ValueError):
            opts.validate()
        return
    opts = options_of(ext, cfg)
    opts.validate()
    assert (opts.frame_length, opts.frame_shift, opts.fft_size, opts.n_bins) == (
        cfg.frame_length,
        cfg.frame_shift,
        cfg.fft_size,
        cfg.n_bins,
    )
    assert opts.fmax_hz == cfg.fmax_hz
    for n in (0, cfg.frame_length - 1, cfg.frame_length, 12345):
        assert opts.num_frames(n) == cfg.num_frames(n)
    for kind in KINDS:
        assert opts.feature_dim(kind) == cfg.feature_dim(kind)


@pytest.mark.parametrize(
    "field,value",
    [
        ("n_mels", 0),
        ("power", 3.0),
        ("n_mfcc", 99),
        ("preemphasis", 1.0),
        ("lifter", 0.5),
        ("delta_window", 0),
        ("log_floor", 0.0),
        ("n_fft", 100),
        ("frame_length_ms", 0.01),
    ],
)
def test_invalid_options_raise_value_error(ext, field, value):
    opts = ext.FrontendOptions()
    setattr(opts, field, value)
    with pytest.raises(ValueError, match=field if field != "n_fft" else "n_fft"):
        opts.validate()
    with pytest.raises(ValueError):
        ext.FeatureComputer(opts, "mfcc")


def test_unknown_names_raise_value_error(ext):
    opts = ext.FrontendOptions()
    with pytest.raises(ValueError, match="window"):
        opts.window = "blackman"
    with pytest.raises(ValueError, match="kind"):
        ext.FeatureComputer(opts, "chroma")


# ---- calling convention: zero copy, dtypes, shapes ---------------------------------------------
def test_input_is_read_in_place(cpp):
    comp = cpp.computer(FrontendConfig(), "mfcc")
    x = noise(4000)
    assert comp._input_address(x) == x.ctypes.data
    view = x[100:]  # a contiguous view is read where it lies too
    assert comp._input_address(view) == view.ctypes.data
    frozen = np.frombuffer(x.tobytes(), dtype=np.float32)  # read-only memory is fine
    assert not frozen.flags.writeable and comp._input_address(frozen) == frozen.ctypes.data
    assert np.array_equal(comp.compute(frozen), comp.compute(x))
    # Anything that would need a copy is refused instead of silently converted.
    with pytest.raises(TypeError):
        comp.compute(x.astype(np.float64))
    with pytest.raises(TypeError):
        comp.compute(x[::2])
    with pytest.raises(TypeError):
        comp._input_address([0.0] * 500)
    with pytest.raises(ValueError, match="1-D"):
        comp.compute(np.zeros((2, 400), np.float32))


@pytest.mark.parametrize("kind", KINDS)
def test_output_is_a_fresh_float32_array(cpp, kind):
    cfg = FrontendConfig(deltas=1)
    x = noise(8000)
    out = cpp.compute(x, cfg, kind)
    assert out.dtype == np.float32 and out.flags.c_contiguous and out.flags.owndata
    assert out.flags.writeable
    assert out.shape == (cfg.num_frames(len(x)), cfg.feature_dim(kind))
    again = cpp.compute(x, cfg, kind)
    assert again is not out and np.array_equal(again, out)
    out[:] = 0  # writing to one result leaves the next untouched
    assert np.array_equal(cpp.compute(x, cfg, kind), again)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("n", [0, 1, 399])
def test_shorter_than_one_frame_gives_zero_frames(cpp, kind, n):
    cfg = FrontendConfig(deltas=2, cmvn="meanvar")
    out = cpp.compute(np.zeros(n, np.float32), cfg, kind)
    assert out.shape == (0, cfg.feature_dim(kind)) and out.dtype == np.float32


def test_computers_are_cached_per_config(cpp):
    a = cpp.computer(FrontendConfig(n_mels=30), "log_mel")
    assert cpp.computer(FrontendConfig(n_mels=30), "log_mel") is a
    assert cpp.computer(FrontendConfig(n_mels=31), "log_mel") is not a


# ---- GIL and threads -----------------------------------------------------------------------------
def test_two_threads_compute_concurrently_with_the_same_results(cpp):
    cfg = FrontendConfig(deltas=2)
    signals = [noise(48000, seed) for seed in range(2)]
    want = [cpp.compute(x, cfg, "mfcc") for x in signals]
    got = [None, None]
    start = threading.Barrier(2)

    def run(i):
        start.wait()
        for _ in range(20):
            got[i] = cpp.compute(signals[i], cfg, "mfcc")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(np.array_equal(g, w) for g, w in zip(got, want))


def test_python_keeps_running_while_cpp_computes(cpp):
    """With a 1000 s switch interval the interpreter only changes thread when the running one
    blocks or releases the GIL, so the main thread can count while the worker is inside compute
    only if compute released the GIL."""
    cfg = FrontendConfig(frame_length_ms=64.0, frame_shift_ms=1.0)
    x = noise(16000 * 30)  # 30000 frames: long enough to outlast the counting below
    comp = cpp.computer(cfg, "mfcc")
    comp.compute(x[:16000])  # warm up
    started, done = threading.Event(), threading.Event()
    result = {}

    def worker():
        started.set()
        result["out"] = comp.compute(x)
        done.set()

    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        t = threading.Thread(target=worker)
        t.start()
        started.wait()
        counted = 0
        while not done.is_set() and counted < 20000:
            counted += 1
        finished_first = done.is_set()
        done.wait()
        t.join()
    finally:
        sys.setswitchinterval(old)
    assert not finished_first and counted == 20000
    assert result["out"].shape == (cfg.num_frames(len(x)), 13)


@pytest.mark.parametrize("num_threads", [1, 2, 3, 16])
def test_batch_equals_one_by_one(cpp, num_threads):
    cfg = FrontendConfig(deltas=1, cmvn="mean")
    signals = [noise(n, seed) for seed, n in enumerate([16000, 0, 399, 400, 3210, 48000, 777])]
    got = cpp.compute_batch(signals, cfg, "mfcc", num_threads)
    assert len(got) == len(signals)
    for g, x in zip(got, signals):
        assert np.array_equal(g, cpp.compute(x, cfg, "mfcc"))
    assert cpp.compute_batch([], cfg, "mfcc", num_threads) == []


def test_batch_through_the_public_api(cpp):
    signals = [noise(5000 + 100 * i, i) for i in range(5)]
    got = frontend.log_mel_batch(signals, FrontendConfig(), num_threads=2, backend="cpp")
    for g, x in zip(got, signals):
        assert np.array_equal(g, frontend.log_mel(x, FrontendConfig(), backend="cpp"))


def test_batch_rejects_bad_items_and_thread_counts(cpp):
    comp = cpp.computer(FrontendConfig(), "mfcc")
    with pytest.raises(TypeError, match="signal 1"):
        comp.compute_batch([noise(500), np.zeros(500)], 1)
    with pytest.raises(ValueError, match="num_threads"):
        comp.compute_batch([noise(500)], 0)


# ---- streaming --------------------------------------------------------------------------------
STREAM_CONFIGS = [
    dict(),
    dict(deltas=1),
    dict(deltas=2),
    dict(deltas=2, delta_window=1),
    dict(deltas=2, delta_window=4, window="povey", remove_dc=True),
    dict(frame_length_ms=10.0, frame_shift_ms=25.0, deltas=1),  # gaps between frames
    dict(n_fft=401, frame_length_ms=25.0625, deltas=2),
]


@pytest.mark.parametrize(
    "overrides", STREAM_CONFIGS, ids=lambda d: ",".join(map(str, d.items())) or "default"
)
@pytest.mark.parametrize("kind", KINDS)
def test_stream_equals_offline_for_random_chunkings(cpp, overrides, kind):
    cfg = FrontendConfig(**overrides)
    rng = np.random.default_rng(len(overrides))
    for trial in range(12):
        n = int(rng.integers(0, 9000))
        x = noise(n, trial)
        want = cpp.compute(x, cfg, kind)
        stream = cpp.make_stream(cfg, kind)
        pieces, pos = [], 0
        while pos < n:
            size = int(rng.choice([0, 1, 7, 159, 160, 161, 400, 1000, 5000]))
            pieces.append(stream.push(x[pos : pos + size]))
            pos += size
        pieces.append(stream.flush())
        got = np.concatenate(pieces) if pieces else np.zeros((0, cfg.feature_dim(kind)), np.float32)
        assert got.dtype == np.float32 and got.shape == want.shape, (trial, n)
        assert np.array_equal(got, want), (trial, n)  # bit for bit, not just within tolerance


def test_stream_delays_rows_by_the_delta_context(cpp):
    cfg = FrontendConfig(deltas=2, delta_window=2)
    stream = cpp.make_stream(cfg, "mfcc")
    x = noise(400 + 160 * 9)  # 10 frames
    assert stream.push(x).shape == (10 - 4, 39)
    assert stream.flush().shape == (4, 39)
    assert stream.flush().shape == (0, 39)
    with pytest.raises(RuntimeError, match="flushed"):
        stream.push(x)


def test_stream_rejects_cmvn(cpp, ext):
    with pytest.raises(ValueError, match="CMVN"):
        cpp.make_stream(FrontendConfig(cmvn="mean"), "mfcc")
    with pytest.raises(ValueError, match="CMVN"):
        ext.FrameStream(
            ext.FeatureComputer(options_of(ext, FrontendConfig(cmvn="meanvar")), "mfcc")
        )


def test_public_frame_stream_uses_cpp(cpp):
    cfg = FrontendConfig(deltas=1)
    x = noise(10000, 3)
    s = frontend.FrameStream(cfg, "log_mel", backend="cpp")
    assert s.backend == "cpp"
    got = np.concatenate([s.push(x[i : i + 333]) for i in range(0, len(x), 333)] + [s.flush()])
    assert np.array_equal(got, frontend.log_mel(x, cfg, backend="cpp"))


def test_concurrent_pushes_into_one_stream_are_serialised(cpp):
    cfg = FrontendConfig()
    stream = cpp.make_stream(cfg, "mfcc")
    chunk = noise(1600, 5)
    rows = [0, 0]

    def pusher(i):
        for _ in range(200):
            rows[i] += stream.push(chunk).shape[0]

    threads = [threading.Thread(target=pusher, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    total = sum(rows) + stream.flush().shape[0]
    assert total == cfg.num_frames(2 * 200 * len(chunk))


# ---- every SIMD code path ---------------------------------------------------------------------
_ISA_PROBE = r"""
import json, sys
import numpy as np
from edgeser import _frontend
from edgeser.frontend import FrontendConfig, reference
from edgeser.frontend import _cpp_backend as cpp
x = (0.3 * np.random.default_rng(7).standard_normal(20000)).astype(np.float32)
out = {"isa": _frontend.simd_isa(), "err": {}}
for name, cfg in {"default": FrontendConfig(), "kaldi": FrontendConfig.preset("kaldi"),
                  "odd": FrontendConfig(n_fft=401, frame_length_ms=25.0625, power=1.0,
                                        log_type="db", window="hann", deltas=2)}.items():
    for kind in ("spectrogram", "log_mel", "mfcc"):
        got = cpp.compute(x, cfg, kind).astype(np.float64)
        want = reference.compute(x, cfg, kind).astype(np.float64)
        scale = max(1.0, np.abs(want).max())
        out["err"][f"{name}/{kind}"] = float(np.abs(got - want).max() / scale)
print(json.dumps(out))
"""


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
def test_every_instruction_set_path_matches_the_reference(ext, isa):
    env = dict(os.environ, EDGESER_SIMD=isa)
    proc = subprocess.run(
        [sys.executable, "-c", _ISA_PROBE], env=env, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    if res["isa"] != isa:
        assert isa != "generic", "the generic path can always be selected"
        pytest.skip(f"this CPU cannot run the {isa} path (got {res['isa']})")
    worst = max(res["err"].values())
    assert worst < 1e-5, res["err"]


# ---- fuzz: any input, any valid config: no crash, right shape, reference agreement --------------
@st.composite
def configs(draw):
    sample_rate = draw(st.sampled_from([8000, 16000, 22050]))
    frame_ms = draw(st.floats(0.5, 40.0))
    length = int(round(sample_rate * frame_ms / 1000.0))
    assume(length >= 2)
    n_fft = draw(st.one_of(st.just(0), st.integers(length, length + 700)))
    n_mels = draw(st.integers(1, 64))
    fields = dict(
        sample_rate=sample_rate,
        frame_length_ms=frame_ms,
        frame_shift_ms=draw(st.floats(0.2, 30.0)),
        n_fft=n_fft,
        window=draw(st.sampled_from(["hamming", "hann", "povey", "rectangular"])),
        preemphasis=draw(st.sampled_from([0.0, 0.5, 0.97, 0.999])),
        remove_dc=draw(st.booleans()),
        n_mels=n_mels,
        n_mfcc=draw(st.integers(1, n_mels)),
        mel_scale=draw(st.sampled_from(["htk", "slaney"])),
        mel_norm=draw(st.sampled_from(["none", "slaney"])),
        triangle_domain=draw(st.sampled_from(["hz", "mel"])),
        power=draw(st.sampled_from([1.0, 2.0])),
        log_type=draw(st.sampled_from(["natural", "db"])),
        log_floor=draw(st.sampled_from([1e-10, 1.1920928955078125e-07, 1e-3, 1e-300, 5e-324])),
        lifter=draw(st.sampled_from([0.0, 1.0, 22.0])),
        deltas=draw(st.integers(0, 2)),
        delta_window=draw(st.integers(1, 3)),
        cmvn=draw(st.sampled_from(["none", "mean"])),
        vtlp_alpha=draw(st.sampled_from([1.0, 0.9, 1.1])),
        vtlp_high_hz=draw(st.sampled_from([2000.0, 3000.0])),
    )
    try:
        return FrontendConfig(**fields)
    except ValueError:
        assume(False)


SAMPLES = st.one_of(
    st.floats(-1.0, 1.0, width=32),
    st.floats(width=32, allow_nan=False, allow_infinity=False),  # up to +-3.4e38, subnormals
    # extremes as exact float32 values (3e38 and 1e-38 are not: hypothesis refuses them as
    # float32 elements with numpy 1.x); -1e-45 becomes the smallest subnormal
    st.sampled_from(
        [float(np.float32(v)) for v in (0.0, 1e-38, -1e-45, 3.0e38, -3.0e38, 32767.0, -32768.0)]
    ),
)
SIGNALS = hnp.arrays(np.float32, st.integers(0, 5000), elements=SAMPLES)


def _linear_energy(log_values: np.ndarray, cfg: FrontendConfig) -> np.ndarray:
    v = log_values.astype(np.float64)
    with np.errstate(over="ignore"):
        return 10.0 ** (v / 10.0) if cfg.log_type == "db" else np.exp(v)


def _check_against_reference(got: dict, x: np.ndarray, cfg: FrontendConfig) -> None:
    """Agreement where floating point allows it: roundoff of either FFT is relative to the
    frame's strongest band, so weak bands are compared on that scale, in linear energy."""
    want_spec = reference.static_features(x, cfg, "spectrogram")
    spec = got["spectrogram_static"].astype(np.float64)
    assert not np.isnan(spec).any() and not np.isneginf(spec).any()
    if spec.size:
        peak = want_spec.max(axis=1, keepdims=True)
        # Output is float32: inf stands for "above float32's range", and below ~1e-45 everything
        # is 0, so allow one subnormal step.
        fmax = float(np.finfo(np.float32).max)
        spec = np.where(np.isinf(spec), np.maximum(fmax, want_spec), spec)
        allowed = 1e-6 * np.abs(want_spec) + 1e-9 * peak + 1.5e-45
        assert np.all(np.abs(spec - want_spec) <= allowed)

    want_lm = reference.static_features(x, cfg, "log_mel")
    e_got = _linear_energy(got["log_mel_static"], cfg)
    e_want = _linear_energy(want_lm.astype(np.float32), cfg)
    if e_want.size:
        # Roundoff in a band is relative to the frame's whole spectrum, not just the mel bands:
        # a DC-only frame has silent bands whose FFT noise (~1e-16 of the DC bin) is real.
        strongest = e_want.max(axis=1, keepdims=True)
        spectrum_peak = (
            want_spec.max(axis=1, keepdims=True) * filters.mel_filterbank(cfg).sum(1).max()
        )
        allowed = 1e-4 * e_want + 1e-9 * np.maximum(strongest, spectrum_peak)
        assert np.all(np.abs(e_got - e_want) <= allowed)
    # MFCC = lifted DCT of the log-mel the C++ code produced (checked just above).
    dct = filters.dct_matrix(cfg) * filters.lifter_coeffs(cfg)[:, None]
    mfcc_from_lm = got["log_mel_static"].astype(np.float64) @ dct.T
    scale = max(1.0, float(np.abs(mfcc_from_lm).max())) if mfcc_from_lm.size else 1.0
    assert np.abs(got["mfcc_static"] - mfcc_from_lm).max(initial=0) <= 1e-5 * scale


# EDGESER_FUZZ_EXAMPLES raises the number of cases for a longer campaign (default: quick).
@settings(
    max_examples=int(os.environ.get("EDGESER_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(x=SIGNALS, cfg=configs())
def test_fuzz_no_crash_and_agreement(cpp, x, cfg):
    static_cfg = cfg.replace(deltas=0, cmvn="none")
    got = {}
    for kind in KINDS:
        out = cpp.compute(x, cfg, kind)
        assert out.shape == (cfg.num_frames(len(x)), cfg.feature_dim(kind))
        assert out.dtype == np.float32
        static = cpp.compute(x, static_cfg, kind)
        got[kind + "_static"] = static
        if kind != "spectrogram":
            assert np.isfinite(out).all() and np.isfinite(static).all()
            # Deltas and CMVN are the reference's post-processing of the C++ statics.
            want = reference.postprocess(static.astype(np.float64), cfg)
            scale = max(1.0, float(np.abs(static).max(initial=0)))
            assert np.abs(out - want).max(initial=0) <= 1e-5 * scale
    _check_against_reference(got, x, cfg)
    # Streaming over an arbitrary split gives the same rows (without CMVN).
    if cfg.cmvn == "none" and len(x):
        s = cpp.make_stream(cfg, "mfcc")
        cut = len(x) // 3
        rows = np.concatenate([s.push(x[:cut]), s.push(x[cut:]), s.flush()])
        assert np.array_equal(rows, cpp.compute(x, cfg, "mfcc"))
