"""In-place variants: a call that reads its input for the last time may instead run a kernel whose
output can lie over that input (kernels/overlap.py gives each one's contract).

Each in-place kernel keeps its out-of-place twin: it computes the same bits, and it is still
correct when the plan puts its output elsewhere. Which candidates pay is the planner's question
(compiler.py keeps an in-place variant only where it lowers the arena).
"""

from __future__ import annotations

import dataclasses

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelArg, KernelCall, Lowered
from tinygen.kernels.cvalues import Dims, ScratchRef, TensorRef
from tinygen.schedule.lower import alias_roots

_DEPTHWISE = {"tg_depthwise_conv_s8", "tg_depthwise_conv_s8_fast"}
_CONV_1X1 = {"tg_conv_s8": "tg_conv_1x1_s8_inplace_ref", "tg_conv_s8_fast": "tg_conv_1x1_s8_inplace"}



def _last_reads(graph: Graph, lowered: tuple[Lowered, ...], over_graph_inputs: bool) -> set[int]:
    """Positions (in `lowered`) of calls that read their "input" argument's bytes for the last time."""
    roots = alias_roots(lowered)
    root = lambda t: roots.get(t, t)  # noqa: E731
    outputs = {root(t) for t in graph.outputs} | (set() if over_graph_inputs else {root(t) for t in graph.inputs})
    last: dict[int, int] = {}
    for i, item in enumerate(lowered):
        if isinstance(item, KernelCall):
            for t in item.reads:
                last[root(t)] = i
    found = set()
    for i, item in enumerate(lowered):
        if not isinstance(item, KernelCall) or not any(a.name == "input" for a in item.args):
            continue
        inp = item.arg("input")
        if isinstance(inp, TensorRef) and not graph.tensor(inp.tensor).is_constant:
            r = root(inp.tensor)
            if last.get(r) == i and r not in outputs:
                found.add(i)
    return found


def _inplace_variant(call: KernelCall) -> KernelCall | None:
    if call.function in _DEPTHWISE:
        in_dims, out_dims = call.arg("input_dims"), call.arg("output_dims")
        assert isinstance(in_dims, Dims) and isinstance(out_dims, Dims)
        if call.arg("params").depth_multiplier != 1 or out_dims.c != in_dims.c \
                or out_dims.h * out_dims.w > in_dims.h * in_dims.w:
            return None
        return dataclasses.replace(call, function="tg_depthwise_conv_s8_inplace",
                                   args=call.args + (KernelArg("plane", ScratchRef()),),
                                   scratch_bytes=in_dims.h * in_dims.w)
    if call.function in _CONV_1X1:
        in_dims, out_dims, fd = call.arg("input_dims"), call.arg("output_dims"), call.arg("filter_dims")
        params = call.arg("params")
        if (fd.h, fd.w) != (1, 1) or fd.c != in_dims.c or (params.stride.h, params.stride.w) != (1, 1) \
                or (params.padding.h, params.padding.w) != (0, 0) or out_dims.c > in_dims.c \
                or (out_dims.n, out_dims.h, out_dims.w) != (in_dims.n, in_dims.h, in_dims.w):
            return None
        return dataclasses.replace(call, function=_CONV_1X1[call.function],
                                   args=call.args + (KernelArg("pixels_copy", ScratchRef()),),
                                   scratch_bytes=2 * in_dims.c)  # tg_conv_1x1_s8_inplace_buffer_size
    return None


def inplace_candidates(graph: Graph, lowered: tuple[Lowered, ...], over_graph_inputs: bool = False) -> frozenset[int]:
    """Positions of the calls that have an in-place variant and read their input for the last time.
    Not over a graph input unless asked (tests do): a model whose first operator is all there is
    keeps its faster twin; the overlaps every kernel allows still apply there."""
    return frozenset(i for i in _last_reads(graph, lowered, over_graph_inputs)
                     if isinstance(lowered[i], KernelCall) and _inplace_variant(lowered[i]) is not None)


def apply_inplace(lowered: tuple[Lowered, ...], positions: frozenset[int]) -> tuple[Lowered, ...]:
    return tuple(_inplace_variant(item) if i in positions else item for i, item in enumerate(lowered))
