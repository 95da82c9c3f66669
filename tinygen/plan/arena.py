"""Offsets of every buffer in one static arena, fixed at generation time.

The placement is greedy first-fit, the same family as TFLM's GreedyMemoryPlanner: buffers are
taken one by one in some order, and each goes to the lowest aligned offset where it overlaps no
already-placed buffer that is live at the same time. The order decides the result, so several
orders are tried and the smallest arena wins; `peak_live_bytes` is the lower bound it is measured
against. `check_no_overlap` proves a plan safe and runs on every plan made.

With `guard_bytes` > 0 (debug builds) every buffer also owns that many bytes right before and
right after its data, which no buffer live at the same time may share: the generated code fills
them with a pattern and checks them after each operator, so a kernel writing outside its buffer
is caught instead of silently corrupting a neighbour.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tinygen.errors import PlanError
from tinygen.plan.lifetimes import Buffer, peak_live_bytes

ALIGNMENT = 4  # int32 and float32 tensors need it; int8 kernels load words where they can


@dataclass(frozen=True)
class Placement:
    buffer: Buffer
    offset: int

    @property
    def end(self) -> int:
        return self.offset + self.buffer.size


@dataclass(frozen=True)
class ArenaPlan:
    placements: tuple[Placement, ...]
    arena_bytes: int
    peak_live_bytes: int
    order: str  # which ordering produced it
    guard_bytes: int = 0  # reserved before and after every buffer (debug builds), else 0

    def tensor_offsets(self) -> dict[int, int]:
        return {t: p.offset for p in self.placements for t in p.buffer.tensors}

    def buffer_offsets(self) -> dict[str, int]:
        """ArenaBuffer.name -> offset: where codegen resolves a view."""
        return {p.buffer.key: p.offset for p in self.placements}

    def scratch_offsets(self) -> dict[int, int]:
        return {p.buffer.scratch_of: p.offset for p in self.placements if p.buffer.scratch_of is not None}


def _align(value: int) -> int:
    return (value + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def _first_fit(order: list[Buffer], guard: int = 0) -> tuple[Placement, ...]:
    """Offsets of the data; with a guard, the extents [offset - guard, end + guard) must not meet."""
    placed: list[Placement] = []
    for buf in order:
        conflicts = sorted((p for p in placed if p.buffer.overlaps_in_time(buf)), key=lambda p: p.offset)
        start = 0
        for p in conflicts:
            if start + guard + buf.size + guard <= p.offset - guard:
                break
            start = max(start, _align(p.end + guard))
        placed.append(Placement(buf, start + guard))
    return tuple(placed)


_ORDERS: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first),
    "first_use": lambda b: (b.first, -b.size),
    "size_x_duration": lambda b: (-(b.size * (b.last - b.first + 1)), -b.size),
    "last_use": lambda b: (-b.last, -b.size),
}


def plan_arena(buffers: tuple[Buffer, ...], budget: int | None = None, guard_bytes: int = 0) -> ArenaPlan:
    if guard_bytes < 0 or guard_bytes % ALIGNMENT:
        raise PlanError(f"guard bytes must be a non-negative multiple of {ALIGNMENT}, not {guard_bytes}")
    best: ArenaPlan | None = None
    for name, key in _ORDERS.items():
        placements = _first_fit(sorted(buffers, key=key), guard_bytes)
        size = _align(max((p.end + guard_bytes for p in placements), default=0))
        if best is None or size < best.arena_bytes:
            best = ArenaPlan(placements, size, peak_live_bytes(buffers), name, guard_bytes)
    assert best is not None
    check_no_overlap(best)
    if budget is not None and best.arena_bytes > budget:
        raise PlanError(f"the model needs {best.arena_bytes} bytes of activation RAM; the board allows {budget}")
    return best


def check_no_overlap(plan: ArenaPlan) -> None:
    """Raise if two buffers live at the same time share a byte (guards included), or any is misaligned."""
    ps, g = plan.placements, plan.guard_bytes
    for i, a in enumerate(ps):
        if a.offset % ALIGNMENT or a.offset - g < 0 or a.end + g > plan.arena_bytes:
            raise AssertionError(f"{a.buffer.label} at {a.offset} is misaligned or outside the arena")
        for b in ps[i + 1:]:
            if a.buffer.overlaps_in_time(b.buffer) and a.offset - g < b.end + g and b.offset - g < a.end + g:
                raise AssertionError(f"{a.buffer.label} and {b.buffer.label} overlap while both are live")
