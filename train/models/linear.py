"""A linear classifier over a functional vector: multinomial logistic regression (one Dense
softmax layer with L2 weight decay), trained and exported like the networks.

On leave-one-corpus-out the networks over the 76 edgeser-gemaps-v1 functionals learn the
training corpora's speakers and microphones, while scikit-learn's logistic regression on the
same vectors does not (docs/experiments.md, "Late fusion ... on unseen corpora"): this is that
model as a bundle, so the runtime can run it (and fuse it) without scikit-learn.
"""

from __future__ import annotations


def build_linear(input_shape, n_classes, batch_size=None, l2=1e-3, input_dropout=0.0):
    import keras
    from keras import layers, regularizers

    (dim,) = input_shape
    inp = keras.Input((dim,), batch_size=batch_size, name="features")
    x = layers.Dropout(input_dropout)(inp) if input_dropout else inp
    out = layers.Dense(
        n_classes,
        activation="softmax",
        kernel_regularizer=regularizers.l2(l2) if l2 else None,
        dtype="float32",
        name="probs",
    )(x)
    return keras.Model(inp, out, name="linear")
