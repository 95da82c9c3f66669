"""The benchmark report: its tables and the machine-readable block the regression guard reads.
(The measurements themselves run in QEMU: `tinygen bench`, and the guard in test_mlperf_qemu.py.)"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from conftest import mlperf_model
from tinygen import bench
from tinygen.bench import (
    ANCHORS, BenchRow, auto_patches, instruction_regression, recorded_figures, render_markdown, run_benchmark,
    source_functions,
)
from tinygen.device.cycles import RegionCount
from tinygen.jobs import InputResult, RunReport

REPO = Path(__file__).resolve().parents[1]


def _row(anchor, instructions: int, cycles: int | None) -> BenchRow:
    counted = (RegionCount(0, 0, instructions, cycles, 10, 5, 0, 0, {"alu": instructions},
                           {"alu": cycles // 2, "load": cycles - cycles // 2},
                           functions={"tg_conv_s8_fast": (instructions - 10, cycles - 500), "main": (10, 500)}),
               ) if cycles else ()
    report = RunReport(anchor.key, "b", (InputResult(True, 0.0, instructions),), 700, 9000, 800, cycles=counted)
    reference = RunReport(anchor.key, "b", (InputResult(True, 0.0, 3 * instructions),), 700, 9000, 800)
    return BenchRow(anchor, report, reference)


def test_the_report_gives_cycles_and_macs_per_cycle_beside_the_anchors_and_reads_back():
    rows = [_row(a, 1000 + i, 2000 + i) for i, a in enumerate(ANCHORS)]
    text = render_markdown(rows, "mps2-an386", "tinygen bench")
    ad = next(line for line in text.splitlines() if line.startswith("| AD | 264,192"))
    # tinygen's cycles, TFLM's (anchors: 728,477), their ratio, and MACs per estimated cycle.
    assert "| 2,000 | 728,477 | 0.00 | 132.10 | 0.36 | 0.54 |" in ad
    assert "| AD | 50.0 % | 0.0 % | 50.0 % | 0.0 % | 0.0 % | 0.0 % | −0.5 % / +0.5 % | −0.0 % | +0.0 % |" in text
    assert "| AD | `tg_conv_s8_fast` 75.0 % | `main` 25.0 % |  |  |" in text  # the flat profile
    figures = recorded_figures(text)
    assert figures["board"] == "mps2-an386"
    vww = figures["models"]["VWW"]
    assert {k: vww[k] for k in ("instructions", "cycles", "reference_instructions", "arena_bytes", "flash_bytes")} == {
        "instructions": 1003, "cycles": 2003, "reference_instructions": 3009, "arena_bytes": 700, "flash_bytes": 9000}
    assert vww["patch"] == "none" and vww["patched_instructions"] is None


def test_other_cores_get_instructions_only():
    rows = [_row(a, 1000, None) for a in ANCHORS]
    text = render_markdown(rows, "mps2-an500", "tinygen bench --board mps2-an500")
    assert "instructions only" in text
    assert "| KWS | 1,000 | 7,646,052 | 0.00 | yes |" in text  # the Cortex-M7 anchor
    assert recorded_figures(text)["models"]["KWS"]["cycles"] is None


def test_the_checked_in_benchmarks_file_has_figures_for_every_model():
    figures = recorded_figures((REPO / "BENCHMARKS.md").read_text(encoding="utf-8"))
    assert sorted(figures["models"]) == sorted(a.key for a in ANCHORS)
    assert all(m["instructions"] > 0 for m in figures["models"].values())


def test_a_file_without_figures_is_refused():
    with pytest.raises(ValueError, match="no tinygen-bench figures"):
        recorded_figures("# Benchmarks\n")


def test_the_guard_allows_one_percent_and_no_more():
    figures = {"board": "mps2-an386", "models": {"IC": {"instructions": 1_000_000}}}
    assert instruction_regression(figures, "IC", "mps2-an386", 900_000) is None
    assert instruction_regression(figures, "IC", "mps2-an386", 1_010_000) is None
    message = instruction_regression(figures, "IC", "mps2-an386", 1_010_001)
    assert message is not None and "+1.00%" in message and "1,000,000" in message
    assert "recorded on mps2-an386" in instruction_regression(figures, "IC", "mps2-an500", 900_000)


def test_the_report_says_which_targets_are_missed_and_by_how_much():
    rows = [_row(a, a.tflm_cmsis_instructions // 4, a.tflm_cmsis_cycles) for a in ANCHORS]
    text = render_markdown(rows, "mps2-an386", "tinygen bench")
    ic = next(line for line in text.splitlines() if line.startswith("| IC | 0.25"))
    assert "0.25: met | 1.00: missed, 2.00x the target |" in ic
    assert "0.34 vs 0.63: missed, needs 1.86x" in ic
    assert "700 vs 34,000: met" in ic and "`tg_conv_s8_fast` (100 %)" in ic
    assert "| 9,000 vs 169,084: met |" in ic  # the firmware's flash beside TFLM's int8-only firmware


def test_the_targets_table_judges_flash_against_tflms_and_names_a_budget():
    rows = [_row(a, a.tflm_cmsis_instructions // 4, a.tflm_cmsis_cycles) for a in ANCHORS]
    ad, ic = rows[0], rows[1]
    rows[0] = replace(ad, report=replace(ad.report, flash_bytes=319_376))  # equal is not below
    rows[1] = replace(ic, flash_budget=169_084)
    text = render_markdown(rows, "mps2-an386", "tinygen bench")
    assert "| 319,376 vs 319,376: missed by 1 B |" in text
    assert "| 9,000 vs 169,084 (`--flash-budget 169084`): met |" in text


def test_the_targets_table_judges_the_peak_ram_that_patch_auto_builds():
    rows = [_row(a, a.tflm_cmsis_instructions // 4, a.tflm_cmsis_cycles) for a in ANCHORS]
    vww = rows[-1]
    rows[-1] = replace(vww, patched=replace(vww.report, arena_bytes=33_000, patch="4:8x8"))
    text = render_markdown(rows, "mps2-an386", "tinygen bench")
    line = next(line for line in text.splitlines() if line.startswith("| VWW | 0.25"))
    assert "| 33,000 vs 32,768: missed by 232 B |" in line


def _memory_rows(patched_bit_exact: bool = True) -> list[BenchRow]:
    """Every model whole; VWW and IC also patched, VWW over its target and IC under it."""
    rows = []
    for a in ANCHORS:
        whole = RunReport(a.key, "b", (InputResult(True, 0.0, 1_000_000),), 40_000, 9000, 800,
                          lower_bound_bytes=36_000)
        patched = None
        if a.key in ("VWW", "IC"):
            arena = 33_000 if a.key == "VWW" else 32_768
            patched = RunReport(a.key, "b", (InputResult(patched_bit_exact, 0.0, 1_100_000),), arena, 9100, 800,
                                lower_bound_bytes=30_248, patch="4:8x8", mac_overhead=0.0901)
        rows.append(BenchRow(a, whole, RunReport(a.key, "b", (InputResult(True, 0.0, 3_000_000),), 40_000, 9000, 800),
                             patched))
    return rows


def test_the_memory_table_puts_the_patched_build_beside_the_whole_tensor_one():
    text = render_markdown(_memory_rows(), "mps2-an386", "tinygen bench")
    assert "## Peak RAM: whole tensors and `--patch auto` (issue 7)" in text
    lines = text.splitlines()
    vww = next(line for line in lines if line.startswith("| VWW | 40,000 | 36,000 |"))
    # arena and lower bound of each build, the plan, its overhead, TFLM's plan, the target, and instructions.
    assert vww == ("| VWW | 40,000 | 36,000 | 33,000 | 30,248 | `4:8x8` | 9.0 % | 73,728 | ≤ 32,768 "
                   "| missed by 232 B | 1,000,000 | 1,100,000 | 1.10 | yes |")
    ic = next(line for line in lines if line.startswith("| IC | 40,000 | 36,000 |"))
    assert "| 32,768 | 30,248 | `4:8x8` | 9.0 % | 49,152 | ≤ 34,000 | met |" in ic
    # A model auto leaves whole: its auto figures are the whole build's, and it is not run twice.
    kws = next(line for line in lines if line.startswith("| KWS | 40,000 | 36,000 |"))
    assert kws == ("| KWS | 40,000 | 36,000 | 40,000 | 36,000 | none | 0.0 % | 16,000 | ≤ 8,192 "
                   "| missed by 31,808 B | 1,000,000 | — (not patched) | — | — |")


def test_the_figures_keep_the_guards_meaning_and_carry_the_patched_build():
    figures = recorded_figures(render_markdown(_memory_rows(), "mps2-an386", "tinygen bench"))
    vww, ad = figures["models"]["VWW"], figures["models"]["AD"]
    assert vww["instructions"] == 1_000_000 and vww["arena_bytes"] == 40_000  # the whole-tensor build's
    assert vww["patched_instructions"] == 1_100_000 and vww["patched_arena_bytes"] == 33_000
    assert vww["patch"] == "4:8x8" and vww["mac_overhead"] == 0.0901 and vww["patched_lower_bound_bytes"] == 30_248
    assert ad["patch"] == "none" and ad["patched_instructions"] is None and ad["patched_arena_bytes"] == 40_000
    assert instruction_regression(figures, "VWW", "mps2-an386", 1_000_000) is None
    # A patched build is held to the patched figure, not the whole-tensor one.
    assert instruction_regression(figures, "VWW", "mps2-an386", 1_100_000, patched=True) is None
    assert instruction_regression(figures, "VWW", "mps2-an386", 1_112_001, patched=True) is not None
    assert "records no patched build" in instruction_regression(figures, "AD", "mps2-an386", 1, patched=True)


def test_a_patched_build_that_is_not_bit_exact_fails_the_benchmark():
    rows = _memory_rows(patched_bit_exact=False)
    vww = next(r for r in rows if r.anchor.key == "VWW")
    assert vww.report.bit_exact and not vww.bit_exact
    text = render_markdown(rows, "mps2-an386", "tinygen bench")
    assert next(line for line in text.splitlines() if line.startswith("| VWW | 40,000 | 36,000 |")).endswith("| NO |")


def test_auto_patches_decides_which_models_get_a_second_qemu_run():
    # The choice alone (no build, no QEMU): AD's plan is already at its bound, ResNet-8 patches on the M4 board.
    assert not auto_patches(mlperf_model("ad"), "mps2-an386")
    assert auto_patches(mlperf_model("ic"), "mps2-an386")


def test_a_rewrite_of_the_main_report_keeps_every_section_it_does_not_write(tmp_path):
    """`bench --write` on the default board rewrites its own tables and figures; the --cores
    sections, the notes and keep-plan section after them, other boards' sections and a section
    added by hand stay verbatim."""
    from tinygen.bench import CORES_END, CORES_MARK, merge_section, with_cores_section, written_report

    old = render_markdown([_row(a, 1000, 2000) for a in ANCHORS], "mps2-an386", "tinygen bench")
    by_hand = "## Notes by hand\n\nNot a table tinygen writes.\n"
    old = old.replace("## Figures for tools", by_hand + "\n## Figures for tools")
    board = "<!-- tinygen-bench section riscv32-virt -->\n## `riscv32-virt`: rows\n<!-- /tinygen-bench section riscv32-virt -->"
    old = merge_section(old, "riscv32-virt", board)
    cores = [f"{CORES_MARK.format(board=b, cores=n)}\n## {n} cores on `{b}`\n\n| KWS | 0.5 |\n\n{CORES_END}\n"
             for b, n in (("mps2-an521", 2), ("riscv32-virt-4", 4))]
    for section in cores:
        old = with_cores_section(old, section)
    keep_plan = "The core sections above: measured by hand.\n\n### `--keep-plan` across cores\n\n| a | b |\n|---|---|\n"
    old = old + keep_plan
    path = tmp_path / "BENCHMARKS.md"
    path.write_text(old, encoding="utf-8")

    new = render_markdown([_row(a, 1500, 2500) for a in ANCHORS], "mps2-an386", "tinygen bench --write BENCHMARKS.md")
    written = written_report(path, [], "mps2-an386", "tinygen bench", new)
    assert recorded_figures(written)["models"]["KWS"]["instructions"] == 1500
    assert all(written.count(part) == 1 for part in (by_hand, board, *cores, keep_plan))
    assert written.endswith(keep_plan) and written.index(by_hand) < written.index("## Figures for tools")
    path.write_text(written, encoding="utf-8")
    assert written_report(path, [], "mps2-an386", "tinygen bench", new) == written  # a second rewrite: the same


def test_a_rewrite_of_the_checked_in_report_keeps_what_follows_its_figures():
    from tinygen.bench import written_report

    checked_in = (REPO / "BENCHMARKS.md").read_text(encoding="utf-8")
    new = render_markdown([_row(a, 1500, 2500) for a in ANCHORS], "mps2-an386", "tinygen bench --write BENCHMARKS.md")
    written = written_report(REPO / "BENCHMARKS.md", [], "mps2-an386", "tinygen bench", new)
    tail = checked_in[checked_in.index("```", checked_in.index("tinygen-bench figures (read by")) + 3:]
    tail = tail[tail.index("```") + 3:]  # after the figures block's closing fence
    assert "tinygen-bench cores" in tail and "--grow-arena" in tail and written.endswith(tail)
    headings = [line for line in checked_in.splitlines() if line.startswith("## ")]
    assert all(h in written for h in headings)


def test_the_profile_names_source_functions_not_gccs_clones():
    functions = {"tg_fc_packed_runs8.isra.0": (10, 30), "tg_fc_packed_runs8.constprop.0.isra.0": (5, 7),
                 "tg_fc_packed_runs2.isra.0": (1, 2), "invoke": (3, 4)}
    assert source_functions(functions) == {"tg_fc_packed_runs8": (15, 37), "tg_fc_packed_runs2": (1, 2),
                                           "invoke": (3, 4)}


def test_a_model_over_tflms_flash_is_rebuilt_within_it(monkeypatch, tmp_path):
    """The default build whose firmware passes TFLM's int8-only flash is built again with that as its
    --flash-budget, and the report's figures are the second build's, marked as such."""
    calls = []

    def fake_run(model, board, out_dir, **options):
        calls.append((model.name, options.get("flash_budget"), options.get("kernel_set")))
        anchor = next(a for a in ANCHORS if a.file == model.name)
        over = anchor.key == "IC" and options.get("flash_budget") is None and options.get("kernel_set") is None
        flash = anchor.tflm_flash_bytes + (1000 if over else -1000)
        return RunReport(anchor.key, board, (InputResult(True, 0.0, 5000 if over else 6000),), 700, flash, 800)

    monkeypatch.setattr(bench, "run_on_board", fake_run)
    monkeypatch.setattr(bench, "auto_patches", lambda model, board: False)
    rows = run_benchmark(tmp_path, "mps2-an500", tmp_path / "builds")
    ic = next(r for r in rows if r.anchor.key == "IC")
    assert ("resnet8_int8.tflite", 169_084, None) in calls
    assert ic.flash_budget == 169_084 and ic.report.flash_bytes == 168_084 and ic.instructions == 6000
    assert all(r.flash_budget is None for r in rows if r.anchor.key != "IC")
    assert sum(1 for name, budget, _ in calls if budget is not None) == 1
    text = render_markdown(rows, "mps2-an500", "tinygen bench")
    assert "| 168,084 (1) | 169,084 |" in text and "(1) Built with `--flash-budget`" in text and "IC 169,084" in text


def test_risc_v_builds_are_not_held_to_tflms_arm_flash(monkeypatch, tmp_path):
    """TFLM's int8-only flash was measured on the Cortex-M4: a RISC-V build over it is not rebuilt
    within it (the budget left AD's FCs to their slow portable twin there)."""
    calls = []

    def fake_run(model, board, out_dir, **options):
        calls.append(options.get("flash_budget"))
        anchor = next(a for a in ANCHORS if a.file == model.name)
        return RunReport(anchor.key, board, (InputResult(True, 0.0, 5000),), 700, anchor.tflm_flash_bytes + 1000, 800)

    monkeypatch.setattr(bench, "run_on_board", fake_run)
    monkeypatch.setattr(bench, "auto_patches", lambda model, board: False)
    rows = run_benchmark(tmp_path, "riscv32-virt", tmp_path / "builds")
    assert all(budget is None for budget in calls) and all(r.flash_budget is None for r in rows)
