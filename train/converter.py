"""Conversion worker, run as a SUBPROCESS by `train.export` so that a converter crash (the TFLite
converter can segfault on some graphs) becomes a clear error instead of killing the training run.

    python -m train.converter --spec spec.json --weights w.weights.h5 --quant int8 \
        --rep rep.npy --out model.tflite

The model is rebuilt from its `ModelSpec` with a fixed batch of 1 (static shapes for the
converter), the trained weights are loaded, and the graph is converted with builtin ops only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def convert(
    spec_path: str, weights: str, quant: str, rep_path: str | None, out: str, max_rep: int = 300
) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np
    import tensorflow as tf

    from train.models import ModelSpec

    with open(spec_path, encoding="utf-8") as fh:
        spec = ModelSpec.from_dict(json.load(fh))
    model = spec.build(batch_size=1)
    model.load_weights(weights)
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
    p.add_argument("--spec", required=True, help="ModelSpec JSON")
    p.add_argument("--weights", required=True, help="Keras .weights.h5 file")
    p.add_argument("--quant", choices=("int8", "float32"), required=True)
    p.add_argument("--rep", help="representative inputs .npy (int8 only)")
    p.add_argument("--out", required=True, help="output .tflite")
    a = p.parse_args(argv)
    return convert(a.spec, a.weights, a.quant, a.rep, a.out)


if __name__ == "__main__":
    sys.exit(main())
