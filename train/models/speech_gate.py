"""A tiny 2D CNN over half a second of log-mel frames: speech or not (the learned voice gate).

Two small convolution blocks and global average pooling keep it near 2k parameters, so the int8
model is a few KiB and costs microseconds per window beside the emotion model.
"""

from __future__ import annotations


def build_speech_gate_cnn(
    input_shape, n_classes, batch_size=None, filters=(8, 16), kernel=3, dense=16, dropout=0.2
):
    import keras
    from keras import layers

    frames, dim = input_shape
    inp = keras.Input((frames, dim), batch_size=batch_size, name="features")
    x = layers.Reshape((frames, dim, 1))(inp)
    for f in filters:
        x = layers.Conv2D(f, kernel, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(dense, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inp, out, name="speech_gate_cnn")
