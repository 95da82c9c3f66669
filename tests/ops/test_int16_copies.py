"""TRANSPOSE and STRIDED_SLICE on int16 (issue 10, ops-c: tg_strided_copy_s16) bit-exact with TFLite
Micro, extreme values included (-32768 and 32767 in every position of one record)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import kernel_functions

from tinygen.testing.model_builder import ModelBuilder

Q16 = dict(dtype=np.int16, scale=0.0007, zero_point=0)


def _ints(b: ModelBuilder, values) -> int:
    return b.tensor([len(values)], dtype=np.int32, data=np.array(values, np.int32))


def _records(shape, seed: int = 3):
    rng = np.random.default_rng(seed)
    rand = rng.integers(-32768, 32767, size=shape, endpoint=True).astype(np.int16)
    extreme = np.where(np.indices(shape).sum(axis=0) % 2 == 0, -32768, 32767).astype(np.int16)
    return [[rand], [extreme]]


def transpose16_model(shape, perm) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), **Q16)
    y = b.tensor([shape[p] for p in perm], **Q16)
    b.op("TRANSPOSE", [x, _ints(b, perm)], [y])
    return b.build([x], [y])


TRANSPOSES = [((1, 4, 6, 3), (0, 3, 1, 2)), ((5, 7), (1, 0)), ((2, 3, 4, 2, 3), (4, 2, 0, 3, 1))]


@pytest.mark.parametrize("shape, perm", TRANSPOSES, ids=[f"{s}-{p}" for s, p in TRANSPOSES])
def test_transpose_int16(assert_bit_exact, shape, perm):
    assert_bit_exact(transpose16_model(shape, perm), records=_records(shape))


def strided_slice16_model(shape, begin, end, strides, out_shape, **options) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), **Q16)
    y = b.tensor(list(out_shape), **Q16)
    b.op("STRIDED_SLICE", [x, _ints(b, begin), _ints(b, end), _ints(b, strides)], [y], **options)
    return b.build([x], [y])


SLICES = [
    ((1, 8, 6, 4), (0, 1, 0, 0), (1, 8, 6, 4), (1, 2, 3, 1), (1, 4, 2, 4), {}),
    ((6, 5), (5, 4), (0, 0), (-1, -2), (5, 2), {}),
    ((3, 4, 5), (1, 0, 0), (2, 4, 5), (1, 1, 2), (4, 3), dict(shrinkAxisMask=1)),
]


@pytest.mark.parametrize("shape, begin, end, strides, out_shape, options", SLICES, ids=range(len(SLICES)))
def test_strided_slice_int16(assert_bit_exact, shape, begin, end, strides, out_shape, options):
    model = strided_slice16_model(shape, begin, end, strides, out_shape, **options)
    result = assert_bit_exact(model, records=_records(shape))
    assert "tg_strided_copy_s16" in kernel_functions(result.compiled.lowered)


def concat16_model(shapes, axis: int) -> bytes:
    b = ModelBuilder()
    xs = [b.tensor(list(s), **Q16) for s in shapes]
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    y = b.tensor(out, **Q16)
    b.op("CONCATENATION", xs, [y], axis=axis, fusedActivationFunction="NONE")
    return b.build(xs, [y])


CONCATS = [([(1, 4, 4, 3), (1, 4, 4, 5)], 3), ([(2, 3), (1, 3), (4, 3)], 0), ([(2, 1, 3), (2, 4, 3)], 1)]


@pytest.mark.parametrize("shapes, axis", CONCATS, ids=range(len(CONCATS)))
def test_concatenation_int16(assert_bit_exact, shapes, axis):
    records = [[r[0] for r in recs] for recs in zip(*(_records(s, seed=i) for i, s in enumerate(shapes)))]
    result = assert_bit_exact(concat16_model(shapes, axis), records=records)
    assert "tg_concatenation_s16" in kernel_functions(result.compiled.lowered)


def pad16_model(shape, paddings, zero_point: int = 0, constant=None) -> bytes:
    b = ModelBuilder()
    q = dict(dtype=np.int16, scale=0.0007, zero_point=zero_point)
    x = b.tensor(list(shape), **q)
    p = b.tensor([len(shape), 2], dtype=np.int32, data=np.array(paddings, np.int32))
    y = b.tensor([d + lo + hi for d, (lo, hi) in zip(shape, paddings)], **q)
    if constant is None:
        b.op("PAD", [x, p], [y])
    else:
        b.op("PADV2", [x, p, b.tensor([], data=np.array(constant, np.int16), **q)], [y])
    return b.build([x], [y])


PADS = [((1, 3, 4, 2), ((0, 0), (1, 2), (2, 1), (0, 0)), 0, None),
        ((2, 5), ((1, 1), (0, 3)), 0, -32768),
        ((3, 2, 2), ((0, 2), (1, 0), (1, 1)), 0, 32767)]


@pytest.mark.parametrize("shape, paddings, zero_point, constant", PADS, ids=range(len(PADS)))
def test_pad_int16(assert_bit_exact, shape, paddings, zero_point, constant):
    result = assert_bit_exact(pad16_model(shape, paddings, zero_point, constant), records=_records(shape))
    assert "tg_pad_s16" in kernel_functions(result.compiled.lowered)


def quantize16_model(in_dtype, out_dtype, in_q, out_q, shape=(4, 64)) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), dtype=in_dtype, scale=in_q[0], zero_point=in_q[1])
    y = b.tensor(list(shape), dtype=out_dtype, scale=out_q[0], zero_point=out_q[1])
    b.op("QUANTIZE", [x], [y])
    return b.build([x], [y])


QUANTIZES = [(np.int8, np.int16, (0.05, -3), (0.0004, 0)), (np.int16, np.int8, (0.0004, 0), (0.05, 7)),
             (np.int16, np.int16, (0.0004, 0), (0.0011, 0)), (np.int16, np.int16, (0.0011, 0), (0.0003, 0))]


@pytest.mark.parametrize("in_dtype, out_dtype, in_q, out_q", QUANTIZES, ids=range(len(QUANTIZES)))
def test_quantize_int16(assert_bit_exact, in_dtype, out_dtype, in_q, out_q):
    info = np.iinfo(in_dtype)
    values = np.linspace(info.min, info.max, 256).round().astype(in_dtype).reshape(4, 64)
    records = [[values], [np.full((4, 64), info.min, in_dtype)], [np.full((4, 64), info.max, in_dtype)]]
    result = assert_bit_exact(quantize16_model(in_dtype, out_dtype, in_q, out_q), records=records)
    assert any(f.startswith("tg_requantize_s") and "16" in f for f in kernel_functions(result.compiled.lowered))
