"""STRIDED_SLICE against TFLite Micro: ranks 1 to 4, positive and negative strides and indices,
begin/end/shrink masks, indices beyond the ends (clamped), random cases; and TFLM's refusals."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.kernels.strided_slice import _prepare_output_shape
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder


def strided_slice_model(shape, begin, end, strides, begin_mask=0, end_mask=0, shrink_axis_mask=0,
                        out_shape=None, **extra) -> bytes:
    if out_shape is None:
        attrs = ops.StridedSlice(tuple(begin), tuple(end), tuple(strides), begin_mask, end_mask, shrink_axis_mask)
        out_shape = _prepare_output_shape(attrs, tuple(shape))
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-128)
    tensors = [b.tensor([len(v)], dtype=np.int32, data=np.array(v, np.int32)) for v in (begin, end, strides)]
    y = b.tensor(list(out_shape), scale=0.3, zero_point=127)
    b.op("STRIDED_SLICE", [x, *tensors], [y], beginMask=begin_mask, endMask=end_mask,
         shrinkAxisMask=shrink_axis_mask, **extra)
    return b.build([x], [y])


GRID = [
    dict(shape=(10,), begin=(2,), end=(8,), strides=(2,)),
    dict(shape=(10,), begin=(-1,), end=(-11,), strides=(-1,)),           # reversal with negative indices
    dict(shape=(10,), begin=(0,), end=(0,), strides=(3,), begin_mask=1, end_mask=1),
    dict(shape=(4, 6), begin=(1, -5), end=(100, 6), strides=(1, 2)),      # beyond the end: clamped
    dict(shape=(4, 6), begin=(2, 0), end=(3, 6), strides=(1, 1), shrink_axis_mask=1),
    dict(shape=(4, 6), begin=(-1, 5), end=(0, 0), strides=(1, -2), shrink_axis_mask=1, end_mask=2),
    dict(shape=(2, 5, 6), begin=(0, 1, 0), end=(2, 5, 6), strides=(1, 3, 1)),
    dict(shape=(1, 8, 8, 3), begin=(0, 0, 0, 0), end=(1, 8, 8, 3), strides=(1, 2, 2, 1)),   # space-to-depth style
    dict(shape=(1, 8, 8, 3), begin=(0, 1, 1, 0), end=(1, 8, 8, 3), strides=(1, 2, 2, 1)),
    dict(shape=(2, 4, 5, 6), begin=(1, 3, 4, 5), end=(0, 0, 0, 0), strides=(-1, -1, -2, -3), end_mask=15),
    dict(shape=(2, 4, 5, 6), begin=(0, 1, 0, 2), end=(0, 3, 0, 4), strides=(1, 1, 1, 1), begin_mask=5, end_mask=5,
         shrink_axis_mask=8),
    dict(shape=(3, 4), begin=(0, 0), end=(3, 4), strides=(1, 1)),         # the whole tensor
]


@pytest.mark.parametrize("case", GRID, ids=[str(i) for i in range(len(GRID))])
def test_strided_slice_grid(assert_bit_exact, case):
    assert_bit_exact(strided_slice_model(**case), count=2)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), rank=st.integers(1, 4))
def test_strided_slice_random(assert_bit_exact, data, rank):
    shape = tuple(data.draw(st.integers(1, 5)) for _ in range(rank))
    begin = tuple(data.draw(st.integers(-7, 7)) for _ in range(rank))
    end = tuple(data.draw(st.integers(-7, 7)) for _ in range(rank))
    strides = tuple(data.draw(st.sampled_from([-3, -2, -1, 1, 2, 3])) for _ in range(rank))
    masks = [data.draw(st.integers(0, (1 << rank) - 1)) for _ in range(3)]
    out_shape = _prepare_output_shape(ops.StridedSlice(begin, end, strides, *masks), shape)
    # An empty slice computes nothing (both refuse it). Random bounds give one on some axis in most
    # draws, which Hypothesis's health check rejects as too much filtering: those axes take their
    # whole range instead (begin and end masked, not shrunk), so the draw still tests something.
    empty = sum(1 << axis for axis, size in enumerate(out_shape) if size == 0)
    masks = [masks[0] | empty, masks[1] | empty, masks[2] & ~empty]
    out_shape = _prepare_output_shape(ops.StridedSlice(begin, end, strides, *masks), shape)
    assume(0 not in out_shape)
    model = strided_slice_model(shape, begin, end, strides, *masks)
    try:
        compile_bytes(model)
    except UnsupportedModelError as exc:
        assert "leaving the rest undefined" in str(exc)
        assume(False)
    assert_bit_exact(model, count=1)


def test_strided_slice_refusals():
    with pytest.raises(UnsupportedModelError, match=r"STRIDED_SLICE: input .* rank 5; TFLite Micro slices up to 4-D"):
        compile_bytes(strided_slice_model((1, 2, 2, 2, 2), (0,) * 5, (1, 2, 2, 2, 2), (1,) * 5))
    with pytest.raises(InvalidModelError, match=r"STRIDED_SLICE: strides \[1, 0\]; TFLite Micro requires non-zero"):
        compile_bytes(strided_slice_model((4, 6), (0, 0), (4, 6), (1, 0), out_shape=(4, 6)))
    # new_axis_mask: TFLM's kernel forces it to 0, so the converter's shape with the new axis fails its check.
    with pytest.raises(InvalidModelError, match=r"STRIDED_SLICE: output 't4' has shape \[1, 4, 6\], but TFLite Micro's slice gives \[4, 6\]"):
        compile_bytes(strided_slice_model((4, 6), (0, 0), (4, 6), (1, 1), out_shape=(1, 4, 6), newAxisMask=1))


def test_shrunk_axis_with_negative_stride_is_refused():
    """TFLM's loop writes nothing there (index 0 > stop 1 is false): its output is undefined."""
    with pytest.raises(UnsupportedModelError, match=r"writes 0 of the 1 elements .* leaving the rest undefined"):
        compile_bytes(strided_slice_model((1, 1), (0, 0), (0, 0), (-3, -3), shrink_axis_mask=3))
