"""DEPTHWISE_CONV_2D against TFLite Micro over a grid of shapes, depth multipliers, strides,
paddings, dilations, activations and per-channel / per-tensor quantization."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir.ops import Padding
from tinygen.kernels.common import compute_out_size
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import (
    ModelBuilder, accumulator_output_scale, random_bias, random_int8, random_scale,
)


def dw_model(seed: int, in_hw=(9, 9), in_c=3, multiplier=1, kernel=(3, 3), stride=(1, 1), dilation=(1, 1),
             padding="SAME", activation="NONE", per_channel=True, bias=True, batch=1, option_multiplier=None,
             filter_axis=3, zero_points: tuple[int, int] | None = None, dead_channel: int | None = None) -> bytes:
    """zero_points: the input's and the output's (else random); dead_channel: that channel's weight
    scale 1e-30, so its multiplier is 0 (QuantizeMultiplier's shift below -31)."""
    rng = np.random.default_rng(seed)
    out_h = compute_out_size(Padding[padding], in_hw[0], kernel[0], stride[0], dilation[0])
    out_w = compute_out_size(Padding[padding], in_hw[1], kernel[1], stride[1], dilation[1])
    out_c = in_c * multiplier
    in_scale = random_scale(rng)
    w_scales = [random_scale(rng, 0.002, 0.02) for _ in range(out_c)] if per_channel else random_scale(rng, 0.002, 0.02)
    out_scale = accumulator_output_scale(rng, in_scale, float(np.max(w_scales)), kernel[0] * kernel[1])
    if dead_channel is not None:
        w_scales[dead_channel] = 1e-30
    b = ModelBuilder()
    in_zp, out_zp = zero_points if zero_points is not None else (None, None)
    x = b.tensor([batch, *in_hw, in_c], scale=in_scale,
                 zero_point=int(rng.integers(-128, 128)) if in_zp is None else in_zp)
    w = b.tensor([1, *kernel, out_c], scale=w_scales, zero_point=0, quant_axis=filter_axis,
                 data=random_int8(rng, (1, *kernel, out_c)))
    inputs = [x, w]
    if bias:
        bias_scales = np.float32(in_scale) * np.atleast_1d(np.asarray(w_scales, dtype=np.float32))
        inputs.append(b.tensor([out_c], dtype=np.int32, scale=bias_scales, zero_point=0,
                               data=random_bias(rng, out_c, magnitude=3000)))
    y = b.tensor([batch, out_h, out_w, out_c], scale=out_scale,
                 zero_point=int(rng.integers(-128, 128)) if out_zp is None else out_zp)
    b.op("DEPTHWISE_CONV_2D", inputs, [y], padding=padding, strideH=stride[0], strideW=stride[1],
         dilationHFactor=dilation[0], dilationWFactor=dilation[1],
         depthMultiplier=multiplier if option_multiplier is None else option_multiplier,
         fusedActivationFunction=activation)
    return b.build([x], [y])


GRID = [
    dict(),
    dict(stride=(2, 2)),
    dict(stride=(2, 2), padding="VALID", in_hw=(10, 7)),
    dict(stride=(1, 3), kernel=(3, 5), in_hw=(8, 12)),
    dict(multiplier=2),
    dict(multiplier=3, in_c=2, stride=(2, 1)),
    dict(multiplier=4, in_c=1, padding="VALID"),
    dict(dilation=(2, 2), in_hw=(11, 11)),
    dict(dilation=(2, 3), padding="VALID", in_hw=(12, 13)),
    dict(activation="RELU"),
    dict(activation="RELU6"),
    dict(activation="RELU_N1_TO_1"),
    dict(per_channel=False),
    dict(per_channel=False, multiplier=2),
    dict(bias=False),
    dict(batch=2, multiplier=2),
    dict(kernel=(1, 1), in_c=8),
    dict(kernel=(5, 5), in_hw=(4, 4)),                             # filter larger than the image
    dict(in_hw=(25, 5), in_c=64, activation="RELU"),              # KWS DS-CNN: 3x3, stride 1, SAME
    dict(in_hw=(24, 24), in_c=16, stride=(2, 2), activation="RELU6"),  # VWW MobileNet: 3x3, stride 2
    # the optimised twin: four channels at a time plus a tail, dilated taps, windows in the padding
    dict(in_c=11, dilation=(2, 2), in_hw=(7, 8), per_channel=False),
    dict(in_c=8, kernel=(7, 7), in_hw=(3, 3), stride=(2, 2)),      # windows reaching far into the padding
    dict(in_c=4, batch=2, kernel=(1, 3), stride=(1, 2), in_hw=(5, 9)),
]


@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_depthwise_grid(assert_bit_exact, case):
    assert_bit_exact(dw_model(seed=len(str(case)), **case), count=2)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**31),
    in_h=st.integers(1, 10), in_w=st.integers(1, 10), in_c=st.integers(1, 5), multiplier=st.integers(1, 3),
    k_h=st.integers(1, 4), k_w=st.integers(1, 4), s_h=st.integers(1, 3), s_w=st.integers(1, 3),
    d_h=st.integers(1, 2), d_w=st.integers(1, 2), padding=st.sampled_from(["SAME", "VALID"]),
    activation=st.sampled_from(["NONE", "RELU", "RELU6"]), per_channel=st.booleans(), bias=st.booleans(),
)
def test_depthwise_random(assert_bit_exact, seed, in_h, in_w, in_c, multiplier, k_h, k_w, s_h, s_w, d_h, d_w,
                          padding, activation, per_channel, bias):
    eff_h, eff_w = (k_h - 1) * d_h + 1, (k_w - 1) * d_w + 1
    if padding == "VALID" and (eff_h > in_h or eff_w > in_w):
        return  # no output pixel: TFLite rejects such a model
    assert_bit_exact(dw_model(seed, (in_h, in_w), in_c, multiplier, (k_h, k_w), (s_h, s_w), (d_h, d_w),
                              padding, activation, per_channel, bias), count=1)


def test_depthwise_rejects_multiplier_that_does_not_fit_the_filter():
    # TFLM would loop over 2 x 2 output channels of a 2-channel filter and write past the output.
    with pytest.raises(InvalidModelError, match="DEPTHWISE_CONV_2D.*depth multiplier 2"):
        compile_bytes(dw_model(0, in_c=2, multiplier=1, option_multiplier=2))


def test_depthwise_rejects_filter_quantized_along_another_axis():
    # Three scales along the filter's height (3) instead of its channels (also 3).
    with pytest.raises(UnsupportedModelError, match="DEPTHWISE_CONV_2D: filter quantized along axis 1"):
        compile_bytes(dw_model(0, in_c=3, multiplier=1, filter_axis=1, kernel=(3, 3)))
