"""AVERAGE_POOL_2D and MAX_POOL_2D against TFLite Micro: window sizes, strides, SAME edges (where
the average counts only in-image elements), fused activations, and the MLPerf Tiny pools."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError
from tinygen.ir.ops import Padding
from tinygen.kernels.common import compute_out_size
from tinygen.compiler import compile_bytes
from tinygen.reference.tflm import TflmReference
from tinygen.testing.model_builder import ModelBuilder, random_scale

POOLS = ["AVERAGE_POOL_2D", "MAX_POOL_2D"]


def pool_model(op: str, seed: int, in_hw=(8, 8), channels=3, filter_hw=(2, 2), stride=(2, 2), padding="VALID",
               activation="NONE", batch=1, zero_point=None, scale=None, output_quant=None) -> bytes:
    rng = np.random.default_rng(seed)
    out_h = compute_out_size(Padding[padding], in_hw[0], filter_hw[0], stride[0], 1)
    out_w = compute_out_size(Padding[padding], in_hw[1], filter_hw[1], stride[1], 1)
    scale = random_scale(rng, 0.01, 0.1) if scale is None else scale
    zp = int(rng.integers(-128, 128)) if zero_point is None else zero_point
    out_scale, out_zp = output_quant if output_quant is not None else (scale, zp)
    b = ModelBuilder()
    x = b.tensor([batch, *in_hw, channels], scale=scale, zero_point=zp)
    y = b.tensor([batch, out_h, out_w, channels], scale=out_scale, zero_point=out_zp)
    b.op(op, [x], [y], padding=padding, strideH=stride[0], strideW=stride[1], filterHeight=filter_hw[0],
         filterWidth=filter_hw[1], fusedActivationFunction=activation)
    return b.build([x], [y])


GRID = [
    dict(),
    dict(filter_hw=(3, 3), stride=(1, 1)),
    dict(filter_hw=(3, 3), stride=(2, 2), padding="SAME", in_hw=(7, 7)),    # clipped windows on all edges
    dict(filter_hw=(4, 3), stride=(3, 2), padding="SAME", in_hw=(10, 9)),
    dict(filter_hw=(5, 5), stride=(1, 1), padding="SAME", in_hw=(4, 4)),    # window larger than the image
    dict(filter_hw=(2, 2), stride=(1, 1), padding="SAME", in_hw=(5, 6)),    # extra padding only bottom/right
    dict(filter_hw=(1, 1), stride=(3, 3), padding="SAME", in_hw=(7, 7)),
    dict(filter_hw=(3, 1), stride=(1, 2), in_hw=(6, 9)),
    dict(activation="RELU", zero_point=20),
    dict(activation="RELU6", zero_point=-100),
    dict(activation="RELU_N1_TO_1", zero_point=0),
    dict(batch=2, channels=5),
    dict(in_hw=(25, 5), channels=64, filter_hw=(25, 5), stride=(25, 5)),  # KWS DS-CNN average pool
    dict(in_hw=(8, 8), channels=64, filter_hw=(8, 8), stride=(8, 8)),     # ResNet-8 (IC) average pool
    dict(in_hw=(3, 3), channels=256, filter_hw=(3, 3), stride=(3, 3)),    # VWW MobileNet average pool
]


@pytest.mark.parametrize("op", POOLS)
@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_pool_grid(assert_bit_exact, op, case):
    assert_bit_exact(pool_model(op, seed=len(str(case)), **case), count=3)


@pytest.mark.parametrize("op", POOLS)
def test_pool_accepts_scales_within_tflm_tolerance(assert_bit_exact, op):
    # PoolingPrepare allows |input scale - output scale| <= 1e-6; the stored values pass through.
    assert_bit_exact(pool_model(op, 0, zero_point=3, scale=0.05, output_quant=(0.05 + 5e-7, 3)), count=1)


@pytest.mark.parametrize("op", POOLS)
@pytest.mark.parametrize("output_quant", [(0.05 + 1e-5, 3), (0.05, 4)], ids=["scale", "zero_point"])
def test_pool_rejects_requantization_like_tflm(op, output_quant):
    model = pool_model(op, 0, zero_point=3, scale=0.05, output_quant=output_quant)
    with pytest.raises(InvalidModelError, match=f"{op}: output .* must have the quantization of input"):
        compile_bytes(model)
    with pytest.raises(RuntimeError):  # TFLM refuses the model in Prepare
        TflmReference(model).run([np.zeros((1, 8, 8, 3), np.int8)])


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    op=st.sampled_from(POOLS), seed=st.integers(0, 2**31),
    in_h=st.integers(1, 10), in_w=st.integers(1, 10), channels=st.integers(1, 4),
    f_h=st.integers(1, 5), f_w=st.integers(1, 5), s_h=st.integers(1, 4), s_w=st.integers(1, 4),
    padding=st.sampled_from(["SAME", "VALID"]), activation=st.sampled_from(["NONE", "RELU", "RELU6"]),
)
def test_pool_random(assert_bit_exact, op, seed, in_h, in_w, channels, f_h, f_w, s_h, s_w, padding, activation):
    if padding == "VALID" and (f_h > in_h or f_w > in_w):
        return  # no output pixel
    assert_bit_exact(pool_model(op, seed, (in_h, in_w), channels, (f_h, f_w), (s_h, s_w), padding, activation),
                     count=2)
