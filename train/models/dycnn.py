"""DyCNN + BiLSTM ("Speech emotion recognition based on dynamic convolutional neural network"):
dynamic convolution blocks over a window of 39-dim MFCC + delta + delta-delta frames (the
``dycnn_mfcc39`` front-end preset: 30 ms Hamming frames every 15 ms, pre-emphasis 0.97), ELU,
then a bidirectional LSTM over time and a dense classifier.

Dynamic convolution (after Chen et al., CVPR 2020): a layer holds K kernels W_k and biases b_k;
per example, attention weights pi_k come from global average pooling of the layer input -> a
dense layer (tanh here: with ReLU, the few attention units of a layer all died in some EmoDB
folds, which fixes the attention and leaves a zero-range tensor that XNNPACK refuses) -> a
dense layer with K outputs -> softmax(z / temperature). The paper's layer convolves with the
aggregated kernel sum_k pi_k W_k and adds sum_k pi_k b_k. By linearity of convolution that
equals sum_k pi_k (W_k * x + b_k): K ordinary convolutions whose outputs are mixed by the
attention weights, which is how `DynamicConv2D` trains. The BatchNorm after each layer lives
inside it: at inference (`DynamicConv2D._inference`, what the exported graph holds) it is
folded into the kernels (exact: BN is affine per channel), and the K convolutions run as one
over the input repeated K times, copy k scaled by pi_k, so int8 mixes them in the
convolution's int32 accumulator instead of rounding every product and partial sum. The graph
is plain builtin ops (MEAN, FULLY_CONNECTED, SOFTMAX, TILE, CONCATENATION, CONV_2D, MUL, ADD)
with no per-example kernel. ELU is written as relu(x) + (exp(x - relu(x)) - 1) so that it quantises
too (`elu_class`): a Keras ELU stays float between DEQUANTIZE and QUANTIZE, and the forms with
MINIMUM or SELECT lost accuracy in int8 (TFLite 2.21; max probability error 0.2-0.8 against
0.004 for this form on an EmoDB fold model).

The BiLSTM is unrolled over at most `max_steps` pooled steps, as in `cnn_lstm`: a Keras 3 LSTM
otherwise converts to a TFLite WHILE loop that full-int8 conversion cannot handle.
"""

from __future__ import annotations

import functools

from .cnn_lstm import _time_pool_to


@functools.cache
def dynamic_conv_class():
    """The `DynamicConv2D` Keras layer class, defined on first use so that importing the model
    registry stays cheap (Keras is imported only when a model is built)."""
    import keras
    from keras import ops

    class DynamicConv2D(keras.layers.Layer):
        """Attention over `n_kernels` parallel 2-D convolutions (`filters`, `kernel_size`,
        padding "same", stride 1). Input and output [batch, time, freq, channels]."""

        def __init__(
            self,
            filters: int,
            kernel_size=3,
            n_kernels: int = 4,
            temperature: float = 1.0,
            attention_ratio: int = 4,
            batch_norm: bool = False,
            bn_momentum: float = 0.99,
            **kwargs,
        ):
            super().__init__(**kwargs)
            if n_kernels < 1:
                raise ValueError(f"DynamicConv2D: n_kernels must be >= 1, got {n_kernels}")
            if not temperature > 0:
                raise ValueError(f"DynamicConv2D: temperature must be > 0, got {temperature}")
            self.filters = int(filters)
            ks = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
            self.kernel_size = tuple(int(k) for k in ks)
            self.n_kernels = int(n_kernels)
            self.temperature = float(temperature)
            self.attention_ratio = int(attention_ratio)
            self.batch_norm = bool(batch_norm)
            self.bn_momentum = float(bn_momentum)

        def build(self, input_shape):
            cin = int(input_shape[-1])
            hidden = max(4, cin // self.attention_ratio)
            self.att_hidden = keras.layers.Dense(hidden, activation="tanh", name="att_hidden")
            self.att_hidden.build((None, cin))
            self.att_logits = keras.layers.Dense(self.n_kernels, name="att_logits")
            self.att_logits.build((None, hidden))
            self.convs = []
            for k in range(self.n_kernels):
                conv = keras.layers.Conv2D(
                    self.filters, self.kernel_size, padding="same", name=f"kernel_{k}"
                )
                conv.build(input_shape)
                self.convs.append(conv)
            self.bn = None
            if self.batch_norm:
                self.bn = keras.layers.BatchNormalization(momentum=self.bn_momentum, name="bn")
                self.bn.build((*input_shape[:-1], self.filters))

        def attention(self, x):
            """pi [batch, n_kernels]: softmax(dense(tanh(dense(GAP(x)))) / temperature)."""
            z = self.att_logits(self.att_hidden(ops.mean(x, axis=(1, 2))))
            return ops.softmax(z * (1.0 / self.temperature), axis=-1)

        def call(self, x, training=None):
            pi = self.attention(x)
            if not training:
                return self._inference(x, pi)
            out = None
            for k, conv in enumerate(self.convs):
                w = ops.reshape(pi[:, k : k + 1], (-1, 1, 1, 1))
                y = conv(x) * w
                out = y if out is None else out + y
            return out if self.bn is None else self.bn(out, training=training)

        def _inference(self, x, pi):
            """The same function in the form int8 keeps accurate: one convolution, whose int32
            accumulator does the mixing. sum_k pi_k (W_k * x) = [W_0 .. W_K-1] * [pi_0 x .. pi_K-1
            x] (kernels stacked on the input channels, the input repeated K times and scaled
            per copy), plus sum_k pi_k b_k. With the BatchNorm, BN(y) = a y + c per channel (a =
            gamma / sqrt(var + eps), c = beta - a mean) goes into the kernels (a W_k) and the
            bias (a b_k, + c), exactly. As K convolutions mixed by MUL and ADD, int8 rounded
            every convolution, product and partial sum, and the BN then scaled those errors by
            1 / sqrt(var) (the mixed outputs are small): up to 15 points of UA lost on EmoDB
            folds."""
            cin = int(x.shape[-1])
            k_n = self.n_kernels
            if self.bn is None:
                a = ops.ones((self.filters,))
                c = ops.zeros((self.filters,))
            else:
                bn = self.bn
                a = bn.gamma * ops.rsqrt(bn.moving_variance + bn.epsilon)
                c = bn.beta - bn.moving_mean * a
            kernel = ops.concatenate([conv.kernel * a for conv in self.convs], axis=2)
            biases = ops.stack([conv.bias * a for conv in self.convs])  # [K, filters]
            scale = ops.reshape(
                ops.tile(ops.reshape(pi, (-1, k_n, 1)), (1, 1, cin)), (-1, 1, 1, k_n * cin)
            )
            y = ops.conv(ops.concatenate([x] * k_n, axis=-1) * scale, kernel, padding="same")
            bias = ops.matmul(pi, biases) + c
            return y + ops.reshape(bias, (-1, 1, 1, self.filters))

        def compute_output_shape(self, input_shape):
            return (*input_shape[:-1], self.filters)

        def get_config(self):
            cfg = super().get_config()
            cfg.update(
                filters=self.filters,
                kernel_size=self.kernel_size,
                n_kernels=self.n_kernels,
                temperature=self.temperature,
                attention_ratio=self.attention_ratio,
                batch_norm=self.batch_norm,
                bn_momentum=self.bn_momentum,
            )
            return cfg

    DynamicConv2D.__qualname__ = "DynamicConv2D"
    return DynamicConv2D


def _elu(x):
    """relu(x) + (exp(x - relu(x)) - 1) = ELU(x): x - relu(x) = min(x, 0)."""
    from keras import ops

    return ops.relu(x) + (ops.exp(x - ops.relu(x)) - 1.0)


@functools.cache
def elu_class():
    """ELU (alpha 1) as relu(x) + (exp(x - relu(x)) - 1): the int8 converter leaves a Keras
    ELU in float between DEQUANTIZE and QUANTIZE (and XNNPACK crashed preparing some such
    graphs), while RELU, SUB, EXP and ADD all quantise."""
    import keras

    class Int8ELU(keras.layers.Layer):
        def call(self, x):
            return _elu(x)

        def compute_output_shape(self, input_shape):
            return input_shape

    return Int8ELU


def dynamic_conv2d(filters: int, kernel_size=3, n_kernels: int = 4, temperature: float = 1.0, **kw):
    """A `DynamicConv2D` layer (see the module docstring)."""
    return dynamic_conv_class()(filters, kernel_size, n_kernels, temperature, **kw)


def build_dycnn_bilstm(
    input_shape,
    n_classes,
    batch_size=None,
    filters=(16, 32, 32),
    kernel=3,
    n_kernels=4,
    temperature=1.0,
    batch_norm=True,
    bn_momentum=0.9,
    lstm_units=32,
    dense=32,
    dropout=0.3,
    max_steps=12,
):
    """Per block: DynamicConv2D -> (BatchNorm, inside the layer so that inference folds it into
    the kernels) -> ELU -> MaxPool 2x2 over the [time, feature] image; time pooled to <=
    `max_steps`; BiLSTM (`lstm_units` each way, unrolled) -> Dense (`dense`, ELU) -> softmax.

    `bn_momentum` 0.9 (Keras: 0.99): the mixed convolution outputs start with a variance near
    0.03, and with 0.99 the moving variance was still 2-20 times too large after a few hundred
    steps, so the model in inference mode predicted one class for every window (training
    accuracy 64%, validation at chance)."""
    import keras
    from keras import layers

    frames, dim = input_shape
    inp = keras.Input((frames, dim), batch_size=batch_size, name="features")
    x = layers.Reshape((frames, dim, 1))(inp)
    for i, f in enumerate(filters):
        x = dynamic_conv2d(
            f,
            kernel,
            n_kernels,
            temperature,
            batch_norm=batch_norm,
            bn_momentum=bn_momentum,
            name=f"dyconv_{i}",
        )(x)
        x = elu_class()()(x)
        x = layers.MaxPooling2D(2)(x)
    x = _time_pool_to(x, max_steps, two_d=True)
    _, steps, freq, ch = x.shape
    x = layers.Reshape((steps, freq * ch))(x)
    x = layers.Bidirectional(layers.LSTM(lstm_units, unroll=True), name="bilstm")(x)
    x = layers.Dropout(dropout)(x)
    x = elu_class()()(layers.Dense(dense)(x))
    x = layers.Dropout(dropout)(x)
    out = layers.Dense(n_classes, activation="softmax", dtype="float32", name="probs")(x)
    return keras.Model(inp, out, name="dycnn_bilstm")
