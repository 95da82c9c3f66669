"""Putting a built firmware on a real board: one Flasher per tool, chosen from the board file.

Every flasher is a command line (built by `command()`, so it can be shown and tested without a
board) run by `flash()`, which first checks that the tool and the serial port exist and turns any
failure into one DeviceError line. Emulated boards need none: QEMU loads the ELF itself.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tinygen.boards.schema import Board
from tinygen.errors import DeviceError

FLASH_TIMEOUT_S = 300


@dataclass(frozen=True)
class Flasher:
    name: str
    tool: str                       # the executable that must be on PATH
    argv: tuple[str, ...]           # {elf} {bin} {uf2} {project} {port} {chip} {target} are filled in
    chip: str = ""
    needs_port: bool = True         # a serial port the tool talks through (not a debug probe)

    def command(self, project: Path, elf: Path, port: str | None) -> list[str]:
        values = {"elf": str(elf), "bin": str(elf.with_suffix(".bin")), "uf2": str(elf.with_suffix(".uf2")),
                  "project": str(project), "port": port or "", "chip": self.chip, "target": self.chip}
        return [part.format(**values) for part in self.argv]

    def flash(self, project: Path, elf: Path, port: str | None) -> None:
        tool = shutil.which(self.tool) or (sys.executable if self.tool == "python" else None)
        if tool is None:
            raise DeviceError(f"cannot flash with {self.name}: '{self.tool}' not found (install it, e.g. pip install {self.tool})")
        if self.needs_port and (not port or (port.startswith("/dev/") and not Path(port).exists())):
            raise DeviceError(f"cannot flash with {self.name}: serial port {port or '(none given)'} does not exist")
        command = self.command(Path(project), Path(elf), port)
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=FLASH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"{self.name} did not finish within {FLASH_TIMEOUT_S} s") from None
        if done.returncode != 0:
            last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise DeviceError(f"{self.name} failed (status {done.returncode}): {last[0]}")


ESPTOOL = Flasher("esptool", "esptool.py", ("esptool.py", "--chip", "{chip}", "--port", "{port}", "--baud", "921600",
                                          "write_flash", "0x0", "{bin}"))
PLATFORMIO = Flasher("PlatformIO", "pio", ("pio", "run", "-d", "{project}", "-t", "upload", "--upload-port", "{port}"))
PYOCD = Flasher("pyOCD", "pyocd", ("pyocd", "flash", "-t", "{target}", "{elf}"), needs_port=False)
OPENOCD = Flasher("OpenOCD", "openocd", ("openocd", "-f", "{target}", "-c", "program {elf} verify reset exit"),
                  needs_port=False)
PICOTOOL = Flasher("picotool", "picotool", ("picotool", "load", "-x", "{uf2}"), needs_port=False)


def flasher_for(board: Board, prefer: str | None = None) -> Flasher:
    """The board file's flash_command if it has one; else by chip family (ESP32 esptool, RP2040
    picotool, STM32/nRF pyOCD, anything PlatformIO knows `pio run -t upload`)."""
    if board.hil is not None and board.hil.flash_command:
        argv = tuple(board.hil.flash_command)
        return Flasher("the board file's flash_command", argv[0], argv, needs_port="{port}" in " ".join(argv))
    name, cpu = board.name.lower(), board.core.cpu.lower()
    choices = {"esptool": ESPTOOL, "platformio": PLATFORMIO, "pyocd": PYOCD, "openocd": OPENOCD, "picotool": PICOTOOL}
    if prefer:
        if prefer not in choices:
            raise DeviceError(f"unknown flasher '{prefer}' (known: {', '.join(choices)})")
        chosen = choices[prefer]
    elif name.startswith("esp32"):
        chosen = ESPTOOL
    elif "rp2040" in name or name.startswith("pico"):
        chosen = PICOTOOL
    elif name.startswith(("stm32", "nucleo", "nrf")):
        chosen = PYOCD
    elif board.platformio is not None:
        chosen = PLATFORMIO
    else:
        raise DeviceError(f"board '{board.name}' ({cpu}) has no flasher: give its board file a [hil] flash_command"
                          + (", or omit the port to run it in QEMU" if board.qemu else ""))
    chip = name.split("-")[0].replace("_", "") if chosen is ESPTOOL else name
    return Flasher(chosen.name, chosen.tool, chosen.argv, chip, chosen.needs_port)
