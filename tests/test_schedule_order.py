"""Operator order: a graph whose branches were listed breadth-first runs depth-first when that
needs less memory, and computes the same bits."""

from __future__ import annotations

import numpy as np

from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.kernels.call import KernelCall
from tinygen.kernels.select import lower_graph
from tinygen.kernels.overlap import declare_overlaps
from tinygen.compiler import schedule_and_plan, compile_bytes
from tinygen.schedule.order import _exact_order, _Flow, _greedy_order, order_peak
from tinygen.testing.model_builder import ModelBuilder, random_bias, random_int8


def two_branch_model(branches: int = 2) -> bytes:
    """x -> conv_i (big) -> max pool (small), for each branch, listed breadth-first; the pooled
    results are added up. Breadth-first keeps every big tensor alive at once."""
    rng = np.random.default_rng(5)
    b = ModelBuilder()
    x = b.tensor([1, 8, 8, 4], scale=0.05, zero_point=3)
    bigs, smalls = [], []
    for i in range(branches):
        w = b.tensor([16, 1, 1, 4], scale=0.01, zero_point=0, data=random_int8(rng, (16, 1, 1, 4)))
        bias = b.tensor([16], dtype=np.int32, scale=0.0005, zero_point=0, data=random_bias(rng, 16))
        big = b.tensor([1, 8, 8, 16], scale=0.08, zero_point=-5)
        b.op("CONV_2D", [x, w, bias], [big], padding="SAME", strideH=1, strideW=1)
        bigs.append(big)
    for big in bigs:
        small = b.tensor([1, 2, 2, 16], scale=0.08, zero_point=-5)
        b.op("MAX_POOL_2D", [big], [small], padding="VALID", strideH=4, strideW=4, filterHeight=4, filterWidth=4)
        smalls.append(small)
    total = smalls[0]
    for i, small in enumerate(smalls[1:]):
        out = b.tensor([1, 2, 2, 16], scale=0.1, zero_point=i)
        b.op("ADD", [total, small], [out])
        total = out
    return b.build([x], [total])


def test_branches_run_depth_first_when_it_saves_memory(assert_bit_exact):
    model = two_branch_model(3)
    graph = parse_tflite(model, name="model")
    lowered = lower_graph(graph)
    flow = _Flow(graph, lowered)
    exact = flow.lowered(_exact_order(flow, 10_000))
    assert order_peak(graph, exact) < order_peak(graph, lowered)
    assert order_peak(graph, flow.lowered(_greedy_order(flow))) >= order_peak(graph, exact)

    compiled = compile_bytes(model)
    ops = [c.op_index for c in compiled.lowered if isinstance(c, KernelCall)]
    assert ops != sorted(ops)   # reordered: a conv, its pool, the next conv ...
    _, listed = schedule_and_plan(graph, declare_overlaps(lowered), None, 0, True)
    assert compiled.plan.arena_bytes < listed.arena_bytes
    assert compiled.plan.arena_bytes < 3 * 8 * 8 * 16   # never all three big tensors at once
    assert_bit_exact(model)


def test_the_exact_search_gives_way_to_greedy_past_its_state_limit():
    graph = parse_tflite(two_branch_model(3), name="model")
    flow = _Flow(graph, lower_graph(graph))
    assert _exact_order(flow, 3) is None
    assert len(_greedy_order(flow)) == len(flow.nodes)
