"""labgrid glue: a board farm's places as tinygen boards.

A lab runs labgrid's coordinator and, on each host with boards, an exporter (hil/labgrid/
exporter.yaml shows one exporting an emulated board's TCP serial as a NetworkSerialPort; a USB
board is a USBSerialPort). `tinygen hil --labgrid PLACE` acquires the place with labgrid-client,
resolves its serial port through a RemotePlace, flashes the firmware with TinygenFirmwareDriver
when the board has a flasher, runs the check, and releases the place whatever happened.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import attr
from labgrid import Environment
from labgrid.driver.common import Driver
from labgrid.factory import target_factory

from tinygen.boards.catalog import load_board
from tinygen.device.flash import flasher_for
from tinygen.errors import DeviceError

DEFAULT_COORDINATOR = "127.0.0.1:20408"   # labgrid's own default
CLIENT_TIMEOUT_S = 60


@target_factory.reg_driver
@attr.s(eq=False)
class TinygenFirmwareDriver(Driver):
    """Knows the board behind a serial port resource: its URL for tinygen, and how to flash it."""

    bindings = {"port": {"NetworkSerialPort", "USBSerialPort", "RawSerialPort"}}
    board = attr.ib(default="mps2-an386", validator=attr.validators.instance_of(str))

    @property
    def url(self) -> str:
        port = self.port
        if type(port).__name__ == "NetworkSerialPort":
            scheme = "rfc2217" if port.protocol == "rfc2217" else "socket"
            return f"{scheme}://{port.host}:{port.port}"
        return port.port  # a device path on this host

    def can_flash(self) -> bool:
        try:
            flasher_for(load_board(self.board))
        except DeviceError:
            return False
        return True

    @Driver.check_active
    def flash(self, project: Path, elf: Path) -> None:
        flasher_for(load_board(self.board)).flash(project, elf, self.url)


@dataclass(frozen=True)
class LabBoard:
    place: str
    url: str
    driver: TinygenFirmwareDriver


def _client(coordinator: str, place: str, *args: str) -> str:
    tool = shutil.which("labgrid-client") or str(Path(sys.executable).parent / "labgrid-client")
    try:
        done = subprocess.run([tool, "-x", coordinator, "-p", place, *args], capture_output=True, text=True,
                              timeout=CLIENT_TIMEOUT_S)
    except FileNotFoundError:
        raise DeviceError("labgrid-client not found: pip install labgrid") from None
    except subprocess.TimeoutExpired:
        raise DeviceError(f"labgrid coordinator {coordinator} did not answer within {CLIENT_TIMEOUT_S} s") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or [f"status {done.returncode}"]
        raise DeviceError(f"labgrid-client {args[0]} {place}: {last[0]}")
    return done.stdout


@contextmanager
def acquired_place(place: str, board: str, coordinator: str | None = None) -> Iterator[LabBoard]:
    """The place acquired for this block, its serial port resolved; released when the block ends."""
    coordinator = coordinator or os.environ.get("LG_COORDINATOR") or DEFAULT_COORDINATOR
    _client(coordinator, place, "acquire")
    try:
        with tempfile.TemporaryDirectory(prefix="tinygen-labgrid-") as scratch:
            env_file = Path(scratch) / "env.yaml"
            env_file.write_text(
                "targets:\n  main:\n    resources:\n      RemotePlace:\n        name: " + place
                + "\n    drivers:\n      TinygenFirmwareDriver:\n        board: " + board + "\n", encoding="utf-8")
            saved = os.environ.get("LG_COORDINATOR")
            os.environ["LG_COORDINATOR"] = coordinator
            try:
                target = Environment(str(env_file)).get_target("main")
                driver = target.get_driver(TinygenFirmwareDriver)
            except Exception as exc:  # labgrid raises many kinds; each is one line for the user
                raise DeviceError(f"labgrid place '{place}' has no usable serial port: {exc}") from None
            finally:
                if saved is None:
                    os.environ.pop("LG_COORDINATOR", None)
                else:
                    os.environ["LG_COORDINATOR"] = saved
            try:
                yield LabBoard(place, driver.url, driver)
            finally:
                target.cleanup()
    finally:
        _client(coordinator, place, "release")
