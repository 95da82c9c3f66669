"""SLICE, SPLIT, SPLIT_V, UNPACK and PACK against TFLite Micro: ranks 1 to 5, every axis (negative
ones too), sizes of -1, quantizations that differ between input and output (TFLM copies stored
values), extreme values; and what TFLM refuses or leaves undefined."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder

Q_IN, Q_OUT = (0.05, -128), (0.7, 127)  # stored values are copied whatever the quantization


def slice_model(shape, begin, size, index_dtype=np.int32, out_shape=None) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=Q_IN[0], zero_point=Q_IN[1])
    bt = b.tensor([len(begin)], dtype=index_dtype, data=np.array(begin, dtype=index_dtype))
    st = b.tensor([len(size)], dtype=index_dtype, data=np.array(size, dtype=index_dtype))
    if out_shape is None:
        out_shape = [d - s0 if n == -1 else n for d, s0, n in zip(shape, begin, size)]
    y = b.tensor(list(out_shape), scale=Q_OUT[0], zero_point=Q_OUT[1])
    b.op("SLICE", [x, bt, st], [y])
    return b.build([x], [y])


SLICES = [
    ((10,), (3,), (4,)),
    ((4, 6), (1, 2), (2, -1)),
    ((2, 5, 6, 3), (0, 1, 2, 1), (1, 3, 4, 2)),
    ((2, 5, 6, 3), (1, 0, 0, 0), (-1, -1, -1, -1)),
    ((2, 3, 4, 2, 3), (1, 1, 0, 1, 2), (1, 2, 4, 1, 1)),   # TFLM's 5-D maximum
]


@pytest.mark.parametrize("shape, begin, size", SLICES, ids=[str(s[0]) + str(s[1]) for s in SLICES])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_slice_grid(assert_bit_exact, shape, begin, size, index_dtype):
    assert_bit_exact(slice_model(shape, begin, size, index_dtype), count=2)


def test_slice_refusals():
    with pytest.raises(InvalidModelError, match=r"SLICE: begin \[3\] size \[4\] leave input"):
        compile_bytes(slice_model((5,), (3,), (4,), out_shape=(4,)))
    with pytest.raises(UnsupportedModelError, match=r"SLICE: input .* rank 6; TFLite Micro slices up to 5-D"):
        compile_bytes(slice_model((1,) * 5 + (4,), (0,) * 6, (1,) * 5 + (2,)))


def split_model(shape, axis, count=None, sizes=None, axis_dtype=np.int32) -> bytes:
    """SPLIT into `count` equal parts, or SPLIT_V into `sizes` (which may hold one -1)."""
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=Q_IN[0], zero_point=Q_IN[1])
    a = b.tensor([1], dtype=axis_dtype, data=np.array([axis], dtype=axis_dtype))
    rank_axis = axis % len(shape)
    if sizes is None:
        parts = [shape[rank_axis] // count] * count
    else:
        known = sum(s for s in sizes if s != -1)
        parts = [shape[rank_axis] - known if s == -1 else s for s in sizes]
    outs = []
    for n in parts:
        out_shape = list(shape)
        out_shape[rank_axis] = n
        outs.append(b.tensor(out_shape, scale=Q_OUT[0], zero_point=Q_OUT[1]))
    if sizes is None:
        b.op("SPLIT", [a, x], outs, numSplits=count)
    else:
        s = b.tensor([len(sizes)], dtype=np.int32, data=np.array(sizes, np.int32))
        b.op("SPLIT_V", [x, s, a], outs, numSplits=len(sizes))
    return b.build([x], outs)


SPLITS = [((12,), 0, 3), ((4, 6), 1, 2), ((4, 6), -1, 3), ((2, 6, 4, 3), 1, 3), ((2, 6, 4, 3), -1, 3),
          ((6, 2, 3, 2, 2), 0, 2), ((1, 4, 1, 8), 3, 8)]


@pytest.mark.parametrize("shape, axis, count", SPLITS, ids=[f"{s}-ax{a}-{c}" for s, a, c in SPLITS])
def test_split_grid(assert_bit_exact, shape, axis, count):
    assert_bit_exact(split_model(shape, axis, count=count), count=2)


SPLIT_VS = [((10,), 0, (3, 7)), ((4, 9), 1, (2, -1, 4)), ((2, 6, 5, 3), 2, (1, 1, 3)), ((3, 5, 4), -3, (1, 2))]


@pytest.mark.parametrize("shape, axis, sizes", SPLIT_VS, ids=[f"{s}-ax{a}-{z}" for s, a, z in SPLIT_VS])
def test_split_v_grid(assert_bit_exact, shape, axis, sizes):
    assert_bit_exact(split_model(shape, axis, sizes=sizes), count=2)


def test_split_refusals():
    with pytest.raises(UnsupportedModelError, match=r"#0 SPLIT \(axis tensor is int64 .*; TFLite Micro reads one int32\)"):
        compile_bytes(split_model((4, 6), 1, count=2, axis_dtype=np.int64))


def unpack_model(shape, axis) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=Q_IN[0], zero_point=Q_IN[1])
    rank_axis = axis % len(shape)
    out_shape = [d for i, d in enumerate(shape) if i != rank_axis]
    outs = [b.tensor(out_shape, scale=Q_OUT[0], zero_point=Q_OUT[1]) for _ in range(shape[rank_axis])]
    b.op("UNPACK", [x], outs, num=len(outs), axis=axis)
    return b.build([x], outs)


def pack_model(shape, count, axis) -> bytes:
    b = ModelBuilder()
    xs = [b.tensor(list(shape), scale=Q_IN[0], zero_point=Q_IN[1]) for _ in range(count)]
    rank_axis = axis % (len(shape) + 1)
    y = b.tensor(list(shape[:rank_axis]) + [count] + list(shape[rank_axis:]), scale=Q_OUT[0], zero_point=Q_OUT[1])
    b.op("PACK", xs, [y], valuesCount=count, axis=axis)
    return b.build(xs, [y])


UNPACKS = [((3,), 0), ((3, 4), 0), ((3, 4), 1), ((2, 3, 4), -1), ((2, 3, 4, 2), 2), ((2, 1, 3, 2, 2), 3)]


@pytest.mark.parametrize("shape, axis", UNPACKS, ids=[f"{s}-ax{a}" for s, a in UNPACKS])
def test_unpack_grid(assert_bit_exact, shape, axis):
    assert_bit_exact(unpack_model(shape, axis), count=2)


PACKS = [((4,), 2, 0), ((4,), 3, 1), ((2, 3), 3, 1), ((2, 3), 2, -1), ((2, 3, 4), 2, 0), ((2, 1, 3, 2), 3, 2)]


@pytest.mark.parametrize("shape, count, axis", PACKS, ids=[f"{s}x{c}-ax{a}" for s, c, a in PACKS])
def test_pack_grid(assert_bit_exact, shape, count, axis):
    assert_bit_exact(pack_model(shape, count, axis), count=2)


def test_pack_and_unpack_copy_extremes(assert_bit_exact):
    values = [np.resize(np.array(v, np.int8), (2, 3)) for v in ([-128, 127, 0], [127, -128, -1])]
    assert_bit_exact(pack_model((2, 3), 2, 1), records=[values])
    assert_bit_exact(unpack_model((2, 3, 2), 1), records=[[np.resize(np.array([-128, 127], np.int8), (2, 3, 2))]])
