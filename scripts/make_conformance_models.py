"""Make tinygen's conformance models: small real architectures, quantized by `tinygen quantize`'s code.

Each is a Keras model with seeded random weights and a small input (so that it converts and runs in
seconds), calibrated on seeded random samples, then converted to a full-integer .tflite through
tinygen.quantize (int8, or int16 activations for the 16x8 CNN). tests/test_conformance.py compares
each with TFLite Micro on every tensor.

    python scripts/make_conformance_models.py OUT_DIR [NAME ...]     # all of them by default

Needs tensorflow-cpu (the `examples` extra).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SEED = 0
CALIBRATION_SAMPLES = 8


@dataclass(frozen=True)
class Conformance:
    name: str
    build: Callable[[], object]  # -> a keras.Model
    int16_activations: bool = False
    calibration_range: tuple[float, float] = (-1.0, 1.0)


# --- building blocks -----------------------------------------------------------------------------


def _layers():
    from keras import layers

    return layers


def hard_swish(x):
    """x * relu6(x + 3) / 6, the form the converter fuses into HARD_SWISH."""
    layers = _layers()
    return layers.Multiply()([x, layers.Rescaling(1 / 6)(layers.ReLU(6.0)(layers.Rescaling(1.0, offset=3.0)(x)))])


def hard_sigmoid(x):
    layers = _layers()
    return layers.Rescaling(1 / 6)(layers.ReLU(6.0)(layers.Rescaling(1.0, offset=3.0)(x)))


def squeeze_excite(x, channels: int, squeezed: int, gate: Callable):
    """Global average, a bottleneck, a gate multiplied back onto every pixel."""
    layers = _layers()
    s = layers.GlobalAveragePooling2D(keepdims=True)(x)
    s = layers.Conv2D(squeezed, 1, activation="relu")(s)
    s = gate(layers.Conv2D(channels, 1)(s))
    return layers.Multiply()([x, s])


def inverted_residual(x, expand: int, out: int, stride: int, activation: Callable, se: Callable | None = None):
    """MobileNetV2's block: 1x1 expand, 3x3 depthwise, (squeeze-excite), 1x1 linear projection, residual."""
    layers = _layers()
    channels = x.shape[-1]
    y = activation(layers.Conv2D(channels * expand, 1, use_bias=False)(x))
    y = activation(layers.DepthwiseConv2D(3, strides=stride, padding="same")(y))
    if se is not None:
        y = se(y, channels * expand)
    y = layers.Conv2D(out, 1)(y)
    if stride == 1 and channels == out:
        y = layers.Add()([x, y])
    return y


def relu6(x):
    return _layers().ReLU(6.0)(x)


def swish(x):
    layers = _layers()
    return layers.Multiply()([x, layers.Activation("sigmoid")(x)])


# --- the models ------------------------------------------------------------------------------------


def mobilenet_v2():
    import keras

    layers = _layers()
    x_in = keras.Input((32, 32, 3), name="image")
    x = relu6(layers.Conv2D(8, 3, strides=2, padding="same")(x_in))
    x = inverted_residual(x, 1, 8, 1, relu6)
    x = inverted_residual(x, 4, 12, 2, relu6)
    x = inverted_residual(x, 4, 12, 1, relu6)
    x = inverted_residual(x, 4, 16, 2, relu6)
    x = relu6(layers.Conv2D(32, 1)(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(x_in, layers.Dense(10)(x), name="mobilenet_v2")


def mobilenet_v3():
    import keras

    layers = _layers()

    def se(y, channels):
        return squeeze_excite(y, channels, max(4, channels // 4), hard_sigmoid)

    x_in = keras.Input((32, 32, 3), name="image")
    x = hard_swish(layers.Conv2D(8, 3, strides=2, padding="same")(x_in))
    x = inverted_residual(x, 1, 8, 1, relu6, se)
    x = inverted_residual(x, 3, 12, 2, relu6)
    x = inverted_residual(x, 3, 12, 1, hard_swish, se)
    x = inverted_residual(x, 4, 16, 2, hard_swish, se)
    x = hard_swish(layers.Conv2D(32, 1)(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(x_in, layers.Dense(10)(x), name="mobilenet_v3")


def efficientnet():
    import keras

    layers = _layers()

    def se(y, channels):
        return squeeze_excite(y, channels, max(4, channels // 4), lambda s: layers.Activation("sigmoid")(s))

    x_in = keras.Input((32, 32, 3), name="image")
    x = swish(layers.Conv2D(8, 3, strides=2, padding="same")(x_in))
    x = inverted_residual(x, 1, 8, 1, swish, se)
    x = inverted_residual(x, 4, 12, 2, swish, se)
    x = inverted_residual(x, 4, 12, 1, swish, se)
    x = swish(layers.Conv2D(32, 1)(x))
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(x_in, layers.Dense(10)(x), name="efficientnet")


def unet():
    """Two levels down, up-sampling back by nearest-neighbour and by transposed convolution, with
    skip concatenations; a per-pixel class map out."""
    import keras

    layers = _layers()
    x_in = keras.Input((16, 16, 1), name="image")
    c1 = layers.Conv2D(8, 3, padding="same", activation="relu")(x_in)
    d1 = layers.MaxPooling2D(2)(c1)
    c2 = layers.Conv2D(12, 3, padding="same", activation="relu")(d1)
    d2 = layers.MaxPooling2D(2)(c2)
    bottom = layers.Conv2D(16, 3, padding="same", activation="relu")(d2)
    u2 = layers.Resizing(8, 8, interpolation="nearest")(bottom)  # UpSampling2D converts to TILE, which TFLM lacks
    x = layers.Concatenate()([u2, c2])
    x = layers.Conv2D(12, 3, padding="same", activation="relu")(x)
    u1 = layers.Conv2DTranspose(8, 2, strides=2, padding="same")(x)
    x = layers.Concatenate()([u1, c1])
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
    return keras.Model(x_in, layers.Conv2D(3, 1)(x), name="unet")


def audio_conv1d():
    """A 1-D convolutional keyword model on 64 frames of 10 features."""
    import keras

    layers = _layers()
    x_in = keras.Input((64, 10), name="features")
    x = layers.Conv1D(16, 5, strides=2, padding="same", activation="relu")(x_in)
    x = layers.Conv1D(16, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Conv1D(24, 3, padding="same", activation="relu")(x)
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(x_in, layers.Softmax()(layers.Dense(6)(x)), name="audio_conv1d")


def lstm_kws():
    """An LSTM keyword spotter: 12 frames of 10 features, one LSTM layer, a dense classifier.

    Built with tf_keras (Keras 2): its LSTM converts to UNIDIRECTIONAL_SEQUENCE_LSTM; Keras 3's
    converts to a WHILE loop, whose calibration crashes TensorFlow 2.21 and which TFLM does not run."""
    import tf_keras
    from tf_keras import layers

    tf_keras.utils.set_random_seed(SEED)
    x_in = tf_keras.Input((12, 10), name="features")
    x = layers.LSTM(16)(x_in)
    return tf_keras.Model(x_in, layers.Softmax()(layers.Dense(6)(x)), name="lstm_kws")


def tiny_vit():
    """A vision transformer: 4x4 patches embedded by a strided convolution, a learned position
    embedding, one encoder block (layer normalisation, multi-head self-attention, an MLP with GELU in
    its sigmoid approximation x * sigmoid(1.702 x), which converts to ops TFLM runs), a mean token."""
    import keras

    layers = _layers()
    dim, tokens = 16, 16
    x_in = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(dim, 4, strides=4)(x_in)
    x = layers.Reshape((tokens, dim))(x)
    x = position_embedding(tokens, dim)(x)
    y = layers.LayerNormalization(epsilon=1e-5)(x)
    y = layers.MultiHeadAttention(num_heads=2, key_dim=dim // 2)(y, y)
    x = layers.Add()([x, y])
    y = layers.LayerNormalization(epsilon=1e-5)(x)
    y = layers.Dense(2 * dim)(y)
    y = layers.Multiply()([y, layers.Activation("sigmoid")(layers.Rescaling(1.702)(y))])
    y = layers.Dense(dim)(y)
    x = layers.Add()([x, y])
    x = layers.GlobalAveragePooling1D()(x)
    return keras.Model(x_in, layers.Dense(10)(x), name="tiny_vit")


def position_embedding(tokens: int, dim: int):
    """A learned [tokens, dim] table added to every token (a constant ADD once converted)."""
    import keras

    class PositionEmbedding(keras.layers.Layer):
        def build(self, input_shape):
            self.table = self.add_weight(shape=(tokens, dim), initializer="random_normal", name="table")

        def call(self, x):
            return x + self.table

    return PositionEmbedding(name="position_embedding")


def detector_head():
    """A two-scale detection head: the coarse features resized up (nearest and bilinear) and
    concatenated with the fine ones, box and class convolutions per anchor, reshaped and joined."""
    import keras

    layers = _layers()
    anchors, classes = 2, 3
    x_in = keras.Input((32, 32, 3), name="image")
    fine = layers.Conv2D(8, 3, strides=2, padding="same", activation="relu")(x_in)
    fine = layers.Conv2D(12, 3, strides=2, padding="same", activation="relu")(fine)  # 8x8
    coarse = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(fine)  # 4x4
    up_nearest = layers.Resizing(8, 8, interpolation="nearest")(coarse)
    up_bilinear = layers.Resizing(8, 8, interpolation="bilinear")(coarse)
    x = layers.Concatenate()([fine, up_nearest, up_bilinear])
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
    boxes = layers.Reshape((8 * 8 * anchors, 4))(layers.Conv2D(anchors * 4, 1)(x))
    scores = layers.Reshape((8 * 8 * anchors, classes))(layers.Activation("sigmoid")(layers.Conv2D(anchors * classes, 1)(x)))
    return keras.Model(x_in, layers.Concatenate(axis=-1)([boxes, scores]), name="detector_head")


def cnn_16x8():
    """A small CNN for TFLite's 16x8 mode: int16 activations, int8 weights."""
    import keras

    layers = _layers()
    x_in = keras.Input((12, 12, 2), name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x_in)
    y = layers.DepthwiseConv2D(3, padding="same", activation="relu")(x)
    x = layers.Add()([x, layers.Conv2D(8, 1)(y)])
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(12, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.AveragePooling2D(3)(x)
    x = layers.Flatten()(x)
    x = layers.Activation("sigmoid")(layers.Dense(8)(x))
    x = layers.Multiply()([x, x])
    return keras.Model(x_in, layers.Softmax()(layers.Dense(4)(x)), name="cnn_16x8")


MODELS: dict[str, Conformance] = {c.name: c for c in (
    Conformance("mobilenet_v2", mobilenet_v2),
    Conformance("mobilenet_v3", mobilenet_v3),
    Conformance("efficientnet", efficientnet),
    Conformance("unet", unet, calibration_range=(0.0, 1.0)),
    Conformance("audio_conv1d", audio_conv1d),
    Conformance("lstm_kws", lstm_kws),
    Conformance("tiny_vit", tiny_vit),
    Conformance("detector_head", detector_head, calibration_range=(0.0, 1.0)),
    Conformance("cnn_16x8", cnn_16x8, int16_activations=True),
)}


def calibration_samples(model, spec: Conformance, count: int = CALIBRATION_SAMPLES) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(SEED)
    low, high = spec.calibration_range
    return [[rng.uniform(low, high, size=(1, *tuple(t.shape[1:]))).astype(np.float32) for t in model.inputs]
            for _ in range(count)]


def make(name: str) -> bytes:
    """The named conformance model as a full-integer .tflite, through tinygen quantize's conversion."""
    import keras

    from tinygen.quantize import quantize_keras

    spec = MODELS[name]
    keras.utils.set_random_seed(SEED)
    model = spec.build()
    return quantize_keras(model, calibration_samples(model, spec), int16_activations=spec.int16_activations)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("names", nargs="*", choices=[*MODELS, []], metavar="NAME",
                        help=f"models to make (default: all): {', '.join(MODELS)}")
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tinygen from this checkout
    from tinygen.quantize import operator_types, tinygen_problem

    for name in args.names or list(MODELS):
        data = make(name)
        path = args.out_dir / f"{name}.tflite"
        path.write_bytes(data)
        problem = tinygen_problem(data, name, str(path))
        print(f"{path}: {len(data)} B, {len(operator_types(data))} operators; "
              + ("tinygen compiles it" if problem is None else problem), flush=True)


if __name__ == "__main__":
    main()
