"""ResSE_CNN1D over an openSMILE functional vector, and its plain CNN1D baseline.

The functional vector is read as a 1-D sequence with one channel. ResSE_CNN1D: two Conv1D(32, 5)
+ BatchNorm + ReLU + Dropout(0.5) blocks, a squeeze-and-excitation block on the second, a
residual connection around it, global average pooling, Dense(32, relu), softmax. CNN1D is the
same network without SE and residual.

Defaults differ from that description in two measured ways (EmoDB eGeMAPS, random split, UA):
global average pooling over the functional axis discards which functional an activation came
from and underfits (0.44); max-pool x4 + flatten keeps it (0.70), and dropout 0.2 instead of
0.5 gives 0.76. `pooling="gap", dropout=0.5` builds the literal variant. For long sets
(ComParE, 6373 values) raise `pool` (e.g. 32) to keep the dense layer and int8 file small.
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


POOLINGS = ("gap", "flatten")


def _build(
    input_shape,
    n_classes,
    batch_size,
    se_residual: bool,
    filters: int,
    kernel: int,
    dropout: float,
    dense: int,
    pooling: str,
    pool: int,
    input_dropout: float,
    input_noise: float,
    project: int,
    name: str,
):
    import keras
    from keras import layers

    if pooling not in POOLINGS:
        raise ValueError(f"{name}: pooling must be one of {POOLINGS}, got {pooling!r}")
    (dim,) = input_shape
    inp = keras.Input((dim,), batch_size=batch_size, name="features")
    x = layers.Dropout(input_dropout)(inp) if input_dropout else inp
    if input_noise:  # training-only Gaussian noise on the normalised features
        x = layers.GaussianNoise(input_noise)(x)
    if project:  # learned linear map of a long set (ComParE) to `project` values
        x = layers.Dense(project, name="project")(x)
        dim = project
    x = layers.Reshape((dim, 1))(x)
    h = _conv_block(x, filters, kernel, dropout)
    y = _conv_block(h, filters, kernel, dropout)
    if se_residual:
        y = squeeze_excite(y)
        y = layers.ReLU()(layers.Add()([h, y]))
    if pooling == "gap":
        y = layers.GlobalAveragePooling1D()(y)
    else:  # keep which functional each activation came from
        y = layers.Flatten()(layers.MaxPooling1D(pool)(y))
    y = layers.Dense(dense, activation="relu")(y)
    out = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probs")(y)
    return keras.Model(inp, out, name=name)


def build_resse_cnn1d(
    input_shape,
    n_classes,
    batch_size=None,
    filters=32,
    kernel=5,
    dropout=0.2,
    dense=32,
    pooling="flatten",
    pool=4,
    input_dropout=0.0,
    input_noise=0.0,
    project=0,
):
    return _build(
        input_shape,
        n_classes,
        batch_size,
        True,
        filters,
        kernel,
        dropout,
        dense,
        pooling,
        pool,
        input_dropout,
        input_noise,
        project,
        "resse_cnn1d",
    )


def build_cnn1d(
    input_shape,
    n_classes,
    batch_size=None,
    filters=32,
    kernel=5,
    dropout=0.2,
    dense=32,
    pooling="flatten",
    pool=4,
    input_dropout=0.0,
    input_noise=0.0,
    project=0,
):
    return _build(
        input_shape,
        n_classes,
        batch_size,
        False,
        filters,
        kernel,
        dropout,
        dense,
        pooling,
        pool,
        input_dropout,
        input_noise,
        project,
        "cnn1d",
    )
