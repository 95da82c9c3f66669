"""RELU and RELU6 (int8) against TFLite Micro, with equal and different input/output quantization.

TFLM's RELU rescales from the input's to the output's quantization; its RELU6 clamps the input's
values in the input's quantization and ignores the output's. Both are checked on every int8 value.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.testing.model_builder import ModelBuilder

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def activation_model(op: str, shape=(1, 256), in_quant=(0.05, 0), out_quant=None) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_quant[0], zero_point=in_quant[1])
    out_scale, out_zp = out_quant or in_quant
    y = b.tensor(list(shape), scale=out_scale, zero_point=out_zp)
    b.op(op, [x], [y])
    return b.build([x], [y])


GRID = [
    dict(),
    dict(in_quant=(0.05, -20)),
    dict(in_quant=(0.05, -20), out_quant=(0.03, -128)),   # ratio > 1: the multiplier shifts left
    dict(in_quant=(0.05, 10), out_quant=(0.2, -100)),     # ratio < 1
    dict(in_quant=(0.1, 127)),                            # every value is below zero
    dict(in_quant=(0.1, -128)),
    dict(in_quant=(0.0234, 33), out_quant=(0.0234, -7)),  # same scale, other zero point
    dict(in_quant=(0.01, 5), out_quant=(0.0013, 120)),
    dict(in_quant=(0.01, -128), out_quant=(1e-6, 0)),     # huge ratio: everything saturates
    # Chosen so that dividing the scales in float (older TFLM) rather than double changes an output.
    dict(in_quant=(0.09722702950239182, -13), out_quant=(0.06151629611849785, -122)),
]


def case_id(case: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in case.items()).replace(" ", "") or "default"


@pytest.mark.parametrize("op", ["RELU", "RELU6"])
@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_activation_grid(assert_bit_exact, op, case):
    assert_bit_exact(activation_model(op, **case), records=[[ALL_INT8]])


@pytest.mark.parametrize("scale, zero_point", [
    (0.01, 0),                   # 6.0 is 600 steps: the upper bound clamps at 127
    (0.0236, 0),                 # 6 / scale = 254.2: clamps too
    (0.047244, -128),            # 6 / scale = 127.0003: the upper bound lands on 127 - 128 = -1
    (0.5, 10),                   # 6.0 is exactly 12 steps
    (12.0, 5),                   # 6 / scale = 0.5 exactly: rounded away from zero, to 1
    (2.4000000953674316, -3),    # float division gives 2.5 (double: 2.4999999): rounds to 3
    (7.0, -3),                   # 6.0 is less than one step
])
def test_relu6_upper_bound(assert_bit_exact, scale, zero_point):
    model = activation_model("RELU6", in_quant=(scale, zero_point), out_quant=(0.1, 50))
    assert_bit_exact(model, records=[[ALL_INT8]])


def test_activations_on_a_4d_tensor(assert_bit_exact):
    for op in ("RELU", "RELU6"):
        assert_bit_exact(activation_model(op, shape=(1, 5, 7, 3), in_quant=(0.07, -9), out_quant=(0.04, -128)))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(op=st.sampled_from(["RELU", "RELU6"]),
       in_scale=st.floats(0.001, 1.0), out_scale=st.floats(0.001, 1.0),
       in_zp=st.integers(-128, 127), out_zp=st.integers(-128, 127), same=st.booleans())
def test_activation_random(assert_bit_exact, op, in_scale, out_scale, in_zp, out_zp, same):
    out_quant = None if same else (out_scale, out_zp)
    assert_bit_exact(activation_model(op, in_quant=(in_scale, in_zp), out_quant=out_quant), records=[[ALL_INT8]])
