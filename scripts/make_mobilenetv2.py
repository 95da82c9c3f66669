"""Make a stock MobileNetV2 (alpha 1.0, 224x224, 1000 classes, logits out) as an int8 .tflite, for
the patch planner's headline test: random weights and random representative data, which is all a
memory plan and a bit-exactness check need.

    python scripts/make_mobilenetv2.py [OUT.tflite] [--size 224] [--alpha 1.0]

Needs tensorflow-cpu (the `examples` extra).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def make(size: int, alpha: float, seed: int = 0) -> bytes:
    import tensorflow as tf

    tf.keras.utils.set_random_seed(seed)
    # No final softmax: with random weights its input scale is so small that TFLM refuses it.
    model = tf.keras.applications.MobileNetV2(input_shape=(size, size, 3), alpha=alpha, weights=None,
                                              classifier_activation=None)
    rng = np.random.default_rng(seed)

    def representative():
        for _ in range(8):
            yield [rng.uniform(-1.0, 1.0, size=(1, size, size, 3)).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("build/mobilenetv2_224_int8.tflite"))
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--alpha", type=float, default=1.0)
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(make(args.size, args.alpha))
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
