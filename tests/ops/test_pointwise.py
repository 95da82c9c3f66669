"""LEAKY_RELU, ABS and TANH (int8) against TFLite Micro on every int8 value, with equal and different
input/output quantizations, zero points at both int8 ends, several alphas; negative alpha refused."""

from __future__ import annotations

import pytest

from ops.test_activations import ALL_INT8, activation_model
from tinygen.errors import UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder

QUANTS = [
    ((0.05, 0), None),
    ((0.05, -20), (0.03, -128)),
    ((0.05, 10), (0.2, -100)),
    ((0.1, 127), None),
    ((0.1, -128), (0.1, 127)),
    ((0.01, 5), (0.0013, 120)),
    ((0.09722702950239182, -13), (0.06151629611849785, -122)),
]


def leaky_relu_model(alpha: float, in_quant, out_quant) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(ALL_INT8.shape), scale=in_quant[0], zero_point=in_quant[1])
    out_scale, out_zp = out_quant or in_quant
    y = b.tensor(list(ALL_INT8.shape), scale=out_scale, zero_point=out_zp)
    b.op("LEAKY_RELU", [x], [y], alpha=alpha)
    return b.build([x], [y])


@pytest.mark.parametrize("alpha", [0.1, 0.01, 0.0, 3.5])
@pytest.mark.parametrize("in_quant, out_quant", QUANTS, ids=[str(q) for q in QUANTS])
def test_leaky_relu_every_value(assert_bit_exact, alpha, in_quant, out_quant):
    assert_bit_exact(leaky_relu_model(alpha, in_quant, out_quant), records=[[ALL_INT8]])


def test_leaky_relu_negative_alpha_is_refused():
    with pytest.raises(UnsupportedModelError, match=r"LEAKY_RELU: alpha -0.5 is negative"):
        compile_bytes(leaky_relu_model(-0.5, (0.05, 0), None))


@pytest.mark.parametrize("in_quant, out_quant", QUANTS, ids=[str(q) for q in QUANTS])
def test_abs_every_value(assert_bit_exact, in_quant, out_quant):
    assert_bit_exact(activation_model("ABS", in_quant=in_quant, out_quant=out_quant), records=[[ALL_INT8]])


@pytest.mark.parametrize("in_quant, out_quant", [((0.05, 0), (1 / 128, 0)), ((0.1, -128), (1 / 128, 0)),
                                                 ((0.01, 127), (1 / 128, 0)), ((0.2, 5), (0.3, 7)),
                                                 ((1.0 / 16, -3), (1 / 128, 0)), ((8.0, 0), (1 / 128, 0)),
                                                 ((0.0001, 0), (1 / 128, 0)), ((0.043, 64), (1 / 128, 0))],
                         ids=str)
def test_tanh_every_value(assert_bit_exact, in_quant, out_quant):
    """Input scales across the saturation radius, zero points at both ends, and an output
    quantization TFLM ignores."""
    assert_bit_exact(activation_model("TANH", in_quant=in_quant, out_quant=out_quant), records=[[ALL_INT8]])
