"""MUL (int8) against TFLite Micro: same shapes, broadcasting up to 6-D, fused activations, one
tensor given twice, constant inputs, and scales whose product rescales up as well as down."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError
from tinygen.compiler import compile_bytes

from .test_add import ALL_PAIRS, binary_model, broadcastable_shapes, case_id

GRID = [
    dict(),
    dict(activation="RELU"),
    dict(activation="RELU6", scales=(0.05, 0.05, 0.02)),
    dict(activation="RELU_N1_TO_1", scales=(0.01, 0.05, 0.005)),
    dict(shape2=(1, 1, 1, 16)),                              # per-channel scaling, as in squeeze-excite
    dict(shape2=(16,)),
    dict(shape1=(16,), shape2=(1, 8, 8, 16)),
    dict(shape1=(1, 8, 8, 16), shape2=()),
    dict(shape1=(2, 1, 5, 3), shape2=(1, 4, 1, 3)),
    dict(shape1=(1, 16), shape2=(16,)),
    dict(shape1=(3, 1, 2, 1, 4), shape2=(1, 5, 1, 3, 1)),    # rank 5
    dict(shape1=(2, 1, 3, 1, 4, 2), shape2=(1, 3, 3, 2, 1, 1)),  # rank 6
    dict(same_tensor=True),                                  # x * x
    dict(constant=2, shape2=(1, 1, 1, 16)),
    dict(constant=1, shape1=(8, 16)),
    dict(scales=(0.05, 0.05, 0.0025), zero_points=(0, 0, 0)),
    dict(scales=(0.5, 0.9, 0.001)),                          # ratio > 1: the multiplier shifts left
    dict(scales=(0.001, 0.002, 10.0)),                       # tiny ratio
    dict(zero_points=(-128, 127, -128)),
]


@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_mul_grid(assert_bit_exact, case):
    assert_bit_exact(binary_model("MUL", seed=len(str(case)) + 7, **case), count=2)


PAIR_QUANTS = [
    ((0.05, 0.05, 0.25), (0, 0, 0)),
    ((0.01, 0.07, 0.06), (-128, 13, 90)),
    ((0.2, 0.003, 0.05), (127, -5, -20)),
    # Chosen so that multiplying the scales in float32 rather than double changes outputs.
    ((0.04686373472213745, 0.07373391091823578, 0.4419599771499634), (80, 15, 111)),
]


@pytest.mark.parametrize("scales, zero_points", PAIR_QUANTS, ids=str)
def test_mul_every_pair_of_values(assert_bit_exact, scales, zero_points):
    model = binary_model("MUL", 0, shape1=(256, 1), shape2=(1, 256), scales=scales, zero_points=zero_points)
    assert_bit_exact(model, records=[ALL_PAIRS])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), shapes=broadcastable_shapes(),
       activation=st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]),
       swap=st.booleans(), constant=st.sampled_from([None, None, 2]))
def test_mul_random(assert_bit_exact, seed, shapes, activation, swap, constant):
    shape1, shape2 = shapes if not swap else shapes[::-1]
    assert_bit_exact(binary_model("MUL", seed, shape1=shape1, shape2=shape2, activation=activation,
                                  constant=constant), count=2, seed=seed % 1000)


def test_mul_rejects_shapes_that_do_not_broadcast():
    with pytest.raises(InvalidModelError, match=r"MUL.*cannot be broadcast"):
        compile_bytes(binary_model("MUL", 0, shape1=(2, 3), shape2=(3, 3), output_shape=(2, 3)))
