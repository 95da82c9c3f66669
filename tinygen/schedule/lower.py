"""The kernel-call sequence as a schedule: every call a step over whole-tensor views.

This is the schedule every model gets before any region-level transformation (patch stages,
core slices): one step per KernelCall, one buffer per activation tensor (tensors that alias
share their root's buffer), one scratch buffer per call that needs scratch.

With `write_concat_in_place`, a CONCATENATION whose slices are contiguous in its output (every
dimension before the axis is 1) costs no copy: each input is a view of the output's buffer at its
slice's offset, so its producer writes it there, and the concatenation itself needs no code.
"""

from __future__ import annotations

import dataclasses

from tinygen.ir.graph import Graph
from tinygen.kernels.call import Alias, KernelCall, Lowered
from tinygen.kernels.cvalues import ScratchRef, TensorRef
from tinygen.schedule.ir import AliasStep, ArenaBuffer, Schedule, ScheduleItem, Step, View


def alias_roots(lowered: tuple[Lowered, ...]) -> dict[int, int]:
    """Tensor index -> the tensor whose bytes it shares (itself if it aliases nothing)."""
    roots: dict[int, int] = {}

    def root(t: int) -> int:
        while roots.get(t, t) != t:
            t = roots[t]
        return t

    for item in lowered:
        if isinstance(item, Alias):
            roots[root(item.target)] = root(item.source)
    return {t: root(t) for t in roots}


def tensor_buffer_name(root: int) -> str:
    return f"t{root}"


def scratch_buffer_name(step: int) -> str:
    return f"scratch{step}"


CONCAT = "tg_concatenation_s8"


def _concat_slices(graph: Graph, lowered: tuple[Lowered, ...]) -> dict[int, tuple[int, int]]:
    """Tensor -> (concatenation output, byte offset) for every input a producer can write in place."""
    roots = alias_roots(lowered)
    aliased = set(roots) | set(roots.values())
    writers: dict[int, list[KernelCall]] = {}
    for item in lowered:
        if isinstance(item, KernelCall):
            for t in item.writes:
                writers.setdefault(t, []).append(item)
    pinned = set(graph.inputs) | set(graph.outputs) | aliased
    by_op: dict[int, list[KernelCall]] = {}
    for item in lowered:
        if isinstance(item, KernelCall) and item.function == CONCAT:
            by_op.setdefault(item.op_index, []).append(item)
    slices: dict[int, tuple[int, int]] = {}
    for calls in by_op.values():
        out = calls[0].writes[0]
        inputs = [next(a.value.tensor for a in c.args if a.name == "input") for c in calls]
        params = [next(a.value for a in c.args if a.name.startswith("params")) for c in calls]
        ok = out not in pinned and len(set(inputs)) == len(inputs) and all(
            p.outer_size == 1 and t not in pinned and t not in slices and not graph.tensor(t).is_constant
            and len(writers.get(t, [])) == 1 and writers[t][0].function != CONCAT
            for t, p in zip(inputs, params))
        if ok:
            for t, p in zip(inputs, params):
                slices[t] = (out, p.output_offset * graph.tensor(out).dtype.itemsize)
    return slices


def build_schedule(graph: Graph, lowered: tuple[Lowered, ...], write_concat_in_place: bool = False) -> Schedule:
    slices = _concat_slices(graph, lowered) if write_concat_in_place else {}
    original = lowered
    if slices:
        lowered = tuple(item for item in lowered if not (
            isinstance(item, KernelCall) and item.function == CONCAT and item.reads and item.reads[0] in slices))
    roots = alias_roots(lowered)

    def root(t: int) -> int:
        return roots.get(t, t)

    members: dict[int, set[int]] = {}

    def note(t: int) -> None:
        if not graph.tensor(t).is_constant:
            members.setdefault(slices[t][0] if t in slices else root(t), set()).add(t)

    for t in graph.inputs + graph.outputs:
        note(t)
    for item in lowered:
        if isinstance(item, KernelCall):
            for t in item.reads + item.writes:
                note(t)
    for item in lowered:
        if isinstance(item, Alias):
            # An alias whose source lives in the arena keeps both names on the same buffer.
            for t in (item.source, item.target):
                if not graph.tensor(t).is_constant and root(t) in members:
                    members[root(t)].add(t)

    for out in {o for o, _ in slices.values()}:
        note(out)
    buffers = [ArenaBuffer(tensor_buffer_name(r), max(graph.tensor(t).nbytes for t in members[r]),
                           tensors=tuple(sorted(members[r])))
               for r in sorted(members)]

    def view(r: int, t: int) -> View:
        whole = View.whole(tensor_buffer_name(r), graph.tensor(t).dtype.c_type, graph.tensor(t).shape)
        return dataclasses.replace(whole, offset=slices[t][1]) if t in slices else whole

    tensor_views = tuple((t, view(r, t)) for r in sorted(members) for t in sorted(members[r]))
    views = dict(tensor_views)

    items: list[ScheduleItem] = []
    step = 0
    concat_done: set[int] = set()
    for item in original:
        if isinstance(item, KernelCall) and item.function == CONCAT and item.reads and item.reads[0] in slices:
            if item.op_index not in concat_done:   # written by its producers: no code, only its trace
                concat_done.add(item.op_index)
                items.append(AliasStep(item.op_index, item.op_kind, item.writes[0], views[item.writes[0]].buffer))
            continue
        if isinstance(item, Alias):
            view = views.get(item.target)
            items.append(AliasStep(item.op_index, item.op_kind, item.target, view.buffer if view else None))
            continue
        bound: list[tuple[str, View]] = []
        scratch = None
        for arg in item.args:
            if isinstance(arg.value, TensorRef) and arg.value.tensor in views:
                bound.append((arg.name, views[arg.value.tensor]))
            elif isinstance(arg.value, ScratchRef):
                scratch = scratch_buffer_name(step)
                bound.append((arg.name, View(scratch, "void", 0, (item.scratch_bytes,), (1,))))
        if item.scratch_bytes > 0 and scratch is None:
            scratch = scratch_buffer_name(step)
        if scratch is not None:
            buffers.append(ArenaBuffer(scratch, item.scratch_bytes, scratch_of=step))
        items.append(Step(
            call=item,
            views=tuple(bound),
            reads=tuple(dict.fromkeys(views[t].buffer for t in item.reads if t in views)),
            writes=tuple(dict.fromkeys(views[t].buffer for t in item.writes if t in views)),
            scratch=scratch,
        ))
        step += 1
    return Schedule(
        buffers=tuple(buffers),
        items=tuple(items),
        tensor_views=tensor_views,
        inputs=tuple(dict.fromkeys(views[t].buffer for t in graph.inputs if t in views)),
        outputs=tuple(dict.fromkeys(views[t].buffer for t in graph.outputs if t in views)),
        constant_aliases=tuple(sorted((t, r) for t, r in roots.items()
                                      if t != r and graph.tensor(r).is_constant)),
    )
