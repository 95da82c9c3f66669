"""SUM, REDUCE_MAX and REDUCE_MIN against TFLite Micro: single and multiple axes (negative too),
keep_dims or not, ranks 1 to 5, zero points at both int8 ends, SUM with sums far beyond int8;
and REDUCE_MAX/MIN's TFLM requirement that the output keep the input's quantization."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.errors import InvalidModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder


def reduce_model(op: str, shape, axes, keep_dims=False, in_quant=(0.05, -7), out_quant=None) -> bytes:
    rank = len(shape)
    resolved = {a % rank for a in axes}
    out_shape = [1 if d in resolved else n for d, n in enumerate(shape)] if keep_dims else \
        [n for d, n in enumerate(shape) if d not in resolved]
    out_quant = out_quant or in_quant
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_quant[0], zero_point=in_quant[1])
    a = b.tensor([len(axes)], dtype=np.int32, data=np.array(axes, np.int32))
    y = b.tensor(out_shape, scale=out_quant[0], zero_point=out_quant[1])
    b.op(op, [x, a], [y], keepDims=keep_dims)
    return b.build([x], [y])


CASES = [((1, 4, 5, 3), (1, 2), True), ((1, 4, 5, 3), (1, 2), False), ((6,), (0,), False), ((3, 7), (-1,), True),
         ((2, 3, 4), (0, 2), False), ((2, 3, 4, 5), (3,), False), ((2, 3, 2, 2, 3), (1, 3, 4), True),
         ((2, 3, 4), (0, 1, 2), False)]


@pytest.mark.parametrize("op", ["REDUCE_MAX", "REDUCE_MIN"])
@pytest.mark.parametrize("shape, axes, keep_dims", CASES, ids=[f"{s}-{a}-{k}" for s, a, k in CASES])
def test_reduce_max_min(assert_bit_exact, op, shape, axes, keep_dims):
    assert_bit_exact(reduce_model(op, shape, axes, keep_dims, in_quant=(0.05, -128)), count=2)


@pytest.mark.parametrize("shape, axes, keep_dims", CASES, ids=[f"{s}-{a}-{k}" for s, a, k in CASES])
@pytest.mark.parametrize("in_quant, out_quant", [((0.05, -7), (0.9, 3)), ((0.02, 127), (0.02, 127)),
                                                 ((0.1, -128), (0.01, -128))], ids=str)
def test_sum(assert_bit_exact, shape, axes, keep_dims, in_quant, out_quant):
    assert_bit_exact(reduce_model("SUM", shape, axes, keep_dims, in_quant, out_quant), count=2)


def test_reduce_max_extremes(assert_bit_exact):
    model = reduce_model("REDUCE_MAX", (3, 4), (1,), in_quant=(0.05, 127))
    x = np.array([[-128, -128, -128, -128], [127, -128, 0, 5], [-1, -2, -3, -128]], np.int8)
    assert_bit_exact(model, records=[[x]])


def test_reduce_max_requires_the_input_quantization_like_tflm():
    with pytest.raises(InvalidModelError, match=r"REDUCE_MAX: output 't2' .* differs from input 't0' .*; TFLite Micro requires them equal"):
        compile_bytes(reduce_model("REDUCE_MAX", (3, 4), (1,), in_quant=(0.05, 0), out_quant=(0.1, 0)))


def arg_model(op: str, shape, axis: int, out_dtype=np.int32) -> bytes:
    rank = len(shape)
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-128)
    a = b.tensor([1], dtype=np.int32, data=np.array([axis], np.int32))
    y = b.tensor([n for d, n in enumerate(shape) if d != axis % rank], dtype=out_dtype)
    b.op(op, [x, a], [y])
    return b.build([x], [y])


ARGS = [((10,), 0), ((3, 7), 1), ((3, 7), 0), ((2, 3, 4), -1), ((1, 4, 4, 5), 3), ((2, 3, 2, 2, 3), 2)]


@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
@pytest.mark.parametrize("shape, axis", ARGS, ids=[f"{s}-ax{a}" for s, a in ARGS])
def test_arg_max_min(assert_bit_exact, op, shape, axis):
    assert_bit_exact(arg_model(op, shape, axis), count=2)


@pytest.mark.parametrize("op", ["ARG_MAX", "ARG_MIN"])
def test_arg_max_min_ties_take_the_first(assert_bit_exact, op):
    x = np.array([[5, 5, 5, 5], [-128, 127, 127, -128], [127, -128, -128, 127], [0, 0, -1, -1]], np.int8)
    assert_bit_exact(arg_model(op, (4, 4), 1), records=[[x], [x.T.copy()]])


def test_int64_arg_max_output_is_refused_like_tflm():
    from tinygen.errors import UnsupportedModelError
    with pytest.raises(UnsupportedModelError, match=r"#0 ARG_MAX \(int64 output; TFLite Micro supports int32 only\)"):
        compile_bytes(arg_model("ARG_MAX", (3, 7), 1, out_dtype=np.int64))
