"""Silero VAD as a peer of edgeser's voice gate, for the benchmarks only (never the predict path).

Silero VAD is the voice-activity detector most speech projects reach for. Its pip package
(`silero-vad`) ships the network as an ONNX file beside a Python wrapper that needs PyTorch; this
module runs the ONNX file with onnxruntime instead, so the benchmark needs neither PyTorch nor
the package's own code (`pip install onnxruntime` and `pip install --no-deps silero-vad`, as
`make setup` does).

How a clip is judged, after the package's documented defaults for `get_speech_timestamps`: the
network scores 512-sample chunks (32 ms at 16 kHz), each seen with the 64 samples before it
and the recurrent state carried over; a speech segment starts at a chunk scoring >= 0.5 and ends
at the first chunk under 0.35; a clip contains speech when a segment lasts at least 250 ms.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

SAMPLE_RATE = 16000
CHUNK = 512  # samples the network scores at a time at 16 kHz
CONTEXT = 64  # samples of the previous chunk it sees beside each chunk
MODEL_FILE = ("data", "silero_vad.onnx")


def model_path() -> Path | None:
    """The ONNX file of an installed `silero-vad` package, found without importing the package
    (its `__init__` imports PyTorch)."""
    spec = importlib.util.find_spec("silero_vad")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*MODEL_FILE)
    return path if path.is_file() else None


def unavailable_reason() -> str | None:
    """Why the peer cannot run here, or None when it can."""
    if importlib.util.find_spec("onnxruntime") is None:
        return "onnxruntime is not installed"
    if model_path() is None:
        return "the silero-vad package (its ONNX model) is not installed"
    return None


class SileroVad:
    """Silero VAD's ONNX network on 16 kHz mono float audio."""

    def __init__(self, path: str | Path | None = None, threshold: float = 0.5):
        import onnxruntime

        path = Path(path) if path is not None else model_path()
        if path is None:
            raise RuntimeError(f"silero-vad peer: {unavailable_reason()}")
        if not 0.15 < threshold < 1.0:
            raise ValueError(f"threshold must be in (0.15, 1), got {threshold!r}")
        opts = onnxruntime.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(path), sess_options=opts, providers=["CPUExecutionProvider"]
        )
        self.threshold = float(threshold)
        self.path = path

    def probabilities(self, samples: np.ndarray) -> np.ndarray:
        """Speech probability of each 32 ms chunk (the last one zero-padded)."""
        x = np.asarray(samples, dtype=np.float32).reshape(-1)
        if x.size == 0:
            return np.zeros(0, dtype=np.float32)
        n = -(-x.size // CHUNK)
        padded = np.zeros(CONTEXT + n * CHUNK, dtype=np.float32)
        padded[CONTEXT : CONTEXT + x.size] = x
        state = np.zeros((2, 1, 128), dtype=np.float32)
        rate = np.array(SAMPLE_RATE, dtype=np.int64)
        out = np.empty(n, dtype=np.float32)
        for k in range(n):
            chunk = padded[k * CHUNK : (k + 1) * CHUNK + CONTEXT][None, :]
            p, state = self._session.run(None, {"input": chunk, "state": state, "sr": rate})
            out[k] = float(np.asarray(p).reshape(-1)[0])
        return out

    def segments(self, samples: np.ndarray) -> list[tuple[int, int]]:
        """[first, end) chunk indices of the speech segments, by the start/stop hysteresis."""
        p = self.probabilities(samples)
        stop = self.threshold - 0.15
        out, start = [], None
        for k, v in enumerate(p):
            if start is None and v >= self.threshold:
                start = k
            elif start is not None and v < stop:
                out.append((start, k))
                start = None
        if start is not None:
            out.append((start, len(p)))
        return out

    def is_speech(self, samples: np.ndarray, min_speech_s: float = 0.25) -> bool:
        """True when a speech segment lasts at least `min_speech_s`."""
        need = min_speech_s * SAMPLE_RATE / CHUNK
        return any(end - first >= need for first, end in self.segments(samples))
