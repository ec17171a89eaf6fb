"""Export: Keras weights -> float32 and full-integer int8 TFLite (in a subprocess) -> edgeser
model bundles; and `TFLiteModel`, which runs a converted model through ai-edge-litert exactly
as the runtime does (batch 1, int8 input quantised with the model's own scale / zero point).
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edgeser.bundle import BundleMeta, ModelBundle
from edgeser.calibration import CalibrationPrior
from edgeser.errors import EdgeserError
from edgeser.heads import CascadeHead
from edgeser.speech_detector import DEFAULT_SPEECH_DETECTOR

from .data import Normaliser
from .features import FeatureChoice
from .models import ModelSpec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_OPS = ("Flex", "WHILE", "CUSTOM")


class ConversionError(EdgeserError, RuntimeError):
    """The TFLite converter failed or crashed, or produced ops the runtime cannot run."""


def convert_model(
    spec: ModelSpec,
    weights: str | Path,
    quantization: str,
    representative: np.ndarray | None = None,
    timeout: float = 900,
) -> bytes:
    """TFLite flatbuffer of the model, converted by `python -m train.converter` in a subprocess."""
    job = {"spec": spec.to_dict(), "weights": str(weights)}
    return _convert(spec.name, job, quantization, representative, timeout)


def convert_cascade(
    coarse: tuple[ModelSpec, str | Path],
    fine: tuple[ModelSpec, str | Path],
    bridge: tuple[np.ndarray, np.ndarray],
    quantization: str,
    representative: np.ndarray | None = None,
    timeout: float = 900,
) -> bytes:
    """One TFLite graph of a multi-level cascade: the coarse stage on the input and the fine
    stage on `input * scale + shift` (`bridge`: the fine stage's own normalisation expressed
    in the coarse stage's, `train.similarity.stage_bridge`), outputs concatenated
    [coarse | fine] for the runtime's `edgeser.heads.CascadeHead`."""
    scale, shift = (np.asarray(v, np.float32) for v in bridge)
    job = {
        "cascade": {
            "coarse": {"spec": coarse[0].to_dict(), "weights": str(coarse[1])},
            "fine": {"spec": fine[0].to_dict(), "weights": str(fine[1])},
            "bridge_scale": scale.tolist(),
            "bridge_shift": shift.tolist(),
        }
    }
    name = f"cascade({coarse[0].name}/{fine[0].name})"
    return _convert(name, job, quantization, representative, timeout)


def _convert(
    name: str,
    job: Mapping[str, Any],
    quantization: str,
    representative: np.ndarray | None,
    timeout: float,
) -> bytes:
    with tempfile.TemporaryDirectory(prefix="edgeser-convert-") as tmp:
        tmp = Path(tmp)
        (tmp / "job.json").write_text(json.dumps(job))
        cmd = [sys.executable, "-m", "train.converter", "--job", str(tmp / "job.json")]
        cmd += ["--quant", quantization, "--out", str(tmp / "m.tflite")]
        if quantization == "int8":
            if representative is None or len(representative) == 0:
                raise ConversionError("int8 conversion needs representative training inputs")
            np.save(tmp / "rep.npy", np.asarray(representative, dtype=np.float32))
            cmd += ["--rep", str(tmp / "rep.npy")]
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(PROJECT_ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
        env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            raise ConversionError(
                f"{name}: {quantization} conversion timed out after {timeout:.0f} s"
            ) from None
        if proc.returncode != 0:
            if proc.returncode < 0:
                why = f"converter crashed with signal {signal.Signals(-proc.returncode).name}"
            else:
                why = f"converter exited with status {proc.returncode}"
            tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
            raise ConversionError(f"{name}: {quantization} conversion failed: {why}\n{tail}")
        data = (tmp / "m.tflite").read_bytes()
    bad = [op for op in TFLiteModel(data).op_names() if any(f in op for f in FORBIDDEN_OPS)]
    if bad:
        raise ConversionError(
            f"{name}: {quantization} model uses ops the runtime may not have: {sorted(set(bad))}"
        )
    return data


class TFLiteModel:
    """A converted model run through the runtime's own `ModelRunner` (ai-edge-litert), so the
    int8 figures in reports come from exactly the code `edgeser.predict` uses: the same input
    quantisation, output dequantisation and XNNPACK -> builtin-kernel fallback."""

    def __init__(self, model: bytes):
        from edgeser.interpreter import ModelRunner

        self.runner = ModelRunner(model, runtime="litert", num_threads=1)
        self.xnnpack = self.runner.xnnpack  # False when XNNPACK refused the graph

    def op_names(self) -> list[str]:
        return self.runner.op_names()

    def predict(self, x: np.ndarray, groups: Sequence[int] | None = None) -> np.ndarray:
        """Probabilities [n, classes] for inputs [n, *input_shape[1:]] (`groups`: output blocks
        that are each a distribution, as a cascade's)."""
        return self.runner.run(np.asarray(x, dtype=np.float32), groups).astype(np.float32)


def make_bundle(
    model: bytes,
    quantization: str,
    name: str,
    labels: Sequence[str],
    choice: FeatureChoice,
    dim: int,
    norm: Normaliser,
    window_frames: int | None,
    hop_frames: int | None,
    training: Mapping[str, Any],
    description: str = "",
    window_norm: str = "none",
    speech_detector: str | None = DEFAULT_SPEECH_DETECTOR,
    window_floor_db: float = 0.0,
    head: CascadeHead | None = None,
    speaker_calibration: CalibrationPrior | None = None,
) -> ModelBundle:
    """The bundle of a converted model; it names the learned voice gate it runs behind
    (`speech_detector`, None for the loudness gate only) and gets the lowest format version
    that describes it."""
    spec = choice.spec(
        window_frames, hop_frames, window_norm, norm.keep, window_floor_db, speaker_calibration
    )
    if spec.dim != dim:
        raise ValueError(
            f"{name}: the model reads {dim} features, {spec.describe()} has {spec.dim}"
        )
    meta = BundleMeta(
        name=name,
        labels=tuple(labels),
        sample_rate=16000,
        features=spec,
        norm_mean=tuple(float(v) for v in norm.mean),
        norm_std=tuple(float(v) for v in norm.std),
        quantization=quantization,
        training=dict(training),
        description=description,
        speech_detector=speech_detector,
        head=head,
    )
    meta = dataclasses.replace(meta, format_version=meta.min_format_version)
    return ModelBundle(meta=meta, model=model)
