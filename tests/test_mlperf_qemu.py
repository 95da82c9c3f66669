"""The issue's acceptance check: each MLPerf Tiny model through `tinygen run --random 3 --json`,
built with the cross toolchain, run in QEMU (mps2-an386) over serial, compared with TFLite Micro."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MLPERF_MODELS, mlperf_model
from test_planner import ARENA_BYTES, TFLM_PLAN_BYTES
from tinygen.bench import instruction_regression, recorded_figures

BENCHMARKS = Path(__file__).resolve().parents[1] / "BENCHMARKS.md"


@pytest.mark.qemu
@pytest.mark.parametrize("key", sorted(MLPERF_MODELS))
def test_mlperf_runs_bit_exact_in_qemu(tmp_path, key):
    proc = subprocess.run(
        [sys.executable, "-m", "tinygen.cli", "run", str(mlperf_model(key)), "--random", "3", "--seed", "11",
         "--json", "-o", str(tmp_path / key)],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["bit_exact"] is True
    assert report["max_abs_diff"] == 0
    assert report["inputs"] == 3
    assert report["board"] == "mps2-an386"
    assert 0 < report["arena_bytes"] <= TFLM_PLAN_BYTES[key]
    assert report["lower_bound_bytes"] <= report["arena_bytes"] <= ARENA_BYTES[key]
    assert report["instructions"] > 0 and len(report["instructions_per_input"]) == 3
    # The firmware's RAM holds the arena; its flash holds at least the model's weights.
    assert report["ram_bytes"] >= report["arena_bytes"]
    assert report["flash_bytes"] > 0
    # Stack painted in QEMU, within the static bound from -fstack-usage, within what the board reserves.
    assert 0 < report["stack_bytes"] <= report["stack_bound_bytes"]
    assert report["stack_peak_bytes"] <= report["firmware_stack_bound_bytes"] <= report["stack_reserved_bytes"]
    # The regression guard: no more than 1 % above the instructions recorded in BENCHMARKS.md.
    figures = recorded_figures(BENCHMARKS.read_text(encoding="utf-8"))
    assert instruction_regression(figures, key.upper(), report["board"], report["instructions"],
                                  patched=report["patch"] != "none") is None
