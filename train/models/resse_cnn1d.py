"""ResSE_CNN1D over an openSMILE functional vector, and its plain CNN1D baseline.

The functional vector is read as a 1-D sequence with one channel. ResSE_CNN1D: two Conv1D(32, 5)
+ BatchNorm + ReLU + Dropout(0.5) blocks, a squeeze-and-excitation block on the second, a
residual connection around it, global average pooling, Dense(32, relu), softmax. CNN1D is the
same network without SE and residual.
"""

from __future__ import annotations


def _conv_block(x, filters: int, kernel: int, dropout: float):
    from keras import layers

    x = layers.Conv1D(filters, kernel, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU()(x)
    return layers.Dropout(dropout)(x)


def squeeze_excite(x, ratio: int = 4):
    """Channel attention (Hu et al. 2018): rescale channels by a gate from their means."""
    from keras import layers

    channels = x.shape[-1]
    s = layers.GlobalAveragePooling1D()(x)
    s = layers.Dense(max(1, channels // ratio), activation="relu")(s)
    s = layers.Dense(channels, activation="sigmoid")(s)
    s = layers.Reshape((1, channels))(s)
    return layers.Multiply()([x, s])


def _build(input_shape, n_classes, batch_size, se_residual: bool, filters: int, kernel: int,
           dropout: float, dense: int, name: str):
    import keras
    from keras import layers

    (dim,) = input_shape
    inp = keras.Input((dim,), batch_size=batch_size, name="features")
    x = layers.Reshape((dim, 1))(inp)
    h = _conv_block(x, filters, kernel, dropout)
    y = _conv_block(h, filters, kernel, dropout)
    if se_residual:
        y = squeeze_excite(y)
        y = layers.ReLU()(layers.Add()([h, y]))
    y = layers.GlobalAveragePooling1D()(y)
    y = layers.Dense(dense, activation="relu")(y)
    out = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probs")(y)
    return keras.Model(inp, out, name=name)


def build_resse_cnn1d(input_shape, n_classes, batch_size=None, filters=32, kernel=5,
                      dropout=0.5, dense=32):
    return _build(input_shape, n_classes, batch_size, True, filters, kernel, dropout, dense,
                  "resse_cnn1d")


def build_cnn1d(input_shape, n_classes, batch_size=None, filters=32, kernel=5, dropout=0.5,
                dense=32):
    return _build(input_shape, n_classes, batch_size, False, filters, kernel, dropout, dense,
                  "cnn1d")
