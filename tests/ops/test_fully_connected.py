"""FULLY_CONNECTED against TFLite Micro: per-tensor (with TFLM's float product of scales) and
per-channel weights, batches, bias or none, fused activations."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.testing.model_builder import (
    ModelBuilder, accumulator_output_scale, random_bias, random_int8, random_scale,
)


def fc_model(seed: int, batches=1, depth=32, units=10, activation="NONE", per_channel=False, bias=True,
             input_shape=None, keep_num_dims=False) -> bytes:
    rng = np.random.default_rng(seed)
    in_scale = random_scale(rng)
    w_scales = [random_scale(rng, 0.002, 0.02) for _ in range(units)] if per_channel else random_scale(rng, 0.002, 0.02)
    out_scale = accumulator_output_scale(rng, in_scale, float(np.max(w_scales)), depth)
    b = ModelBuilder()
    x = b.tensor(input_shape or [batches, depth], scale=in_scale, zero_point=int(rng.integers(-128, 128)))
    w = b.tensor([units, depth], scale=w_scales, zero_point=0, data=random_int8(rng, (units, depth)))
    inputs = [x, w]
    if bias:
        # The bias scale TFLM checks: input_scale * weight_scale (within 2% of the output scale).
        bias_scale = np.float32(in_scale) * np.atleast_1d(np.asarray(w_scales, dtype=np.float32))
        inputs.append(b.tensor([units], dtype=np.int32, scale=bias_scale, data=random_bias(rng, units)))
    out_shape = [*input_shape[:-1], units] if keep_num_dims and input_shape else [batches, units]
    y = b.tensor(out_shape, scale=out_scale, zero_point=int(rng.integers(-128, 128)))
    b.op("FULLY_CONNECTED", inputs, [y], fusedActivationFunction=activation, keepNumDims=keep_num_dims)
    return b.build([x], [y])


GRID = [
    dict(),
    dict(depth=640, units=128),
    dict(depth=1, units=1),
    dict(batches=3),
    dict(activation="RELU"),
    dict(activation="RELU6"),
    dict(per_channel=True),
    dict(per_channel=True, batches=2, activation="RELU"),
    dict(bias=False),
    dict(input_shape=[1, 2, 2, 8], depth=32),   # a 4-D input flattened by FC
    dict(input_shape=[2, 3, 16], depth=16, batches=6, keep_num_dims=True),
    # the optimised twin: units in pairs plus an odd one, depth in blocks of 4 plus a tail
    dict(depth=37, units=7, batches=2, per_channel=True),
    dict(depth=6, units=3),
]


@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_fully_connected_grid(assert_bit_exact, case):
    assert_bit_exact(fc_model(seed=len(str(case)), **case), count=3)
