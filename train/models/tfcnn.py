"""TF-CNN (Leiden thesis "Feature Extraction from Spectrums for Speech Emotion Recognition"):
time- and frequency-wise convolutions over the log spectrogram and the log-mel spectrogram,
fused into a small per-step feature vector (13 values, as many as MFCCs) that an LSTM classifies.

The runtime feeds a model one tensor [batch, frames, dim], so the two inputs arrive
concatenated on the feature axis: ``[log spectrogram (spec_bins = n_fft/2 + 1) | log mel
(n_mels)]`` (the training feature kind ``spectrogram+log_mel``, `train.features`), and the graph
splits them with slices (STRIDED_SLICE in TFLite). Per input, parallel branches read the
[time, frequency] image: time-wise kernels (k x 1: k frames at one frequency; the thesis'
"horizontal" kernels, time running horizontally in its images) and frequency-wise kernels
(1 x k: k bins in one frame, "vertical"), one branch per kernel size, after averaging the
spectrogram's fine grid by `input_pool` (2 x 2 by default: the full-resolution branches made a
6-epoch EmoDB fold take 280 s on two CPU cores). Each branch is Conv2D ->
BatchNorm -> ReLU; the branches are concatenated on channels and max-pooled. Both inputs' maps are
flattened per time step, concatenated and projected to `fused` values per step (a linear Dense:
the learned stand-in for the 13 MFCCs), and an LSTM (`lstm_layers` stacked, unrolled over at
most `max_steps` steps so that int8 conversion needs no WHILE loop) classifies the sequence.
``lstm_layers=2`` is the thesis' "double LSTM" (the fine model of the multi-level cascade).
"""

from __future__ import annotations

from .cnn_lstm import _time_pool_to


def _branches(x, filters, time_kernels, freq_kernels, pool, prefix, bn_momentum):
    """Parallel time-wise (k x 1) and frequency-wise (1 x k) Conv2D branches over x [b, t, f, 1],
    concatenated on channels, then max-pooled by `pool` (time, frequency)."""
    from keras import layers

    outs = []
    shapes = [(k, 1, "t") for k in time_kernels] + [(1, k, "f") for k in freq_kernels]
    for kt, kf, axis in shapes:
        k = kt if axis == "t" else kf
        y = layers.Conv2D(filters, (kt, kf), padding="same", name=f"{prefix}_{axis}{k}")(x)
        y = layers.BatchNormalization(momentum=bn_momentum)(y)
        outs.append(layers.ReLU()(y))
    y = outs[0] if len(outs) == 1 else layers.Concatenate(axis=-1)(outs)
    return layers.MaxPooling2D(tuple(pool), padding="same")(y)


def build_tfcnn(
    input_shape,
    n_classes,
    batch_size=None,
    spec_bins=257,
    input_pool=(2, 2),
    filters=8,
    time_kernels=(3, 9),
    freq_kernels=(3, 9),
    spec_pool=(2, 8),
    mel_pool=(2, 4),
    bn_momentum=0.9,
    fused=13,
    lstm_units=32,
    lstm_layers=1,
    dense=32,
    dropout=0.3,
    max_steps=12,
):
    """`input_shape` = (frames, spec_bins + n_mels): the log spectrogram's `spec_bins` values
    first, then the log-mel bands. `input_pool` (time, frequency) averages the spectrogram
    before the branches (and the mel bands in time): (1, 1) keeps the full 10 ms x 31 Hz grid,
    at about 4x the training cost of the default (2, 2). `bn_momentum` 0.9 (Keras: 0.99): with
    0.99 the moving variances were still several times the data's after the few hundred steps
    of a short run, which skews the model in inference mode."""
    import keras
    from keras import layers

    frames, dim = input_shape
    n_mels = dim - spec_bins
    if spec_bins < 1 or n_mels < 1:
        raise ValueError(
            f"tfcnn: input dim {dim} must be spec_bins ({spec_bins}) + n_mels (>= 1); "
            "set hparam spec_bins to the front end's n_fft // 2 + 1"
        )
    if not time_kernels and not freq_kernels:
        raise ValueError("tfcnn: needs at least one time- or frequency-wise kernel")
    if lstm_layers < 1:
        raise ValueError(f"tfcnn: lstm_layers must be >= 1, got {lstm_layers}")
    inp = keras.Input((frames, dim), batch_size=batch_size, name="features")
    spec = layers.Reshape((frames, spec_bins, 1), name="spectrogram")(inp[:, :, :spec_bins])
    mel = layers.Reshape((frames, n_mels, 1), name="log_mel")(inp[:, :, spec_bins:])
    pt, pf = (int(v) for v in input_pool)
    if pt > 1 or pf > 1:  # average the fine spectrogram grid first (training cost)
        spec = layers.AveragePooling2D((pt, pf), padding="same")(spec)
    if pt > 1:  # the same time grid for both inputs, so their steps line up
        mel = layers.AveragePooling2D((pt, 1), padding="same")(mel)
    maps = []
    for x, pool, prefix in ((spec, spec_pool, "spec"), (mel, mel_pool, "mel")):
        y = _branches(x, filters, time_kernels, freq_kernels, pool, prefix, bn_momentum)
        y = _time_pool_to(y, max_steps, two_d=True)
        _, steps, freq, ch = y.shape
        maps.append(layers.Reshape((steps, freq * ch))(y))
    x = layers.Concatenate(axis=-1)(maps)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(fused, name="fused")(x)  # per step: the 13-value learned feature vector
    for i in range(lstm_layers):
        x = layers.LSTM(lstm_units, unroll=True, return_sequences=i < lstm_layers - 1)(x)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(dense, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inp, out, name="tfcnn")
