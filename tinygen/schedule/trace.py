"""Which tensors a trace build (TG_TRACE) sends, and after which schedule item.

One answer for the one-core code, the split across cores and the run that checks what the firmware
sent (jobs.run_on_board(trace=True)): a tensor is sent once it exists whole, right after the item
that completes it, before any later step may overwrite it in place.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.ir.graph import Graph
from tinygen.kernels.cvalues import TensorRef
from tinygen.schedule.ir import AliasStep, Loop, Schedule, Step, TracePoint


@dataclass(frozen=True)
class TracedTensor:
    op_index: int
    tensor: int
    gathered: bool = False   # sent from its whole copy gathered patch by patch, not from the arena


def item_traces(graph: Graph, schedule: Schedule, item: Step | Loop | AliasStep | TracePoint) -> tuple[TracedTensor, ...]:
    """The tensors sent once `item` is done (on every core). A loop's steps send nothing: the
    tensors of a patch stage exist whole only at the TracePoint after it."""
    if isinstance(item, AliasStep):
        return (TracedTensor(item.op_index, item.tensor),)
    if isinstance(item, TracePoint):
        return (TracedTensor(item.op_index, item.tensor, item.gathered),)
    if isinstance(item, Loop):
        return ()
    call = item.call
    written = tuple(TracedTensor(call.op_index, t) for t in call.writes if schedule.tensor_view(t) is not None)
    # The state an operator keeps is sent too: every invocation checks it against TFLM's.
    state = tuple(TracedTensor(call.op_index, a.value.tensor) for a in call.args
                  if isinstance(a.value, TensorRef) and graph.tensor(a.value.tensor).variable)
    return written + state


def traced_tensors(graph: Graph, schedule: Schedule) -> frozenset[int]:
    """Every tensor a trace build of this schedule sends, whatever the number of cores."""
    return frozenset(t.tensor for item in schedule.items for t in item_traces(graph, schedule, item))
