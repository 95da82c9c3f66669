"""CONCATENATION written in place: where its slices are contiguous, each producer writes its
result straight into the output's slice (a view at an offset), and the concatenation needs no copy."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.kernels.call import KernelCall
from tinygen.compiler import compile_bytes
from tinygen.schedule.ir import AliasStep
from tinygen.testing.model_builder import ModelBuilder, random_bias, random_int8


def branches_concat_model(axis: int, shape=(1, 6, 5, 8), pool_after: bool = True) -> bytes:
    """x -> conv a, x -> depthwise b; concat(a, b) along `axis` -> max pool (or the output)."""
    rng = np.random.default_rng(3)
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-3)
    c = shape[3]
    w = b.tensor([c, 1, 1, c], scale=0.01, zero_point=0, data=random_int8(rng, (c, 1, 1, c)))
    bias = b.tensor([c], dtype=np.int32, scale=0.0005, zero_point=0, data=random_bias(rng, c))
    q = dict(scale=0.07, zero_point=4)    # concatenation inputs and output share it
    a = b.tensor(list(shape), **q)
    b.op("CONV_2D", [x, w, bias], [a], padding="SAME", strideH=1, strideW=1)
    wd = b.tensor([1, 3, 3, c], scale=0.01, zero_point=0, data=random_int8(rng, (1, 3, 3, c)))
    bd = b.tensor([c], dtype=np.int32, scale=0.0005, zero_point=0, data=random_bias(rng, c))
    d = b.tensor(list(shape), **q)
    b.op("DEPTHWISE_CONV_2D", [x, wd, bd], [d], padding="SAME", strideH=1, strideW=1, depthMultiplier=1)
    out_shape = list(shape)
    out_shape[axis] *= 2
    cat = b.tensor(out_shape, **q)
    b.op("CONCATENATION", [a, d], [cat], axis=axis)
    if not pool_after:
        return b.build([x], [cat])
    pooled_shape = [out_shape[0], out_shape[1] // 2, out_shape[2] // 2 if out_shape[2] > 1 else 1, out_shape[3]]
    y = b.tensor(pooled_shape, **q)
    b.op("MAX_POOL_2D", [cat], [y], padding="VALID", strideH=2, strideW=2 if out_shape[2] > 1 else 1,
         filterHeight=2, filterWidth=2 if out_shape[2] > 1 else 1)
    return b.build([x], [y])


def concat_copies(compiled) -> int:
    return sum(1 for c in compiled.schedule.kernel_calls() if c.function == "tg_concatenation_s8")


@pytest.mark.parametrize("axis", [1, 0], ids=["rows", "batch"])
def test_producers_write_into_the_concatenation(assert_bit_exact, axis):
    model = branches_concat_model(axis)
    compiled = compile_bytes(model)
    assert concat_copies(compiled) == 0
    assert any(isinstance(i, AliasStep) and i.op_kind == "CONCATENATION" for i in compiled.schedule.items)
    views = dict(compiled.schedule.tensor_views)
    op = next(o for o in compiled.graph.operators if o.kind == "CONCATENATION")
    first, second = (views[t] for t in op.inputs)
    assert first.buffer == second.buffer == views[op.outputs[0]].buffer
    assert (first.offset, second.offset) == (0, compiled.graph.tensor(op.inputs[0]).nbytes)
    copied = compile_bytes(model, overlaps=False)
    assert concat_copies(copied) == 2
    assert compiled.plan.arena_bytes < copied.plan.arena_bytes
    assert_bit_exact(model)


def test_channel_concatenation_still_copies(assert_bit_exact):
    """Channel slices of a [1, H, W, C] tensor are strided: the copy stays."""
    model = branches_concat_model(3)
    assert concat_copies(compile_bytes(model)) == 2
    assert_bit_exact(model)


def test_a_graph_output_concatenation_keeps_its_copy():
    model = branches_concat_model(1, pool_after=False)
    compiled = compile_bytes(model)
    assert concat_copies(compiled) == 2
    assert not any(isinstance(i, KernelCall) for i in compiled.schedule.items)
