"""Offsets of every buffer in one static arena, fixed at generation time.

Two buffers live at the same step must not share a byte, unless an overlap allowance
(plan/contracts.py, from the kernels' contracts) lets the output of a step lie over the input it
reads for the last time at `offset(output) - offset(input) <= max_delta`.

The placement is greedy first-fit, the family of TFLM's GreedyMemoryPlanner: buffers are taken
one by one in some order, and each goes to the lowest aligned offset that no already-placed buffer
forbids. The order decides the result, so several orders are tried and the smallest arena wins;
an exact search (plan/exact.py) may then improve it. `lower_bound_bytes` is what no placement can
beat. `check_no_overlap` proves a plan safe (the pairwise contracts) and runs on every plan made.

With `guard_bytes` > 0 (debug builds) every buffer also owns that many bytes right before and
right after its data, which no buffer live at the same time may share (no overlaps at all then):
the generated code fills them with a pattern and checks them after each operator, so a kernel
writing outside its buffer is caught instead of silently corrupting a neighbour.
"""

from __future__ import annotations

import dataclasses

from collections.abc import Callable
from dataclasses import dataclass

from tinygen.errors import PlanError
from tinygen.plan.contracts import Allowance, lower_bound_bytes
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
    peak_live_bytes: int  # the largest sum of sizes live at one step (the bound without overlaps)
    order: str  # which ordering (or search) produced it
    guard_bytes: int = 0  # reserved before and after every buffer (debug builds), else 0
    allowances: tuple[Allowance, ...] = ()
    lower_bound_bytes: int = 0  # no placement of these buffers under these allowances is smaller

    def tensor_offsets(self) -> dict[int, int]:
        return {t: p.offset for p in self.placements for t in p.buffer.tensors}

    def buffer_offsets(self) -> dict[str, int]:
        """Buffer.key (the schedule's ArenaBuffer.name) -> offset: where codegen resolves a view."""
        return {p.buffer.key: p.offset for p in self.placements}

    def scratch_offsets(self) -> dict[int, int]:
        return {p.buffer.scratch_of: p.offset for p in self.placements if p.buffer.scratch_of is not None}


def _align(value: int) -> int:
    return (value + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def allowance_map(allowances: tuple[Allowance, ...]) -> dict[tuple[str, str], Allowance]:
    return {(a.input, a.output): a for a in allowances}


def forbidden_intervals(placed: Placement, buf: Buffer, guard: int,
                        allowed: dict[tuple[str, str], Allowance]) -> list[tuple[int, int]]:
    """The open intervals of offsets of `buf` that clash with `placed` (both live at once)."""
    lo, hi = placed.offset - buf.size - 2 * guard, placed.end + 2 * guard
    # An allowance only takes offsets out of the clash: the parts of (lo, hi) it permits.
    a = allowed.get((placed.buffer.key, buf.key))
    if a is not None:   # buf is the output over placed: offset - placed.offset permitted
        ok = [(placed.offset + d0, placed.offset + d1) for d0, d1 in a.permitted_in(lo - placed.offset, hi - placed.offset)]
    else:
        a = allowed.get((buf.key, placed.buffer.key))
        if a is None:
            return [(lo, hi)]
        # placed is the output over buf: placed.offset - offset permitted
        ok = sorted((placed.offset - d1, placed.offset - d0)
                    for d0, d1 in a.permitted_in(placed.offset - hi, placed.offset - lo))
    forbidden, start = [], lo
    for ok_lo, ok_hi in ok:   # the gaps between the permitted intervals (closed) within the open (lo, hi)
        if ok_hi <= lo or ok_lo >= hi:
            continue
        forbidden.append((start, max(start, ok_lo)))
        start = min(hi, ok_hi)
    forbidden.append((start, hi))
    return [(a_, b_) for a_, b_ in forbidden if b_ > a_]


def _first_fit(order: list[Buffer], guard: int = 0,
               allowed: dict[tuple[str, str], Allowance] | None = None) -> tuple[Placement, ...]:
    """Offsets of the data; with a guard, the extents [offset - guard, end + guard) must not meet."""
    allowed = allowed or {}
    placed: list[Placement] = []
    for buf in order:
        intervals = sorted(i for p in placed if p.buffer.overlaps_in_time(buf)
                           for i in forbidden_intervals(p, buf, guard, allowed))
        start, moved = guard, True
        while moved:
            moved = False
            for lo, hi in intervals:
                if lo < start < hi:
                    start, moved = _align(hi), True
        placed.append(Placement(buf, start))
    return tuple(placed)


_ORDERS: dict[str, Callable[[Buffer], tuple]] = {
    "size": lambda b: (-b.size, b.first),
    "first_use": lambda b: (b.first, -b.size),
    "size_x_duration": lambda b: (-(b.size * (b.last - b.first + 1)), -b.size),
    "last_use": lambda b: (-b.last, -b.size),
    "size_then_late": lambda b: (-b.size, -b.first),
}


def arena_size(placements: tuple[Placement, ...], guard: int = 0) -> int:
    return _align(max((p.end + guard for p in placements), default=0))


def _at_lowest(a: Allowance) -> Allowance:
    """A bounded allowance at its lowest permitted delta only (the lattice's lowest point), else as it is."""
    if a.min_delta is None or a.min_delta >= a.max_delta:
        return a
    point = a.max_delta - (a.max_delta - a.min_delta) // a.multiple_of * a.multiple_of
    return dataclasses.replace(a, max_delta=point, min_delta=point)


def plan_arena(buffers: tuple[Buffer, ...], budget: int | None = None, guard_bytes: int = 0,
               allowances: tuple[Allowance, ...] = (), exact_seconds: float = 0.0) -> ArenaPlan:
    """exact_seconds > 0: after the greedy orders, search for a smaller placement (plan/exact.py)."""
    if guard_bytes < 0 or guard_bytes % ALIGNMENT:
        raise PlanError(f"guard bytes must be a non-negative multiple of {ALIGNMENT}, not {guard_bytes}")
    if guard_bytes:
        allowances = ()   # guard bytes around every buffer leave nothing to share
    allowed = allowance_map(allowances)
    bound = _align(lower_bound_bytes(buffers, allowances)) if not guard_bytes else 0
    best: ArenaPlan | None = None
    # First fit with the overlaps can place worse than without them (an early overlap may leave a gap
    # no later buffer fits); a plan without overlaps keeps every contract too, so both are tried. So is
    # one with each bounded allowance at its lowest delta only: first fit takes the lowest offset, which
    # for an input placed after its output is the highest delta (e.g. exactly over it, where a lag
    # below it leaves the room the later buffers need).
    lowest = {key: _at_lowest(a) for key, a in allowed.items()}
    candidates = (allowed, lowest, {}) if lowest != allowed else (allowed, {})
    for overlaps in candidates if allowed else (allowed,):
        for name, key in _ORDERS.items():
            placements = _first_fit(sorted(buffers, key=key), guard_bytes, overlaps)
            size = arena_size(placements, guard_bytes)
            if best is None or size < best.arena_bytes:
                best = ArenaPlan(placements, size, peak_live_bytes(buffers), name, guard_bytes, allowances, bound)
    assert best is not None
    if exact_seconds > 0 and not guard_bytes and best.arena_bytes > bound:
        from tinygen.plan.exact import improve_placement
        best = improve_placement(best, exact_seconds)
    check_no_overlap(best)
    if budget is not None and best.arena_bytes > budget:
        raise PlanError(f"the model needs {best.arena_bytes} bytes of activation RAM; the board allows {budget}")
    return best


def check_no_overlap(plan: ArenaPlan) -> None:
    """Raise unless every pair of buffers live at the same time keeps its contract: no shared byte
    (guards included), or an allowed overlap within its max_delta; and every buffer is aligned
    and inside the arena."""
    ps, g = plan.placements, plan.guard_bytes
    allowed = allowance_map(plan.allowances)
    for i, a in enumerate(ps):
        if a.offset % ALIGNMENT or a.offset - g < 0 or a.end + g > plan.arena_bytes:
            raise AssertionError(f"{a.buffer.label} at {a.offset} is misaligned or outside the arena")
        for b in ps[i + 1:]:
            if not a.buffer.overlaps_in_time(b.buffer):
                continue
            if not (a.offset - g < b.end + g and b.offset - g < a.end + g):
                continue
            ab = allowed.get((a.buffer.key, b.buffer.key))
            ba = allowed.get((b.buffer.key, a.buffer.key))
            if ab is not None and ab.permits(b.offset - a.offset):
                continue
            if ba is not None and ba.permits(a.offset - b.offset):
                continue
            detail = "" if ab is None and ba is None else " beyond their kernel's overlap contract"
            raise AssertionError(f"{a.buffer.label} and {b.buffer.label} overlap while both are live{detail}")
