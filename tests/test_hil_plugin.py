"""The pytest plugin and the hil/ suites, run as a rig would run them (a pytest in a subprocess),
on the emulated board; and the flashers, as far as they go without a board."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from test_hil import BOARD, _changed_weight_firmware, _free_port

from tinygen.boards.catalog import load_board
from tinygen.device.flash import ESPTOOL, PICOTOOL, PLATFORMIO, PYOCD, Flasher, flasher_for
from tinygen.device.netboard import serve_emulator
from tinygen.errors import DeviceError

ROOT = Path(__file__).resolve().parents[1]


def run_hil_suite(*options: str) -> subprocess.CompletedProcess:
    installed = any(ep.value == "tinygen.hil.pytest_plugin" for ep in entry_points(group="pytest11"))
    plugin = [] if installed else ["-p", "tinygen.hil.pytest_plugin"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "pytest", "hil", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           *plugin, *options], cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)


def test_the_plugin_is_registered_as_a_pytest11_entry_point():
    text = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points.pytest11]\ntinygen = "tinygen.hil.pytest_plugin"' in text


@pytest.mark.qemu
def test_the_hil_suites_pass_on_the_emulated_board():
    done = run_hil_suite("--tinygen-board", "mps2-an386")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "7 passed" in done.stdout


@pytest.mark.qemu
def test_the_hil_suites_fail_on_a_board_whose_firmware_differs(tmp_path):
    elf = _changed_weight_firmware(tmp_path, tmp_path)
    with serve_emulator(BOARD, elf, "127.0.0.1", _free_port()) as board:
        done = run_hil_suite("--tinygen-board", "mps2-an386", "--tinygen-port", board.url)
    assert done.returncode == 1, done.stdout[-2000:]
    assert "failed" in done.stdout and "board" in done.stdout and "TFLite Micro" in done.stdout


# ---- flashers, without a board --------------------------------------------------------------------

def _board(name: str, **extra):
    base = load_board("mps2-an386").model_dump()
    base.update(name=name, qemu=None, **extra)
    return type(load_board("mps2-an386")).model_validate(base)


def test_each_family_gets_its_flasher_and_command(tmp_path):
    elf = tmp_path / "build" / "firmware.elf"
    esp = flasher_for(_board("esp32s3"))
    assert esp.name == ESPTOOL.name and esp.command(tmp_path, elf, "/dev/ttyACM0") == [
        "esptool.py", "--chip", "esp32s3", "--port", "/dev/ttyACM0", "--baud", "921600", "write_flash", "0x0",
        str(elf.with_suffix(".bin"))]
    assert flasher_for(_board("rp2040-pico")).command(tmp_path, elf, None) == [
        "picotool", "load", "-x", str(elf.with_suffix(".uf2"))]
    assert flasher_for(_board("nucleo-f746zg")).command(tmp_path, elf, None)[:3] == ["pyocd", "flash", "-t"]
    pio = flasher_for(_board("mps2-an386"), prefer="platformio")
    assert pio.command(tmp_path, elf, "/dev/ttyUSB0") == [
        "pio", "run", "-d", str(tmp_path), "-t", "upload", "--upload-port", "/dev/ttyUSB0"]
    own = flasher_for(_board("custom", hil={"flash_command": ["my-flash", "{elf}", "--port", "{port}"]}))
    assert own.command(tmp_path, elf, "/dev/ttyS3") == ["my-flash", str(elf), "--port", "/dev/ttyS3"]
    assert {f.name for f in (ESPTOOL, PICOTOOL, PYOCD, PLATFORMIO)} == {"esptool", "picotool", "pyOCD", "PlatformIO"}


def test_flashing_without_the_tool_or_the_port_is_one_clear_error(tmp_path):
    absent = Flasher("nothing", "tinygen-no-such-flasher", ("tinygen-no-such-flasher", "{elf}"))
    with pytest.raises(DeviceError, match="'tinygen-no-such-flasher' not found"):
        absent.flash(tmp_path, tmp_path / "f.elf", "/dev/ttyACM0")
    present = Flasher("true", "true", ("true",))
    with pytest.raises(DeviceError, match="serial port /dev/tinygen-absent does not exist"):
        present.flash(tmp_path, tmp_path / "f.elf", "/dev/tinygen-absent")
    failing = Flasher("false", "false", ("false",), needs_port=False)
    with pytest.raises(DeviceError, match=r"false failed \(status 1\)"):
        failing.flash(tmp_path, tmp_path / "f.elf", None)
    with pytest.raises(DeviceError, match="no flasher.*omit the port"):
        flasher_for(load_board("mps2-an386"))


def test_hil_flash_on_a_board_without_flasher_or_port_is_one_line(tmp_path):
    from conftest import DIGITS_MODEL
    from test_hil import SAMPLES, tinygen

    done = tinygen("hil", str(DIGITS_MODEL), "--data", str(SAMPLES), "--port", "/dev/tinygen-absent", "--flash",
                   "-o", str(tmp_path / "fw"))
    assert done.returncode == 2 and "no flasher" in done.stderr and len(done.stderr.strip().splitlines()) == 1
