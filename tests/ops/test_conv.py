"""CONV_2D against TFLite Micro over a grid of shapes, strides, paddings, dilations, groups,
activations and per-tensor / per-channel quantization."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.ir.ops import Padding
from tinygen.kernels.common import compute_out_size
from tinygen.testing.model_builder import (
    ModelBuilder, accumulator_output_scale, random_bias, random_int8, random_scale,
)


def conv_model(seed: int, in_hw=(9, 9), in_c=3, out_c=4, kernel=(3, 3), stride=(1, 1), dilation=(1, 1),
               padding="SAME", activation="NONE", per_channel=True, bias=True, groups=1, batch=1) -> bytes:
    rng = np.random.default_rng(seed)
    out_h = compute_out_size(Padding[padding], in_hw[0], kernel[0], stride[0], dilation[0])
    out_w = compute_out_size(Padding[padding], in_hw[1], kernel[1], stride[1], dilation[1])
    f_c = in_c // groups
    in_scale = random_scale(rng)
    w_scales = [random_scale(rng, 0.002, 0.02) for _ in range(out_c)] if per_channel else random_scale(rng, 0.002, 0.02)
    out_scale = accumulator_output_scale(rng, in_scale, float(np.max(w_scales)), kernel[0] * kernel[1] * f_c)
    b = ModelBuilder()
    x = b.tensor([batch, *in_hw, in_c], scale=in_scale, zero_point=int(rng.integers(-128, 128)))
    w = b.tensor([out_c, *kernel, f_c], scale=w_scales, zero_point=0, data=random_int8(rng, (out_c, *kernel, f_c)))
    inputs = [x, w]
    if bias:
        bias_scales = np.float32(in_scale) * np.atleast_1d(np.asarray(w_scales, dtype=np.float32))
        inputs.append(b.tensor([out_c], dtype=np.int32, scale=bias_scales, zero_point=0, data=random_bias(rng, out_c)))
    y = b.tensor([batch, out_h, out_w, out_c], scale=out_scale, zero_point=int(rng.integers(-128, 128)))
    b.op("CONV_2D", inputs, [y], padding=padding, strideH=stride[0], strideW=stride[1],
         dilationHFactor=dilation[0], dilationWFactor=dilation[1], fusedActivationFunction=activation)
    return b.build([x], [y])


GRID = [
    dict(),
    dict(kernel=(1, 1), in_c=8, out_c=16),
    dict(stride=(2, 2), padding="SAME"),
    dict(stride=(2, 2), padding="VALID", in_hw=(10, 7)),
    dict(stride=(1, 3), kernel=(3, 5), in_hw=(8, 12)),
    dict(dilation=(2, 2), padding="SAME", in_hw=(11, 11)),
    dict(dilation=(2, 3), padding="VALID", in_hw=(12, 13)),
    dict(activation="RELU"),
    dict(activation="RELU6"),
    dict(activation="RELU_N1_TO_1"),
    dict(per_channel=False),
    dict(bias=False),
    dict(groups=2, in_c=4, out_c=6),
    dict(batch=2),
    dict(kernel=(10, 4), in_hw=(49, 10), in_c=1, out_c=8, stride=(2, 2)),  # KWS's first layer
    dict(kernel=(1, 1), in_hw=(1, 1), in_c=64, out_c=10),
    dict(kernel=(5, 5), in_hw=(4, 4), padding="SAME"),  # filter larger than the image
    dict(out_c=1, in_c=5, per_channel=True),  # one output channel: requant length from the output
    # the optimised twin: channel pairs plus an odd one, channel runs not a multiple of 4, whole rows
    dict(in_c=7, out_c=5, kernel=(3, 3), padding="SAME", in_hw=(6, 9)),
    dict(in_c=16, out_c=9, kernel=(1, 1), per_channel=True),
    dict(in_c=3, out_c=16, kernel=(3, 3), stride=(2, 2), padding="SAME", in_hw=(12, 12)),  # an image stem
]


@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_conv_grid(assert_bit_exact, case):
    assert_bit_exact(conv_model(seed=len(str(case)), **case), count=2)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    seed=st.integers(0, 2**31),
    in_h=st.integers(1, 12), in_w=st.integers(1, 12), in_c=st.integers(1, 6), out_c=st.integers(1, 6),
    k_h=st.integers(1, 4), k_w=st.integers(1, 4), s_h=st.integers(1, 3), s_w=st.integers(1, 3),
    d_h=st.integers(1, 2), d_w=st.integers(1, 2), padding=st.sampled_from(["SAME", "VALID"]),
    activation=st.sampled_from(["NONE", "RELU", "RELU6"]), per_channel=st.booleans(),
)
def test_conv_random(assert_bit_exact, seed, in_h, in_w, in_c, out_c, k_h, k_w, s_h, s_w, d_h, d_w,
                     padding, activation, per_channel):
    eff_h, eff_w = (k_h - 1) * d_h + 1, (k_w - 1) * d_w + 1
    if padding == "VALID" and (eff_h > in_h or eff_w > in_w):
        return  # no output pixel: TFLite rejects such a model
    assert_bit_exact(conv_model(seed, (in_h, in_w), in_c, out_c, (k_h, k_w), (s_h, s_w), (d_h, d_w),
                                padding, activation, per_channel), count=1)
