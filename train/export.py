"""Export: Keras weights -> float32 and full-integer int8 TFLite (in a subprocess) -> edgeser
model bundles; and `TFLiteModel`, which runs a converted model through ai-edge-litert exactly
as the runtime does (batch 1, int8 input quantised with the model's own scale / zero point).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from edgeser.bundle import BundleMeta, FeatureSpec, ModelBundle
from edgeser.errors import EdgeserError

from .data import Normaliser
from .features import FeatureChoice
from .models import ModelSpec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_OPS = ("Flex", "WHILE", "CUSTOM")


class ConversionError(EdgeserError, RuntimeError):
    """The TFLite converter failed or crashed, or produced ops the runtime cannot run."""


def convert_model(spec: ModelSpec, weights: str | Path, quantization: str,
                  representative: np.ndarray | None = None, timeout: float = 900) -> bytes:
    """TFLite flatbuffer of the model, converted by `python -m train.converter` in a subprocess."""
    with tempfile.TemporaryDirectory(prefix="edgeser-convert-") as tmp:
        tmp = Path(tmp)
        (tmp / "spec.json").write_text(json.dumps(spec.to_dict()))
        cmd = [sys.executable, "-m", "train.converter", "--spec", str(tmp / "spec.json"),
               "--weights", str(weights), "--quant", quantization, "--out", str(tmp / "m.tflite")]
        if quantization == "int8":
            if representative is None or len(representative) == 0:
                raise ConversionError("int8 conversion needs representative training inputs")
            np.save(tmp / "rep.npy", np.asarray(representative, dtype=np.float32))
            cmd += ["--rep", str(tmp / "rep.npy")]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PROJECT_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise ConversionError(f"{spec.name}: {quantization} conversion timed out after "
                                  f"{timeout:.0f} s") from None
        if proc.returncode != 0:
            if proc.returncode < 0:
                why = f"converter crashed with signal {signal.Signals(-proc.returncode).name}"
            else:
                why = f"converter exited with status {proc.returncode}"
            tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
            raise ConversionError(f"{spec.name}: {quantization} conversion failed: {why}\n{tail}")
        data = (tmp / "m.tflite").read_bytes()
    bad = [op for op in TFLiteModel(data).op_names() if any(f in op for f in FORBIDDEN_OPS)]
    if bad:
        raise ConversionError(f"{spec.name}: {quantization} model uses ops the runtime may not "
                              f"have: {sorted(set(bad))}")
    return data


class TFLiteModel:
    """A TFLite classifier run one example at a time, quantising int8 inputs as needed."""

    def __init__(self, model: bytes):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        self.xnnpack = True
        try:
            self.interpreter = Interpreter(model_content=model, num_threads=1)
            self.interpreter.allocate_tensors()
        except RuntimeError:
            # XNNPACK refuses some int8 graphs (e.g. very long Conv1D over ComParE); the builtin
            # kernels still run them. Recorded so reports can say so.
            self.xnnpack = False
            self.interpreter = Interpreter(
                model_content=model, num_threads=1,
                experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
            self.interpreter.allocate_tensors()
        self._in = self.interpreter.get_input_details()[0]
        self._out = self.interpreter.get_output_details()[0]

    def op_names(self) -> list[str]:
        details = self.interpreter._get_ops_details()  # noqa: SLF001 (only public op listing)
        return [d["op_name"] for d in details if d["op_name"] != "DELEGATE"]

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities [n, classes] for inputs [n, *input_shape[1:]]."""
        it, i_d, o_d = self.interpreter, self._in, self._out
        out = []
        for row in np.asarray(x, dtype=np.float32):
            v = row[None, ...]
            if i_d["dtype"] == np.int8:
                scale, zero = i_d["quantization"]
                v = np.clip(np.round(v / scale + zero), -128, 127).astype(np.int8)
            it.set_tensor(i_d["index"], v)
            it.invoke()
            p = it.get_tensor(o_d["index"])[0]
            if o_d["dtype"] == np.int8:
                scale, zero = o_d["quantization"]
                p = (p.astype(np.float32) - zero) * scale
            out.append(p.astype(np.float32))
        return np.stack(out)


def feature_spec(choice: FeatureChoice, dim: int, window_frames: int | None,
                 hop_frames: int | None) -> FeatureSpec:
    if choice.type == "frontend":
        return FeatureSpec(type="frontend", dim=dim, kind=choice.kind, frontend=choice.frontend,
                           window_frames=window_frames, hop_frames=hop_frames)
    return FeatureSpec(type="opensmile", dim=dim, opensmile_set=choice.opensmile_set)


def make_bundle(model: bytes, quantization: str, name: str, labels: Sequence[str],
                choice: FeatureChoice, dim: int, norm: Normaliser, window_frames: int | None,
                hop_frames: int | None, training: Mapping[str, Any],
                description: str = "") -> ModelBundle:
    spec = feature_spec(choice, dim, window_frames, hop_frames)
    meta = BundleMeta(name=name, labels=tuple(labels), sample_rate=16000, features=spec,
                      norm_mean=tuple(float(v) for v in norm.mean),
                      norm_std=tuple(float(v) for v in norm.std), quantization=quantization,
                      training=dict(training), description=description)
    return ModelBundle(meta=meta, model=model)
