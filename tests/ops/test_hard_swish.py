"""HARD_SWISH (int8) against TFLite Micro, on every int8 value, over a wide spread of input and
output scales and zero points: the relu-ish multiplier shifting left (large input scales, where
the int16 saturation matters) and right, the output shift up to the range where TFLM's int16
RoundingDivideByPOT turns 0 into +-1, and zero points at the extremes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError
from tinygen.kernels.nonlinear_params import hard_swish_scaling
from tinygen.compiler import compile_bytes
from tinygen.reference.tflm import TflmReference
from tinygen.testing.model_builder import ModelBuilder

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def hard_swish_model(in_scale=0.05, in_zp=0, out_scale=0.03, out_zp=-20, shape=(1, 256)) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_scale, zero_point=in_zp)
    y = b.tensor(list(shape), scale=out_scale, zero_point=out_zp)
    b.op("HARD_SWISH", [x], [y])
    return b.build([x], [y])


GRID = [
    dict(),
    dict(in_scale=0.0235, in_zp=-5, out_scale=0.0198, out_zp=-110),  # MobileNetV3-like
    dict(in_scale=0.05, in_zp=127, out_scale=0.05, out_zp=-128),
    dict(in_scale=0.05, in_zp=-128, out_scale=0.05, out_zp=127),     # the output clamps at 127
    dict(in_scale=0.5, in_zp=0, out_scale=0.004, out_zp=-128),       # ratio 125: output shift 0
    dict(in_scale=1.0, in_zp=3, out_scale=1.0 / 127.9, out_zp=0),    # ratio just below 128
    # Q31 output multiplier 2^31 - 2^15: DownScaleInt32ToInt16Multiplier saturates at 32767
    dict(in_scale=1 - 2**-16, in_zp=-100, out_scale=1 / 64, out_zp=-128),
    dict(in_scale=5.0, in_zp=0, out_scale=0.05, out_zp=3),           # relu-ish left shift 9
    dict(in_scale=1000.0, in_zp=-3, out_scale=10.0, out_zp=3),       # relu-ish left shift 17
    dict(in_scale=0.001, in_zp=0, out_scale=0.01, out_zp=3),
    dict(in_scale=0.001, in_zp=0, out_scale=2.0, out_zp=3),          # output shift 17: int16 quirk
    dict(in_scale=0.001, in_zp=-60, out_scale=0.3, out_zp=-128),     # output shift 15: last normal one
    dict(in_scale=1e-8, in_zp=0, out_scale=1e-9, out_zp=3),          # relu-ish shift -20: quirk there too
    dict(in_scale=0.01, in_zp=50, out_scale=100.0, out_zp=0),        # output shift 20
    dict(in_scale=1e-6, in_zp=50, out_scale=100.0, out_zp=-7),       # output multiplier flushed to 0
]


def case_id(case: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in case.items()) or "default"


@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_hard_swish_grid(assert_bit_exact, case):
    assert_bit_exact(hard_swish_model(**case), records=[[ALL_INT8]])


def test_hard_swish_grid_reaches_each_shift_regime():
    scalings = [hard_swish_scaling(c.get("in_scale", 0.05), c.get("out_scale", 0.03)) for c in GRID]
    assert max(s.reluish_exponent for s in scalings) > 15
    assert min(s.reluish_exponent for s in scalings) < -15
    assert any(s.output_exponent == 0 and s.output_multiplier > 0 for s in scalings)
    assert any(-31 <= s.output_exponent <= -16 for s in scalings)
    assert any(s.output_multiplier == 0 for s in scalings)
    assert any(s.output_multiplier == 32767 for s in scalings)


def test_hard_swish_on_a_4d_tensor(assert_bit_exact):
    assert_bit_exact(hard_swish_model(shape=(2, 5, 7, 3)), count=2)


@pytest.mark.parametrize("out_scale", [1.0 / 128, 1.0 / 200])
def test_hard_swish_refuses_input_scale_128x_the_output(out_scale):
    model = hard_swish_model(in_scale=1.0, out_scale=out_scale)
    with pytest.raises(InvalidModelError, match="HARD_SWISH"):
        compile_bytes(model)
    with pytest.raises(RuntimeError):  # TFLM refuses it at Prepare as well
        TflmReference(model).run([ALL_INT8])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(log_in_scale=st.floats(np.log(1e-6), np.log(100.0)),
       log10_ratio=st.floats(np.log10(1 / 127.0), 4.0),
       in_zp=st.integers(-128, 127), out_zp=st.integers(-128, 127))
def test_hard_swish_random(assert_bit_exact, log_in_scale, log10_ratio, in_zp, out_zp):
    in_scale = float(np.float32(np.exp(log_in_scale)))
    out_scale = float(np.float32(in_scale * 10.0 ** log10_ratio))
    assert_bit_exact(hard_swish_model(in_scale, in_zp, out_scale, out_zp), records=[[ALL_INT8]])
