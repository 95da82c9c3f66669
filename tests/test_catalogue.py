"""The board catalogue: every board the issue names is there, with figures that hold together;
the schema's new tables are optional (old board files still load) and closed; `tinygen boards`."""

from __future__ import annotations

import json

import pytest

from test_bad_input import assert_one_line_error, tinygen
from tinygen.boards.catalog import list_boards, load_board
from tinygen.boards.fit import CODE_FLASH_ESTIMATE_BYTES, measure_fit, weights_bytes
from tinygen.jobs import build_for_board
from tinygen.boards.schema import RUNTIME_RAM_RESERVE_BYTES, Board
from tinygen.errors import BoardError
from tinygen.compiler import compile_file
from tinygen.resources import BOARDS_DIR

from conftest import DIGITS_MODEL, mlperf_model

REAL = {"esp32s3", "esp32c3", "esp32", "pico", "pico2", "nucleo-l4r5zi", "nucleo-h7a3zi-q", "nucleo-h743zi2",
        "stm32f746g-disco", "nano33ble", "nrf5340dk", "hifive1-revb"}
GOOD = (BOARDS_DIR / "mps2-an386.toml").read_text()


def test_every_board_of_the_issue_is_in_the_catalogue():
    boards = {b.name: b for b in list_boards()}
    assert REAL <= set(boards)
    for name in REAL:
        board = boards[name]
        assert not board.emulated and board.vendor and board.platformio and board.hil
        assert board.platformio.framework in board.platformio.frameworks
        assert board.hil.usb_vid_pid and board.hil.flasher
        assert board.arena_budget_bytes > 0


@pytest.mark.parametrize("name,cpu,clock_mhz,features", [
    ("esp32s3", "esp32s3", 240, ("fpu",)), ("esp32c3", "esp32c3", 160, ("rv-m", "rv-c")),
    ("pico", "cortex-m0plus", 133, ()), ("pico2", "cortex-m33", 150, ("dsp", "fpu")),
    ("nucleo-h743zi2", "cortex-m7", 480, ("dsp", "fpu", "fpu-dp")), ("nano33ble", "cortex-m4", 64, ("dsp", "fpu")),
    ("hifive1-revb", "sifive-e31", 320, ("rv-m", "rv-a", "rv-c")),
])
def test_cores_as_the_datasheets_give_them(name, cpu, clock_mhz, features):
    board = load_board(name)
    assert (board.core.cpu, board.core.clock_hz, board.isa_features) == (cpu, clock_mhz * 1_000_000, features)


def test_arduino_boards_have_an_fqbn_and_the_rest_say_why_not():
    for board in list_boards():
        if board.platformio and "arduino" in board.platformio.frameworks:
            assert board.arduino is not None and board.arduino.fqbn.count(":") >= 2, board.name
    assert load_board("hifive1-revb").arduino is None and load_board("nrf5340dk").arduino is None


def test_stm32h7_banks_and_the_region_the_model_uses():
    board = load_board("nucleo-h743zi2")
    banks = {b.name: b for b in board.memory.banks}
    assert {"DTCM", "AXI SRAM", "SRAM1", "SRAM2", "SRAM3", "SRAM4"} <= set(banks)
    assert banks["DTCM"].origin == 0x2000_0000 and banks["AXI SRAM"].size == 512 * 1024
    assert board.memory.ram.origin == banks["AXI SRAM"].origin
    pico = load_board("pico")
    assert all(bank.cores == (0, 1) for bank in pico.memory.banks)  # both cores reach every bank


def _bad(tmp_path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BoardError) as caught:
        load_board(path)
    return caught.value.one_line()


def test_new_tables_are_validated_in_one_line(tmp_path):
    with_banks = GOOD.replace("stack_bytes = 8192", "stack_bytes = 8192\nbanks = [{ name = \"SRAM\", origin = 0x2000_0000, "
                                                    "size = 0x40_0000, cores = [1] }]")
    assert "names a core beyond core.count" in _bad(tmp_path, with_banks)
    outside = GOOD.replace("stack_bytes = 8192", "stack_bytes = 8192\nbanks = [{ name = \"SRAM\", origin = 0x3000_0000, "
                                                 "size = 0x1000 }]")
    assert "not covered by the banks" in _bad(tmp_path, outside)
    assert "hil.usb_vid_pid" in _bad(tmp_path, GOOD + "\n[hil]\nusb_vid_pid = \"cafe\"\n")
    assert "platformio.frameworx: unknown key" in _bad(tmp_path, GOOD + "\n[platformio]\nplatform = \"x\"\nboard = \"y\"\n"
                                                                         "frameworx = [\"arduino\"]\n")


def test_fit_adds_up_and_the_framework_takes_its_share():
    compiled = compile_file(mlperf_model("kws"))
    board = load_board("esp32s3")
    fit = measure_fit(board, compiled.graph, compiled.plan)
    assert fit.fits and fit.problem() is None
    assert fit.ram_bytes == (compiled.plan.arena_bytes + board.memory.stack_bytes + RUNTIME_RAM_RESERVE_BYTES
                             + board.platformio.ram_overhead_bytes)
    assert fit.flash_bytes > CODE_FLASH_ESTIMATE_BYTES + 20_000  # kws has about 20 KB of weights
    assert board.arena_budget_bytes == fit.ram_budget_bytes - fit.ram_bytes + fit.arena_bytes

    small = measure_fit(load_board("hifive1-revb"), compiled.graph, compiled.plan)
    message = small.problem()
    assert not small.fits and message is not None and "\n" not in message
    assert f"arena {compiled.plan.arena_bytes:,}" in message and f"{-small.ram_margin:,} B over" in message


def test_boards_command_lists_every_board_as_a_table_and_as_json():
    table = tinygen("boards")
    assert table.returncode == 0 and "esp32s3" in table.stdout and "espressif32" in table.stdout
    listed = json.loads(tinygen("boards", "--json").stdout)
    assert {b["name"] for b in listed} == {b.name for b in list_boards()}
    for entry in listed:  # the JSON is the board file, complete: it validates again
        assert Board.model_validate(entry).name == entry["name"]


def test_the_flash_estimate_bounds_a_real_firmware(tmp_path):
    """The fit check's flash figure, weights + code estimate, is not below what the linker makes, with
    the kernel variants' own (widened) weights counted."""
    board = load_board("mps2-an386")
    outcome = build_for_board(DIGITS_MODEL, board.name, tmp_path / "digits")
    compiled = compile_file(DIGITS_MODEL, board=board)
    assert any(call.function.endswith("_wide") for call in compiled.schedule.kernel_calls())
    fit = measure_fit(board, compiled.graph, compiled.plan, compiled.lowered)
    assert fit.weights_bytes == weights_bytes(compiled.graph, compiled.lowered) > weights_bytes(compiled.graph)
    assert outcome.flash_bytes <= fit.flash_bytes < 2 * outcome.flash_bytes + 8192


def test_an_emulated_board_too_small_is_refused_with_the_sizes(tmp_path):
    out = tmp_path / "vww"
    # --patch none: whole tensors, judged by the fit check (with patches, the patch search's own
    # one-line refusal comes first: tests/test_boards_emulated.py).
    message = assert_one_line_error(tinygen("build", str(mlperf_model("vww")), "--board", "sifive-e", "--patch", "none",
                                            "-o", str(out)),
                                    "does not fit board 'sifive-e'")
    arena = compile_file(mlperf_model("vww"), board=load_board("sifive-e")).plan.arena_bytes  # its kernels' arena
    over = arena + 2048 + RUNTIME_RAM_RESERVE_BYTES - 16 * 1024
    assert f"(arena {arena:,} + stack 2,048 + runtime {RUNTIME_RAM_RESERVE_BYTES})" in message
    assert f"{over:,} B over" in message
    assert not out.exists()
