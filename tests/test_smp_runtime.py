"""The SMP runtime (runtime_c/include/tinygen/tg_smp.h) and its ports, without the code generator.

On the host: the pthread port, under ThreadSanitizer. In QEMU: a hand-written two-phase job
(tests/fixtures/smpsum_model) built by the project's firmware build on the dual Cortex-M33
(mps2-an521) and on riscv32 `virt` with 2 and 4 harts, each run with 1..N cores in one QEMU session:
the result must be the same whatever N, and the cycle plugin's per-core intervals must give a
modelled N-core latency of about 1/N of the single-core one (the job is balanced).
"""

from __future__ import annotations

import random
import re
import struct
import subprocess
from pathlib import Path

import pytest
from test_firmware_qemu import build, fixture_sources

from tinygen.boards.catalog import list_boards, load_board
from tinygen.device.cycles import CoreLoad, CycleCounter, core_loads
from tinygen.device.emulator import start_emulator
from tinygen.device.runner import DeviceSession
from tinygen.resources import RUNTIME_DIR, RUNTIME_INCLUDE_DIR

FIXTURES = Path(__file__).parent / "fixtures"
VALUES = 400  # SMPSUM_VALUES in tests/fixtures/smpsum_model/smpsum.h
ARENA_BYTES = 4 * (1 + VALUES + 2 + VALUES)


def smpsum_expected(x: list[int]) -> tuple[int, list[int]]:
    """What smpsum.c computes, in Python (int32 wrap-around)."""
    def s32(v: int) -> int:
        v &= 0xFFFFFFFF
        return v - (1 << 32) if v & 0x80000000 else v
    total = s32(sum(s32(v * v) + (v >> r) for v in x for r in range(8)))
    return total, [s32(3 * v + total) for v in x]


def run_smpsum(tmp_path: Path, board_name: str, core_counts: list[int]) -> tuple[list[tuple], list[CoreLoad]]:
    """Build the fixture for the board, run it once per entry of core_counts (0: all the board has),
    with the cycle plugin cutting intervals at tg_barrier_wait. Returns the outputs and, per run, the
    loads of the board's cores."""
    board = load_board(board_name)
    firmware = build(tmp_path, board, fixture_sources("smpsum", ARENA_BYTES))
    rng = random.Random(7)
    x = [rng.randrange(-40_000, 40_000) for _ in range(VALUES)]
    x[:3] = [-(2 ** 31), 2 ** 31 - 1, -1]  # wrap-around and the arithmetic shift of negatives
    counter = CycleCounter("smpsum_invoke", barrier_function="tg_barrier_wait")
    with start_emulator(board, firmware.elf_path, timeout_s=300,
                        extra_args=tuple(counter.qemu_arguments(firmware.elf_path))) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=120) as session:
            runs = [session.run([struct.pack(f"<{1 + VALUES}i", n, *x)]) for n in core_counts]
            session.exit()
    assert emulator.exit_code == 0, emulator.stderr
    measured = counter.collect()
    total, y = smpsum_expected(x)
    outputs = [struct.unpack(f"<{2 + VALUES}i", r.outputs[0]) for r in runs]
    for n, out in zip(core_counts, outputs):
        assert out[0] == total and list(out[2:]) == y, f"{n} cores on {board_name}"
    assert len(measured.regions) == len(core_counts)  # one invoke() each, on core 0
    return outputs, core_loads(measured.intervals, board.core.count)


def test_pthread_port_under_thread_sanitizer(tmp_path):
    exe = tmp_path / "smp_rounds"
    subprocess.run(["gcc", "-std=c11", "-O1", "-g", "-fsanitize=thread", "-Wall", "-Wextra", "-Werror",
                    f"-I{RUNTIME_INCLUDE_DIR}", str(FIXTURES / "smp_host" / "smp_rounds.c"),
                    str(RUNTIME_DIR / "firmware" / "tg_smp.c"), str(RUNTIME_DIR / "host" / "tg_smp_host.c"),
                    "-pthread", "-o", str(exe)], check=True, capture_output=True)
    proc = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr
    assert "WARNING: ThreadSanitizer" not in proc.stderr


def _board_header_cores(board_name: str) -> int:
    board = load_board(board_name)
    header = RUNTIME_DIR / "ports" / board.port / "boards" / f"{board.name}.h"
    found = re.search(r"#define TG_BOARD_CORES (\d+)", header.read_text()) if header.is_file() else None
    return int(found.group(1)) if found else 1


@pytest.mark.parametrize("board_name", [b.name for b in list_boards() if b.port in {"mps2", "riscv"}])
def test_board_file_header_and_qemu_agree_on_the_cores(board_name):
    """[core] count, the port's TG_BOARD_CORES and QEMU's -smp must say the same."""
    board = load_board(board_name)
    assert _board_header_cores(board_name) == board.core.count
    args = list(board.qemu.extra_args) if board.qemu else []
    if board.port == "riscv" and board.core.count > 1:
        assert args[args.index("-smp") + 1] == str(board.core.count)
    assert "-smp" not in args or board.port == "riscv"


@pytest.mark.qemu
def test_dual_cortex_m33_splits_the_job_in_half(tmp_path):
    outputs, loads = run_smpsum(tmp_path, "mps2-an521", [1, 2, 0, 1])
    assert [out[1] for out in outputs] == [1, 2, 2, 1]
    one, two = loads[0], loads[1]
    assert one.busy[1] == 0 and one.busiest == one.busy[0]  # core 1 is not started for one core
    assert two.intervals == 3 and min(two.busy) > 0.45 * one.latency
    assert 0.45 < two.latency / one.latency <= 0.52
    # A waiting core hands the emulated CPU over at once (WFE): tens of instructions, not a time slice.
    assert max(two.wait) < 200
    # Later jobs reuse the running core 1: the same figures again, and one core as before.
    assert loads[2].latency <= two.latency and loads[3].latency == one.latency


@pytest.mark.qemu
@pytest.mark.parametrize("harts", [2, 4])
def test_riscv_virt_harts_split_the_job(tmp_path, harts):
    counts = list(range(1, harts + 1)) + [harts, harts]
    outputs, loads = run_smpsum(tmp_path, f"riscv32-virt-{harts}", counts)
    assert [out[1] for out in outputs] == counts
    single = loads[0].latency
    for n, load in zip(counts, loads):
        assert all(b > 0 for b in load.busy[:n])
        assert max(load.wait) < 200  # a waiting hart halts in WFI until its MSIP: no spinning
        # Balanced shares: within 6 % of the ideal 1/n, barrier overhead included.
        assert load.latency <= single / n * 1.06, (n, load)
    # The same job again, on harts already started: the same count, exactly.
    assert loads[-1] == loads[-2]


REAL_BOARDS = [b.name for b in list_boards() if not b.emulated]


@pytest.mark.parametrize("board_name", REAL_BOARDS)
def test_runtime_and_framework_ports_compile_for_every_real_board(board_name, tmp_path):
    """tg_smp.c and the one-core path of the arduino and zephyr ports, with each board's compiler (the
    host's for Xtensa). The FreeRTOS and Pico SDK paths need SDKs that are not installed here."""
    from board_compile import compile_objects, defined_symbols

    board = load_board(board_name)
    sources = [RUNTIME_DIR / "firmware" / "tg_smp.c", RUNTIME_DIR / "ports" / "arduino" / "tg_arduino_smp.c"]
    objects = compile_objects(board, sources, [RUNTIME_INCLUDE_DIR, RUNTIME_DIR / "firmware"], tmp_path / "arduino")
    assert {"tg_smp_run", "tg_barrier_wait", "tg_smp_worker", "tg_smp_cores_available"} <= defined_symbols(board, objects)
    zephyr = compile_objects(board, [RUNTIME_DIR / "ports" / "zephyr" / "tg_zephyr_smp.c"], [RUNTIME_INCLUDE_DIR],
                             tmp_path / "zephyr")
    assert "tg_smp_port_start" in defined_symbols(board, zephyr)
