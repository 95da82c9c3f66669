"""Operator order: among the orders the data flow allows, one that needs the least memory.

A graph with branches (residual blocks, concatenations) can run its branches in several orders,
and which tensors are alive at once depends on it. Two searches give candidate orders, measured
by the whole-tensor live bytes of each step (the buffers alive while it runs, its scratch
included):

- exact, for graphs whose sets of already-run operators (the downsets of the dependency graph)
  number at most `max_states`: dynamic programming over those sets gives an order whose largest
  step is the smallest possible;
- otherwise greedy: at each step, of the operators ready to run, the one whose step is smallest.

The caller measures the candidates and the graph's own order with the real planner (overlaps
and all) and keeps the best, the graph's order on ties.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tinygen.ir.graph import Graph
from tinygen.kernels.call import Alias, KernelCall, Lowered
from tinygen.schedule.lower import alias_roots


@dataclass(frozen=True)
class _OpNode:
    op_index: int
    items: tuple[Lowered, ...]
    reads: frozenset[int]    # buffer roots read
    writes: frozenset[int]   # buffer roots written
    scratch: int


class _Flow:
    """The dependency graph of a lowered sequence, in buffer roots and bytes."""

    def __init__(self, graph: Graph, lowered: tuple[Lowered, ...]) -> None:
        roots = alias_roots(lowered)
        root = lambda t: roots.get(t, t)  # noqa: E731
        live = lambda t: not graph.tensor(t).is_constant  # noqa: E731
        groups: dict[int, list[Lowered]] = {}
        for item in lowered:
            groups.setdefault(item.op_index, []).append(item)
        self.nodes: list[_OpNode] = []
        for op_index, items in groups.items():
            reads, writes, scratch = set(), set(), 0
            for item in items:
                if isinstance(item, KernelCall):
                    reads |= {root(t) for t in item.reads if live(t)}
                    writes |= {root(t) for t in item.writes if live(t)}
                    scratch = max(scratch, item.scratch_bytes)
                elif isinstance(item, Alias):
                    reads |= {root(item.source)} if live(item.source) else set()
            self.nodes.append(_OpNode(op_index, tuple(items), frozenset(reads), frozenset(writes - reads), scratch))
        self.size: dict[int, int] = {}
        for t in graph.tensors:
            if live(t.index):
                r = root(t.index)
                self.size[r] = max(self.size.get(r, 0), t.nbytes)
        producer = {r: i for i, n in enumerate(self.nodes) for r in n.writes}
        self.deps = [frozenset(producer[r] for r in n.reads if r in producer and producer[r] != i)
                     for i, n in enumerate(self.nodes)]
        self.consumers: dict[int, set[int]] = {}
        for i, n in enumerate(self.nodes):
            for r in n.reads:
                self.consumers.setdefault(r, set()).add(i)
        self.inputs = frozenset(root(t) for t in graph.inputs if live(t))
        self.outputs = frozenset(root(t) for t in graph.outputs if live(t))

    def step_bytes(self, done: frozenset[int], v: int) -> int:
        """Bytes alive while node v runs after the nodes in `done`."""
        made = set(self.inputs)
        for i in done:
            made |= self.nodes[i].writes
        alive = {r for r in made if r in self.outputs or any(c not in done for c in self.consumers.get(r, ()))}
        alive |= self.nodes[v].writes
        return sum(self.size.get(r, 0) for r in alive) + self.nodes[v].scratch

    def ready(self, done: frozenset[int]) -> list[int]:
        return [i for i in range(len(self.nodes)) if i not in done and self.deps[i] <= done]

    def lowered(self, order: list[int]) -> tuple[Lowered, ...]:
        return tuple(item for i in order for item in self.nodes[i].items)


def _exact_order(flow: _Flow, max_states: int) -> list[int] | None:
    """Smallest largest step over all orders (DP over downsets), or None past max_states."""
    best: dict[frozenset[int], tuple[int, list[int]]] = {frozenset(): (0, [])}
    frontier = [frozenset()]
    for _ in range(len(flow.nodes)):
        following: dict[frozenset[int], tuple[int, list[int]]] = {}
        for done in frontier:
            peak, order = best[done]
            for v in flow.ready(done):
                after = done | {v}
                candidate = (max(peak, flow.step_bytes(done, v)), order + [v])
                if after not in following or candidate[0] < following[after][0]:
                    following[after] = candidate
        best.update(following)
        if len(best) > max_states:
            return None
        frontier = list(following)
    full = frozenset(range(len(flow.nodes)))
    return best[full][1] if full in best else None


def _greedy_order(flow: _Flow) -> list[int]:
    done: frozenset[int] = frozenset()
    order: list[int] = []
    while len(order) < len(flow.nodes):
        v = min(flow.ready(done), key=lambda i: (flow.step_bytes(done, i), i))
        order.append(v)
        done = done | {v}
    return order


def order_peak(graph: Graph, lowered: tuple[Lowered, ...]) -> int:
    """The largest step of this order, in whole-tensor live bytes."""
    flow = _Flow(graph, lowered)
    done: frozenset[int] = frozenset()
    peak = 0
    for i in range(len(flow.nodes)):
        peak = max(peak, flow.step_bytes(done, i))
        done = done | {i}
    return peak


def order_for_memory(graph: Graph, lowered: tuple[Lowered, ...], measure: Callable[[tuple[Lowered, ...]], int],
                     max_states: int = 20_000) -> tuple[Lowered, ...]:
    """The graph's order, or a searched one where `measure` (the arena it plans to) is smaller."""
    flow = _Flow(graph, lowered)
    if len(flow.nodes) < 3 or all(len(flow.ready(frozenset(range(i)))) <= 1 for i in range(len(flow.nodes))):
        return lowered   # a chain: one order only
    candidates = [flow.lowered(o) for o in (_exact_order(flow, max_states), _greedy_order(flow)) if o is not None]
    best, best_size = lowered, measure(lowered)
    for candidate in candidates:
        if candidate != best:
            size = measure(candidate)
            if size < best_size:
                best, best_size = candidate, size
    return best
