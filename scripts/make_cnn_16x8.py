"""Make the 16x8 CNN test model with TensorFlow's converter (tests/fixtures/int16/cnn_16x8.tflite).

A small CNN (CONV_2D, MAX_POOL_2D, DEPTHWISE_CONV_2D, CONV_2D with relu, an ADD skip, AVERAGE_POOL_2D,
RESHAPE, FULLY_CONNECTED, SOFTMAX)
quantized as TFLite's 16x8 mode: int16 activations, int8 weights, int64 biases, int16 input and
output, batch 1. Random weights and calibration data, fixed seeds.

    .venv/bin/python scripts/make_cnn_16x8.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "int16"
SHAPE = (12, 12, 2)


def cnn():
    import keras
    keras.utils.set_random_seed(0)
    inputs = keras.Input(SHAPE, batch_size=1)
    x = keras.layers.Conv2D(6, 3, padding="same")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    y = keras.layers.DepthwiseConv2D(3, padding="same")(x)
    x = keras.layers.Add()([x, y])
    x = keras.layers.Conv2D(8, 3, strides=1, padding="valid", activation="relu")(x)
    x = keras.layers.AveragePooling2D(2)(x)
    x = keras.layers.Reshape((-1,))(x)
    outputs = keras.layers.Softmax()(keras.layers.Dense(5)(x))
    return keras.Model(inputs, outputs)


def convert(model) -> bytes:
    import tensorflow as tf
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(32):
            yield [rng.normal(0, 1, size=(1, *SHAPE)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [
        tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int16
    return converter.convert()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cnn_16x8.tflite").write_bytes(convert(cnn()))
    print("wrote", OUT / "cnn_16x8.tflite")


if __name__ == "__main__":
    main()
