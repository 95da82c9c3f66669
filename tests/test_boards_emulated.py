"""The emulated boards beyond the mps2 Cortex-M3/M4/M7: Cortex-M33 (mps2-an505, mps2-an521 on core 0),
Cortex-M55 (mps3-an547), RV32IMAC (riscv32-virt, sifive-e). On each: exact instruction counts, the
example model bit-exact against TFLite Micro, and the stack within its static bound. The MLPerf Tiny
models on every board are the long test at the end (`-m long`).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from test_firmware_qemu import assert_counts_exact, build, fixture_sources

from conftest import DIGITS_MODEL, MLPERF_MODELS, mlperf_model
from tinygen.boards.catalog import load_board
from tinygen.doctor import run_checks
from tinygen.jobs import run_on_board

NEW_BOARDS = ["mps2-an505", "mps2-an521", "mps3-an547", "riscv32-virt", "sifive-e"]


@pytest.mark.parametrize("name", NEW_BOARDS)
def test_board_files_load(name):
    board = load_board(name)
    assert board.qemu is not None and board.port in {"mps2", "riscv"}


def test_doctor_checks_the_rv32_multilib():
    check = next(c for c in run_checks() if "rv32imac" in c.name)
    assert check.ok and "rv32imac/ilp32" in check.detail


@pytest.mark.qemu
@pytest.mark.parametrize("name", NEW_BOARDS)
def test_instruction_counts_are_exact(tmp_path, name):
    """counting_invoke executes exactly 2 * n + 6 instructions, in Thumb-2 and in RV32. On the AN547
    a SysTick tick is 31.25 instructions: the port counts blocks of four ticks (125)."""
    board = load_board(name)
    firmware = build(tmp_path, board, fixture_sources("counting", 8))
    assert_counts_exact(board, firmware.elf_path, [0, 1, 2, 7, 1000, 123_457])


@pytest.mark.qemu
@pytest.mark.parametrize("name", NEW_BOARDS)
def test_digits_runs_bit_exact(tmp_path, name):
    report = run_on_board(DIGITS_MODEL, name, tmp_path / "fw", random_count=2, timeout_s=120)
    assert report.bit_exact and report.board == name
    assert all(r.instructions > 20_000 for r in report.results)  # a whole invoke() counted (the M55: ~100 K)
    # Painted in QEMU, within the static bound (Thumb or RV32 alike), within the reserved stack.
    assert 0 < report.stack_bytes <= report.stack_bound_bytes <= report.stack_bytes + 64
    assert report.stack_peak_bytes <= report.firmware_stack_bound_bytes <= report.stack_reserved_bytes
    assert report.stack_reserved_bytes == load_board(name).memory.stack_bytes


def tinygen_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygen.cli", *args], capture_output=True, text=True, timeout=600)


def test_sifive_e_refuses_a_model_that_does_not_fit_before_building(tmp_path):
    out = tmp_path / "vww"
    # Whole tensors: the fit check's words (tinygen/boards/fit.py): the arena it needs and the most the
    # board's 16 KiB allow (less 2 KiB stack, 512 B runtime).
    proc = tinygen_cli("build", str(mlperf_model("vww")), "--board", "sifive-e", "--patch", "none", "-o", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert re.search(r"arena [\d,]+ \+ stack 2,048 \+ runtime 512", lines[0]) and "at most 13,824 B" in lines[0]
    assert not out.exists()
    # With patches (the default): the best patch plan tried, and by how much it misses.
    proc = tinygen_cli("build", str(mlperf_model("vww")), "--board", "sifive-e", "-o", str(out))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no patch plan fits the board's 13824-byte arena" in lines[0]
    assert re.search(r"--patch \d+:\d+x\d+ \(\d+ bytes, MAC overhead [\d.]+%\), misses by \d+ bytes", lines[0])
    assert not out.exists()


# ---- every board x every MLPerf Tiny model (long) ---------------------------------------------

SIFIVE_E_FITS = {"ad", "kws"}  # the others' arenas exceed the 13,824 bytes sifive-e leaves for activations


@pytest.mark.long
@pytest.mark.qemu
@pytest.mark.parametrize("key", sorted(MLPERF_MODELS))
@pytest.mark.parametrize("name", NEW_BOARDS)
def test_mlperf_on_every_new_board(tmp_path, name, key):
    proc = tinygen_cli("run", str(mlperf_model(key)), "--board", name, "--random", "3", "--seed", "11", "--json",
                       "-o", str(tmp_path / key))
    if name == "sifive-e" and key not in SIFIVE_E_FITS:
        # the fit check's refusal (test_sifive_e_refuses_a_model_that_does_not_fit_before_building)
        assert proc.returncode == 2 and "does not fit board 'sifive-e'" in proc.stderr
        assert "no patch plan fits the board's 13824-byte arena" in proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["bit_exact"] is True and report["max_abs_diff"] == 0 and report["board"] == name
    assert report["instructions"] > 0 and len(report["instructions_per_input"]) == 3
    assert 0 < report["stack_bytes"] <= report["stack_bound_bytes"]
    assert report["stack_peak_bytes"] <= report["firmware_stack_bound_bytes"] <= report["stack_reserved_bytes"]
