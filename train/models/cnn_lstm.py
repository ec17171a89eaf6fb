"""CNN-LSTM over a window of feature frames: 1D (Conv1D over MFCC frames) and 2D (Conv2D over
the log-mel image), then an LSTM over time and a dense classifier.

The convolution blocks pool time down to at most `max_steps` LSTM steps and the LSTM is
unrolled. Reason: a Keras 3 LSTM otherwise converts to a TFLite WHILE loop that full-int8
conversion cannot handle; unrolled over few steps it becomes plain builtin ops (FULLY_CONNECTED,
LOGISTIC, TANH, MUL, ADD) that quantise to int8, and the model stays small because the step
count is bounded rather than growing with the window length.
"""

from __future__ import annotations

import math


def _time_pool_to(x, max_steps: int, two_d: bool):
    """Average-pool the time axis so that at most `max_steps` steps remain."""
    from keras import layers

    steps = x.shape[1]
    factor = math.ceil(steps / max_steps)
    if factor <= 1:
        return x
    if two_d:
        return layers.AveragePooling2D((factor, 1))(x)
    return layers.AveragePooling1D(factor)(x)


def _head(x, n_classes, lstm_units, dense, dropout):
    from keras import layers

    x = layers.LSTM(lstm_units, unroll=True)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(dense, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    return layers.Dense(n_classes, activation="softmax", dtype="float32", name="probs")(x)


def build_cnn_lstm_1d(
    input_shape,
    n_classes,
    batch_size=None,
    filters=(32, 64, 64),
    kernel=5,
    lstm_units=32,
    dense=32,
    dropout=0.3,
    max_steps=12,
):
    import keras
    from keras import layers

    frames, dim = input_shape
    inp = keras.Input((frames, dim), batch_size=batch_size, name="features")
    x = inp
    for f in filters:
        x = layers.Conv1D(f, kernel, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling1D(2)(x)
    x = _time_pool_to(x, max_steps, two_d=False)
    return keras.Model(inp, _head(x, n_classes, lstm_units, dense, dropout), name="cnn_lstm_1d")


def build_cnn_lstm_2d(
    input_shape,
    n_classes,
    batch_size=None,
    filters=(16, 32, 32),
    kernel=3,
    lstm_units=32,
    dense=32,
    dropout=0.3,
    max_steps=12,
):
    import keras
    from keras import layers

    frames, dim = input_shape
    inp = keras.Input((frames, dim), batch_size=batch_size, name="features")
    x = layers.Reshape((frames, dim, 1))(inp)
    for f in filters:
        x = layers.Conv2D(f, kernel, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        x = layers.MaxPooling2D(2)(x)
    x = _time_pool_to(x, max_steps, two_d=True)
    _, steps, freq, ch = x.shape
    x = layers.Reshape((steps, freq * ch))(x)
    return keras.Model(inp, _head(x, n_classes, lstm_units, dense, dropout), name="cnn_lstm_2d")
