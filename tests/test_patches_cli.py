"""Patch-based execution through the CLI and on the emulated board: --patch, --max-overhead, the
error line when no plan fits the board, and patched firmware bit-exact with TFLite Micro in QEMU."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import mlperf_model
from test_patches import chain_model

BOARD_FILE = Path(__file__).resolve().parents[1] / "boards" / "mps2-an386.toml"


def tinygen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygen.cli", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=900)


def small_board(tmp_path: Path, arena_budget: int) -> Path:
    """mps2-an386 with a RAM budget that leaves `arena_budget` bytes for the arena."""
    text = BOARD_FILE.read_text()
    ram = arena_budget + 8192 + 512  # stack and the runtime's reserve (boards/schema.py)
    board = tmp_path / "tiny-an386.toml"
    board.write_text(text.replace('name = "mps2-an386"', 'name = "tiny-an386"')
                     .replace("ram_budget_bytes = 0x40_0000", f"ram_budget_bytes = {ram}"))
    return board


def test_inspect_json_reports_the_choice_and_its_overhead():
    proc = tinygen("inspect", str(mlperf_model("vww")), "--json")
    assert proc.returncode == 0, proc.stderr
    facts = json.loads(proc.stdout)
    assert facts["patch"] == "4:8x8" and 0 < facts["mac_overhead"] <= 0.20
    assert facts["arena_bytes"] <= 32768
    none = json.loads(tinygen("inspect", str(mlperf_model("vww")), "--json", "--patch", "none").stdout)
    assert none["patch"] == "none" and none["mac_overhead"] == 0 and none["arena_bytes"] > 32768


def test_bad_patch_option_is_one_line(tmp_path):
    model = tmp_path / "chain.tflite"
    model.write_bytes(chain_model(seed=1))
    for option in ("4:2", "9:2x2"):
        proc = tinygen("inspect", str(model), "--patch", option)
        assert proc.returncode == 2
        assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
        assert proc.stderr.startswith("tinygen: plan:")


def test_no_plan_fits_the_board_is_one_line_with_the_shortfall(tmp_path):
    board = small_board(tmp_path, 20000)
    proc = tinygen("build", str(mlperf_model("vww")), "--board", str(board), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1, proc.stderr
    line = proc.stderr.strip()
    assert "no patch plan fits the board's 20000-byte arena: the best, --patch " in line
    assert "misses by" in line
    assert not (tmp_path / "out").exists()  # nothing written


def test_patched_chain_bit_exact_in_qemu(tmp_path):
    """A forced patch plan with column windows (copies in and out) and extreme inputs, on the
    Cortex-M4 (DSP twins) in QEMU, against TFLite Micro."""
    model = tmp_path / "chain.tflite"
    model.write_bytes(chain_model(seed=7, extreme=True))
    shape = (1, 20, 17, 3)
    checker = np.indices(shape).sum(axis=0) % 2
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, np.stack([np.full(shape, 127, np.int8), np.full(shape, -128, np.int8),
                              np.where(checker == 1, 127, -128).astype(np.int8)]))
    proc = tinygen("run", str(model), "--inputs", str(inputs), "--json", "--patch", "5:2x3", "-o", str(tmp_path / "b"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["bit_exact"] and report["inputs"] == 3 and report["patch"] == "5:2x3"


@pytest.mark.long
def test_vww_patched_auto_bit_exact_in_qemu(tmp_path):
    """The issue's target on the board: VWW with --patch auto in <= 32,768 bytes, bit-exact."""
    proc = tinygen("run", str(mlperf_model("vww")), "--random", "3", "--json", "--patch", "auto",
                   "-o", str(tmp_path / "vww"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["bit_exact"] and report["patch"] != "none" and report["arena_bytes"] <= 32768


@pytest.mark.long
def test_mobilenetv2_224_planned_in_512k_and_bit_exact(tmp_path):
    """MCUNetV2's headline on a stock model, automatically: MobileNetV2 1.0 at 224x224 (int8, made
    by scripts/make_mobilenetv2.py) planned into an STM32H743's 512 KB, every tensor bit-exact on
    the host (the patched ones gathered), and the firmware bit-exact in QEMU."""
    from tinygen.compiler import compile_bytes
    from tinygen.schedule.patches import PatchRequest
    from tinygen.testing.compare import compare_on_host

    model = tmp_path / "mobilenetv2_224_int8.tflite"
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "scripts" / "make_mobilenetv2.py"),
                           str(model)], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = model.read_bytes()
    compiled = compile_bytes(data, name="mnv2", arena_budget=512 * 1024, patch=PatchRequest.parse("auto"))
    assert compiled.patch is not None and compiled.plan.arena_bytes <= 512 * 1024
    label = compiled.patch.label
    result = compare_on_host(data, tmp_path / "host", count=1, name="mnv2", patch=PatchRequest.parse(label))
    assert result.bit_exact, "\n".join(result.mismatches[:10])
    proc = tinygen("run", str(model), "--random", "1", "--json", "--patch", label, "--timeout", "1800",
                   "-o", str(tmp_path / "fw"))
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["bit_exact"] and report["arena_bytes"] <= 512 * 1024
