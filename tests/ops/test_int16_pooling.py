"""AVERAGE_POOL_2D and MAX_POOL_2D on int16 (16x8 models) bit-exact with TFLite Micro, inputs at
both ends of int16 (the average's int32 sums and rounding), SAME and VALID, fused activations."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.testing.model_builder import ModelBuilder

from .test_int16_weighted import extreme_records


def pool16_model(kind: str, shape=(1, 6, 7, 3), filt=(2, 2), stride=2, padding="SAME", activation="NONE",
                 zero_point=0) -> bytes:
    n, h, w, c = shape
    b = ModelBuilder()
    x = b.tensor(list(shape), dtype=np.int16, scale=0.001, zero_point=zero_point)
    out_h, out_w = ((h + stride - 1) // stride, (w + stride - 1) // stride) if padding == "SAME" else \
        ((h - filt[0]) // stride + 1, (w - filt[1]) // stride + 1)
    y = b.tensor([n, out_h, out_w, c], dtype=np.int16, scale=0.001, zero_point=zero_point)
    b.op(kind, [x], [y], padding=padding, strideH=stride, strideW=stride, filterHeight=filt[0],
         filterWidth=filt[1], fusedActivationFunction=activation)
    return b.build([x], [y])


GRID = [
    dict(),
    dict(filt=(3, 3), stride=1, padding="VALID", activation="RELU"),
    dict(filt=(3, 2), stride=2, activation="RELU6", zero_point=0),
]


@pytest.mark.parametrize("kind", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_pool_16x8(assert_bit_exact, kind, case):
    assert_bit_exact(pool16_model(kind, **case), records=extreme_records((1, 6, 7, 3)))
