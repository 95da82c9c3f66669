"""The fit check: does a compiled model fit a board's RAM and flash, before anything is built?

RAM  = the planned arena + the stack the board reserves + the runtime's own statics + what the
       board's framework takes (Arduino core, RTOS; approximate, from the board file).
Flash = the model's constant tensors + the code and its constants (an upper estimate: see
       code_flash_estimate) + what the framework takes.
Over budget is one error naming every size, the margin and the best plan the planner found.
"""

from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from tinygen.boards.schema import RUNTIME_RAM_RESERVE_BYTES, Board
from tinygen.errors import PlanError
from tinygen.ir.graph import Graph
from tinygen.plan.arena import ArenaPlan

# Measured on mps2-an386 (Cortex-M4, -O2): the kernels, invoke() and the serial application take
# 11.5 KiB (KWS) to 12.5 KiB (VWW) of .text; beyond the weights, .rodata holds about 4 bytes per
# output channel of a per-channel tensor (requantisation parameters) and 1-3 KiB more. So KWS
# needs 17.0 KiB besides its weights (estimated 22.5), VWW 36.8 KiB (estimated 39.4). The margin
# of the base covers larger code on other ISAs (RISC-V, Xtensa). 2026-12-03, with the eight-row
# packed FC's unrolled runs (16 blocks, and 32 for per-tensor layers; its dispatch keeps them all):
# the example model 26.0 KiB besides its weights (tests/test_catalogue.py's build); stop 25, with the
# plane depthwise (5 KiB, both strides' asm): 29.6 KiB; stop 26, with the USAT epilogues (the pair
# conv's own loop, the channel-pair depthwise's asm per form) and the pair FC's single loads: 31.8
# KiB. The estimate also decides what IC's --flash-budget leaves for int16-widened weights: at 35 KiB
# it widens one layer fewer (IC 18.1 M -> 19.8 M estimated cycles), so it stays near the measure.
CODE_FLASH_ESTIMATE_BYTES = 33 * 1024
FLASH_BYTES_PER_CHANNEL = 4


@dataclass(frozen=True)
class Fit:
    board: str
    arena_bytes: int
    stack_bytes: int
    runtime_ram_bytes: int
    framework_ram_bytes: int
    ram_budget_bytes: int
    weights_bytes: int
    code_bytes: int
    framework_flash_bytes: int
    flash_budget_bytes: int
    plan_order: str
    peak_live_bytes: int

    @property
    def ram_bytes(self) -> int:
        return self.arena_bytes + self.stack_bytes + self.runtime_ram_bytes + self.framework_ram_bytes

    @property
    def flash_bytes(self) -> int:
        return self.weights_bytes + self.code_bytes + self.framework_flash_bytes

    @property
    def ram_margin(self) -> int:
        return self.ram_budget_bytes - self.ram_bytes

    @property
    def flash_margin(self) -> int:
        return self.flash_budget_bytes - self.flash_bytes

    @property
    def fits(self) -> bool:
        return self.ram_margin >= 0 and self.flash_margin >= 0

    def to_json(self) -> dict:
        return {"board": self.board, "fits": self.fits, "ram_bytes": self.ram_bytes,
                "ram_budget_bytes": self.ram_budget_bytes, "ram_margin": self.ram_margin,
                "arena_bytes": self.arena_bytes, "stack_bytes": self.stack_bytes,
                "runtime_ram_bytes": self.runtime_ram_bytes, "framework_ram_bytes": self.framework_ram_bytes,
                "flash_bytes": self.flash_bytes, "flash_budget_bytes": self.flash_budget_bytes,
                "flash_margin": self.flash_margin, "weights_bytes": self.weights_bytes,
                "code_bytes": self.code_bytes, "framework_flash_bytes": self.framework_flash_bytes}

    def problem(self) -> str | None:
        """One line saying what does not fit and by how much, or None."""
        parts = []
        if self.ram_margin < 0:
            terms = _terms(("arena", self.arena_bytes), ("stack", self.stack_bytes),
                           ("runtime", self.runtime_ram_bytes), ("framework", self.framework_ram_bytes))
            arena_budget = self.ram_budget_bytes - (self.ram_bytes - self.arena_bytes)
            parts.append(f"RAM: needs {self.ram_bytes:,} B ({terms}), the board has {self.ram_budget_bytes:,} B: "
                         f"{-self.ram_margin:,} B over (the arena may take at most {max(arena_budget, 0):,} B)")
        if self.flash_margin < 0:
            terms = _terms(("weights", self.weights_bytes), ("code about", self.code_bytes),
                           ("framework", self.framework_flash_bytes))
            parts.append(f"flash: needs {self.flash_bytes:,} B ({terms}), the board has {self.flash_budget_bytes:,} B: "
                         f"{-self.flash_margin:,} B over")
        if not parts:
            return None
        return (f"the model does not fit board '{self.board}': " + "; ".join(parts)
                + f" (best plan tried: order '{self.plan_order}', arena {self.arena_bytes:,} B, "
                  f"tensors live at once at most {self.peak_live_bytes:,} B)")


def _terms(*named: tuple[str, int]) -> str:
    """"arena 55,296 + stack 2,048": the parts of a sum, those that are zero left out."""
    return " + ".join(f"{name} {value:,}" for name, value in named if value)


def weights_bytes(graph: Graph, lowered: tuple = ()) -> int:
    """The model's constant data in flash: every constant tensor, or, given the kernel calls, the
    constant tensors they read plus their own arrays (kernel variants re-lay out and widen weights)."""
    if not lowered:
        return sum(t.nbytes for t in graph.tensors if t.is_constant)
    from tinygen.kernels.call import KernelCall
    from tinygen.kernels.cvalues import ConstArray, TensorRef

    read: set[int] = set()
    own = 0
    for call in (item for item in lowered if isinstance(item, KernelCall)):
        for arg in call.args:
            if isinstance(arg.value, ConstArray):
                own += np.asarray(arg.value.values).nbytes
            elif isinstance(arg.value, TensorRef) and graph.tensor(arg.value.tensor).is_constant:
                read.add(arg.value.tensor)
    return own + sum(graph.tensor(t).nbytes for t in read)


def code_flash_estimate(graph: Graph) -> int:
    channels = sum(len(t.quant.scales) for t in graph.tensors if t.is_constant and t.quant and t.quant.per_channel)
    return CODE_FLASH_ESTIMATE_BYTES + FLASH_BYTES_PER_CHANNEL * channels


def measure_fit(board: Board, graph: Graph, plan: ArenaPlan, lowered: tuple = ()) -> Fit:
    framework_flash = board.platformio.flash_overhead_bytes if board.platformio else 0
    return Fit(board=board.name, arena_bytes=plan.arena_bytes, stack_bytes=board.memory.stack_bytes,
               runtime_ram_bytes=RUNTIME_RAM_RESERVE_BYTES, framework_ram_bytes=board.framework_ram_bytes,
               ram_budget_bytes=board.ram_budget_bytes, weights_bytes=weights_bytes(graph, lowered),
               code_bytes=code_flash_estimate(graph), framework_flash_bytes=framework_flash,
               flash_budget_bytes=board.memory.flash_budget, plan_order=plan.order,
               peak_live_bytes=plan.peak_live_bytes)


def check_fit(board: Board, graph: Graph, plan: ArenaPlan, lowered: tuple = ()) -> Fit:
    """The fit, or a PlanError naming the sizes and the margin when the model does not fit. lowered:
    the kernel calls chosen, whose own constant data (widened weights) the flash estimate counts."""
    fit = measure_fit(board, graph, plan, lowered)
    problem = fit.problem()
    if problem:
        raise PlanError(problem)
    return fit
