"""The stages wired together: .tflite -> Graph -> kernel calls -> schedule -> arena plan -> C sources.

Each stage is a function from frozen objects to new ones; CompiledModel keeps every stage's
result so commands and tests can look at any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinygen.codegen.emit import emit_model
from tinygen.codegen.sources import GeneratedSources
from tinygen.frontend.tflite_reader import parse_tflite, read_tflite
from tinygen.ir.graph import Graph
from tinygen.kernels.call import Lowered
from tinygen.kernels.optimised import KernelSet, choose_kernels
from tinygen.kernels.inplace import apply_inplace, inplace_candidates
from tinygen.kernels.overlap import declare_overlaps
from tinygen.kernels.select import lower_graph
from tinygen.plan.arena import ArenaPlan, plan_arena
from tinygen.plan.contracts import overlap_allowances
from tinygen.plan.lifetimes import buffer_lifetimes
from tinygen.schedule.ir import Schedule
from tinygen.schedule.lower import build_schedule
from tinygen.schedule.order import order_for_memory
from tinygen.schedule.patches import (
    NO_PATCH, PatchPlan, PatchRequest, choose_patch_plan, patch_schedule, stage_allowances,
)


@dataclass(frozen=True)
class CompiledModel:
    graph: Graph
    lowered: tuple[Lowered, ...]
    schedule: Schedule
    plan: ArenaPlan
    sources: GeneratedSources
    patch: PatchPlan | None = None  # the first stage run patch by patch (the schedule's first Loop)

    def tensor_offsets(self) -> dict[int, int]:
        """Arena offset of every activation tensor that exists whole: its buffer's offset plus its view's."""
        buffers = self.plan.buffer_offsets()
        return {t: buffers[v.buffer] + v.offset for t, v in self.schedule.tensor_views if v.buffer in buffers}

    @property
    def input_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.input_tensors())

    @property
    def output_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.output_tensors())


def schedule_and_plan(graph: Graph, lowered: tuple[Lowered, ...], arena_budget: int | None, guard_bytes: int,
                      overlaps: bool, exact_seconds: float = 0.0,
                      patch: PatchPlan | None = None) -> tuple[Schedule, ArenaPlan]:
    schedule = build_schedule(graph, lowered, write_concat_in_place=overlaps and not guard_bytes)
    if patch is not None:
        schedule = patch_schedule(schedule, patch)
    buffers = buffer_lifetimes(schedule)
    allowances = overlap_allowances(schedule, buffers) if overlaps else ()
    if overlaps and patch is not None:
        allowances += stage_allowances(schedule, patch, buffers)
    return schedule, plan_arena(buffers, budget=arena_budget, guard_bytes=guard_bytes, allowances=allowances,
                                exact_seconds=exact_seconds)


def _choose_inplace(graph: Graph, lowered: tuple[Lowered, ...], keep: int = 0) -> tuple[Lowered, ...]:
    """Every in-place variant that lowers the (greedy) arena; the others keep their usual kernel,
    which is faster. keep: the first calls keep theirs (a patch stage runs them)."""
    chosen = frozenset(p for p in inplace_candidates(graph, lowered) if p >= keep)
    if not chosen:
        return lowered
    def arena(positions: frozenset[int]) -> int:
        return schedule_and_plan(graph, declare_overlaps(apply_inplace(lowered, positions)), None, 0, True)[1].arena_bytes
    size = arena(chosen)
    for position in sorted(chosen):
        fewer = chosen - {position}
        if arena(fewer) <= size:
            chosen = fewer
    return apply_inplace(lowered, chosen)


def compile_graph(graph: Graph, arena_budget: int | None = None, guard_bytes: int = 0,
                  kernel_set: KernelSet = KernelSet.OPTIMISED, overlaps: bool = True,
                  exact_seconds: float = 0.0, patch: PatchRequest = NO_PATCH,
                  max_overhead: float = 0.20, patch_budget: int | None = None) -> CompiledModel:
    """guard_bytes > 0: a debug build that checks the bytes around every buffer after each operator.
    overlaps=False: every buffer apart from every other live one (no kernel contracts, no in-place
    variants), as before the schedule had them. exact_seconds: time for the exact placement search.
    patch: run the first stage patch by patch (MCUNetV2); max_overhead bounds the extra MACs that
    --patch auto may spend, as a fraction of the model's. patch_budget: the arena the patch choice
    aims to fit (default arena_budget), where the caller checks the fit itself (boards/fit.py)."""
    kernels = choose_kernels(lower_graph(graph), kernel_set)
    kernels = order_for_memory(graph, kernels, lambda candidate: schedule_and_plan(
        graph, declare_overlaps(candidate), None, guard_bytes, overlaps)[1].arena_bytes)

    def prepared(patch_plan: PatchPlan | None) -> tuple[Lowered, ...]:
        lowered = kernels
        if overlaps and not guard_bytes:
            lowered = _choose_inplace(graph, lowered, keep=patch_plan.split if patch_plan else 0)
        return declare_overlaps(lowered)

    def arena_of(patch_plan: PatchPlan | None) -> ArenaPlan:
        return schedule_and_plan(graph, prepared(patch_plan), None, 0, overlaps, 0.0, patch_plan)[1]

    patch_plan = choose_patch_plan(graph, kernels, patch, max_overhead,
                                   arena_budget if patch_budget is None else patch_budget, arena_of)
    lowered = prepared(patch_plan)
    schedule, plan = schedule_and_plan(graph, lowered, arena_budget, guard_bytes, overlaps, exact_seconds, patch_plan)
    return CompiledModel(graph, lowered, schedule, plan, emit_model(graph, schedule, plan), patch_plan)


def compile_file(path: Path | str, arena_budget: int | None = None, guard_bytes: int = 0,
                 kernel_set: KernelSet = KernelSet.OPTIMISED, overlaps: bool = True,
                 patch: PatchRequest = NO_PATCH, max_overhead: float = 0.20) -> CompiledModel:
    return compile_graph(read_tflite(path), arena_budget, guard_bytes, kernel_set, overlaps,
                         patch=patch, max_overhead=max_overhead)


def compile_bytes(data: bytes, name: str = "model", arena_budget: int | None = None,
                  guard_bytes: int = 0, kernel_set: KernelSet = KernelSet.OPTIMISED,
                  overlaps: bool = True, patch: PatchRequest = NO_PATCH, max_overhead: float = 0.20) -> CompiledModel:
    return compile_graph(parse_tflite(data, name=name), arena_budget, guard_bytes, kernel_set, overlaps,
                         patch=patch, max_overhead=max_overhead)
