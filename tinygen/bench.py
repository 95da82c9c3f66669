"""The benchmark: MLPerf Tiny models on a board, against the anchors in ../shared/docs/anchors.md.

Instructions are exact counts of one invoke() in QEMU under -icount shift=0 (the firmware's
SysTick edge counter); arena bytes come from the plan; flash and RAM from the ELF. The figures
beside them are the anchors' TFLite Micro measurements on the same emulated Cortex-M4.
"""

from __future__ import annotations

import datetime
import platform
from dataclasses import dataclass
from pathlib import Path

from tinygen import __version__
from tinygen.flow import Announce, RunReport, run_on_board
from tinygen.kernels.optimised import KernelSet


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


# ../shared/docs/anchors.md, measured on mps2-an386 (Cortex-M4) with the same method.
ANCHORS = (
    Anchor("AD", "ad01_int8.tflite", 583_238, 1_952_556, 768, 3_012, 319_376, 290_000, 768),
    Anchor("IC", "resnet8_int8.tflite", 29_863_772, 107_405_262, 49_152, 55_000, 169_084, 14_900_000, 34_000),
    Anchor("KWS", "kws_dscnn_int8.tflite", 7_700_237, 43_042_791, 16_000, 22_824, 127_356, 3_850_000, 8_192),
    Anchor("VWW", "vww_mobilenet_int8.tflite", 24_102_775, 100_251_296, 73_728, 100_712, 406_708, 12_000_000, 32_768),
)


@dataclass(frozen=True)
class BenchRow:
    anchor: Anchor
    report: RunReport      # the default build: optimised twins where they apply
    reference: RunReport   # the same model with runtime_c's reference kernels only

    @property
    def instructions(self) -> int:
        return self.report.to_json()["instructions"]

    @property
    def reference_instructions(self) -> int:
        return self.reference.to_json()["instructions"]

    @property
    def bit_exact(self) -> bool:
        return self.report.bit_exact and self.reference.bit_exact


def run_benchmark(models_dir: Path, board: str, build_root: Path, inputs: int = 1,
                  announce: Announce = lambda m: None) -> list[BenchRow]:
    rows = []
    for anchor in ANCHORS:
        model = models_dir / anchor.file
        announce(f"benchmark: {anchor.key} ({model.name})")
        report = run_on_board(model, board, build_root / model.stem, random_count=inputs, seed=1, announce=announce)
        reference = run_on_board(model, board, build_root / f"{model.stem}-reference", random_count=inputs, seed=1,
                                 announce=announce, kernel_set=KernelSet.REFERENCE)
        rows.append(BenchRow(anchor, report, reference))
    return rows


def _ratio(ours: int, theirs: int) -> str:
    return f"{ours / theirs:.2f}"


def render_markdown(rows: list[BenchRow], board: str, command: str) -> str:
    today = datetime.date.today().isoformat()
    lines = [
        "# Benchmarks",
        "",
        f"tinygen {__version__} on `{board}` (QEMU, `-icount shift=0`), {today}, host {platform.machine()}.",
        f"Reproduce with `{command}`. Anchors: `../shared/docs/anchors.md` (TFLite Micro measured the same way).",
        "",
        "## Instructions per inference",
        "",
        "| model | tinygen | TFLM + CMSIS-NN | ratio | tinygen, reference kernels | TFLM reference kernels | ratio "
        "| target | bit-exact (both sets) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        a = r.anchor
        lines.append(
            f"| {a.key} | {r.instructions:,} | {a.tflm_cmsis_instructions:,} | {_ratio(r.instructions, a.tflm_cmsis_instructions)} "
            f"| {r.reference_instructions:,} | {a.tflm_reference_instructions:,} "
            f"| {_ratio(r.reference_instructions, a.tflm_reference_instructions)} "
            f"| ≤ {a.target_instructions:,} | {'yes' if r.bit_exact else 'NO'} |")
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
            f"| {rep.ram_bytes:,} | {rep.flash_bytes:,} | {a.tflm_flash_bytes:,} "
            f"| {rep.stack_bytes} / {rep.stack_bound_bytes}, {rep.stack_peak_bytes} |")
    lines += [
        "",
        "Instructions are exact counts of one `invoke()` (the mps2 port's SysTick edge counter, calibrated to the",
        "instruction; see runtime_c/ports/mps2). Firmware flash includes the model, the kernels, the serial",
        "protocol and the startup code; the stack (8 KiB reserved) is not in the RAM column. Stack: the most",
        "invoke() used (painted in QEMU) / its static bound from -fstack-usage, and the whole firmware's painted",
        "high-water mark; TFLite Micro's is under 2.4 KB (anchors).",
        "",
        "tinygen's default build calls the optimised twins of CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED",
        "where they apply (SMLAD and friends on this DSP core); `--kernels reference` builds with runtime_c's",
        "reference kernels only, shaped after TFLite Micro's: the fifth column. Memory and stack are the default build's.",
        "",
    ]
    return "\n".join(lines)
