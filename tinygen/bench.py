"""The benchmark: MLPerf Tiny models on a board, against the anchors in ../shared/docs/anchors.md.

Instructions are exact counts of one invoke() in QEMU under -icount shift=0 (the firmware's
SysTick edge counter); estimated Cortex-M4 cycles come from the project's TCG plugin
(tinygen/device/cycles.py, docs/cycle-model.md), on Cortex-M4 boards only; arena bytes come from the
plan (without patches, and with `--patch auto` where it patches: issue 7's table); flash and RAM
from the ELF. The figures beside them are the anchors' TFLite Micro
measurements on the same emulated Cortex-M4. The report ends with a machine-readable block that
the regression guard in tests/test_mlperf_qemu.py reads (`recorded_figures`).
"""

from __future__ import annotations

import datetime
import json
import platform
import re
from dataclasses import dataclass
from pathlib import Path

from tinygen import __version__
from tinygen.boards.catalog import load_board
from tinygen.device.cycles import CYCLE_MODEL_CORES, CoreLoad, RegionCount, core_loads
from tinygen.jobs import MANIFEST, Announce, RunReport, read_model_source, run_on_board
from tinygen.passes.choose_kernels import KernelSet
from tinygen.compiler import compile_graph
from tinygen.schedule.patches import PatchRequest


@dataclass(frozen=True)
class Anchor:
    key: str
    file: str
    tflm_cmsis_instructions: int
    tflm_reference_instructions: int
    tflm_plan_bytes: int        # TFLM's activation plan (arena head)
    tflm_arena_bytes: int       # smallest working arena of the CMSIS-NN build
    tflm_flash_bytes: int       # int8-only TFLM firmware, model included
    target_instructions: int
    target_ram_bytes: int
    macs: int
    tflm_cmsis_cycles: int      # estimated Cortex-M4 cycles (the anchors' 2026-12 re-measurement)
    best_published_macs_per_cycle: float  # the better of X-CUBE-AI 10.2 and Plumerai, real M4 cycles


# ../shared/docs/anchors.md, measured on mps2-an386 (Cortex-M4) with the same method.
ANCHORS = (
    Anchor("AD", "ad01_int8.tflite", 583_238, 1_952_556, 768, 3_012, 319_376, 290_000, 768,
           264_192, 728_477, 0.54),
    Anchor("IC", "resnet8_int8.tflite", 29_863_772, 107_405_262, 49_152, 55_000, 169_084, 14_900_000, 34_000,
           12_501_632, 36_915_420, 0.63),
    Anchor("KWS", "kws_dscnn_int8.tflite", 7_700_237, 43_042_791, 16_000, 22_824, 127_356, 3_850_000, 8_192,
           2_656_768, 9_311_079, 0.51),
    Anchor("VWW", "vww_mobilenet_int8.tflite", 24_102_775, 100_251_296, 73_728, 100_712, 406_708, 12_000_000, 32_768,
           7_489_664, 29_507_219, 0.70),
)

# TFLM's instructions per invoke on the other emulated cores (anchors.md): CMSIS-NN where it exists,
# TFLM's reference kernels on RISC-V. Keyed by board; boards not here have no anchor.
OTHER_CORE_ANCHORS = {
    "mps2-an500": ("Cortex-M7, TFLM + CMSIS-NN", {"AD": 583_519, "IC": 30_026_619, "KWS": 7_646_052, "VWW": 24_026_399}),
    "mps3-an547": ("Cortex-M55, TFLM + CMSIS-NN (MVE)",
                   {"AD": 150_289, "IC": 4_912_115, "KWS": 1_816_153, "VWW": 6_559_149}),
    "riscv32-virt": ("RV32IMAC, TFLM reference kernels",
                     {"AD": 2_514_260, "IC": 127_247_672, "KWS": 45_755_395, "VWW": 114_570_291}),
}
FIGURES_MARK = "<!-- tinygen-bench figures (read by the regression guard, tests/test_mlperf_qemu.py) -->"


@dataclass(frozen=True)
class BenchRow:
    anchor: Anchor
    report: RunReport      # the default kernels (optimised twins where they apply), whole tensors (--patch none)
    reference: RunReport   # the same model with runtime_c's reference kernels only
    # The `--patch auto` build, run only where auto patches; None: auto keeps whole tensors (= report).
    patched: RunReport | None = None
    # The --flash-budget the default build was rebuilt with, where its fastest kernels' data took the
    # firmware past TFLM's int8-only flash (run_benchmark); None: built without one.
    flash_budget: int | None = None

    @property
    def auto(self) -> RunReport:
        """What `--patch auto` builds: the patched build, or the whole-tensor one where auto does not patch."""
        return self.patched or self.report

    @property
    def instructions(self) -> int:
        return self.report.to_json()["instructions"]

    @property
    def reference_instructions(self) -> int:
        return self.reference.to_json()["instructions"]

    @property
    def cycles(self) -> int | None:
        """Estimated Cortex-M4 cycles of the default build's invoke() (the most over the inputs)."""
        return max((c.cycles for c in self.report.cycles), default=None)

    @property
    def counted(self) -> RegionCount | None:
        """The cycle plugin's count of the input that took the most cycles."""
        return max(self.report.cycles, key=lambda c: c.cycles, default=None)

    @property
    def bit_exact(self) -> bool:
        return self.report.bit_exact and self.reference.bit_exact and self.auto.bit_exact


def counts_cycles(board: str) -> bool:
    """The plugin's model is a Cortex-M4's: on other cores the benchmark reports instructions only."""
    return load_board(board).core.cpu in CYCLE_MODEL_CORES


def held_to_tflm_flash(board: str) -> bool:
    """Whether a build over TFLM's int8-only flash is rebuilt within it: on Arm cores, whose Thumb code
    that figure (measured for the Cortex-M4) describes. Not on RISC-V, whose code is larger, and where
    the budget left AD's FCs to the portable twin: 3.11 M instructions against 0.92 M (measured)."""
    return not load_board(board).core.arch.startswith("rv")


AUTO_PATCH = PatchRequest("auto")


def auto_patches(model: Path, board: str) -> bool:
    """Whether `--patch auto` patches this model on this board: the choice alone, in seconds, so that
    models it leaves whole are not built and run twice. Same budget as the build's (jobs.build_for_board)."""
    compiled = compile_graph(read_model_source(model).graph, patch=AUTO_PATCH,
                             patch_budget=load_board(board).arena_budget_bytes)
    return compiled.patch is not None


def run_benchmark(models_dir: Path, board: str, build_root: Path, inputs: int = 1,
                  announce: Announce = lambda m: None) -> list[BenchRow]:
    rows = []
    cycles = counts_cycles(board)
    for anchor in ANCHORS:
        model = models_dir / anchor.file
        announce(f"benchmark: {anchor.key} ({model.name})")
        report = run_on_board(model, board, build_root / model.stem, random_count=inputs, seed=1, announce=announce,
                              count_cycles=cycles)
        budget = None
        if held_to_tflm_flash(board) and report.flash_bytes > anchor.tflm_flash_bytes:
            # The fastest variants' own data (int16 weights) leave TFLM's flash: the firmware the targets
            # count is the one within it, the variants then chosen by instructions saved per byte.
            budget = anchor.tflm_flash_bytes
            announce(f"benchmark: {anchor.key} is {report.flash_bytes:,} B of flash, over TFLM's {budget:,}: "
                     f"rebuilt with --flash-budget {budget}")
            report = run_on_board(model, board, build_root / model.stem, random_count=inputs, seed=1,
                                  announce=announce, count_cycles=cycles, flash_budget=budget)
        reference = run_on_board(model, board, build_root / f"{model.stem}-reference", random_count=inputs, seed=1,
                                 announce=announce, kernel_set=KernelSet.REFERENCE)
        patched = None
        if auto_patches(model, board):
            patched = run_on_board(model, board, build_root / f"{model.stem}-patched", random_count=inputs, seed=1,
                                   announce=announce, patch=AUTO_PATCH)
        rows.append(BenchRow(anchor, report, reference, patched, budget))
    return rows


def _ratio(ours: int, theirs: int) -> str:
    return f"{ours / theirs:.2f}"


# The classes of docs/cycle-model.md grouped for the "where the cycles go" table.
CYCLE_GROUPS = (
    ("ALU", ("alu",)),
    ("MUL / DSP MAC", ("mul", "dsp_mac", "div")),
    ("single loads/stores", ("load", "store")),
    ("LDRD/STRD, LDM/STM", ("ldrd_strd", "ldm_pop", "stm_push")),
    ("branches, IT", ("branch", "cond_branch", "table_branch", "it")),
    ("other", ("fp", "fp_xfer", "fp_mac", "fp_div", "fp_ldst", "sys", "unknown")),
)


def _instruction_table(rows: list[BenchRow], board: str) -> list[str]:
    if counts_cycles(board):
        return _m4_table(rows)
    label, figures = OTHER_CORE_ANCHORS.get(load_board(board).name, ("no anchor for this board", {}))
    lines = [
        f"The cycle model is a Cortex-M4's (docs/cycle-model.md): on `{board}` instructions only.",
        "",
        f"| model | tinygen | TFLM ({label}) | ratio | bit-exact |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        theirs = figures.get(r.anchor.key)
        lines.append(f"| {r.anchor.key} | {r.instructions:,} | {f'{theirs:,}' if theirs else '—'} "
                     f"| {_ratio(r.instructions, theirs) if theirs else '—'} | {'yes' if r.bit_exact else 'NO'} |")
    return lines


def _m4_table(rows: list[BenchRow]) -> list[str]:
    lines = [
        "| model | MACs | tinygen instructions | TFLM + CMSIS-NN | ratio | tinygen est. cycles | TFLM + CMSIS-NN "
        "| ratio | MAC / est. cycle | TFLM's | best published (real M4) | target instructions | bit-exact |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        a, cycles = r.anchor, r.cycles
        cycle_cells = (f"{cycles:,} | {a.tflm_cmsis_cycles:,} | {_ratio(cycles, a.tflm_cmsis_cycles)} "
                       f"| {a.macs / cycles:.2f}") if cycles else "— | — | — | —"
        lines.append(
            f"| {a.key} | {a.macs:,} | {r.instructions:,} | {a.tflm_cmsis_instructions:,} "
            f"| {_ratio(r.instructions, a.tflm_cmsis_instructions)} | {cycle_cells} "
            f"| {a.macs / a.tflm_cmsis_cycles:.2f} | {a.best_published_macs_per_cycle:.2f} "
            f"| ≤ {a.target_instructions:,} | {'yes' if r.bit_exact else 'NO'} |")
    if all(r.cycles for r in rows):
        lines += ["", "Where the estimated cycles go (share of each model's cycles), and how the estimate moves with",
                  "the model's settings (docs/cycle-model.md: P = 1 or 3 instead of 2; IT folded after a 16-bit "
                  "instruction; the address-after-ALU stall charged):", "",
                  "| model | " + " | ".join(name for name, _ in CYCLE_GROUPS)
                  + " | P = 1 / P = 3 | IT folded | address-after-ALU charged |",
                  "|---|" + "---:|" * len(CYCLE_GROUPS) + "---:|---:|---:|"]
        for r in rows:
            c = r.counted
            shares = [sum(c.class_cycles.get(k, 0) for k in classes) / c.cycles for _, classes in CYCLE_GROUPS]
            lines.append(f"| {r.anchor.key} | " + " | ".join(f"{100 * x:.1f} %" for x in shares)
                         + f" | −{100 * c.taken_branches / c.cycles:.1f} % / +{100 * c.taken_branches / c.cycles:.1f} % "
                         f"| −{100 * c.it_foldable / c.cycles:.1f} % | +{100 * c.agu_pairs / c.cycles:.1f} % |")
        lines += _function_table(rows)
    return lines


def source_functions(functions: dict[str, tuple[int, int]]) -> dict[str, tuple[int, int]]:
    """The flat profile by source function: GCC's clones (name.isra.0, name.constprop.0.isra.0,
    name.part.0) added to the function they were made from."""
    merged: dict[str, tuple[int, int]] = {}
    for name, (instructions, cycles) in functions.items():
        base = name.split(".", 1)[0]
        before = merged.get(base, (0, 0))
        merged[base] = (before[0] + instructions, before[1] + cycles)
    return merged


def _function_table(rows: list[BenchRow], top: int = 4) -> list[str]:
    """The functions that take the most estimated cycles, per model (a flat profile: callees apart)."""
    if not all(r.counted and r.counted.functions for r in rows):
        return []
    lines = ["", f"The {top} functions that take the most estimated cycles (share of the model's cycles; a flat profile):",
             "", "| model | " + " | ".join(f"#{i + 1}" for i in range(top)) + " |", "|---|" + "---|" * top]
    for r in rows:
        c = r.counted
        ranked = sorted(source_functions(c.functions).items(), key=lambda kv: -kv[1][1])[:top]
        cells = [f"`{name}` {100 * cycles / c.cycles:.1f} %" for name, (_, cycles) in ranked]
        lines.append(f"| {r.anchor.key} | " + " | ".join(cells + [""] * (top - len(cells))) + " |")
    return lines


TARGET_RATIO = 0.5  # anchors.md: at most half TFLM + CMSIS-NN's instructions and estimated cycles, on the M4


def _verdict(ratio: float, limit: float) -> str:
    return "met" if ratio <= limit else f"missed, {ratio / limit:.2f}x the target"


def _target_verdict(arena: int, target: int) -> str:
    return "met" if arena <= target else f"missed by {arena - target:,} B"


def _flash_verdict(r: BenchRow) -> str:
    flash, tflm = r.report.flash_bytes, r.anchor.tflm_flash_bytes
    budget = f" (`--flash-budget {r.flash_budget}`)" if r.flash_budget else ""
    return f"{flash:,} vs {tflm:,}{budget}: " + ("met" if flash < tflm else f"missed by {flash - tflm + 1:,} B")


def _targets_table(rows: list[BenchRow]) -> list[str]:
    """Where each target of anchors.md is met or missed, by how much, and where the time goes."""
    if not all(r.cycles for r in rows):
        return []
    lines = ["", "## Targets (anchors.md): met or missed, by how much", "",
             "| model | instructions / TFLM + CMSIS-NN (≤ 0.50) | est. cycles / TFLM + CMSIS-NN (≤ 0.50) "
             "| MAC / est. cycle (> best published) | peak RAM, `--patch auto` (≤ target) "
             "| firmware flash (< TFLM int8-only) | the time goes to |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        a, c = r.anchor, r.counted
        instr = r.instructions / a.tflm_cmsis_instructions
        cycles = r.cycles / a.tflm_cmsis_cycles
        macs = a.macs / r.cycles
        top = max(source_functions(c.functions).items(), key=lambda kv: kv[1][1], default=None)
        where = f"`{top[0]}` ({100 * top[1][1] / c.cycles:.0f} %)" if top else "—"
        lines.append(
            f"| {a.key} | {instr:.2f}: {_verdict(instr, TARGET_RATIO)} | {cycles:.2f}: {_verdict(cycles, TARGET_RATIO)} "
            f"| {macs:.2f} vs {a.best_published_macs_per_cycle:.2f}: "
            f"{'met' if macs > a.best_published_macs_per_cycle else f'missed, needs {a.best_published_macs_per_cycle / macs:.2f}x'} "
            f"| {r.auto.arena_bytes:,} vs {a.target_ram_bytes:,}: {_target_verdict(r.auto.arena_bytes, a.target_ram_bytes)} "
            f"| {_flash_verdict(r)} | {where} |")
    lines += ["", "Why a target is missed: the last column names where the cycles go; docs/kernel-variants.md gives "
              "each kernel's cost per MAC, what is left besides its inner loop (epilogues, window copies, borders) "
              "and what was tried and measured worse. Peak RAM with and without patches is in the issue 7 table below."]
    return lines


def _memory_table(rows: list[BenchRow]) -> list[str]:
    """Issue 7's figures: peak RAM with whole tensors and with `--patch auto`, each beside its lower bound,
    TFLM's plan and the target; the patch plan, its extra MACs and what they cost in instructions."""
    lines = [
        "",
        "## Peak RAM: whole tensors and `--patch auto` (issue 7)",
        "",
        "| model | whole tensors: arena | lower bound | `--patch auto`: arena | lower bound | patch plan "
        "| MAC overhead | TFLM activation plan | target peak RAM | `--patch auto` vs target | instructions, whole tensors "
        "| instructions, patched | patched / whole | bit-exact (patched) |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        a, whole, auto, patched = r.anchor, r.report, r.auto, r.patched
        instruction_cells = (f"{patched.to_json()['instructions']:,} | "
                             f"{_ratio(patched.to_json()['instructions'], r.instructions)} | "
                             f"{'yes' if patched.bit_exact else 'NO'}") if patched else "— (not patched) | — | —"
        lines.append(
            f"| {a.key} | {whole.arena_bytes:,} | {whole.lower_bound_bytes:,} | {auto.arena_bytes:,} "
            f"| {auto.lower_bound_bytes:,} | {f'`{auto.patch}`' if patched else 'none'} "
            f"| {100 * auto.mac_overhead:.1f} % | {a.tflm_plan_bytes:,} | ≤ {a.target_ram_bytes:,} "
            f"| {_target_verdict(auto.arena_bytes, a.target_ram_bytes)} | {r.instructions:,} | {instruction_cells} |")
    lines += [
        "",
        "Peak RAM is the plan's `arena_bytes`: inputs, outputs and scratch counted (VWW's 27,648-byte input",
        "image too). The lower bound is the plan's own: no placement of that schedule's buffers is smaller.",
        "Patch plan SPLIT:ROWSxCOLS: the first SPLIT operators run patch by patch over that grid of their",
        "output (MCUNetV2); the MAC overhead is the recomputed borders' extra MACs over the model's. The",
        "patched build is built and run (bit-exact checked, instructions counted) only where `--patch auto`",
        "chooses a plan on this board; elsewhere auto's build is the whole-tensor one.",
    ]
    return lines


def figures_json(rows: list[BenchRow], board: str) -> dict:
    # "instructions" and "arena_bytes" stay the whole-tensor build's (the guard compares against them);
    # the patched build's figures are beside them, under their own names.
    return {"board": board, "models": {
        r.anchor.key: {"instructions": r.instructions, "cycles": r.cycles,
                       "reference_instructions": r.reference_instructions, "arena_bytes": r.report.arena_bytes,
                       "flash_bytes": r.report.flash_bytes, "lower_bound_bytes": r.report.lower_bound_bytes,
                       "patch": r.auto.patch if r.patched else "none",
                       "patched_arena_bytes": r.auto.arena_bytes,
                       "patched_lower_bound_bytes": r.auto.lower_bound_bytes,
                       "mac_overhead": r.auto.mac_overhead,
                       "patched_instructions": r.patched.to_json()["instructions"] if r.patched else None}
        for r in rows}}


def recorded_figures(markdown: str) -> dict:
    """The machine-readable block of a BENCHMARKS.md written by render_markdown."""
    found = re.search(re.escape(FIGURES_MARK) + r"\s*```json\n(.*?)```", markdown, re.S)
    if found is None:
        raise ValueError("no tinygen-bench figures block in this file")
    return json.loads(found.group(1))


GUARD_MARGIN = 0.01  # counts are deterministic: a guard against regressions, not a timing


def instruction_regression(figures: dict, key: str, board: str, instructions: int, patched: bool = False) -> str | None:
    """Why `instructions` on `board` is a regression against the recorded figures (more than 1 % above
    them), or None when it is not. patched: a `--patch auto` build that patches, held to the patched
    build's recorded figure."""
    if figures["board"] != board:
        return f"BENCHMARKS.md was recorded on {figures['board']}, not {board}"
    recorded = figures["models"][key]["patched_instructions" if patched else "instructions"]
    if recorded is None:
        return f"{key}: BENCHMARKS.md records no {'patched' if patched else 'unpatched'} build"
    if instructions > recorded * (1 + GUARD_MARGIN):
        return (f"{key}: {instructions:,} instructions, {instructions / recorded - 1:+.2%} against the {recorded:,} "
                f"recorded in BENCHMARKS.md (allowed: +{GUARD_MARGIN:.0%}; `tinygen bench --write BENCHMARKS.md` "
                "re-records after a deliberate change)")
    return None


def render_markdown(rows: list[BenchRow], board: str, command: str) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        "# Benchmarks",
        "",
        f"tinygen {__version__} on `{board}` (QEMU, `-icount shift=0`), {today}, host {platform.machine()}.",
        f"Reproduce with `{command}`. Anchors: `../shared/docs/anchors.md` (TFLite Micro measured the same way).",
        "",
        "## Instructions and estimated cycles per inference",
        "",
        *_instruction_table(rows, board),
        *(_targets_table(rows) if counts_cycles(board) else []),
        "",
        "## Reference kernels (instructions)",
        "",
        "| model | tinygen, reference kernels | TFLM reference kernels (Cortex-M4) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for r in rows:
        a = r.anchor
        lines.append(f"| {a.key} | {r.reference_instructions:,} | {a.tflm_reference_instructions:,} "
                     f"| {_ratio(r.reference_instructions, a.tflm_reference_instructions)} |")
    lines += [
        "",
        "## Memory (bytes)",
        "",
        "| model | tinygen arena (inputs, outputs, scratch included) | TFLM activation plan | TFLM arena (CMSIS-NN) | target peak RAM "
        "| tinygen firmware RAM (.data+.bss) | tinygen firmware flash (.text+.rodata+.data) | TFLM int8-only flash "
        "| stack: invoke() painted / bound, firmware painted |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        a, rep = r.anchor, r.report
        lines.append(
            f"| {a.key} | {rep.arena_bytes:,} | {a.tflm_plan_bytes:,} | {a.tflm_arena_bytes:,} | ≤ {a.target_ram_bytes:,} "
            f"| {rep.ram_bytes:,} | {rep.flash_bytes:,}{' (1)' if r.flash_budget else ''} | {a.tflm_flash_bytes:,} "
            f"| {rep.stack_bytes} / {rep.stack_bound_bytes}, {rep.stack_peak_bytes} |")
    lines += [
        "",
        "Instructions are exact counts of one `invoke()` (the mps2 port's SysTick edge counter, calibrated to the",
        "instruction; see runtime_c/ports/mps2); the cycle plugin counts the same instructions, to the one.",
        "Estimated cycles: every executed instruction of one `invoke()` classified by tinygen's QEMU plugin and",
        "costed with the Cortex-M4 TRM's timings for zero wait states (docs/cycle-model.md: P = 2, IT not folded,",
        "the address-after-ALU stall not charged, SDIV/UDIV 7), the model the anchors' cycles were measured with.",
        "MACs per estimated cycle are not comparable one to one with the published stacks' MACs per real cycle",
        "(flash wait states included there): beating them here is necessary, not sufficient.",
        *([f"(1) Built with `--flash-budget` = TFLM's int8-only flash ({', '.join(f'{r.anchor.key} {r.flash_budget:,}' for r in rows if r.flash_budget)}):",
           "without it the fastest variants' int16 weights take it past TFLM's; within it the variants whose data",
           "would not fit give way to the int8-weight ones (compiler._choose_variants). Every figure on this page",
           "for that model is this build's.", ""] if any(r.flash_budget for r in rows) else []),
        "Firmware flash includes the model, the kernels, the serial",
        "protocol and the startup code; the stack (8 KiB reserved) is not in the RAM column. Stack: the most",
        "invoke() used (painted in QEMU) / its static bound from -fstack-usage, and the whole firmware's painted",
        "high-water mark; TFLite Micro's is under 2.4 KB (anchors).",
        "",
        "tinygen's default build calls the optimised twins of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED",
        "where they apply (SMLAD and friends on this DSP core); `--kernels reference` builds with runtime_c's",
        "reference kernels only, shaped after TFLite Micro's. Instructions, memory and stack above are the",
        "whole-tensor build's (`--patch none`); the patched build is in the next table.",
        *_memory_table(rows),
        "",
        "## Figures for tools",
        "",
        "The regression guard (tests/test_mlperf_qemu.py) fails when a model's instructions exceed these by more",
        "than 1 %. `tinygen bench --write BENCHMARKS.md` rewrites them.",
        "",
        FIGURES_MARK,
        "```json",
        json.dumps(figures_json(rows, board), indent=1, sort_keys=True),
        "```",
        "",
    ]
    return "\n".join(lines)


# --- several cores (issue 12) -----------------------------------------------------------------------
# The split of each operator across cores is the schedule's (tinygen/schedule/cores.py). Under -icount
# QEMU runs the cores in turn, so the firmware's counter gives the total work of all cores; the
# modelled N-core latency comes from the cycle plugin's per-core intervals between barriers
# (tinygen/device/cycles.py): per interval the busiest core's instructions, summed.

# The targets: modelled N-core latency / single-core instructions, at most.
CORE_TARGETS = {2: {"IC": 0.55, "VWW": 0.55, "KWS": 0.60}, 4: {"IC": 0.30, "VWW": 0.30}}
CORES_MARK = "<!-- tinygen-bench cores {board} x{cores} -->"
CORES_END = "<!-- end tinygen-bench cores -->"


@dataclass(frozen=True)
class CoreBenchRow:
    key: str
    cores: int
    single: RunReport          # the model on one core
    multi: RunReport           # on `cores` cores, with the plugin's intervals
    split: dict                # the build's split facts (tinygen.json): barriers, predicted_ratio, ...

    @property
    def single_instructions(self) -> int:
        return max(r.instructions for r in self.single.results)

    @property
    def loads(self) -> list[CoreLoad]:
        """Per input; a build that calls no barrier (the model stayed on core 0) is its region's count."""
        return core_loads(self.multi.intervals, self.cores) or [
            CoreLoad(c.instructions, 0, (c.instructions,) + (0,) * (self.cores - 1), (0,) * self.cores, 1)
            for c in self.multi.cycles]

    @property
    def latency(self) -> int:
        """The modelled N-core latency (the slowest input's)."""
        return max(load.latency for load in self.loads)

    @property
    def work(self) -> int:
        """Every core's instructions outside barriers, added up (the split's extra work shows here)."""
        return max(load.work for load in self.loads)

    @property
    def ratio(self) -> float:
        return self.latency / self.single_instructions

    @property
    def predicted_ratio(self) -> float | None:
        return self.split.get("predicted_ratio")

    @property
    def target(self) -> float | None:
        return CORE_TARGETS.get(self.cores, {}).get(self.key)

    @property
    def bit_exact(self) -> bool:
        return self.single.bit_exact and self.multi.bit_exact

    @property
    def private_bytes(self) -> int:
        """The cores' own bytes the split adds after the single-core plan (scratch, copies)."""
        return int(self.split.get("core_private_bytes", 0))

    @property
    def arena_kept(self) -> bool:
        """The issue's rule: the N-core arena is the single-core one plus the cores' own bytes, no more."""
        return self.multi.arena_bytes <= self.single.arena_bytes + self.private_bytes


def _split_facts(out_dir: Path) -> dict:
    try:
        return json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}


def run_core_benchmark(models_dir: Path, board: str, cores: int, build_root: Path, inputs: int = 1,
                       announce: Announce = lambda m: None, keys: tuple[str, ...] | None = None) -> list[CoreBenchRow]:
    """Each MLPerf Tiny model built for one core and for `cores`, both run bit-exact against TFLite Micro
    (the CLI's default build: `--patch auto`), the N-core one with the plugin's intervals."""
    rows = []
    for anchor in ANCHORS:
        if keys is not None and anchor.key not in keys:
            continue
        model = models_dir / anchor.file
        announce(f"benchmark: {anchor.key} ({model.name}) on 1 and {cores} cores")
        single = run_on_board(model, board, build_root / f"{model.stem}-1core", random_count=inputs, seed=1,
                              announce=announce, patch=AUTO_PATCH, cores=1)
        out_dir = build_root / f"{model.stem}-{cores}cores"
        multi = run_on_board(model, board, out_dir, random_count=inputs, seed=1, announce=announce, patch=AUTO_PATCH,
                             cores=cores, count_intervals=True)
        rows.append(CoreBenchRow(anchor.key, cores, single, multi, _split_facts(out_dir)))
    return rows


def render_cores_markdown(rows: list[CoreBenchRow], board: str, cores: int, command: str) -> str:
    lines = [
        CORES_MARK.format(board=board, cores=cores),
        f"## {cores} cores on `{board}`",
        "",
        f"Reproduce with `{command}`. One core: the firmware's exact instructions per `invoke()`. {cores} cores:",
        "the modelled latency, i.e. per interval between barriers the busiest core's instructions outside",
        "barrier waits (tinygen's QEMU plugin, per virtual CPU), summed over the intervals; the barrier's own",
        "instructions up to the last arrival are in it. Work: every core's instructions outside the waits, added",
        "up. Predicted: the cost model's ratio (tinygen/schedule/cores.py). Default build (`--patch auto`).",
        f"Arena: the single-core plan's, then the {cores}-core one with what the cores' own scratch and copies",
        "add (the split keeps the single-core plan: it may grow by those bytes only).",
        "",
        f"| model | 1 core (instructions) | {cores} cores: modelled latency | ratio | predicted | target | work "
        f"| barriers | arena: 1 core → {cores} cores (cores' own) | bit-exact |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        predicted = f"{r.predicted_ratio:.3f}" if r.predicted_ratio is not None else "—"
        target = f"≤ {r.target:.2f} {_verdict(r.ratio, r.target)}" if r.target is not None else "—"
        lines.append(f"| {r.key} | {r.single_instructions:,} | {r.latency:,} | {r.ratio:.3f} | {predicted} | {target} "
                     f"| {r.work:,} ({r.work / r.single_instructions:.2f}x) | {r.split.get('barriers', 0)} "
                     f"| {r.single.arena_bytes:,} → {r.multi.arena_bytes:,} (+{r.private_bytes:,}"
                     f"{'' if r.arena_kept else ', grown beyond'}) | {'yes' if r.bit_exact else 'NO'} |")
    lines += ["", CORES_END, ""]
    return "\n".join(lines)


def with_cores_section(existing: str, section: str) -> str:
    """The report with this board's and core count's section replaced, or appended."""
    mark = section.splitlines()[0]
    start = existing.find(mark)
    if start < 0:
        return existing.rstrip("\n") + "\n\n" + section
    end = existing.find(CORES_END, start)
    end = len(existing) if end < 0 else end + len(CORES_END) + 1
    return existing[:start] + section + existing[end:].lstrip("\n")
# --- another board's section in a report recorded on the M4 (issue 8: the RISC-V rows) ---------------

# Issue 8's instruction targets on the other cores, as a fraction of their anchor (OTHER_CORE_ANCHORS).
OTHER_CORE_TARGETS = {"riscv32-virt": 0.25, "mps3-an547": 0.7}

# Why a board's figures sit where they do: printed under its section.
OTHER_CORE_NOTES = {
    "riscv32-virt": (
        "The RISC-V variants (tinygen/kernels/variants_rv.py, docs/kernel-variants.md) replace the portable twins "
        "there: int8 weights re-laid out per block of 8 output channels, the input offset folded into the bias, "
        "two output pixels by 8 channels per inner loop (46 instructions per 16 MACs: 2 input and 8 weight byte "
        "loads, 16 MUL, 16 ADD, 4 loop; unrolled four times, 173 per 64), depthwise 3x3 unrolled 4 channels at a time "
        "(windows over the padding 4 channels at a time too; in place, channel by channel over a plane copy "
        "padded with the input's zero point on the stack), and an epilogue that is TFLM's arithmetic: ~25 "
        "instructions in general (MUL + MULHSU by 2m; shifts, masks made at generation time), ~17 in the short "
        "form the generator proves exact from the accumulators' bound (rounding and output offset in one word "
        "and one addition), a pair of pixels loading each channel's words once. "
        "RV32IM has no multiply-accumulate and no SIMD, so every MAC costs a MUL and an ADD: 2 instructions per "
        "MAC is the floor before any load. The 0.25x target asks for 2.38 (AD), 2.54 (IC), 4.3 (KWS) and 3.8 (VWW) "
        "instructions per MAC, everything included; AD's fully connected layers (batch 1) use each weight once, "
        "a byte load per MAC on top of MUL + ADD, so ~3.3 per MAC is their floor with these kernels, and IC's "
        "3x3 convolutions run at ~2.8 per MAC in the inner loop alone (the 0.25x needs 2.54 in all)."),
    "mps3-an547": (
        "The Helium variants (tinygen/kernels/variants_mve.py, docs/kernel-variants.md) run every CONV_2D, "
        "DEPTHWISE_CONV_2D, FULLY_CONNECTED and same-shape ADD of the four models, KWS's in-place depthwise and "
        "1x1 convolutions included. The GEMM takes two pixels against four output channels per assembly block: "
        "per 16 k two column loads, four row loads and eight VMLADAVA (the eight even registers hold the "
        "accumulators), then the block's epilogue on both vectors and their stores (~16 instructions per 16 k, "
        "~45 per block of eight outputs); im2col copies a window inside the input as one run per filter row, two "
        "pixels at a time. The depthwise on large maps (and KWS's, in place) goes plane by plane: each channel's "
        "plane copied with its padding (the input's zero point), four output pixels of the channel per vector, "
        "a VLDRB and a VMLA by the weight per tap (~35 instructions per four pixels of a 3x3, in assembly); small "
        "maps with many channels keep four channels per vector (VMUL + VADD per tap)."),
}


def section_markers(board: str) -> tuple[str, str]:
    return f"<!-- tinygen-bench section {board} -->", f"<!-- /tinygen-bench section {board} -->"


def render_board_section(rows: list[BenchRow], board: str, command: str) -> str:
    """A board's instructions beside its TFLM anchor and issue 8's target, for a report recorded on another
    board (the regression guard's figures stay that board's)."""
    label, figures = OTHER_CORE_ANCHORS.get(load_board(board).name, ("no anchor for this board", {}))
    target = OTHER_CORE_TARGETS.get(board)
    start, end = section_markers(board)
    lines = [
        start,
        f"## `{board}`: instructions per inference",
        "",
        f"tinygen {__version__}, {datetime.date.today().isoformat()}; reproduce with `{command}` (rewrites this "
        "section only). Exact counts of one `invoke()` in QEMU (`-icount shift=0`); no cycle model for this core.",
        "",
        f"| model | MACs | tinygen instructions | TFLM ({label}) | ratio | target | instructions / MAC "
        "| tinygen, reference kernels | arena | firmware flash | TFLM int8-only flash (M4) | bit-exact |",
        "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        a, theirs = r.anchor, figures.get(r.anchor.key)
        ratio = r.instructions / theirs if theirs else None
        verdict = "—" if ratio is None or target is None else f"≤ {target:.2f}: {_verdict(ratio, target)}"
        lines.append(
            f"| {a.key} | {a.macs:,} | {r.instructions:,} | {f'{theirs:,}' if theirs else '—'} "
            f"| {f'{ratio:.2f}' if ratio is not None else '—'} | {verdict} | {r.instructions / a.macs:.2f} "
            f"| {r.reference_instructions:,} | {r.report.arena_bytes:,} | {r.report.flash_bytes:,} "
            f"| {a.tflm_flash_bytes:,} | {'yes' if r.bit_exact else 'NO'} |")
    if board in OTHER_CORE_NOTES:
        lines += ["", OTHER_CORE_NOTES[board]]
    lines.append(end)
    return "\n".join(lines)


def merge_section(markdown: str, board: str, section: str) -> str:
    """markdown with the board's section replaced, or inserted before "## Figures for tools" (else at the end)."""
    start, end = section_markers(board)
    if start in markdown and end in markdown:
        head, rest = markdown.split(start, 1)
        return head + section + rest.split(end, 1)[1]
    return _before_figures_heading(markdown, section)


def _before_figures_heading(markdown: str, section: str) -> str:
    anchor = "## Figures for tools"
    if anchor in markdown:
        head, rest = markdown.split(anchor, 1)
        return head + section + "\n\n" + anchor + rest
    return markdown.rstrip("\n") + "\n\n" + section + "\n"


def _figures_end(markdown: str) -> int | None:
    """Where the main report's figures block (its last part) ends, or None without one."""
    found = re.search(re.escape(FIGURES_MARK) + r"\s*```json\n.*?```", markdown, re.S)
    return found.end() if found is not None else None


_OWN_SECTION = re.compile(r"^(## [^\n]*)\n(?:(?!## |<!-- tinygen-bench).*(?:\n|$))*", re.M)


def _own_sections(markdown: str) -> list[tuple[str, str]]:
    """(heading, text) of each "## " section before the figures block and outside the boards' marked
    sections: a section runs to the next "## " heading or tinygen-bench marker."""
    head = markdown[:_figures_end(markdown) or len(markdown)]
    head = re.sub(r"<!-- tinygen-bench section (\S+) -->.*?<!-- /tinygen-bench section \1 -->", "", head, flags=re.S)
    return [(m.group(1), m.group(0)) for m in _OWN_SECTION.finditer(head)]


def written_report(path: Path, rows: list[BenchRow], board: str, command: str, text: str) -> str:
    """What `bench --write path` writes: the full report `text`, keeping verbatim every part of the
    report it replaces that this run does not write: the other boards' sections, any "## " section
    of its own, and all that follows its figures block (the `--cores` sections, the keep-plan
    notes). Unless path holds a report recorded on another board, whose figures (the regression
    guard's) stay: then that report with this board's section written into it."""
    if not path.exists():
        return text
    existing = path.read_text(encoding="utf-8")
    try:
        recorded = recorded_figures(existing)["board"]
    except ValueError:
        recorded = None
    if recorded is not None and recorded != board:
        return merge_section(existing, board, render_board_section(rows, board, command))
    written = {heading for heading, _ in _own_sections(text)}
    for heading, section in _own_sections(existing):
        if heading not in written:  # a section added by hand or by another tool
            text = _before_figures_heading(text, section.rstrip("\n"))
    for section, other in re.findall(r"(<!-- tinygen-bench section (\S+) -->.*?<!-- /tinygen-bench section \2 -->)",
                                     existing, re.S):
        if other != board:  # the other boards' sections outlive a rewrite of the main report
            text = merge_section(text, other, section)
    ours, theirs = _figures_end(text), _figures_end(existing)
    if ours is not None and theirs is not None:  # what follows the figures: the --cores sections, notes
        text = text[:ours] + existing[theirs:]
    return text
