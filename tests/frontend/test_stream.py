"""FrameStream: pushing any chunking of a signal gives the offline features of the whole."""

from __future__ import annotations

import numpy as np
import pytest

from edgeser import frontend
from edgeser.frontend import FrontendConfig

KINDS = ("spectrogram", "log_mel", "mfcc")
CHUNK_SIZES = (1, 7, 159, 160, 161, 4000)


def stream_all(stream: frontend.FrameStream, x: np.ndarray, bounds) -> np.ndarray:
    """Push x split at `bounds`, then flush; every output is checked and concatenated."""
    outs = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        out = stream.push(x[a:b])
        assert out.dtype == np.float32 and out.ndim == 2 and out.shape[1] == stream.dim
        outs.append(out)
    outs.append(stream.flush())
    return np.concatenate(outs)


def fixed_bounds(n: int, size: int) -> list[int]:
    return list(range(0, n, size)) + [n]


def random_bounds(n: int, seed: int) -> list[int]:
    """Random split points, empty chunks included."""
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.integers(0, n + 1, size=rng.integers(1, 30)))
    return [0, *cuts.tolist(), n]


def assert_same_as_offline(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("deltas", (0, 1, 2))
@pytest.mark.parametrize("kind", KINDS)
def test_fixed_chunk_sizes_equal_offline(backend_name, kind, deltas, signal_factory):
    cfg = FrontendConfig(deltas=deltas)
    x = signal_factory("chirp", seconds=0.45)
    want = frontend.features(x, cfg, kind, backend=backend_name)
    for size in CHUNK_SIZES:
        sig = x[:1900] if size == 1 else x  # one-sample pushes: keep the run short
        offline = want if size != 1 else frontend.features(sig, cfg, kind, backend=backend_name)
        stream = frontend.FrameStream(cfg, kind, backend=backend_name)
        assert stream.backend == backend_name
        assert_same_as_offline(stream_all(stream, sig, fixed_bounds(len(sig), size)), offline)


@pytest.mark.parametrize("deltas, delta_window", [(0, 2), (1, 2), (2, 2), (2, 3), (1, 1)])
def test_random_splits_equal_offline(backend_name, deltas, delta_window, signal_factory):
    cfg = FrontendConfig(deltas=deltas, delta_window=delta_window, frame_shift_ms=9.9375)
    x = signal_factory("noise", seconds=0.3, seed=deltas)
    want = frontend.mfcc(x, cfg, backend=backend_name)
    for seed in range(6):
        stream = frontend.FrameStream(cfg, "mfcc", backend=backend_name)
        assert_same_as_offline(stream_all(stream, x, random_bounds(len(x), seed)), want)


@pytest.mark.parametrize("deltas", (0, 1, 2))
def test_frames_are_emitted_as_soon_as_their_context_exists(backend_name, deltas):
    """Each push returns every frame whose samples (and delta look-ahead) have arrived."""
    cfg = FrontendConfig(deltas=deltas)
    lag = deltas * cfg.delta_window
    stream = frontend.FrameStream(cfg, "log_mel", backend=backend_name)
    x = np.random.default_rng(0).standard_normal(cfg.frame_length + 20 * cfg.frame_shift)
    x = x.astype(np.float32)
    emitted, start = 0, 0
    for end in [*range(97, len(x), cfg.frame_shift), len(x)]:
        emitted += stream.push(x[start:end]).shape[0]
        start = end
        assert emitted == max(0, cfg.num_frames(end) - lag)
    emitted += stream.flush().shape[0]
    assert emitted == cfg.num_frames(len(x))


@pytest.mark.parametrize("kind", KINDS)
def test_frames_with_gaps_between_them_stream_correctly(backend_name, kind):
    """frame_shift > frame_length: the samples between frames must be skipped, even when they
    arrive in a later chunk than the frame before them."""
    cfg = FrontendConfig(frame_length_ms=10.0, frame_shift_ms=25.0, deltas=1)
    x = np.random.default_rng(3).standard_normal(4000).astype(np.float32)
    want = frontend.features(x, cfg, kind, backend=backend_name)
    for bounds in (fixed_bounds(len(x), 161), fixed_bounds(len(x), 170), random_bounds(len(x), 1)):
        stream = frontend.FrameStream(cfg, kind, backend=backend_name)
        assert_same_as_offline(stream_all(stream, x, bounds), want)


def test_flush_twice_and_push_after_flush(backend_name, signal_factory):
    stream = frontend.FrameStream(FrontendConfig(deltas=1), "mfcc", backend=backend_name)
    stream.push(signal_factory("sine", seconds=0.1))
    assert stream.flush().shape[0] > 0
    second = stream.flush()
    assert second.shape == (0, stream.dim) and second.dtype == np.float32
    with pytest.raises(RuntimeError, match="flushed"):
        stream.push(np.zeros(160, dtype=np.float32))


def test_cmvn_cannot_stream(backend_name):
    with pytest.raises(ValueError, match="cmvn"):
        frontend.FrameStream(FrontendConfig(cmvn="mean"), "mfcc", backend=backend_name)


def test_empty_chunks_and_short_streams(backend_name, signal_factory):
    cfg = FrontendConfig(deltas=2)
    stream = frontend.FrameStream(cfg, "mfcc", backend=backend_name)
    assert stream.push(np.zeros(0, dtype=np.float32)).shape == (0, 39)
    assert stream.push([]).shape == (0, 39)
    assert stream.push(np.ones(cfg.frame_length - 1, np.float32)).shape == (0, 39)
    assert stream.flush().shape == (0, 39)

    x = signal_factory("clipped", seconds=0.2)
    stream = frontend.FrameStream(cfg, "mfcc", backend=backend_name)
    outs = []
    for a in range(0, len(x), 500):
        outs += [stream.push(x[a : a + 500]), stream.push(np.zeros(0, np.float32))]
    outs.append(stream.flush())
    assert_same_as_offline(np.concatenate(outs), frontend.mfcc(x, cfg, backend=backend_name))


def test_int16_chunks_equal_float32_chunks(backend_name, signal_factory):
    x = signal_factory("int16_scale", seconds=0.2)
    cfg = FrontendConfig()
    outs = {}
    for dtype in (np.int16, np.float32):
        stream = frontend.FrameStream(cfg, "log_mel", backend=backend_name)
        outs[dtype] = stream_all(stream, x.astype(dtype), fixed_bounds(len(x), 333))
    np.testing.assert_array_equal(outs[np.int16], outs[np.float32])
