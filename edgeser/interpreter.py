"""TFLite runtime selection and a thread-safe model runner that hides quantisation.

Runtimes, lightest first: `ai_edge_litert` (LiteRT), `tflite_runtime`, then TensorFlow's own
`tf.lite` (heavy; only when nothing else is installed). `ModelRunner.run` takes float features
and returns class probabilities whatever the model's tensor types: int8/uint8 inputs are
quantised with the tensor's scale and zero point, outputs dequantised, and a softmax applied
only when the outputs are not probabilities already.
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import BundleError, MissingDependencyError

RUNTIMES = ("litert", "tflite_runtime", "tensorflow")
_RUNTIME_MODULES = {
    "litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow",
}
PROBABILITY_TOLERANCE = {"float": 1e-3, "quantized": 0.05}


def _interpreter_class(runtime: str):
    module = importlib.import_module(_RUNTIME_MODULES[runtime])
    if runtime == "tensorflow":
        return module.lite.Interpreter, getattr(module.lite.experimental, "OpResolverType", None)
    return module.Interpreter, getattr(module, "OpResolverType", None)


def resolve_runtime(runtime: str = "auto") -> tuple[str, type, Any]:
    """(name, Interpreter class, OpResolverType enum or None) of the runtime to use."""
    if runtime != "auto" and runtime not in RUNTIMES:
        raise ValueError(f"unknown TFLite runtime {runtime!r}; choose from {('auto',) + RUNTIMES}")
    for name in RUNTIMES if runtime == "auto" else (runtime,):
        try:
            cls, resolver = _interpreter_class(name)
        except ImportError:
            continue
        return name, cls, resolver
    wanted = "a TFLite runtime" if runtime == "auto" else f"the {runtime!r} TFLite runtime"
    raise MissingDependencyError(
        f"{wanted} is not installed: pip install ai-edge-litert (or tflite-runtime, or tensorflow)"
    )


@dataclass(frozen=True)
class TensorInfo:
    index: int
    shape: tuple[int, ...]
    shape_signature: tuple[int, ...]
    dtype: np.dtype
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        return self.dtype in (np.dtype(np.int8), np.dtype(np.uint8), np.dtype(np.int16))

    @property
    def dynamic_batch(self) -> bool:
        return len(self.shape_signature) > 0 and self.shape_signature[0] == -1

    @classmethod
    def from_details(cls, d: dict) -> TensorInfo:
        scale, zero = d.get("quantization", (0.0, 0))
        sig = tuple(int(v) for v in d.get("shape_signature", d["shape"]))
        return cls(
            index=int(d["index"]),
            shape=tuple(int(v) for v in d["shape"]),
            shape_signature=sig,
            dtype=np.dtype(d["dtype"]),
            scale=float(scale),
            zero_point=int(zero),
        )


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def as_probabilities(out: np.ndarray, tolerance: float) -> np.ndarray:
    """Rows that already are probabilities are renormalised; anything else goes through softmax."""
    out = np.asarray(out, dtype=np.float64)
    sums = out.sum(axis=-1)
    if np.all(out >= -tolerance) and np.all(np.abs(sums - 1.0) <= tolerance):
        clipped = np.clip(out, 0.0, None)
        return clipped / clipped.sum(axis=-1, keepdims=True)
    return softmax(out)


class ModelRunner:
    """One TFLite interpreter for one model, safe to call from several threads (a lock).

    Batches of inputs run in one invoke when the model's batch dimension is dynamic, else one
    row at a time.
    """

    def __init__(
        self,
        model: bytes,
        *,
        runtime: str = "auto",
        num_threads: int = 1,
        xnnpack: bool = True,
        max_batch: int = 32,
        source: str = "<model>",
    ):
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 1:
            raise ValueError(f"num_threads must be a positive integer, got {num_threads!r}")
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"max_batch must be a positive integer, got {max_batch!r}")
        self.runtime, cls, resolver = resolve_runtime(runtime)
        kwargs = {"model_content": bytes(model), "num_threads": num_threads}
        no_delegate = (
            None
            if resolver is None
            else {"experimental_op_resolver_type": resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
        )
        if not xnnpack and no_delegate:
            kwargs.update(no_delegate)
        try:
            self._interp = self._load(cls, kwargs)
        except (ValueError, RuntimeError) as exc:
            if not (xnnpack and no_delegate):
                raise BundleError(
                    f"{source}: the TFLite model cannot be loaded by {self.runtime} ({exc})"
                ) from None
            # XNNPACK refuses some int8 graphs at prepare; the builtin kernels still run them.
            try:
                self._interp = self._load(cls, {**kwargs, **no_delegate})
            except (ValueError, RuntimeError) as exc2:
                raise BundleError(
                    f"{source}: the TFLite model cannot be loaded by {self.runtime} ({exc2})"
                ) from None
            xnnpack = False
        ins, outs = self._interp.get_input_details(), self._interp.get_output_details()
        if len(ins) != 1 or len(outs) != 1:
            raise BundleError(
                f"{source}: the model must have one input and one output tensor, "
                f"has {len(ins)} and {len(outs)}"
            )
        self.input = TensorInfo.from_details(ins[0])
        self.output = TensorInfo.from_details(outs[0])
        self.num_threads = num_threads
        self.xnnpack = xnnpack
        self.max_batch = max_batch if self.input.dynamic_batch else 1
        self._batch = self.input.shape[0] if self.input.shape else 1
        self._lock = threading.Lock()
        self._tolerance = PROBABILITY_TOLERANCE["quantized" if self.output.quantized else "float"]

    @staticmethod
    def _load(cls, kwargs: dict):
        interp = cls(**kwargs)
        interp.allocate_tensors()
        return interp

    def op_names(self) -> list[str]:
        """Names of the graph's ops (what a deployment target's TFLite build must support)."""
        details = self._interp._get_ops_details()  # noqa: SLF001 (TFLite's only op listing)
        return [d["op_name"] for d in details if d["op_name"] != "DELEGATE"]

    def _quantize(self, x: np.ndarray) -> np.ndarray:
        t = self.input
        if not t.quantized:
            return x.astype(t.dtype, copy=False)
        if t.scale <= 0:
            raise BundleError("quantised model input has no scale")
        info = np.iinfo(t.dtype)
        q = np.round(x / t.scale + t.zero_point)
        return np.clip(q, info.min, info.max).astype(t.dtype)

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        t = self.output
        if t.quantized and t.scale > 0:
            return (y.astype(np.float64) - t.zero_point) * t.scale
        return y.astype(np.float64)

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        n = batch.shape[0]
        if n != self._batch:
            self._interp.resize_tensor_input(
                self.input.index, [n, *self.input.shape[1:]], strict=True
            )
            self._interp.allocate_tensors()
            self._batch = n
        self._interp.set_tensor(self.input.index, self._quantize(batch))
        self._interp.invoke()
        return np.array(self._interp.get_tensor(self.output.index))

    def run(self, x: np.ndarray) -> np.ndarray:
        """[n, *input_shape[1:]] float features -> float64 [n, classes] probabilities."""
        x = np.asarray(x, dtype=np.float32)
        expected = tuple(self.input.shape[1:])
        if x.shape[1:] != expected:
            raise ValueError(
                f"model input must be [n, {', '.join(map(str, expected))}], got {list(x.shape)}"
            )
        if x.shape[0] == 0:
            return np.zeros((0, self.output.shape[-1]), dtype=np.float64)
        outs = []
        with self._lock:
            for b in range(0, x.shape[0], self.max_batch):
                outs.append(self._dequantize(self._invoke(x[b : b + self.max_batch])))
        raw = np.concatenate(outs, axis=0).reshape(x.shape[0], -1)
        return as_probabilities(raw, self._tolerance)
