"""SOFTMAX on int16 (TFLM's SoftmaxInt16 with its exp and 1/(1+x) tables) bit-exact with TFLite
Micro: several input scales and betas, rows of one to many values, inputs at both ends of int16."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.testing.model_builder import ModelBuilder


def softmax16_model(shape, in_scale: float, beta: float = 1.0) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), dtype=np.int16, scale=in_scale)
    y = b.tensor(list(shape), dtype=np.int16, scale=1.0 / 32768)
    b.op("SOFTMAX", [x], [y], beta=beta)
    return b.build([x], [y])


def records(shape, count: int = 3):
    rng = np.random.default_rng(2)
    out = [[rng.integers(-32768, 32767, size=shape, endpoint=True).astype(np.int16)] for _ in range(count)]
    out.append([np.full(shape, 32767, np.int16)])
    extreme = np.full(shape, -32768, np.int16)
    extreme[..., 0] = 32767
    out.append([extreme])
    return out


@pytest.mark.parametrize("shape,in_scale,beta", [
    ((1, 10), 0.0005, 1.0),
    ((2, 3, 7), 0.0001, 1.0),
    ((4, 1), 0.002, 0.5),
    ((1, 300), 1.0 / 4096, 1.0),
])
def test_softmax_16x8(assert_bit_exact, shape, in_scale, beta):
    assert_bit_exact(softmax16_model(shape, in_scale, beta), records=records(shape))


def test_softmax_16x8_every_difference(assert_bit_exact):
    """Each row holds 32767 and one other value: every input difference meets the exp table."""
    values = np.arange(-32768, 32767, dtype=np.int32)
    rows = np.stack([np.full(values.shape, 32767), values], axis=1).astype(np.int16)[::7]
    assert_bit_exact(softmax16_model(rows.shape, 0.0003), records=[[rows]])
