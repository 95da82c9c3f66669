"""Running a firmware ELF in QEMU as a virtual board whose serial line is a local TCP socket.

QEMU waits for the serial client before the CPU starts (`server=on,wait=on`), so nothing the
firmware sends is lost, and `-icount shift=0` makes every instruction 1 ns of virtual time, which
is what makes the firmware's instruction counts exact and deterministic. QEMU always runs under a
host timeout: firmware that hangs never exits by itself.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tinygen.boards.schema import Board
from tinygen.errors import DeviceError

LISTEN_TIMEOUT_S = 10.0      # QEMU normally listens within ~50 ms
EXIT_GRACE_S = 2.0           # after the block, time for the firmware to exit by itself
PORT_ATTEMPTS = 3            # a free port can be taken by someone else before QEMU binds it
LISTENING_MARK = "waiting for connection"


def qemu_command(board: Board, elf: Path, port: int, host: str = "127.0.0.1",
                 extra: tuple[str, ...] = ()) -> list[str]:
    if board.qemu is None:
        raise DeviceError(f"board '{board.name}' has no [qemu] section: it cannot be emulated")
    return [
        board.qemu.system, "-M", board.qemu.machine,
        "-nographic", "-monitor", "none",
        "-icount", "shift=0",
        "-semihosting-config", "enable=on,target=native",
        "-serial", f"tcp:{host}:{port},server=on,wait=on",
        *board.qemu.extra_args,
        *extra,
        "-kernel", str(elf),
    ]


@dataclass
class Emulator:
    """A running QEMU. `exit_code` is set once QEMU has ended (negative: killed by a signal)."""

    serial_url: str
    command: list[str]
    process: subprocess.Popen = field(repr=False)
    stderr_path: Path = field(repr=False)
    timed_out: bool = False
    exit_code: int | None = None
    stderr: str = ""          # what QEMU printed, once it has ended

    def wait(self, timeout_s: float) -> int:
        """Wait for QEMU to end by itself (e.g. after the firmware's EXIT); DeviceError if it does not."""
        try:
            self.exit_code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise DeviceError(f"QEMU did not exit within {timeout_s:g} s") from None
        return self.exit_code


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, stderr_path: Path) -> str | None:
    """None once QEMU waits for its serial client, else why it failed to get there."""
    deadline = time.monotonic() + LISTEN_TIMEOUT_S
    while time.monotonic() < deadline:
        text = stderr_path.read_text(errors="replace")
        if LISTENING_MARK in text:
            return None
        if process.poll() is not None:
            return text.strip().splitlines()[-1] if text.strip() else f"QEMU exited with status {process.returncode}"
        time.sleep(0.005)
    return f"QEMU did not open its serial port within {LISTEN_TIMEOUT_S:g} s"


def _kill(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()


@contextmanager
def start_emulator(board: Board, elf: Path, timeout_s: float = 60.0,
                   extra_args: tuple[str, ...] = ()) -> Iterator[Emulator]:
    """Run `elf` on the board's QEMU machine; yields an Emulator whose serial_url pyserial opens.

    QEMU is killed after timeout_s of wall time, or when the block ends and it has not exited
    within a short grace period. Afterwards `exit_code` holds QEMU's status (the firmware's exit
    code via semihosting or, on riscv32-virt, the test device; 3 for a CPU fault or trap, see
    TG_PORT_EXIT_FAULT in runtime_c/include/tinygen/tg_port.h). extra_args go to QEMU as they are
    (e.g. the cycle plugin's `-plugin`).
    """
    elf = Path(elf)
    if not elf.is_file():
        raise DeviceError(f"firmware image not found: {elf}")
    if board.qemu is None or shutil.which(board.qemu.system) is None:
        system = board.qemu.system if board.qemu else "QEMU"
        raise DeviceError(f"{system} not found for board '{board.name}'; run setup.sh")

    with tempfile.TemporaryDirectory(prefix="tinygen-qemu-") as scratch:
        stderr_path = Path(scratch) / "qemu.stderr"
        failure = ""
        for _ in range(PORT_ATTEMPTS):
            port = _free_port()
            command = qemu_command(board, elf, port, extra=tuple(extra_args))
            with stderr_path.open("wb") as stderr_file:
                process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                           stderr=stderr_file)
            try:
                failure = _wait_until_listening(process, stderr_path) or ""
            except BaseException:  # Ctrl-C (or SIGTERM) while QEMU starts: no QEMU left behind
                _kill(process)
                raise
            if not failure:
                break
            _kill(process)
            if "in use" not in failure:
                raise DeviceError(f"QEMU failed to start: {failure}")
        else:
            raise DeviceError(f"QEMU failed to start: {failure}")

        emulator = Emulator(f"socket://127.0.0.1:{port}", command, process, stderr_path)

        def on_timeout() -> None:
            if process.poll() is None:
                emulator.timed_out = True
                process.kill()

        watchdog = threading.Timer(timeout_s, on_timeout)
        watchdog.daemon = True
        watchdog.start()
        try:
            yield emulator
        finally:
            try:
                emulator.exit_code = process.wait(timeout=EXIT_GRACE_S)
            except subprocess.TimeoutExpired:
                _kill(process)
                emulator.exit_code = process.returncode
            watchdog.cancel()
            emulator.stderr = stderr_path.read_text(errors="replace")
