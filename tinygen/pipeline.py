"""The stages wired together: .tflite -> Graph -> kernel calls -> arena plan -> C sources.

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
from tinygen.kernels.select import lower_graph
from tinygen.plan.arena import ArenaPlan, plan_arena
from tinygen.plan.lifetimes import buffer_lifetimes
from tinygen.schedule.patches import NO_PATCH, PatchPlan, PatchRequest, apply_patch_plan, choose_patch_plan


@dataclass(frozen=True)
class CompiledModel:
    graph: Graph
    lowered: tuple[Lowered, ...]
    plan: ArenaPlan
    sources: GeneratedSources
    patch: PatchPlan | None = None  # the first stage run patch by patch (graph then has its buffers)

    @property
    def input_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.input_tensors())

    @property
    def output_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.output_tensors())


def compile_graph(graph: Graph, arena_budget: int | None = None, guard_bytes: int = 0,
                  kernel_set: KernelSet = KernelSet.OPTIMISED, patch: PatchRequest = NO_PATCH,
                  max_overhead: float = 0.20) -> CompiledModel:
    """guard_bytes > 0: a debug build that checks the bytes around every buffer after each operator.
    patch: run the first stage patch by patch (MCUNetV2); max_overhead bounds the extra MACs of
    --patch auto, as a fraction of the model's."""
    lowered = choose_kernels(lower_graph(graph), kernel_set)
    patch_plan = choose_patch_plan(graph, lowered, patch, max_overhead, arena_budget)
    if patch_plan is not None:
        graph, lowered = apply_patch_plan(graph, lowered, patch_plan)
    plan = plan_arena(buffer_lifetimes(graph, lowered), budget=arena_budget, guard_bytes=guard_bytes)
    return CompiledModel(graph, lowered, plan, emit_model(graph, lowered, plan), patch_plan)


def compile_file(path: Path | str, arena_budget: int | None = None, guard_bytes: int = 0,
                 kernel_set: KernelSet = KernelSet.OPTIMISED, patch: PatchRequest = NO_PATCH,
                 max_overhead: float = 0.20) -> CompiledModel:
    return compile_graph(read_tflite(path), arena_budget, guard_bytes, kernel_set, patch, max_overhead)


def compile_bytes(data: bytes, name: str = "model", arena_budget: int | None = None,
                  guard_bytes: int = 0, kernel_set: KernelSet = KernelSet.OPTIMISED,
                  patch: PatchRequest = NO_PATCH, max_overhead: float = 0.20) -> CompiledModel:
    return compile_graph(parse_tflite(data, name=name), arena_budget, guard_bytes, kernel_set, patch, max_overhead)
