"""The state memory: variable tensors (an SVDF's or LSTM's state) kept between invocations.

They cannot share the arena, whose bytes every invocation reuses, so they get their own static
array, laid out once in tensor order. Each starts as TFLite Micro's ResetVariableTensors leaves it:
an int8 tensor filled with its zero point, any other with zeros; `<model>_reset()` restores that.

Resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE) get a slot each too, named by
their handle tensors (every VAR_HANDLE of one container and name shares it), sized and filled as
TFLM's MicroResourceVariables::Allocate does from the first ASSIGN_VARIABLE's value: its bytes,
and the low byte of its zero point (whatever its type) or 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Tensor

ALIGNMENT = 4


@dataclass(frozen=True)
class StateSlot:
    tensor: int
    offset: int
    nbytes: int
    fill: int  # the byte every element starts (and is reset) to


@dataclass(frozen=True)
class StatePlan:
    slots: tuple[StateSlot, ...]
    nbytes: int
    handles: dict[int, int] = field(default_factory=dict)  # resource handle tensor -> its slot's tensor

    def holds(self, tensor: int) -> bool:
        return tensor in self.handles or any(s.tensor == tensor for s in self.slots)

    def offset_of(self, tensor: int) -> int:
        tensor = self.handles.get(tensor, tensor)
        return next(s.offset for s in self.slots if s.tensor == tensor)


def resource_handles(graph: Graph) -> dict[int, int]:
    """Each VAR_HANDLE output -> the first handle tensor of its (container, name)."""
    first: dict[tuple[str, str], int] = {}
    handles: dict[int, int] = {}
    for op in graph.operators:
        if isinstance(op.attrs, ops.VarHandle):
            key = (op.attrs.container, op.attrs.shared_name)
            handles[op.outputs[0]] = first.setdefault(key, op.outputs[0])
    return handles


def resource_value(graph: Graph, handle: int) -> Tensor | None:
    """The value of the first ASSIGN_VARIABLE to the resource: TFLM allocates the variable from it."""
    handles = resource_handles(graph)
    for op in graph.operators:
        if isinstance(op.attrs, ops.AssignVariable) and handles.get(op.inputs[0]) == handles.get(handle, handle):
            return graph.tensor(op.inputs[1])
    return None


def plan_state(graph: Graph) -> StatePlan:
    slots, offset = [], 0

    def add(index: int, nbytes: int, fill: int) -> None:
        nonlocal offset
        slots.append(StateSlot(index, offset, nbytes, fill))
        offset += -(-nbytes // ALIGNMENT) * ALIGNMENT

    for t in graph.tensors:
        if t.variable:
            zero_point = t.quant.zero_point if t.quant is not None and t.quant.zero_points else 0
            add(t.index, t.nbytes, zero_point & 0xFF if t.dtype is DType.INT8 else 0)
    handles = resource_handles(graph)
    for slot in sorted(set(handles.values())):
        value = resource_value(graph, slot)
        if value is not None:
            zero_point = value.quant.zero_point if value.quant is not None and value.quant.zero_points else 0
            add(slot, value.nbytes, zero_point & 0xFF)
    return StatePlan(tuple(slots), offset, handles)
