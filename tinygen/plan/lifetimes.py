"""Buffer lifetimes from the lowered call sequence.

A buffer is the memory of one activation tensor, or of several that alias (RESHAPE), or the
scratch of one call. Its lifetime is the closed interval of call steps during which it must hold
its bytes: from the call that writes it (or before the first call, for graph inputs) to the last
call that reads it (or after the last call, for graph outputs). Two buffers whose intervals
intersect must not overlap in memory. A call's inputs and outputs are live at the same step, so no
kernel ever writes over what it reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.ir.graph import Graph
from tinygen.kernels.call import Alias, KernelCall, Lowered


@dataclass(frozen=True)
class Buffer:
    tensors: tuple[int, ...]      # tensor indices sharing these bytes; empty for scratch
    scratch_of: int | None        # call step owning this scratch buffer, or None
    size: int
    first: int
    last: int

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last

    @property
    def label(self) -> str:
        if self.scratch_of is not None:
            return f"scratch of call {self.scratch_of}"
        return "tensor " + "=".join(str(t) for t in self.tensors)


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


def buffer_lifetimes(graph: Graph, lowered: tuple[Lowered, ...]) -> tuple[Buffer, ...]:
    calls = [item for item in lowered if isinstance(item, KernelCall)]
    roots = alias_roots(lowered)

    def root(t: int) -> int:
        return roots.get(t, t)

    end = len(calls)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    members: dict[int, set[int]] = {}

    def touch(t: int, step: int) -> None:
        if graph.tensor(t).is_constant:
            return
        r = root(t)
        members.setdefault(r, set()).add(t)
        first[r] = min(first.get(r, step), step)
        last[r] = max(last.get(r, step), step)

    for t in graph.inputs:
        touch(t, -1)
    for step, call in enumerate(calls):
        for t in call.reads + call.writes:
            touch(t, step)
    for t in graph.outputs:
        touch(t, end)
    for item in lowered:
        if isinstance(item, Alias):
            # An alias whose source is live keeps both names on the same buffer.
            for t in (item.source, item.target):
                if not graph.tensor(t).is_constant and root(t) in members:
                    members[root(t)].add(t)

    buffers = [
        Buffer(tensors=tuple(sorted(members[r])), scratch_of=None,
               size=max(graph.tensor(t).nbytes for t in members[r]), first=first[r], last=last[r])
        for r in sorted(members)
    ]
    for step, call in enumerate(calls):
        if call.scratch_bytes > 0:
            buffers.append(Buffer(tensors=(), scratch_of=step, size=call.scratch_bytes, first=step, last=step))
    return tuple(buffers)


def peak_live_bytes(buffers: tuple[Buffer, ...]) -> int:
    """The largest sum of sizes live at one step: no placement can be smaller."""
    if not buffers:
        return 0
    steps = range(min(b.first for b in buffers), max(b.last for b in buffers) + 1)
    return max(sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps)
