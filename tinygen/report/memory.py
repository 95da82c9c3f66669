"""The memory report of `tinygen inspect --html/--json`: per step the live bytes and the buffers
alive, our arena beside the plan's lower bound and TFLite Micro's plan, and a plot of it all.

The plan is read through one adapter, `plan_facts`, so that a change of the plan's data model
(overlapping buffers, regions) only has to be followed there.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import jinja2

from tinygen.kernels.call import KernelCall
from tinygen.pipeline import CompiledModel
from tinygen.plan.lifetimes import Buffer
from tinygen.resources import TEMPLATES_DIR


@dataclass(frozen=True)
class PlacedBuffer:
    label: str
    offset: int
    size: int
    first: int   # first step it is live (-1: before the first call, a graph input)
    last: int    # last step it is live (== number of calls: after the last, a graph output)


@dataclass(frozen=True)
class PlanFacts:
    """What the report needs from a plan, whatever its data model."""

    buffers: tuple[PlacedBuffer, ...]
    arena_bytes: int
    lower_bound_bytes: int
    method: str


def plan_facts(compiled: CompiledModel) -> PlanFacts:
    """The adapter from the ArenaPlan (tinygen/plan/arena.py): buffers each at one offset; buffers that
    overlap under a kernel's contract share bytes, so the live sum can exceed the arena."""
    plan = compiled.plan
    buffers = tuple(PlacedBuffer(_describe(p.buffer, compiled), p.offset, p.buffer.size, p.buffer.first, p.buffer.last)
                    for p in plan.placements)
    return PlanFacts(buffers, plan.arena_bytes, plan.lower_bound_bytes, f"placement '{plan.order}'")


def _describe(buffer: Buffer, compiled: CompiledModel) -> str:
    if buffer.scratch_of is not None:
        return f"scratch of step {buffer.scratch_of}"
    # TFLite names join every fused op's name with ';': the last part names the tensor.
    names = [f"t{t} {(compiled.graph.tensor(t).name or '').split(';')[-1]}".strip() for t in buffer.tensors]
    return " = ".join(names)


@dataclass(frozen=True)
class Step:
    index: int
    operator: str        # "#3 CONV_2D"
    kernel: str
    live_bytes: int
    alive: tuple[str, ...]


@dataclass(frozen=True)
class MemoryReport:
    model: str
    steps: tuple[Step, ...]
    facts: PlanFacts
    tflm_plan_bytes: int | None     # TFLite Micro's activation plan (its arena "head"), None if unknown

    @property
    def peak_live_bytes(self) -> int:
        return max((s.live_bytes for s in self.steps), default=0)

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "arena_bytes": self.facts.arena_bytes,
            "lower_bound_bytes": self.facts.lower_bound_bytes,
            "tflm_plan_bytes": self.tflm_plan_bytes,
            "plan_method": self.facts.method,
            "steps": [{"step": s.index, "operator": s.operator, "kernel": s.kernel, "live_bytes": s.live_bytes,
                       "alive": list(s.alive)} for s in self.steps],
            "buffers": [{"label": b.label, "offset": b.offset, "bytes": b.size, "first_step": b.first,
                         "last_step": b.last} for b in self.facts.buffers],
        }


def memory_report(compiled: CompiledModel, tflm_plan_bytes: int | None) -> MemoryReport:
    facts = plan_facts(compiled)
    calls = [item for item in compiled.lowered if isinstance(item, KernelCall)]
    steps = []
    for index, call in enumerate(calls):
        alive = [b for b in facts.buffers if b.first <= index <= b.last]
        steps.append(Step(index, f"#{call.op_index} {call.op_kind}", call.function, sum(b.size for b in alive),
                          tuple(b.label for b in sorted(alive, key=lambda b: b.offset))))
    return MemoryReport(compiled.graph.name, tuple(steps), facts, tflm_plan_bytes)


def render_plot_png(report: MemoryReport) -> bytes:
    """Live bytes per step with the three arena figures, above the buffers' placement in the arena."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [s.index for s in report.steps]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]})
    top.bar(steps, [s.live_bytes for s in report.steps], width=0.8, color="#4c72b0", alpha=0.6, label="live bytes")
    top.axhline(report.facts.arena_bytes, color="#dd8452", lw=2, label=f"tinygen arena {report.facts.arena_bytes:,} B")
    top.axhline(report.facts.lower_bound_bytes, color="#55a868", lw=1.5, ls="--",
                label=f"lower bound {report.facts.lower_bound_bytes:,} B")
    if report.tflm_plan_bytes is not None:
        top.axhline(report.tflm_plan_bytes, color="#c44e52", lw=1.5, ls=":",
                    label=f"TFLite Micro plan {report.tflm_plan_bytes:,} B")
    top.set_ylabel("bytes")
    top.set_title(f"{report.model}: memory over the steps of invoke()")
    top.legend(loc="upper right", fontsize=8)
    colours = plt.get_cmap("tab20")
    last_step = len(steps) - 1
    for i, b in enumerate(report.facts.buffers):
        start, end = max(b.first, 0) - 0.4, min(b.last, last_step) + 0.4
        bottom.broken_barh([(start, end - start)], (b.offset, b.size), facecolors=colours(i % 20), edgecolor="black",
                           linewidth=0.4)
    bottom.axhline(report.facts.arena_bytes, color="#dd8452", lw=1)
    bottom.set_ylim(0, max(report.facts.arena_bytes, 1) * 1.05)
    bottom.set_ylabel("arena offset (bytes)")
    bottom.set_xlabel("step (kernel call)")
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=100)
    plt.close(fig)
    return out.getvalue()


def render_html(report: MemoryReport, png: bytes) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), undefined=jinja2.StrictUndefined,
                             autoescape=True)
    return env.get_template("report/memory.html.j2").render(
        report=report, plot_base64=base64.b64encode(png).decode("ascii"))
