"""ADD, SUB and MUL on int16 (16x8 models) bit-exact with TFLite Micro: same shapes and broadcasts,
different input scales, fused activations, inputs at both ends of int16."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.testing.model_builder import ModelBuilder


def binary16_model(kind: str, shape1, shape2, scales=(0.001, 0.0007, 0.0013), zero_points=(0, 0, 0),
                   activation="NONE") -> bytes:
    out_shape = np.broadcast_shapes(tuple(shape1), tuple(shape2))
    b = ModelBuilder()
    x1 = b.tensor(list(shape1), dtype=np.int16, scale=scales[0], zero_point=zero_points[0])
    x2 = b.tensor(list(shape2), dtype=np.int16, scale=scales[1], zero_point=zero_points[1])
    y = b.tensor(list(out_shape), dtype=np.int16, scale=scales[2], zero_point=zero_points[2])
    b.op(kind, [x1, x2], [y], fusedActivationFunction=activation)
    return b.build([x1, x2], [y])


def records(shape1, shape2, count: int = 3):
    rng = np.random.default_rng(1)
    out = [[rng.integers(-32768, 32767, size=s, endpoint=True).astype(np.int16) for s in (shape1, shape2)]
           for _ in range(count)]
    out.append([np.full(shape1, -32768, np.int16), np.full(shape2, 32767, np.int16)])
    out.append([np.full(shape1, 32767, np.int16), np.full(shape2, 32767, np.int16)])
    return out


CASES = [
    dict(shape1=(1, 4, 5, 3), shape2=(1, 4, 5, 3)),
    dict(shape1=(1, 4, 5, 3), shape2=(1, 1, 1, 3), activation="RELU"),
    pytest.param(dict(shape1=(2, 1, 5), shape2=(1, 3, 1), scales=(0.002, 0.002, 0.0005), activation="RELU6"),
                 marks=pytest.mark.long),
]


@pytest.mark.parametrize("kind", ["ADD", "SUB", "MUL"])
@pytest.mark.parametrize("case", CASES, ids=["same-shape", "broadcast-channel", "broadcast-3d"])
def test_binary_16x8(assert_bit_exact, kind, case):
    model = binary16_model(kind, **case)
    if kind == "MUL":  # products of int16 values: an output scale that keeps them in range
        model = binary16_model(kind, **{**case, "scales": (0.001, 0.0007, 0.02)})
    assert_bit_exact(model, records=records(case["shape1"], case["shape2"]))


def test_add_16x8_with_zero_points(assert_bit_exact):
    """TFLM's int16 ADD takes zero points (its general path); MUL refuses them."""
    shape = (1, 3, 4, 2)
    assert_bit_exact(binary16_model("ADD", shape, shape, zero_points=(5, -9, 3)), records=records(shape, shape))
