"""The stages wired together: .tflite -> Graph -> kernel calls -> arena plan -> C sources.

Each stage is a function from frozen objects to new ones; CompiledModel keeps every stage's
result so commands and tests can look at any of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tinygen.boards.schema import Board
from tinygen.codegen.emit import emit_model
from tinygen.codegen.sources import GeneratedSources
from tinygen.frontend.tflite_reader import parse_tflite, read_tflite
from tinygen.ir.graph import Graph
from tinygen.kernels.call import Lowered
from tinygen.kernels.optimised import KernelSet, choose_kernels
from tinygen.kernels.variants import Choice
from tinygen.kernels.select import lower_graph
from tinygen.plan.arena import ArenaPlan, plan_arena
from tinygen.plan.lifetimes import buffer_lifetimes


@dataclass(frozen=True)
class CompiledModel:
    graph: Graph
    lowered: tuple[Lowered, ...]
    plan: ArenaPlan
    sources: GeneratedSources
    choices: tuple[Choice, ...] = ()  # why each kernel call got its variant

    @property
    def input_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.input_tensors())

    @property
    def output_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.output_tensors())


def compile_graph(graph: Graph, arena_budget: int | None = None, guard_bytes: int = 0,
                  kernel_set: KernelSet = KernelSet.OPTIMISED, board: Board | None = None) -> CompiledModel:
    """guard_bytes > 0: a debug build that checks the bytes around every buffer after each operator.
    board: the board the code is for (its ISA features choose the kernel variants); by default
    tinygen's default board."""
    features = frozenset(board.core.isa_features) if board is not None else None  # None: the default board's
    lowered, choices = choose_kernels(graph, lower_graph(graph), kernel_set, features)
    plan = plan_arena(buffer_lifetimes(graph, lowered), budget=arena_budget, guard_bytes=guard_bytes)
    return CompiledModel(graph, lowered, plan, emit_model(graph, lowered, plan), choices)


def compile_file(path: Path | str, arena_budget: int | None = None, guard_bytes: int = 0,
                 kernel_set: KernelSet = KernelSet.OPTIMISED, board: Board | None = None) -> CompiledModel:
    return compile_graph(read_tflite(path), arena_budget, guard_bytes, kernel_set, board)


def compile_bytes(data: bytes, name: str = "model", arena_budget: int | None = None,
                  guard_bytes: int = 0, kernel_set: KernelSet = KernelSet.OPTIMISED,
                  board: Board | None = None) -> CompiledModel:
    return compile_graph(parse_tflite(data, name=name), arena_budget, guard_bytes, kernel_set, board)
