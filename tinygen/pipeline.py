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
from tinygen.kernels.overlap import declare_overlaps
from tinygen.kernels.select import lower_graph
from tinygen.plan.arena import ArenaPlan, plan_arena
from tinygen.plan.contracts import overlap_allowances
from tinygen.plan.lifetimes import buffer_lifetimes
from tinygen.schedule.ir import Schedule
from tinygen.schedule.lower import build_schedule


@dataclass(frozen=True)
class CompiledModel:
    graph: Graph
    lowered: tuple[Lowered, ...]
    schedule: Schedule
    plan: ArenaPlan
    sources: GeneratedSources

    @property
    def input_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.input_tensors())

    @property
    def output_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.output_tensors())


def compile_graph(graph: Graph, arena_budget: int | None = None, guard_bytes: int = 0,
                  kernel_set: KernelSet = KernelSet.OPTIMISED) -> CompiledModel:
    """guard_bytes > 0: a debug build that checks the bytes around every buffer after each operator."""
    lowered = declare_overlaps(choose_kernels(lower_graph(graph), kernel_set))
    schedule = build_schedule(graph, lowered)
    buffers = buffer_lifetimes(schedule)
    plan = plan_arena(buffers, budget=arena_budget, guard_bytes=guard_bytes,
                      allowances=overlap_allowances(schedule, buffers))
    return CompiledModel(graph, lowered, schedule, plan, emit_model(graph, schedule, plan))


def compile_file(path: Path | str, arena_budget: int | None = None, guard_bytes: int = 0,
                 kernel_set: KernelSet = KernelSet.OPTIMISED) -> CompiledModel:
    return compile_graph(read_tflite(path), arena_budget, guard_bytes, kernel_set)


def compile_bytes(data: bytes, name: str = "model", arena_budget: int | None = None,
                  guard_bytes: int = 0, kernel_set: KernelSet = KernelSet.OPTIMISED) -> CompiledModel:
    return compile_graph(parse_tflite(data, name=name), arena_budget, guard_bytes, kernel_set)
