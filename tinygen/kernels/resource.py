"""VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE: resource variables, kept in the state memory
(plan/state.py) between invocations. Reading and assigning copy bytes, as TFLM's kernels do."""

from __future__ import annotations

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import activation_reads
from tinygen.kernels.cvalues import TensorRef
from tinygen.kernels.registry import lowering
from tinygen.plan.state import resource_value


@lowering(ops.VarHandle)
def lower_var_handle(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return ()  # the handle names a slot of the state memory: no code


def _copy(op: Operator, nbytes: int, source: int, destination: int, reads: tuple[int, ...],
          writes: tuple[int, ...]) -> KernelCall:
    return KernelCall(op_index=op.index, op_kind=op.kind, function="tg_copy_bytes",
                      args=(KernelArg("size", nbytes), KernelArg("source", TensorRef(source)),
                            KernelArg("destination", TensorRef(destination))),
                      reads=reads, writes=writes)


def _resource_bytes(graph: Graph, op: Operator) -> int:
    value = resource_value(graph, op.inputs[0])
    if value is None:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: the variable is never assigned, so TFLite Micro "
                                "never allocates it (its READ_VARIABLE fails)")
    return value.nbytes


@lowering(ops.ReadVariable)
def lower_read_variable(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    out = graph.tensor(op.outputs[0])
    if out.nbytes != _resource_bytes(graph, op):
        raise InvalidModelError(f"operator #{op.index} READ_VARIABLE: output '{out.name}' has {out.nbytes} bytes, "
                                f"the variable {_resource_bytes(graph, op)}")
    return (_copy(op, out.nbytes, op.inputs[0], out.index, (), (out.index,)),)


@lowering(ops.AssignVariable)
def lower_assign_variable(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    value = graph.tensor(op.inputs[1])
    if value.nbytes != _resource_bytes(graph, op):
        raise InvalidModelError(f"operator #{op.index} ASSIGN_VARIABLE: value '{value.name}' has {value.nbytes} bytes, "
                                f"the variable {_resource_bytes(graph, op)}")
    return (_copy(op, value.nbytes, value.index, op.inputs[0], activation_reads(value), ()),)
