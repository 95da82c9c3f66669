"""GATHER (int8 values, int32 positions) against TFLite Micro: constant positions (embedding-style
lookups, repeated and reversed indices) and positions given at run time, every axis, batch_dims;
positions TFLM would read out of bounds with are refused (constant) or clamped (run time)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder


def gather_model(shape, positions, axis=0, batch_dims=0, constant=True, positions_shape=None,
                 positions_dtype=np.int32) -> bytes:
    positions = np.asarray(positions, positions_dtype)
    pshape = tuple(positions_shape or positions.shape)
    rank = len(shape)
    a = axis % rank
    bd = batch_dims % len(pshape) if batch_dims < 0 else batch_dims
    out_shape = list(shape[:a]) + list(pshape[bd:]) + list(shape[a + 1:])
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-128)
    p = b.tensor(list(pshape), dtype=positions_dtype, data=positions.reshape(pshape) if constant else None)
    y = b.tensor(out_shape, scale=0.05, zero_point=-128)
    b.op("GATHER", [x, p], [y], axis=axis, batchDims=batch_dims)
    return b.build([x] if constant else [x, p], [y])


CONSTANT = [((10, 4), [3, 3, 0, 9], 0, 0), ((10, 4), [[1, 2], [7, 0]], 0, 0), ((3, 5, 2), [4, 0, 2], 1, 0),
            ((3, 5, 2), [1], -1, 0), ((2, 5, 3), [[4, 0], [1, 1]], 1, 1), ((6,), [5, 4, 3, 2, 1, 0], 0, 0)]


@pytest.mark.parametrize("shape, positions, axis, batch_dims", CONSTANT,
                         ids=[f"{s}-{p}-ax{a}-b{b}" for s, p, a, b in CONSTANT])
def test_gather_constant_positions(assert_bit_exact, shape, positions, axis, batch_dims):
    assert_bit_exact(gather_model(shape, positions, axis, batch_dims), count=2)


def test_gather_positions_at_run_time(assert_bit_exact):
    model = gather_model((8, 3), [0, 0, 0], constant=False)
    rng = np.random.default_rng(0)
    records = [[rng.integers(-128, 128, (8, 3)).astype(np.int8), np.array(p, np.int32)]
               for p in ([0, 7, 3], [7, 7, 7], [2, 1, 0])]
    assert_bit_exact(model, records=records)


def test_gather_refusals():
    with pytest.raises(InvalidModelError, match=r"GATHER: positions 't1' leave \[0, 10\)"):
        compile_bytes(gather_model((10, 4), [3, 10]))
    with pytest.raises(UnsupportedModelError, match=r"#0 GATHER \(positions of type int64; TFLite Micro's gather takes int32\)"):
        compile_bytes(gather_model((10, 4), [3, 1], positions_dtype=np.int64))
