"""What a non-zero status from a model's invoke() means, as one line a user can act on.

The codes are defined in runtime_c/include/tinygen/tg_model.h (read by tinygen/codegen/guard_codes.py). Today the only failure invoke()
reports is a guard check of a debug build (--debug-guards): an operator changed a byte just
outside one of its buffers.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.codegen.guard_codes import GUARD_CODES
from tinygen.ir.graph import Graph


@dataclass(frozen=True)
class GuardViolation:
    op_index: int
    tensor_index: int | None   # None: the operator's scratch buffer
    below: bool                # the guard before the buffer changed (else the one after it)


def guard_violation(status: int) -> GuardViolation | None:
    codes = GUARD_CODES
    if status <= 0 or not status & codes.guard:
        return None
    tensor = status & codes.tensor_mask
    return GuardViolation((status >> codes.op_shift) & codes.op_max,
                          None if tensor == codes.scratch else tensor, bool(status & codes.below))


def describe_status(status: int, graph: Graph | None = None) -> str:
    """One line; with the graph, the operator's kind and the tensor's name are included."""
    violation = guard_violation(status)
    if violation is None:
        return f"invoke() returned status {status}"
    op_kind = ""
    if graph is not None:
        op_kind = next((f" {op.kind}" for op in graph.operators if op.index == violation.op_index), "")
    if violation.tensor_index is None:
        buffer = "its scratch buffer"
    else:
        buffer = f"tensor {violation.tensor_index}"
        if graph is not None and 0 <= violation.tensor_index < len(graph.tensors):
            buffer += f" '{graph.tensor(violation.tensor_index).name}'"
    side = "before" if violation.below else "after"
    return (f"operator #{violation.op_index}{op_kind} wrote outside its buffers: the guard bytes {side} "
            f"{buffer} changed (invoke status {status:#010x})")
