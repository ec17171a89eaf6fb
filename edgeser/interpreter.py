"""TFLite runtime selection and a thread-safe model runner that hides quantisation.

Runtimes (docs/runtimes.md): `litert` (ai-edge-litert, the default dependency where it has
wheels; `edgeser[litert]`), `tflite_runtime` (tflite-runtime, `edgeser[tflite]`) and
`tensorflow` (TensorFlow's own `tf.lite`). "auto" takes the first of litert, tflite_runtime that
imports and never imports TensorFlow, which is heavy and whose native libraries make openSMILE
abort the process: it is used only when asked for by name.

`ModelRunner.run` takes float features and returns class probabilities whatever the model's
tensor types: int8/uint8 inputs are quantised with the tensor's scale and zero point, outputs
dequantised, and a softmax applied only when the outputs are not probabilities already. Every
failure of a runtime to import, load or run a model comes out as one of edgeser's errors, with
the runtime's own exception as its cause.
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import BundleError, EdgeserError, MissingDependencyError

RUNTIMES = ("litert", "tflite_runtime", "tensorflow")
AUTO_RUNTIMES = ("litert", "tflite_runtime")  # "auto" never imports TensorFlow
# More interpreter threads than this gain nothing on models of this size, and far more (tens of
# thousands) crash TFLite when the interpreter is torn down.
MAX_NUM_THREADS = 64
_RUNTIME_MODULES = {
    "litert": "ai_edge_litert.interpreter",
    "tflite_runtime": "tflite_runtime.interpreter",
    "tensorflow": "tensorflow",
}
_DISTRIBUTIONS = {
    "litert": "ai-edge-litert",
    "tflite_runtime": "tflite-runtime",
    "tensorflow": "tensorflow",
}
_INSTALL = {
    "litert": "pip install edgeser[litert]",
    "tflite_runtime": "pip install edgeser[tflite]",
    "tensorflow": "pip install tensorflow",
}
INSTALL_HINT = (
    "install one: pip install edgeser[litert] (ai-edge-litert: Linux x86_64/aarch64, macOS arm64, "
    "Windows x64) or pip install edgeser[tflite] (tflite-runtime: Linux x86_64/aarch64/armv7l, "
    "Python <= 3.11, numpy < 2), or install tensorflow and pass runtime='tensorflow'"
)
PROBABILITY_TOLERANCE = {"float": 1e-3, "quantized": 0.05}


class IncompatibleRuntimeError(EdgeserError, ValueError):
    """A TFLite runtime choice that cannot work with this model or in this process (TensorFlow
    with an openSMILE model: openSMILE aborts a process that loaded TensorFlow first)."""


def _find(top_level: str) -> Any:
    """The import spec of a top-level module, found without importing it (None: not there)."""
    try:
        return importlib.util.find_spec(top_level)
    except (ImportError, ValueError):
        return None


def available_runtimes() -> list[str]:
    """Names of the runtimes that are installed, found without importing any of them (so this
    never loads TensorFlow). Installed is not the same as working: see `resolve_runtime`."""
    return [name for name in RUNTIMES if _find(_RUNTIME_MODULES[name].split(".")[0]) is not None]


def _describe(exc: BaseException) -> str:
    """'Type: message' of `exc` and of what caused it (a SystemError alone says little)."""
    parts = []
    for e in _chain(exc)[:3]:
        text = f"{type(e).__name__}: {e}".strip()
        if text not in parts:
            parts.append(text)
    return ", caused by ".join(parts)


class _Unusable(Exception):
    """A runtime that does not import: `installed` tells missing from broken."""

    def __init__(self, reason: str, installed: bool):
        super().__init__(reason)
        self.installed = installed


def _import_interpreter(runtime: str) -> tuple[type, Any]:
    """(Interpreter class, OpResolverType enum or None) of `runtime`; _Unusable (with the
    runtime's own exception as cause) when it is not installed or installed but broken."""
    module_name = _RUNTIME_MODULES[runtime]
    wanted = f"the {runtime!r} TFLite runtime ({_DISTRIBUTIONS[runtime]})"
    try:
        module = importlib.import_module(module_name)
        if runtime == "tensorflow":
            lite = module.lite
            return lite.Interpreter, getattr(lite.experimental, "OpResolverType", None)
        return module.Interpreter, getattr(module, "OpResolverType", None)
    except ModuleNotFoundError as exc:
        if exc.name in (None, module_name) or module_name.startswith(f"{exc.name}."):
            if _find(module_name.split(".")[0]) is None:
                raise _Unusable(f"{wanted} is not installed", installed=False) from exc
        broken: BaseException = exc
    except Exception as exc:  # any failure inside the runtime's own import
        broken = exc
    raise _Unusable(
        f"{wanted} is installed but cannot be imported ({_describe(broken)})"
        f"{_numpy_hint(runtime, broken)}",
        installed=True,
    ) from broken


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in out:
        out.append(e)
        e = e.__cause__ or e.__context__
    return out


def _numpy_hint(runtime: str, exc: BaseException) -> str:
    """Why a runtime built for numpy 1.x fails under numpy 2 (the tflite-runtime wheels)."""
    text = " ".join(str(e) for e in _chain(exc))
    if ("numpy" not in text and "_ARRAY_API" not in text) or np.lib.NumpyVersion(
        np.__version__
    ) < "2.0.0":
        return ""
    fix = (
        "pip install 'numpy<2' (edgeser[tflite] does) or use ai-edge-litert instead "
        "(pip install edgeser[litert])"
        if runtime == "tflite_runtime"
        else "pip install 'numpy<2' or a build of it for numpy 2"
    )
    return (
        f"; {_DISTRIBUTIONS[runtime]} was built for numpy 1.x and this environment has numpy "
        f"{np.__version__}: {fix}"
    )


def resolve_runtime(runtime: str = "auto") -> tuple[str, type, Any]:
    """(name, Interpreter class, OpResolverType enum or None) of the runtime to use.

    "auto": the first of `AUTO_RUNTIMES` that imports (never TensorFlow); a name: that runtime.
    MissingDependencyError naming the choices (and why each failed) when none imports.
    """
    if runtime != "auto" and runtime not in RUNTIMES:
        raise ValueError(f"unknown TFLite runtime {runtime!r}; choose from {('auto',) + RUNTIMES}")
    if runtime != "auto":
        try:
            cls, resolver = _import_interpreter(runtime)
        except _Unusable as exc:
            how = "reinstall it" if exc.installed else "install it"
            raise MissingDependencyError(f"{exc}; {how}: {_INSTALL[runtime]}") from exc.__cause__
        return runtime, cls, resolver
    failures: list[_Unusable] = []
    for name in AUTO_RUNTIMES:
        try:
            cls, resolver = _import_interpreter(name)
        except _Unusable as exc:
            failures.append(exc)
            continue
        return name, cls, resolver
    raise MissingDependencyError(
        f"no TFLite runtime is usable: {'; '.join(map(str, failures))}; {INSTALL_HINT}"
    ) from failures[-1].__cause__


def _is_model_failure(exc: BaseException) -> bool:
    """A runtime's refusal of the model (bad flatbuffer, unsupported op) rather than a runtime
    that does not work here (e.g. the SystemError of a numpy-1.x build under numpy 2)."""
    if not isinstance(exc, (ValueError, RuntimeError)) or isinstance(exc, NotImplementedError):
        return False
    return not any(isinstance(e, ImportError) for e in _chain(exc))


def delegated_nodes(details: list[dict]) -> dict[int, str]:
    """{node index: op name} of the graph nodes that a delegate took over, from an
    interpreter's op details after `allocate_tensors()`.

    A delegated partition shows up as one extra DELEGATE node whose inputs are the partition's
    inputs (and weights) and whose outputs are its outputs; the original nodes stay listed. The
    nodes inside are those reached walking back from the DELEGATE node's outputs through their
    producers until its inputs (TFLite's partitions are convex, so this finds exactly them).
    """
    producers: dict[int, dict] = {}
    for d in details:
        if d["op_name"] != "DELEGATE":
            for t in d["outputs"]:
                producers[int(t)] = d
    inside: dict[int, str] = {}
    for d in details:
        if d["op_name"] != "DELEGATE":
            continue
        boundary = {int(t) for t in d["inputs"]}
        stack, seen = [int(t) for t in d["outputs"]], set()
        while stack:
            t = stack.pop()
            if t < 0 or t in seen or t in boundary:
                continue
            seen.add(t)
            node = producers.get(t)
            if node is None or int(node["index"]) in inside:
                continue
            inside[int(node["index"])] = node["op_name"]
            stack.extend(int(i) for i in node["inputs"])
    return inside


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


def as_probabilities(
    out: np.ndarray, tolerance: float, groups: Sequence[int] | None = None
) -> np.ndarray:
    """Rows that already are probabilities are renormalised; anything else goes through softmax.
    `groups`: sizes of consecutive output blocks that are each a distribution (a cascade's
    coarse and fine stages), taken one at a time; None = the whole row."""
    out = np.asarray(out, dtype=np.float64)
    if groups is not None:
        if sum(groups) != out.shape[-1] or any(g < 1 for g in groups):
            raise ValueError(f"output groups {list(groups)} do not cover {out.shape[-1]} outputs")
        edges = np.cumsum([0, *groups])
        parts = [out[..., a:b] for a, b in zip(edges[:-1], edges[1:])]
        return np.concatenate([as_probabilities(p, tolerance) for p in parts], axis=-1)
    sums = out.sum(axis=-1)
    if np.all(out >= -tolerance) and np.all(np.abs(sums - 1.0) <= tolerance):
        clipped = np.clip(out, 0.0, None)
        return clipped / clipped.sum(axis=-1, keepdims=True)
    return softmax(out)


def check_num_threads(num_threads: Any) -> int:
    """`num_threads` as an int from 1 to MAX_NUM_THREADS, else ValueError naming the range."""
    if (
        isinstance(num_threads, (bool, np.bool_))
        or not isinstance(num_threads, (int, np.integer))
        or not 1 <= num_threads <= MAX_NUM_THREADS
    ):
        raise ValueError(
            f"num_threads must be an integer from 1 to {MAX_NUM_THREADS}, got {num_threads!r}"
        )
    return int(num_threads)


class ModelRunner:
    """One TFLite interpreter for one model, safe to call from several threads (a lock).

    Batches of inputs run in one invoke when the model's batch dimension is dynamic, else one
    row at a time. `xnnpack` says whether the XNNPACK delegate really took over part of the
    graph (`delegated_ops` lists which ops), not only whether it was asked for: some runtimes
    delegate no node of an int8 graph, and XNNPACK may refuse a graph at prepare (the runner
    then retries with the builtin kernels).
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
        num_threads = check_num_threads(num_threads)
        if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
            raise ValueError(f"max_batch must be a positive integer, got {max_batch!r}")
        self.source = source
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
        except Exception as exc:
            if not (xnnpack and no_delegate and _is_model_failure(exc)):
                raise self._load_error(exc) from exc
            # XNNPACK refuses some int8 graphs at prepare; the builtin kernels still run them.
            try:
                self._interp = self._load(cls, {**kwargs, **no_delegate})
            except Exception as exc2:
                raise self._load_error(exc2) from exc2
        ins, outs = self._interp.get_input_details(), self._interp.get_output_details()
        if len(ins) != 1 or len(outs) != 1:
            raise BundleError(
                f"{source}: the model must have one input and one output tensor, "
                f"has {len(ins)} and {len(outs)}"
            )
        self.input = TensorInfo.from_details(ins[0])
        self.output = TensorInfo.from_details(outs[0])
        self.num_threads = num_threads
        delegated = self._delegated()
        self.delegated_ops: tuple[str, ...] = tuple(delegated[i] for i in sorted(delegated))
        self.xnnpack = bool(self.delegated_ops)
        self.max_batch = max_batch if self.input.dynamic_batch else 1
        self._batch = self.input.shape[0] if self.input.shape else 1
        self._lock = threading.Lock()
        self._tolerance = PROBABILITY_TOLERANCE["quantized" if self.output.quantized else "float"]

    @staticmethod
    def _load(cls, kwargs: dict):
        interp = cls(**kwargs)
        interp.allocate_tensors()
        return interp

    def _load_error(self, exc: BaseException) -> EdgeserError:
        if _is_model_failure(exc):
            return BundleError(
                f"{self.source}: the TFLite model cannot be loaded by {self.runtime} "
                f"({_describe(exc)})"
            )
        hint = _numpy_hint(self.runtime, exc) or f"; {INSTALL_HINT}"
        return MissingDependencyError(
            f"{self.source}: the {self.runtime!r} TFLite runtime ({_DISTRIBUTIONS[self.runtime]})"
            f" does not work in this environment ({_describe(exc)}){hint}"
        )

    def _ops_details(self) -> list[dict]:
        return list(self._interp._get_ops_details())  # noqa: SLF001 (TFLite's only op listing)

    def _delegated(self) -> dict[int, str]:
        try:
            return delegated_nodes(self._ops_details())
        except Exception:  # an interpreter without the op listing: report nothing delegated
            return {}

    def op_names(self) -> list[str]:
        """Names of the graph's ops (what a deployment target's TFLite build must support)."""
        return [d["op_name"] for d in self._ops_details() if d["op_name"] != "DELEGATE"]

    def _quantize(self, x: np.ndarray) -> np.ndarray:
        t = self.input
        if not t.quantized:
            return x.astype(t.dtype, copy=False)
        if t.scale <= 0:
            raise BundleError(f"{self.source}: quantised model input has no scale")
        info = np.iinfo(t.dtype)
        q = np.round(x / t.scale + t.zero_point)
        return np.clip(q, info.min, info.max).astype(t.dtype)

    def _dequantize(self, y: np.ndarray) -> np.ndarray:
        t = self.output
        if t.quantized and t.scale > 0:
            return (y.astype(np.float64) - t.zero_point) * t.scale
        return y.astype(np.float64)

    def _invoke(self, batch: np.ndarray) -> np.ndarray:
        """Raw output of one batch of model-typed (already quantised) inputs."""
        n = batch.shape[0]
        try:
            if n != self._batch:
                self._interp.resize_tensor_input(
                    self.input.index, [n, *self.input.shape[1:]], strict=True
                )
                self._interp.allocate_tensors()
                self._batch = n
            self._interp.set_tensor(self.input.index, batch)
            self._interp.invoke()
            return np.array(self._interp.get_tensor(self.output.index))
        except EdgeserError:
            raise
        except Exception as exc:
            self._batch = -1  # resize again next time: the failed call may have left any shape
            raise BundleError(
                f"{self.source}: {self.runtime} failed to run the model on a batch of {n} "
                f"({_describe(exc)})"
            ) from exc

    def run(self, x: np.ndarray, groups: Sequence[int] | None = None) -> np.ndarray:
        """[n, *input_shape[1:]] float features -> float64 [n, classes] probabilities
        (`groups`: see `as_probabilities`)."""
        x = np.asarray(x, dtype=np.float32)
        expected = tuple(self.input.shape[1:])
        if x.shape[1:] != expected:
            raise ValueError(
                f"model input must be [n, {', '.join(map(str, expected))}], got {list(x.shape)}"
            )
        if x.shape[0] == 0:
            return np.zeros((0, self.output.shape[-1]), dtype=np.float64)
        q = self._quantize(x)  # the whole batch at once: elementwise, so the same numbers
        with self._lock:
            outs = [
                self._invoke(q[b : b + self.max_batch]) for b in range(0, len(q), self.max_batch)
            ]
        raw = self._dequantize(np.concatenate(outs, axis=0)).reshape(x.shape[0], -1)
        return as_probabilities(raw, self._tolerance, groups)
