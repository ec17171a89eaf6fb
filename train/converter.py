"""Conversion worker, run as a SUBPROCESS by `train.export` so that a converter crash (the TFLite
converter can segfault on some graphs) becomes a clear error instead of killing the training run.

    python -m train.converter --job job.json --quant int8 --rep rep.npy --out model.tflite

The job names one model (`{"spec": ModelSpec dict, "weights": path}`) or a multi-level cascade
(`{"cascade": {"coarse": {...}, "fine": {...}, "bridge_scale": [...], "bridge_shift": [...]}}`:
both stages in one graph, the fine one reading `input * scale + shift`, outputs concatenated).
Each model is rebuilt from its `ModelSpec` with a fixed batch of 1 (static shapes for the
converter), the trained weights are loaded, and the graph is converted with builtin ops only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def _load(entry: dict, name: str | None = None):
    from train.models import ModelSpec

    model = ModelSpec.from_dict(entry["spec"]).build(batch_size=1)
    model.load_weights(entry["weights"])
    if name:
        model.name = name  # two nested models need distinct names
    return model


def build(job: dict):
    """The Keras model a job describes (see the module docstring)."""
    if "cascade" not in job:
        return _load(job)
    import keras
    import numpy as np

    from train.models import ModelSpec

    c = job["cascade"]
    coarse, fine = _load(c["coarse"], "coarse"), _load(c["fine"], "fine")
    shape = tuple(ModelSpec.from_dict(c["coarse"]["spec"]).input_shape)
    inp = keras.Input(shape, batch_size=1, name="features")
    scale = np.asarray(c["bridge_scale"], np.float32)
    shift = np.asarray(c["bridge_shift"], np.float32)
    bridged = keras.layers.Lambda(lambda x: x * scale + shift, name="fine_normalisation")(inp)
    out = keras.layers.Concatenate(name="stages", dtype="float32")([coarse(inp), fine(bridged)])
    return keras.Model(inp, out, name="cascade")


def convert(job_path: str, quant: str, rep_path: str | None, out: str, max_rep: int = 300) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    with open(job_path, encoding="utf-8") as fh:
        model = build(json.load(fh))
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quant == "int8":
        if not rep_path:
            raise SystemExit("int8 conversion needs --rep (representative training inputs)")
        rep = np.load(rep_path).astype(np.float32)[:max_rep]

        def representative():
            for row in rep:
                yield [row[None, ...]]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    elif quant != "float32":
        raise SystemExit(f"unknown quantization {quant!r} (int8 | float32)")
    data = strip_tensor_names(conv.convert())
    with open(out, "wb") as fh:
        fh.write(data)
    return 0


def strip_tensor_names(model: bytes) -> bytes:
    """The flatbuffer with its intermediate tensors renamed t0, t1, ... (inputs and outputs keep
    their names). The converter names each tensor after every Keras op fused into it; those
    debug strings were 21 KB of a 265 KB four-member ensemble, and nothing reads them."""
    from tensorflow.lite.tools import flatbuffer_utils

    fb = flatbuffer_utils.read_model_from_bytearray(bytearray(model))
    for graph in fb.subgraphs:
        keep = set(graph.inputs.tolist()) | set(graph.outputs.tolist())
        for i, tensor in enumerate(graph.tensors):
            if i not in keep:
                tensor.name = f"t{i}".encode()
    return bytes(flatbuffer_utils.convert_object_to_bytearray(fb))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m train.converter", description=__doc__)
    p.add_argument("--job", required=True, help="JSON: a model's spec and weights, or a cascade")
    p.add_argument("--quant", choices=("int8", "float32"), required=True)
    p.add_argument("--rep", help="representative inputs .npy (int8 only)")
    p.add_argument("--out", required=True, help="output .tflite")
    a = p.parse_args(argv)
    return convert(a.job, a.quant, a.rep, a.out)


if __name__ == "__main__":
    sys.exit(main())
