"""Train tinygen's example model: a small int8 CNN for scikit-learn's 8x8 digits.

Usage:
    python examples/digits/make_model.py --out examples/digits/digits_cnn_int8.tflite

Needs the `examples` extra (tensorflow-cpu, scikit-learn) plus tflite-micro, which
measures the int8 accuracy the way a microcontroller would compute it.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import time
from pathlib import Path
from typing import Iterator

import numpy as np

SEED = 0
EPOCHS = 40
BATCH = 32
NUM_SAMPLES = 8  # images written to sample_inputs.npy
ARENA_BYTES = 64 * 1024  # generous: the model's real peak is a few KB

# The ops tinygen compiles; anything else in the converted model is an error.
ALLOWED_OPS = frozenset({
    "CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MAX_POOL_2D", "AVERAGE_POOL_2D",
    "RESHAPE", "FULLY_CONNECTED", "SOFTMAX", "CONCATENATION", "PAD", "MEAN",
    "MUL", "LOGISTIC", "RELU", "RELU6", "HARD_SWISH",
})

DEFAULT_OUT = Path(__file__).resolve().parent / "digits_cnn_int8.tflite"


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Digits as float32 NHWC images in [0, 1], split into a stratified train/test."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    # Pixel values are 0..16; scaling to [0, 1] gives the input a simple int8 scale.
    images = (digits.images.astype(np.float32) / 16.0)[..., np.newaxis]
    labels = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=0.25, random_state=SEED, stratify=labels)
    return x_train, x_test, y_train, y_test


def build_model(batch_size: int | None):
    """The CNN. batch_size=1 for conversion, so Flatten converts to one RESHAPE."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(8, 8, 1), batch_size=batch_size, name="image")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(inputs)
    # Residual block: depthwise 3x3 then pointwise 1x1, added back to the stem.
    y = layers.DepthwiseConv2D(3, padding="same", activation="relu", name="dw")(x)
    y = layers.Conv2D(16, 1, name="pw")(y)
    x = layers.Add(name="residual")([x, y])
    x = layers.ReLU(name="residual_relu")(x)  # the converter fuses this into ADD
    x = layers.Conv2D(32, 3, strides=2, padding="same", activation="relu", name="down")(x)
    x = layers.MaxPooling2D(2, name="pool")(x)  # 4x4 -> 2x2
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(10, name="logits")(x)
    outputs = layers.Softmax(name="probs")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


def train(x_train: np.ndarray, y_train: np.ndarray):
    import keras
    import tensorflow as tf

    # Deterministic kernels, one thread and fixed seeds: the same bytes come out on every run.
    tf.config.experimental.enable_op_determinism()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(SEED)

    model = build_model(batch_size=None)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=BATCH, epochs=EPOCHS, shuffle=True, verbose=0)
    return model


def convert_int8(model, x_rep: np.ndarray) -> bytes:
    """Full-integer conversion with int8 input and output."""
    import tensorflow as tf

    # A fixed-batch twin of the trained model, sharing its weights.
    fixed = build_model(batch_size=1)
    fixed.set_weights(model.get_weights())

    def representative() -> Iterator[list[np.ndarray]]:
        for image in x_rep:
            yield [image[np.newaxis]]

    converter = tf.lite.TFLiteConverter.from_keras_model(fixed)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    # Keras' SavedModel export prints its whole signature to stdout; keep the CLI output readable.
    with contextlib.redirect_stdout(io.StringIO()):
        return converter.convert()


def op_list(model_bytes: bytes) -> list[str]:
    """Builtin op names of the model's operators, in execution order."""
    import tflite

    names = {v: k for k, v in vars(tflite.BuiltinOperator).items() if not k.startswith("_")}
    model = tflite.Model.GetRootAsModel(model_bytes, 0)
    graph = model.Subgraphs(0)
    result = []
    for i in range(graph.OperatorsLength()):
        code = model.OperatorCodes(graph.Operators(i).OpcodeIndex())
        # The tflite package predates the extended opcode field; take the larger one.
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        result.append(names.get(builtin, f"UNKNOWN_{builtin}"))
    return result


def op_shapes(model_bytes: bytes) -> list[tuple[str, list[list[int]], list[list[int]]]]:
    """(op, input shapes, output shapes) for each operator; -1 marks an absent input."""
    import tflite

    model = tflite.Model.GetRootAsModel(model_bytes, 0)
    graph = model.Subgraphs(0)

    def shape(index: int) -> list[int]:
        return [-1] if index < 0 else graph.Tensors(index).ShapeAsNumpy().tolist()

    rows = []
    for i, name in enumerate(op_list(model_bytes)):
        op = graph.Operators(i)
        rows.append((name, [shape(t) for t in op.InputsAsNumpy()],
                     [shape(t) for t in op.OutputsAsNumpy()]))
    return rows


def check_ops(ops: list[str]) -> None:
    bad = sorted(set(ops) - ALLOWED_OPS)
    if bad:
        raise SystemExit(f"error: converted model uses ops tinygen does not support: {bad}")


def quantize_input(images: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    q = np.round(images / scale) + zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def tflm_interpreter(model_bytes: bytes):
    from tflite_micro import runtime

    return runtime.Interpreter.from_bytes(model_bytes, arena_size=ARENA_BYTES)


def input_quantization(interp) -> tuple[float, int]:
    qp = interp.get_input_details(0)["quantization_parameters"]
    return float(qp["scales"][0]), int(qp["zero_points"][0])


def tflm_predict(interp, q_images: np.ndarray) -> np.ndarray:
    """argmax of the int8 output for each quantized image of shape (1, 8, 8, 1)."""
    preds = []
    for image in q_images:
        interp.set_input(image, 0)
        interp.invoke()
        preds.append(int(np.argmax(interp.get_output(0))))
    return np.array(preds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the .tflite")
    args = parser.parse_args(argv)
    # Set here, not at import, so the test suite can import the helpers without side effects;
    # TensorFlow itself is imported lazily, after this.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["TF_DETERMINISTIC_OPS"] = "1"
    out: Path = args.out
    out.parent.mkdir(parents=True, exist_ok=True)

    x_train, x_test, y_train, y_test = load_data()

    start = time.perf_counter()
    model = train(x_train, y_train)
    train_seconds = time.perf_counter() - start

    float_pred = np.argmax(model.predict(x_test, verbose=0), axis=1)
    float_acc = float(np.mean(float_pred == y_test))

    model_bytes = convert_int8(model, x_train)
    ops = op_list(model_bytes)
    check_ops(ops)

    interp = tflm_interpreter(model_bytes)
    scale, zero_point = input_quantization(interp)
    # One leading batch-1 axis per image: each row is exactly the model's input tensor.
    q_test = quantize_input(x_test, scale, zero_point)[:, np.newaxis]
    int8_acc = float(np.mean(tflm_predict(interp, q_test) == y_test))

    out.write_bytes(model_bytes)
    np.save(out.parent / "sample_inputs.npy", q_test[:NUM_SAMPLES])
    np.save(out.parent / "sample_labels.npy", y_test[:NUM_SAMPLES].astype(np.int64))

    print(f"train: {len(x_train)} images, test: {len(x_test)}, training {train_seconds:.1f} s")
    print(f"float accuracy: {float_acc:.4f}")
    print(f"int8 accuracy (TFLM): {int8_acc:.4f}")
    print(f"model: {out} ({len(model_bytes)} bytes)")
    print(f"input quantization: scale={scale!r} zero_point={zero_point}")
    print("ops:")
    for name, ins, outs in op_shapes(model_bytes):
        print(f"  {name:18s} {ins} -> {outs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
