"""Issue 10's second set (ops-a) against TFLite Micro, bit for bit on every tensor: ELU, RSQRT,
ADD_N, ZEROS_LIKE, the six comparisons feeding SELECT_V2, CUMSUM, L2_NORMALIZATION, GATHER_ND and
SPACE_TO_BATCH_ND. Several quantizations share one model (one compile) where the op allows it; zero
points at both int8 ends and all-min/all-max inputs are in every grid."""

from __future__ import annotations

import numpy as np
import pytest

from ops.test_activations import ALL_INT8
from tinygen.errors import TinygenError
from tinygen.pipeline import compile_bytes
from tinygen.testing.model_builder import ModelBuilder

# (input (scale, zero point), output (scale, zero point)): equal, ratio > 1, < 1, zero points at the ends.
UNARY_QUANTS = [
    ((0.05, 0), (0.05, 0)),
    ((0.05, -20), (0.03, -128)),
    ((0.1, 127), (0.2, -100)),
    ((0.01, -128), (0.0013, 127)),
    ((0.09722702950239182, -13), (0.06151629611849785, -122)),
    ((1.5, 3), (0.7, 60)),
]


def unary_grid_model(op: str, quants=UNARY_QUANTS, shape=(1, 256)) -> bytes:
    """One `op` per quantization, each on its own input: every int8 value through each in one model."""
    b = ModelBuilder()
    inputs, outputs = [], []
    for (si, zi), (so, zo) in quants:
        x = b.tensor(list(shape), scale=si, zero_point=zi)
        y = b.tensor(list(shape), scale=so, zero_point=zo)
        b.op(op, [x], [y])
        inputs.append(x)
        outputs.append(y)
    return b.build(inputs, outputs)


def test_elu_every_value(assert_bit_exact):
    assert_bit_exact(unary_grid_model("ELU"), records=[[ALL_INT8] * len(UNARY_QUANTS)])


RSQRT_QUANTS = [((0.05, -128), (0.05, -128)), ((0.01, -128), (0.1, -100)), ((0.5, -100), (0.01, 0)),
                ((0.0004, -128), (0.5, -128)), ((2.0, -128), (0.002, -20))]


def test_rsqrt_every_value_at_or_above_the_zero_point(assert_bit_exact):
    """TFLM fails the invocation below the zero point: each input runs from its zero point up."""
    records = []
    for k in range(2):
        record = []
        for (_, zp), _ in RSQRT_QUANTS:
            values = np.arange(zp, 128, dtype=np.int32)
            values = np.resize(values if k == 0 else values[::-1], 256).astype(np.int8)
            record.append(values.reshape(1, 256))
        records.append(record)
    assert_bit_exact(unary_grid_model("RSQRT", RSQRT_QUANTS), records=records)
