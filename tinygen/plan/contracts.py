"""Pairwise overlap allowances: which buffers may share bytes, from the schedule's contracts.

A step whose kernel declares `Overlap(input_arg, output_arg, max_delta)` lets the buffer under
`output_arg` overlap the buffer under `input_arg` when the step is the input buffer's last use and
the output buffer's first, at `offset(output) - offset(input) <= max_delta` (corrected for the two
views' offsets inside their buffers). If the step reads the input buffer or writes the output
buffer through any other argument, every such pair must have a contract, and the tightest wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.kernels.call import delta_permitted
from tinygen.kernels.cvalues import TensorRef
from tinygen.plan.lifetimes import Buffer
from tinygen.schedule.ir import Schedule


@dataclass(frozen=True)
class Allowance:
    input: str    # Buffer.key of the input read for the last time
    output: str   # Buffer.key of the output written for the first time
    max_delta: int  # offset(output) - offset(input) <= max_delta, or the two must not meet
    step: int
    min_delta: int | None = None  # and >= min_delta, when given
    multiple_of: int = 1  # and max_delta - delta a multiple of it (kernels/call.py Overlap)

    def permits(self, delta: int) -> bool:
        return delta_permitted(delta, self.max_delta, self.min_delta, self.multiple_of)

    def permitted_in(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """The permitted deltas within [lo, hi], as closed intervals (single points on a lattice)."""
        top = min(hi, self.max_delta)
        bottom = max(lo, self.min_delta) if self.min_delta is not None else lo
        if bottom > top:
            return []
        if self.multiple_of == 1:
            return [(bottom, top)]
        first = self.max_delta - (self.max_delta - top + self.multiple_of - 1) // self.multiple_of * self.multiple_of
        return [(d, d) for d in range(first, bottom - 1, -self.multiple_of)][::-1]

    def min_span(self, size_in: int, size_out: int) -> int:
        """The fewest bytes the pair can span together: apart, or at the permitted delta that spans the
        least (span(d) is piecewise linear: its least on an interval is at an end, at 0 or at
        size_in - size_out)."""
        def span(d: int) -> int:
            return max(size_in, d + size_out) - min(0, d)

        best = size_in + size_out
        for lo, hi in self.permitted_in(-size_out, size_in):  # the deltas at which the two meet
            for d in (lo, hi, min(max(0, lo), hi), min(max(size_in - size_out, lo), hi)):
                best = min(best, span(d))
        return best


def overlap_allowances(schedule: Schedule, buffers: tuple[Buffer, ...]) -> tuple[Allowance, ...]:
    by_key = {b.key: b for b in buffers}
    found: list[Allowance] = []
    for position, step in enumerate(schedule.flat_steps()):
        contracts = {(o.input_arg, o.output_arg): o for o in step.call.overlaps}
        if not contracts:
            continue
        pointer_args = [(a.name, step.view(a.name)) for a in step.call.args
                        if isinstance(a.value, TensorRef) and step.view(a.name) is not None]
        written = {v.buffer for name, v in pointer_args if name in {out for _, out in contracts}}
        for in_buffer in {v.buffer for _, v in pointer_args}:
            for out_buffer in written:
                a, b = by_key.get(in_buffer), by_key.get(out_buffer)
                if a is None or b is None or a is b or a.last != position or b.first != position:
                    continue
                deltas = []
                for in_name, in_view in pointer_args:
                    for out_name, out_view in pointer_args:
                        if in_view.buffer != in_buffer or out_view.buffer != out_buffer:
                            continue
                        contract = contracts.get((in_name, out_name))
                        if contract is None:
                            deltas.append(None)
                            continue
                        shift = in_view.offset - out_view.offset
                        deltas.append((contract.max_delta + shift,
                                       None if contract.min_delta is None else contract.min_delta + shift,
                                       contract.multiple_of))
                # a lattice is kept only as a pair's one contract (two lattices seldom meet)
                if deltas and None not in deltas and (len(deltas) == 1 or all(m == 1 for *_, m in deltas)):
                    mins = [lo for _, lo, _ in deltas if lo is not None]
                    found.append(Allowance(in_buffer, out_buffer, min(hi for hi, _, _ in deltas), position,
                                           max(mins) if mins else None, deltas[0][2]))
    return tuple(found)


def lower_bound_bytes(buffers: tuple[Buffer, ...], allowances: tuple[Allowance, ...]) -> int:
    """No placement under these allowances can be smaller than this.

    At each step, the live buffers fall into groups joined by allowances of that step; different
    groups never share a byte. A group spans at least its largest buffer, and at least the sum of
    its sizes less what each allowed pair can share (inclusion-exclusion; Allowance.min_span).
    """
    if not buffers:
        return 0
    size = {b.key: b.size for b in buffers}
    best = 0
    for s in range(min(b.first for b in buffers), max(b.last for b in buffers) + 1):
        live = [b.key for b in buffers if b.first <= s <= b.last]
        parent = {k: k for k in live}

        def find(k: str) -> str:
            while parent[k] != k:
                k = parent[k]
            return k

        saving: dict[str, int] = {}
        pairs = [a for a in allowances if a.step == s and a.input in parent and a.output in parent]
        for a in pairs:
            parent[find(a.input)] = find(a.output)
        for a in pairs:
            span = a.min_span(size[a.input], size[a.output])
            root = find(a.output)
            saving[root] = saving.get(root, 0) + size[a.input] + size[a.output] - span
        groups: dict[str, list[int]] = {}
        for k in live:
            groups.setdefault(find(k), []).append(size[k])
        total = sum(max(max(g), sum(g) - saving.get(r, 0)) for r, g in groups.items())
        best = max(best, total)
    return best
