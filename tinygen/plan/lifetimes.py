"""Buffer lifetimes from the schedule.

A buffer (schedule/ir.py ArenaBuffer) is the memory of one activation tensor, or of several that
alias (RESHAPE), or the scratch of one call, or a temporary of a region-level stage. Its lifetime
is the closed interval of steps (positions in `Schedule.flat_steps()`) during which it must hold
its bytes: from the step that first touches it (or before the first step, for graph inputs) to the
last step that touches it (or after the last step, for graph outputs). Two buffers whose intervals
intersect must not share a byte, except where a step's overlap contract allows it (plan/arena.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.schedule.ir import Schedule
from tinygen.schedule.lower import alias_roots  # noqa: F401  (re-exported: older callers import it here)


@dataclass(frozen=True)
class Buffer:
    tensors: tuple[int, ...]      # tensor indices sharing these bytes; empty for scratch
    scratch_of: int | None        # call step owning this scratch buffer, or None
    size: int
    first: int
    last: int
    name: str = ""                # the schedule's ArenaBuffer.name ("" for hand-made buffers)

    def overlaps_in_time(self, other: "Buffer") -> bool:
        return self.first <= other.last and other.first <= self.last

    @property
    def key(self) -> str:
        return self.name or self.label

    @property
    def label(self) -> str:
        if self.scratch_of is not None:
            return f"scratch of call {self.scratch_of}"
        if self.tensors:
            return "tensor " + "=".join(str(t) for t in self.tensors)
        return self.name


def buffer_lifetimes(schedule: Schedule) -> tuple[Buffer, ...]:
    first: dict[str, int] = {}
    last: dict[str, int] = {}

    def touch(name: str, step: int) -> None:
        first[name] = min(first.get(name, step), step)
        last[name] = max(last.get(name, step), step)

    steps = list(schedule.flat_steps())
    for name in schedule.inputs:
        touch(name, -1)
    for position, step in enumerate(steps):
        for name in step.reads + step.writes + ((step.scratch,) if step.scratch else ()):
            touch(name, position)
    for name in schedule.outputs:
        touch(name, len(steps))
    return tuple(Buffer(b.tensors, b.scratch_of, b.nbytes, first[b.name], last[b.name], b.name)
                 for b in schedule.buffers if b.name in first)


def peak_live_bytes(buffers: tuple[Buffer, ...]) -> int:
    """The largest sum of sizes live at one step: with no overlapping, no placement can be smaller."""
    if not buffers:
        return 0
    steps = range(min(b.first for b in buffers), max(b.last for b in buffers) + 1)
    return max(sum(b.size for b in buffers if b.first <= s <= b.last) for s in steps)
