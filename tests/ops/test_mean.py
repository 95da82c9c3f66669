"""MEAN against TFLite Micro: axes {1, 2} (global average pooling) with and without keep_dims,
single axes, other combinations up to every axis, ranks 1 to 6, and equal or different input and
output quantization (TFLM requantizes in both cases, folding 1/count into the multiplier)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import UnsupportedModelError
from tinygen.ir.quant import FixedPointMultiplier
from tinygen.kernels.mean import mean_multiplier, merged_dims
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder, random_scale


def mean_model(seed: int, shape=(1, 4, 5, 3), axes=(1, 2), keep_dims=True, same_quant=False, output_quant=None,
               axes_dtype=np.int32, input_scale=None) -> bytes:
    rng = np.random.default_rng(seed)
    scale, zp = random_scale(rng), int(rng.integers(-128, 128))
    scale = scale if input_scale is None else input_scale
    if output_quant is not None:
        out_scale, out_zp = output_quant
    elif same_quant:
        out_scale, out_zp = scale, zp
    else:
        out_scale, out_zp = random_scale(rng), int(rng.integers(-128, 128))
    rank = len(shape)
    resolved = {a % rank for a in axes}
    if keep_dims:
        out_shape = [1 if d in resolved else n for d, n in enumerate(shape)]
    else:
        out_shape = [n for d, n in enumerate(shape) if d not in resolved]
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=scale, zero_point=zp)
    a = b.tensor([len(axes)], dtype=axes_dtype, data=np.array(axes, dtype=axes_dtype))
    y = b.tensor(out_shape, scale=out_scale, zero_point=out_zp)
    b.op("MEAN", [x, a], [y], keepDims=keep_dims)
    return b.build([x], [y])


GRID = [
    dict(),
    dict(keep_dims=False),
    dict(same_quant=True),
    dict(same_quant=True, keep_dims=False),
    dict(axes=(2, 1)),
    dict(axes=(-3, -2), keep_dims=False),
    dict(axes=(1,)),
    dict(axes=(3,), keep_dims=False, same_quant=True),
    dict(axes=(0,), shape=(3, 4, 2, 2)),
    dict(axes=(0, 3), shape=(2, 3, 2, 4)),
    dict(axes=(1, 3), keep_dims=False),
    dict(axes=(1, 2, 3)),
    dict(axes=(0, 1, 2, 3), keep_dims=False),                     # a scalar output
    dict(axes=(1, 1, 2)),                                          # TFLM ignores repeated axes
    dict(axes=(0,), keep_dims=False),                              # averages one element: a requantize
    dict(shape=(7,), axes=(0,), keep_dims=False),
    dict(shape=(3, 5), axes=(1,), keep_dims=False),
    dict(shape=(2, 3, 4), axes=(0, 2)),
    dict(shape=(2, 3, 1, 2, 3), axes=(0, 2, 4), keep_dims=False),
    dict(shape=(2, 2, 2, 2, 2, 2), axes=(1, 3, 5)),
    dict(shape=(1, 49, 10, 64), keep_dims=False),                 # 490 elements per output
    dict(shape=(1, 5, 5, 8), input_scale=0.1, output_quant=(1e8, 0)),  # shift -29: the 1/25 fold is clamped
    dict(shape=(1, 3, 3, 4), output_quant=(0.0001, 10)),           # outputs saturate at +-128
]


@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_mean_grid(assert_bit_exact, case):
    assert_bit_exact(mean_model(seed=len(str(case)), **case), count=3)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), seed=st.integers(0, 2**31), rank=st.integers(1, 5), keep_dims=st.booleans(),
       same_quant=st.booleans())
def test_mean_random(assert_bit_exact, data, seed, rank, keep_dims, same_quant):
    shape = tuple(data.draw(st.integers(1, 5)) for _ in range(rank))
    axes = tuple(data.draw(st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=rank, unique=True)))
    assert_bit_exact(mean_model(seed, shape, axes, keep_dims, same_quant), count=1)


def test_mean_multiplier_clamps_the_count_shift():
    # QuantizeMultiplier(2^-25) has shift -24: the 1/count fold may only shift 31 - 24 = 7 more.
    assert mean_multiplier(2.0**-25, 1.0, 1024) == FixedPointMultiplier((1 << 30 << 7) // 1024, -24 - 7)
    assert mean_multiplier(1.0, 1.0, 1) == FixedPointMultiplier(1 << 30, 1)
    assert mean_multiplier(1.0, 1.0, 3) == FixedPointMultiplier((1 << 30 << 1) // 3, 0)


def test_mean_merges_neighbouring_dims():
    assert merged_dims((1, 4, 5, 3), (1, 2)) == ([20, 3], [1, 0])
    assert merged_dims((2, 1, 3, 4), (0, 2)) == ([6, 4], [1, 0])
    assert merged_dims((1, 1), (0,)) == ([1], [1])


def test_mean_rejects_int64_axes_like_tflm():
    with pytest.raises(UnsupportedModelError, match="MEAN: axes .* int64; TFLite Micro needs int32"):
        compile_bytes(mean_model(0, axes_dtype=np.int64))
