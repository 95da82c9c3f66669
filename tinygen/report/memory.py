"""The memory report of `tinygen inspect --html/--json`: per step the live bytes and the buffers
alive, our arena beside the plan's lower bound and TFLite Micro's plan, and a plot of it all.

Per step it also says which kernel variant runs, which overlap decisions of the plan apply there
(an output placed over the input it reads for the last time, at which offsets, under which
contract; in place when the two start at the same byte), and whether the step belongs to the patch
stage (which patch). Buffers that share bytes are counted once in `occupied_bytes`, the union of
the byte ranges alive, beside `live_bytes`, the plain sum of their sizes.

The plan is read through one adapter, `plan_facts`, so that a change of the plan's data model
(overlapping buffers, regions) only has to be followed there.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass

import jinja2

from tinygen.compiler import CompiledModel
from tinygen.plan.lifetimes import Buffer
from tinygen.schedule.ir import Loop
from tinygen.schedule.ir import Step as ScheduleStep
from tinygen.schedule.patches import patch_facts
from tinygen.resources import TEMPLATES_DIR


@dataclass(frozen=True)
class PlacedBuffer:
    label: str
    offset: int
    size: int
    first: int   # first step it is live (-1: before the first call, a graph input)
    last: int    # last step it is live (== number of calls: after the last, a graph output)
    key: str = ""  # the plan's Buffer.key (what its allowances name)


@dataclass(frozen=True)
class PlanFacts:
    """What the report needs from a plan, whatever its data model."""

    buffers: tuple[PlacedBuffer, ...]
    arena_bytes: int
    lower_bound_bytes: int
    method: str
    overlaps: tuple["OverlapDecision", ...] = ()


@dataclass(frozen=True)
class OverlapDecision:
    """An allowance of the plan at one step: `output` may lie over `input` (which that step reads for
    the last time) at offset(output) - offset(input) in [min_delta, max_delta], and max_delta less a
    multiple of `multiple_of`; `shares_bytes` says
    whether the placement took it (the two byte ranges meet), `in_place` whether they start together."""

    step: int
    input: str
    input_offset: int
    output: str
    output_offset: int
    max_delta: int
    min_delta: int | None
    shares_bytes: bool
    multiple_of: int = 1

    @property
    def delta(self) -> int:
        return self.output_offset - self.input_offset

    @property
    def in_place(self) -> bool:
        return self.shares_bytes and self.delta == 0


def plan_facts(compiled: CompiledModel) -> PlanFacts:
    """The adapter from the ArenaPlan (tinygen/plan/arena.py): buffers each at one offset; buffers that
    overlap under a kernel's contract share bytes, so the live sum can exceed the arena."""
    plan = compiled.plan
    buffers = tuple(PlacedBuffer(_describe(p.buffer, compiled), p.offset, p.buffer.size, p.buffer.first, p.buffer.last,
                                 p.buffer.key) for p in plan.placements)
    by_key = {b.key: b for b in buffers}
    overlaps = []
    for a in plan.allowances:
        inp, out = by_key.get(a.input), by_key.get(a.output)
        if inp is None or out is None:
            continue
        meet = inp.offset < out.offset + out.size and out.offset < inp.offset + inp.size
        overlaps.append(OverlapDecision(a.step, inp.label, inp.offset, out.label, out.offset, a.max_delta, a.min_delta,
                                        meet, a.multiple_of))
    return PlanFacts(buffers, plan.arena_bytes, plan.lower_bound_bytes, f"placement '{plan.order}'", tuple(overlaps))


def _describe(buffer: Buffer, compiled: CompiledModel) -> str:
    if buffer.scratch_of is not None:
        return f"scratch of step {buffer.scratch_of}"
    # TFLite names join every fused op's name with ';': the last part names the tensor.
    names = [f"t{t} {(compiled.graph.tensor(t).name or '').split(';')[-1]}".strip() for t in buffer.tensors]
    return " = ".join(names) or buffer.key  # a patch stage's temporary has no model tensor: its own name


@dataclass(frozen=True)
class Step:
    index: int
    operator: str        # "#3 CONV_2D"
    kernel: str
    live_bytes: int
    alive: tuple[str, ...]
    occupied_bytes: int = 0                        # the union of the alive buffers' byte ranges
    overlaps: tuple[OverlapDecision, ...] = ()      # the plan's overlap decisions at this step
    patch_iteration: int | None = None              # which patch, when the step is in the patch stage


def occupied_bytes(buffers: list[PlacedBuffer]) -> int:
    """Bytes of the arena covered by these buffers, each byte once however many buffers share it."""
    total, reach = 0, 0
    for start, end in sorted((b.offset, b.offset + b.size) for b in buffers):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


@dataclass(frozen=True)
class PatchSummary:
    """The patch stage at the top of the report (tinygen/schedule/patches.py PatchPlan)."""

    label: str              # "SPLIT:ROWSxCOLS" or "none"
    mac_overhead: float     # extra MACs / the model's MACs
    operators: int = 0
    grid: tuple[int, int] = (0, 0)
    patches: int = 0
    stage_macs: int = 0     # the stage's MACs run patch by patch, recomputed borders included
    whole_macs: int = 0     # the same operators run on whole tensors
    steps: int = 0          # kernel calls in the stage, every patch's

    @property
    def extra_macs(self) -> int:
        return self.stage_macs - self.whole_macs


@dataclass(frozen=True)
class MemoryReport:
    model: str
    steps: tuple[Step, ...]
    facts: PlanFacts
    tflm_plan_bytes: int | None     # TFLite Micro's activation plan (its arena "head"), None if unknown
    patch: PatchSummary = PatchSummary("none", 0.0)

    @property
    def peak_live_bytes(self) -> int:
        return max((s.live_bytes for s in self.steps), default=0)

    @property
    def peak_occupied_bytes(self) -> int:
        return max((s.occupied_bytes for s in self.steps), default=0)

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "arena_bytes": self.facts.arena_bytes,
            "lower_bound_bytes": self.facts.lower_bound_bytes,
            "tflm_plan_bytes": self.tflm_plan_bytes,
            "plan_method": self.facts.method,
            "peak_live_bytes": self.peak_live_bytes,
            "peak_occupied_bytes": self.peak_occupied_bytes,
            "patch": {"plan": self.patch.label, "mac_overhead": self.patch.mac_overhead,
                      "operators": self.patch.operators, "grid": list(self.patch.grid), "patches": self.patch.patches,
                      "steps": self.patch.steps, "stage_macs": self.patch.stage_macs,
                      "whole_macs": self.patch.whole_macs, "extra_macs": self.patch.extra_macs},
            "steps": [{"step": s.index, "operator": s.operator, "kernel": s.kernel, "live_bytes": s.live_bytes,
                       "alive": list(s.alive), "occupied_bytes": s.occupied_bytes,
                       "in_place": any(o.in_place for o in s.overlaps),
                       "overlaps": [_overlap_json(o) for o in s.overlaps],
                       "patch_iteration": s.patch_iteration} for s in self.steps],
            "buffers": [{"label": b.label, "offset": b.offset, "bytes": b.size, "first_step": b.first,
                         "last_step": b.last} for b in self.facts.buffers],
        }


def _overlap_json(o: OverlapDecision) -> dict:
    return {"input": o.input, "input_offset": o.input_offset, "output": o.output, "output_offset": o.output_offset,
            "delta": o.delta, "max_delta": o.max_delta, "min_delta": o.min_delta, "multiple_of": o.multiple_of,
            "shares_bytes": o.shares_bytes, "in_place": o.in_place}


def _patch_iterations(compiled: CompiledModel) -> list[int | None]:
    """Per flat step (schedule.flat_steps order), the patch iteration it runs in, or None."""
    found: list[int | None] = []
    for item in compiled.schedule.items:
        if isinstance(item, ScheduleStep):
            found.append(None)
        elif isinstance(item, Loop):
            for i, iteration in enumerate(item.iterations):
                found.extend(i for s in iteration if isinstance(s, ScheduleStep))
    return found


def patch_summary(compiled: CompiledModel) -> PatchSummary:
    facts = patch_facts(compiled.patch, compiled.graph)
    plan = compiled.patch
    if plan is None:
        return PatchSummary(facts["patch"], facts["mac_overhead"])
    steps = sum(i is not None for i in _patch_iterations(compiled))
    return PatchSummary(plan.label, facts["mac_overhead"], plan.split, (plan.grid_rows, plan.grid_cols),
                        len(plan.patches), plan.macs, plan.whole_macs, steps)


def memory_report(compiled: CompiledModel, tflm_plan_bytes: int | None) -> MemoryReport:
    facts = plan_facts(compiled)
    # Time is the position in the schedule's flat steps (patch loops unrolled), as in the buffers' lifetimes.
    calls = [step.call for step in compiled.schedule.flat_steps()]
    iterations = _patch_iterations(compiled)
    steps = []
    for index, call in enumerate(calls):
        alive = [b for b in facts.buffers if b.first <= index <= b.last]
        steps.append(Step(index, f"#{call.op_index} {call.op_kind}", call.function, sum(b.size for b in alive),
                          tuple(b.label for b in sorted(alive, key=lambda b: b.offset)), occupied_bytes(alive),
                          tuple(o for o in facts.overlaps if o.step == index), iterations[index]))
    return MemoryReport(compiled.graph.name, tuple(steps), facts, tflm_plan_bytes, patch_summary(compiled))


def render_plot_png(report: MemoryReport) -> bytes:
    """Live bytes per step with the three arena figures, above the buffers' placement in the arena."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [s.index for s in report.steps]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [1, 1.3]})
    top.bar(steps, [s.live_bytes for s in report.steps], width=0.8, color="#4c72b0", alpha=0.6, label="live bytes")
    top.step(steps, [s.occupied_bytes for s in report.steps], where="mid", color="#222222", lw=1,
             label="occupied bytes (shared bytes once)")
    top.axhline(report.facts.arena_bytes, color="#dd8452", lw=2, label=f"tinygen arena {report.facts.arena_bytes:,} B")
    top.axhline(report.facts.lower_bound_bytes, color="#55a868", lw=1.5, ls="--",
                label=f"lower bound {report.facts.lower_bound_bytes:,} B")
    if report.tflm_plan_bytes is not None:
        top.axhline(report.tflm_plan_bytes, color="#c44e52", lw=1.5, ls=":",
                    label=f"TFLite Micro plan {report.tflm_plan_bytes:,} B")
    stage = [s.index for s in report.steps if s.patch_iteration is not None]
    if stage:  # the patch stage: a pale band behind its steps, in both plots
        for axis in (top, bottom):
            axis.axvspan(stage[0] - 0.5, stage[-1] + 0.5, color="#f2e6a0", alpha=0.5, zorder=0,
                         label=f"patch stage {report.patch.label}" if axis is top else None)
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
