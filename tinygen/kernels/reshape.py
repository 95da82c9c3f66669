"""RESHAPE, SQUEEZE, EXPAND_DIMS: no code, the output aliases the input's bytes."""

from __future__ import annotations

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.kernels.call import Alias
from tinygen.kernels.registry import lowering


@lowering(ops.Reshape)
@lowering(ops.Squeeze)
@lowering(ops.ExpandDims)
def lower_reshape(graph: Graph, op: Operator) -> tuple[Alias, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if inp.nbytes != out.nbytes or inp.dtype is not out.dtype:
        raise InvalidModelError(
            f"operator #{op.index} {op.kind}: '{inp.name}' {list(inp.shape)} and '{out.name}' {list(out.shape)} differ in size"
        )
    return (Alias(op_index=op.index, op_kind=op.kind, source=inp.index, target=out.index),)
