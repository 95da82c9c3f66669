"""LOG_SOFTMAX against TFLite Micro: depths from 1 to beyond the 2^12 terms the accumulator is
sized for, input scales from tiny to huge (diff_min and the reverse scaling at both ends), rows
of equal values, extremes; and TFLM's required output quantization."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder


def log_softmax_model(shape=(2, 10), in_scale=0.1, in_zp=0, out_scale=16.0 / 256, out_zp=127) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_scale, zero_point=in_zp)
    y = b.tensor(list(shape), scale=out_scale, zero_point=out_zp)
    b.op("LOG_SOFTMAX", [x], [y])
    return b.build([x], [y])


GRID = [
    ((2, 10), 0.1, 0),
    ((1, 1), 0.1, 5),            # a single class: log 1 = 0
    ((3, 4, 7), 0.05, -128),
    ((1, 1000), 0.02, 127),
    ((1, 5000), 0.05, 0),         # more terms than the Q12 accumulator is sized for
    ((4, 33), 1.0 / 256, -3),     # tiny scale: differences barely matter
    ((4, 33), 0.5, 9),
    ((2, 17), 4.0, 0),            # huge scale: everything but the maximum is -inf
    ((2, 17), 1e-4, 0),
    ((2, 2, 2, 2, 3), 0.08, 1),
]


@pytest.mark.parametrize("shape, in_scale, in_zp", GRID, ids=[f"{s}-{sc}" for s, sc, _ in GRID])
def test_log_softmax_grid(assert_bit_exact, shape, in_scale, in_zp):
    assert_bit_exact(log_softmax_model(shape, in_scale, in_zp), count=2)


@pytest.mark.parametrize("in_scale", [0.01, 0.1, 1.0])
def test_log_softmax_extreme_rows(assert_bit_exact, in_scale):
    rows = np.array([
        [127] * 8,                            # all equal
        [-128] * 8,
        [127, -128, -128, -128, -128, -128, -128, -128],
        [-128, 127, -128, 127, -128, 127, -128, 127],
        [0, 1, -1, 2, -2, 3, -3, 4],
        [127, 126, 125, 124, 123, 122, 121, 120],
    ], dtype=np.int8)
    assert_bit_exact(log_softmax_model((6, 8), in_scale, 0), records=[[rows]])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), depth=st.integers(1, 64), rows=st.integers(1, 4),
       log_scale=st.floats(-9.0, 2.0))
def test_log_softmax_random(assert_bit_exact, seed, depth, rows, log_scale):
    scale = float(np.float32(np.exp(log_scale)))
    assert_bit_exact(log_softmax_model((rows, depth), scale, 0), count=1, seed=seed)


@pytest.mark.parametrize("out_scale, out_zp", [(1.0 / 256, 127), (16.0 / 256, 0), (16.0 / 256, -128)])
def test_log_softmax_output_quantization_is_tflms(out_scale, out_zp):
    with pytest.raises(InvalidModelError, match=r"LOG_SOFTMAX: output 't1' has scale .*; TFLite Micro requires scale 16/256 and zero point 127"):
        compile_bytes(log_softmax_model(out_scale=out_scale, out_zp=out_zp))
