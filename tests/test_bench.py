"""The benchmark report: its tables and the machine-readable block the regression guard reads.
(The measurements themselves run in QEMU: `tinygen bench`, and the guard in test_mlperf_qemu.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.bench import ANCHORS, BenchRow, instruction_regression, recorded_figures, render_markdown
from tinygen.device.cycles import RegionCount
from tinygen.flow import InputResult, RunReport

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
    assert figures["models"]["VWW"] == {"instructions": 1003, "cycles": 2003, "reference_instructions": 3009,
                                        "arena_bytes": 700, "flash_bytes": 9000}


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
