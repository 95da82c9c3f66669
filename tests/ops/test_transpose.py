"""TRANSPOSE against TFLite Micro: ranks 1 to 5, every kind of permutation, quantizations that
differ between input and output (TFLM copies stored values), extreme values; and its refusals."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder


def transpose_model(shape, perm, in_quant=(0.05, 3), out_quant=None, perm_dtype=np.int32, out_shape=None) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_quant[0], zero_point=in_quant[1])
    p = b.tensor([len(perm)], dtype=perm_dtype, data=np.array(perm, dtype=perm_dtype))
    out_quant = out_quant or in_quant
    y = b.tensor(list(out_shape or [shape[i] for i in perm]), scale=out_quant[0], zero_point=out_quant[1])
    b.op("TRANSPOSE", [x, p], [y])
    return b.build([x], [y])


GRID = [
    ((7,), (0,)),
    ((3, 5), (1, 0)),
    ((2, 3, 4), (2, 0, 1)),
    ((2, 3, 4), (1, 2, 0)),
    ((1, 4, 5, 3), (0, 3, 1, 2)),   # NHWC -> NCHW (PyTorch exports)
    ((1, 3, 4, 5), (0, 2, 3, 1)),   # NCHW -> NHWC
    ((2, 3, 4, 5), (3, 2, 1, 0)),
    ((2, 3, 1, 4, 3), (4, 0, 3, 2, 1)),  # TFLM's 5-D maximum
    ((2, 2, 3, 2, 2), (0, 1, 2, 3, 4)),  # identity: a plain copy
]


@pytest.mark.parametrize("shape, perm", GRID, ids=[f"{s}-{p}" for s, p in GRID])
def test_transpose_grid(assert_bit_exact, shape, perm):
    assert_bit_exact(transpose_model(shape, perm), count=2)


@pytest.mark.parametrize("perm", list(itertools.permutations(range(4)))[::3])
def test_every_4d_permutation(assert_bit_exact, perm):
    assert_bit_exact(transpose_model((2, 3, 4, 5), perm), count=1)


@pytest.mark.parametrize("in_quant, out_quant", [((0.05, -128), (0.5, 127)), ((1.0, 127), (0.01, -128))])
def test_transpose_copies_stored_values_across_quantizations(assert_bit_exact, in_quant, out_quant):
    """TFLM does not requantize: extreme values and zero points at the int8 ends come out unchanged."""
    model = transpose_model((2, 4, 3), (2, 0, 1), in_quant, out_quant)
    extremes = np.resize(np.array([-128, 127, 0, -1, 1], np.int8), (2, 4, 3))
    assert_bit_exact(model, records=[[extremes], [np.full((2, 4, 3), -128, np.int8)]])


def test_transpose_rank_6_refused_like_tflm():
    with pytest.raises(UnsupportedModelError, match=r"TRANSPOSE: input .* rank 6; TFLite Micro transposes 1-D to 5-D"):
        compile_bytes(transpose_model((1, 2, 1, 2, 1, 2), (5, 4, 3, 2, 1, 0)))


def test_transpose_refusals():
    with pytest.raises(UnsupportedModelError, match=r"#0 TRANSPOSE \(perm tensor is int64; TFLite Micro reads it as int32\)"):
        compile_bytes(transpose_model((2, 3), (1, 0), perm_dtype=np.int64))
    with pytest.raises(UnsupportedModelError, match=r"#0 TRANSPOSE \(perm \[2, 0\] out of bounds for rank 2\)"):
        compile_bytes(transpose_model((2, 3), (2, 0), out_shape=(3, 2)))
    with pytest.raises(InvalidModelError, match=r"TRANSPOSE: perm \[0, 0\] is not a permutation"):
        compile_bytes(transpose_model((2, 3), (0, 0), out_shape=(3, 2)))
    with pytest.raises(InvalidModelError, match=r"TRANSPOSE: tensor 't2' has shape \[2, 3\], but its inputs give \[3, 2\]"):
        compile_bytes(transpose_model((2, 3), (1, 0), out_shape=(2, 3)))
