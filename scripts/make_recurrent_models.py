"""Make the recurrent test models with TensorFlow's converter (tests/fixtures/recurrent/).

lstm_int8.tflite: a Keras LSTM (unroll=False, so one UNIDIRECTIONAL_SEQUENCE_LSTM) over 8 time steps of
10 features, 12 units, then a Dense layer; full-integer int8 (the LSTM's cell state int16), batch 1.
Random weights and calibration data, fixed seeds: the point is the operator, not the accuracy.

    .venv/bin/python scripts/make_recurrent_models.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "recurrent"


def lstm_model():
    import keras
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 10), batch_size=1)
    x = keras.layers.LSTM(12, unroll=False, return_sequences=True)(inputs)
    x = keras.layers.LSTM(6, unroll=False)(x)
    outputs = keras.layers.Dense(4)(x)
    return keras.Model(inputs, outputs)


def convert(model, shape) -> bytes:
    import tensorflow as tf
    rng = np.random.default_rng(0)

    def representative():
        for _ in range(32):
            yield [rng.normal(0, 1, size=(1, *shape)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = converter.inference_output_type = tf.int8
    return converter.convert()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "lstm_int8.tflite").write_bytes(convert(lstm_model(), (8, 10)))
    print("wrote", OUT / "lstm_int8.tflite")


if __name__ == "__main__":
    main()
