"""The state memory: variable tensors (an SVDF's or LSTM's state) kept between invocations.

They cannot share the arena, whose bytes every invocation reuses, so they get their own static
array, laid out once in tensor order. Each starts as TFLite Micro's ResetVariableTensors leaves it:
an int8 tensor filled with its zero point, any other with zeros; `<model>_reset()` restores that.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.ir.graph import DType, Graph

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

    def offset_of(self, tensor: int) -> int:
        return next(s.offset for s in self.slots if s.tensor == tensor)


def plan_state(graph: Graph) -> StatePlan:
    slots, offset = [], 0
    for t in graph.tensors:
        if not t.variable:
            continue
        zero_point = t.quant.zero_point if t.quant is not None and t.quant.zero_points else 0
        fill = zero_point & 0xFF if t.dtype is DType.INT8 else 0
        slots.append(StateSlot(t.index, offset, t.nbytes, fill))
        offset += -(-t.nbytes // ALIGNMENT) * ALIGNMENT
    return StatePlan(tuple(slots), offset)
