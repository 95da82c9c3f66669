"""LOGISTIC and TANH on int16 (TFLM's table-interpolating int16 kernels) bit-exact with TFLite Micro
over every int16 input value, for power-of-two input scales (no multiplier) and others."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.testing.model_builder import ModelBuilder

EVERY_INT16 = [[np.arange(-32768, 32768, dtype=np.int16).reshape(256, 256)]]


def unary16_model(kind: str, in_scale: float) -> bytes:
    b = ModelBuilder()
    x = b.tensor([256, 256], dtype=np.int16, scale=in_scale)
    y = b.tensor([256, 256], dtype=np.int16, scale=2.0 ** -15)
    b.op(kind, [x], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("kind", ["LOGISTIC", "TANH"])
@pytest.mark.parametrize("in_scale", [2.0 ** -12, 2.0 ** -11, 0.000371,
                                      pytest.param(2.0 ** -9, marks=pytest.mark.long),
                                      pytest.param(0.0123, marks=pytest.mark.long)])
def test_nonlinear_16_every_value(assert_bit_exact, kind, in_scale):
    assert_bit_exact(unary16_model(kind, in_scale), records=EVERY_INT16)
