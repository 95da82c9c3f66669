"""LOGISTIC (int8) against TFLite Micro, on every int8 value, over input scales that exercise the
saturation radius from wide (tiny scales) to zero (scale >= 8, where TFLM outputs -128 even for
x == 0), and zero points at the extremes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError
from tinygen.kernels.nonlinear_params import logistic_scaling
from tinygen.compiler import compile_bytes
from tinygen.reference.tflm import TflmReference
from tinygen.testing.model_builder import ModelBuilder

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def logistic_model(in_scale=0.05, in_zp=0, out_scale=1 / 256, out_zp=-128, shape=(1, 256)) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_scale, zero_point=in_zp)
    y = b.tensor(list(shape), scale=out_scale, zero_point=out_zp)
    b.op("LOGISTIC", [x], [y])
    return b.build([x], [y])


GRID = [
    dict(),
    dict(in_scale=0.0625, in_zp=-128),   # the usual converter output: [-8, 8)
    dict(in_scale=0.1, in_zp=127),        # radius 120: saturation on one side only
    dict(in_scale=0.1, in_zp=-128),
    dict(in_scale=0.031, in_zp=13),
    dict(in_scale=0.25, in_zp=-7),        # radius 30
    dict(in_scale=1.0, in_zp=0),          # radius 7
    dict(in_scale=7.99, in_zp=0),         # radius 1: only x == 0 is computed
    dict(in_scale=8.0, in_zp=0),          # radius 0: TFLM gives -128 even at x == 0
    dict(in_scale=100.0, in_zp=50),       # left shift > 31, never used
    dict(in_scale=1e-3, in_zp=0),
    dict(in_scale=1e-6, in_zp=-128),      # every input within the radius
    dict(in_scale=4e-9, in_zp=0),         # left shift 0, near the smallest scale TFLM handles
    dict(in_scale=0.05, out_scale=0.1),   # TFLM never reads the output scale
]


def case_id(case: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in case.items()) or "default"


@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_logistic_grid(assert_bit_exact, case):
    assert_bit_exact(logistic_model(**case), records=[[ALL_INT8]])


def test_logistic_grid_reaches_each_radius_regime():
    radii = {logistic_scaling(c.get("in_scale", 0.05)).input_range_radius for c in GRID}
    assert 0 in radii and 1 in radii and max(radii) > 10**6


def test_logistic_on_a_4d_tensor(assert_bit_exact):
    assert_bit_exact(logistic_model(in_scale=0.08, in_zp=-9, shape=(2, 5, 7, 3)), count=2)


def test_logistic_output_zero_point_must_be_minus_128():
    model = logistic_model(out_zp=0)
    with pytest.raises(InvalidModelError, match="LOGISTIC.*-128"):
        compile_bytes(model)
    with pytest.raises(RuntimeError):  # TFLM refuses it at Prepare as well
        TflmReference(model).run([ALL_INT8])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log_scale=st.floats(np.log(1e-5), np.log(20.0)), in_zp=st.integers(-128, 127))
def test_logistic_random(assert_bit_exact, log_scale, in_zp):
    scale = float(np.float32(np.exp(log_scale)))
    assert_bit_exact(logistic_model(in_scale=scale, in_zp=in_zp), records=[[ALL_INT8]])
