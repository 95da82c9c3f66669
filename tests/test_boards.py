"""Board files: the built-in ones load and agree with QEMU's facts; bad files fail in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tinygen.boards.catalog import DEFAULT_BOARD, builtin_board_names, load_board, list_boards
from tinygen.errors import BoardError
from tinygen.resources import BOARDS_DIR

GOOD = (BOARDS_DIR / "mps2-an386.toml").read_text()


def test_builtin_boards_load_and_are_named_after_their_files():
    boards = list_boards()
    assert {b.name for b in boards} >= {"mps2-an385", "mps2-an386", "mps2-an500"}
    assert [b.name for b in boards] == builtin_board_names()
    assert DEFAULT_BOARD in builtin_board_names()


def test_default_board_is_the_cortex_m4f():
    board = load_board("mps2-an386")
    assert board.core.cpu == "cortex-m4"
    assert board.isa_features == ("dsp", "fpu")
    assert board.memory.flash.origin == 0 and board.memory.ram.origin == 0x2000_0000
    assert board.memory.ram.size == 4 << 20
    assert board.ram_budget_bytes <= board.memory.ram.size
    assert 0 < board.arena_budget_bytes < board.ram_budget_bytes - board.memory.stack_bytes
    assert "-mfloat-abi=hard" in board.toolchain.cflags
    assert board.toolchain.cc == "arm-none-eabi-gcc"
    assert board.port == "mps2"
    assert board.qemu is not None and board.qemu.machine == "mps2-an386"


@pytest.mark.parametrize("name,cpu,fpu", [("mps2-an385", "cortex-m3", False), ("mps2-an500", "cortex-m7", True)])
def test_sibling_boards(name, cpu, fpu):
    board = load_board(name)
    assert board.core.cpu == cpu
    assert ("fpu" in board.isa_features) == fpu
    assert f"-mcpu={cpu}" in board.toolchain.cflags


def test_a_board_file_can_be_given_by_path(tmp_path):
    path = tmp_path / "my-board.toml"
    path.write_text(GOOD.replace('name = "mps2-an386"', 'name = "my-board"'))
    assert load_board(path).name == "my-board"
    assert load_board(str(path)).name == "my-board"


def _error_for(tmp_path: Path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(BoardError) as caught:
        load_board(path)
    message = caught.value.one_line()
    assert "\n" not in message and message.startswith("tinygen: board: ")
    assert "bad.toml" in message
    return message


def test_unknown_board_names_the_known_ones():
    with pytest.raises(BoardError) as caught:
        load_board("esp32-wroom")
    message = caught.value.one_line()
    assert "unknown board 'esp32-wroom'" in message and "mps2-an386" in message and "\n" not in message


def test_missing_board_file():
    with pytest.raises(BoardError, match="board file not found"):
        load_board("no/such/board.toml")


def test_invalid_toml(tmp_path):
    assert "not valid TOML" in _error_for(tmp_path, GOOD + "\n[core\n")


def test_missing_field(tmp_path):
    assert "toolchain: Field required" in _error_for(tmp_path, GOOD.split("[toolchain]")[0])


def test_misspelled_key_is_not_ignored(tmp_path):
    message = _error_for(tmp_path, GOOD.replace("clock_hz", "clock_hertz"))
    assert "core.clock_hertz: unknown key" in message


def test_wrong_type(tmp_path):
    assert "memory.ram.size" in _error_for(tmp_path, GOOD.replace("ram = { origin = 0x2000_0000, size = 0x40_0000 }",
                                                                  'ram = { origin = 0x2000_0000, size = "4M" }'))


def test_unknown_isa_feature(tmp_path):
    assert "core.isa_features" in _error_for(tmp_path, GOOD.replace('["dsp", "fpu"]', '["dsp", "avx512"]'))


def test_budget_larger_than_the_memory(tmp_path):
    assert "exceeds the RAM region" in _error_for(tmp_path, GOOD.replace("ram_budget_bytes = 0x40_0000",
                                                                       "ram_budget_bytes = 0x80_0000"))


def test_builtin_name_must_match_its_file(tmp_path, monkeypatch):
    (tmp_path / "alias.toml").write_text(GOOD)
    monkeypatch.setattr("tinygen.boards.catalog.BOARDS_DIR", tmp_path)
    with pytest.raises(BoardError, match="declares name 'mps2-an386'"):
        load_board("alias")
