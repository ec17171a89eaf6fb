"""Build tiny random TFLite models wrapped as edgeser bundles, for the runtime tests.

Run as a subprocess (it imports TensorFlow, which the tests themselves must not):
    python tests/runtime/make_tiny_bundles.py OUT_DIR
Writes tiny_float, tiny_int8 (full-integer), tiny_fixed (batch fixed to 1), tiny_logits
(no softmax), tiny_wnorm (windows mean-normalised: format 3), tiny_wfloor (windows floored
60 dB below each band's peak, then mean-normalised: format 6), tiny_gemaps (edgeser's own
functionals with the descriptors of bundles before format 10: format 5), tiny_large (the larger
set edgeser-large-v2, current descriptors: format 10), tiny_cascade (one
graph with a coarse and a fine softmax side by side behind a cascade head: format 7) and,
when openSMILE is importable, tiny_smile. The weights are random but seeded; the test-side
stand-in for a trained model.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import numpy as np  # noqa: E402
from support import speechlike  # noqa: E402  (this folder is sys.path[0])

from edgeser import frontend  # noqa: E402
from edgeser.bundle import BundleMeta, ModelBundle  # noqa: E402
from edgeser.feature_configs import (  # noqa: E402
    FeatureSpec,
    FrontendFeatures,
    FunctionalFeatures,
    OpenSmileFeatures,
)
from edgeser.frontend import functionals  # noqa: E402
from edgeser.frontend.descriptor_config import DescriptorConfig  # noqa: E402
from edgeser.heads import CascadeHead  # noqa: E402
from edgeser.windows import feature_windows  # noqa: E402

LABELS = ("anger", "happiness", "neutral", "sadness")
SAMPLE_RATE = 16000
WINDOW, HOP = 100, 50
# fmax below Nyquist: a top mel band that reaches 8 kHz sees the resampler's roll-off when
# 44.1/48 kHz audio is brought to 16 kHz, and a model is then fed a band it never saw.
FRONTEND = frontend.FrontendConfig(sample_rate=SAMPLE_RATE, n_mels=40, fmax=7600.0)
KIND = "log_mel"
# A power floor far below any real signal, so a window floor keeps exact level invariance.
FLOOR_FRONTEND = dataclasses.replace(FRONTEND, log_floor=1e-20)
SMILE_SET, SMILE_DIM = "eGeMAPSv02", 88
SMILE_SELECT = (1, 5, 10, 23, 40, 61, 87)  # functionals read by tiny_smile_select
# tiny_cascade: S = {neutral, sadness} merged in the coarse stage
CASCADE_HEAD = CascadeHead(
    coarse_labels=("anger", "happiness", "neutral+sadness"),
    fine_labels=("neutral", "sadness"),
    merged_label="neutral+sadness",
)


def training_windows() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    feats = [
        frontend.features(speechlike(2.0, s), FRONTEND, KIND, backend="numpy") for s in range(6)
    ]
    allf = np.concatenate(feats)
    mean, std = allf.mean(axis=0), allf.std(axis=0) + 1e-3
    wins = np.concatenate([feature_windows((f - mean) / std, WINDOW, HOP) for f in feats])
    return wins.astype(np.float32), mean, std


def window_model(tf, batch_size, softmax: bool, seed: int):
    tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    inp = L.Input((WINDOW, FRONTEND.n_mels), batch_size=batch_size)
    x = L.Conv1D(8, 5, activation="relu")(inp)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dense(len(LABELS), activation="softmax" if softmax else None)(x)
    return tf.keras.Model(inp, x)


def convert(tf, model, representative=None) -> bytes:
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if representative is not None:
        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = lambda: ([r[None]] for r in representative)
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def cascade_model(tf, seed: int):
    """Coarse (3 classes) and fine (2 classes) softmaxes over one conv trunk, concatenated."""
    tf.keras.utils.set_random_seed(seed)
    L = tf.keras.layers
    inp = L.Input((WINDOW, FRONTEND.n_mels))
    x = L.GlobalAveragePooling1D()(L.Conv1D(8, 5, activation="relu")(inp))
    coarse = L.Dense(len(CASCADE_HEAD.coarse_labels), activation="softmax")(x)
    fine = L.Dense(len(CASCADE_HEAD.fine_labels), activation="softmax")(x)
    return tf.keras.Model(inp, L.Concatenate()([coarse, fine]))


def write(
    out: Path,
    name: str,
    model: bytes,
    features: FeatureSpec,
    mean,
    std,
    quant: str,
    head: CascadeHead | None = None,
):
    meta = BundleMeta(
        name=name,
        labels=LABELS,
        sample_rate=SAMPLE_RATE,
        features=features,
        norm_mean=tuple(float(v) for v in mean),
        norm_std=tuple(float(v) for v in std),
        quantization=quant,
        training={
            "corpus": "synthetic",
            "protocol": "none (random weights)",
            "metrics": {"WA": 0.25, "UA": 0.25},
        },
        description="tiny random test model",
        head=head,
        format_version=max(features.min_format_version, 7 if head else 1),
    )
    ModelBundle(meta=meta, model=model).save(out / f"{name}.edgeser")


def opensmile_stats() -> tuple[np.ndarray, np.ndarray] | None:
    """Mean/std of eGeMAPS functionals of synthetic speech; None without openSMILE.

    Runs before TensorFlow is imported: openSMILE corrupts the heap when TF is loaded in the
    same process (observed with tensorflow-cpu 2.21 + opensmile 2.6).
    """
    from edgeser.errors import MissingDependencyError
    from edgeser.opensmile_sets import make_smile

    try:
        smile = make_smile(SMILE_SET, needed_by="the tiny_smile test bundles")
    except MissingDependencyError:
        return None
    vecs = np.concatenate(
        [np.asarray(smile.process_signal(speechlike(1.5, s), SAMPLE_RATE)) for s in range(8)]
    )
    return vecs.mean(axis=0), vecs.std(axis=0) + 1e-3


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    smile_stats = opensmile_stats()
    import tensorflow as tf

    wins, mean, std = training_windows()
    spec = FrontendFeatures(kind=KIND, frontend=FRONTEND, window_frames=WINDOW, hop_frames=HOP)
    model = window_model(tf, None, softmax=True, seed=1)
    write(out, "tiny_float", convert(tf, model), spec, mean, std, "float32")
    write(out, "tiny_int8", convert(tf, model, representative=wins[:64]), spec, mean, std, "int8")
    fixed = window_model(tf, 1, softmax=True, seed=1)
    fixed.set_weights(model.get_weights())
    write(out, "tiny_fixed", convert(tf, fixed), spec, mean, std, "float32")
    write(
        out,
        "tiny_logits",
        convert(tf, window_model(tf, None, softmax=False, seed=2)),
        spec,
        mean,
        std,
        "float32",
    )
    wspec = FrontendFeatures(
        kind=KIND, frontend=FRONTEND, window_frames=WINDOW, hop_frames=HOP, window_norm="mean"
    )
    write(
        out,
        "tiny_wnorm",
        convert(tf, window_model(tf, None, softmax=True, seed=4)),
        wspec,
        mean,
        std,
        "float32",
    )
    fspec = FrontendFeatures(
        kind=KIND,
        frontend=FLOOR_FRONTEND,
        window_frames=WINDOW,
        hop_frames=HOP,
        window_norm="mean",
        window_floor_db=60.0,
    )
    write(
        out,
        "tiny_wfloor",
        convert(tf, window_model(tf, None, softmax=True, seed=4)),
        fspec,
        mean,
        std,
        "float32",
    )
    write(
        out,
        "tiny_cascade",
        convert(tf, cascade_model(tf, seed=6)),
        spec,
        mean,
        std,
        "float32",
        head=CASCADE_HEAD,
    )
    old = DescriptorConfig.pre_format_10()
    gemaps = FunctionalFeatures(feature_set=functionals.SET_V1, descriptors=old)
    vecs = np.stack([functionals.extract(speechlike(1.5, s), cfg=old) for s in range(8)])
    tf.keras.utils.set_random_seed(5)
    inp = tf.keras.layers.Input((gemaps.dim,))
    dense = tf.keras.Model(inp, tf.keras.layers.Dense(len(LABELS), activation="softmax")(inp))
    mean, std = vecs.mean(axis=0), vecs.std(axis=0) + 1e-3
    write(out, "tiny_gemaps", convert(tf, dense), gemaps, mean, std, "float32")
    large = FunctionalFeatures(feature_set=functionals.SET_LARGE_V2)
    vecs = np.stack([functionals.extract(speechlike(1.5, s), large.feature_set) for s in range(8)])
    inp = tf.keras.layers.Input((large.dim,))
    dense = tf.keras.Model(inp, tf.keras.layers.Dense(len(LABELS), activation="softmax")(inp))
    mean, std = vecs.mean(axis=0), vecs.std(axis=0) + 1e-3
    write(out, "tiny_large", convert(tf, dense), large, mean, std, "float32")
    if smile_stats is None:
        return
    # tiny_smile reads all functionals but has zero weights outside SMILE_SELECT; tiny_smile_select
    # reads only those (features.select) with the same weights: both must predict the same.
    tf.keras.utils.set_random_seed(3)
    inp = tf.keras.layers.Input((SMILE_DIM,))
    dense = tf.keras.Model(inp, tf.keras.layers.Dense(len(LABELS), activation="softmax")(inp))
    w, b = dense.get_weights()
    unused = np.setdiff1d(np.arange(SMILE_DIM), SMILE_SELECT)
    w[unused] = 0.0
    dense.set_weights([w, b])
    write(
        out,
        "tiny_smile",
        convert(tf, dense),
        OpenSmileFeatures(opensmile_set=SMILE_SET),
        *smile_stats,
        "float32",
    )
    inp = tf.keras.layers.Input((len(SMILE_SELECT),))
    chosen = tf.keras.Model(inp, tf.keras.layers.Dense(len(LABELS), activation="softmax")(inp))
    chosen.set_weights([w[list(SMILE_SELECT)], b])
    mean, std = smile_stats
    write(
        out,
        "tiny_smile_select",
        convert(tf, chosen),
        OpenSmileFeatures(opensmile_set=SMILE_SET, select=SMILE_SELECT),
        mean[list(SMILE_SELECT)],
        std[list(SMILE_SELECT)],
        "float32",
    )


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
