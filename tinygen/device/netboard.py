"""An emulated board on the network: QEMU running the firmware with its serial line served on a TCP
address of the caller's choosing, for hosts that did not start it (`tinygen hil --port socket://`,
a labgrid exporter's NetworkSerialPort). QEMU accepts one client at a time and the next one when
that one hangs up; the firmware keeps running between them.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tinygen.boards.schema import Board
from tinygen.device.emulator import _kill, _wait_until_listening, qemu_command
from tinygen.errors import DeviceError


@dataclass
class NetworkBoard:
    host: str
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def wait(self, timeout_s: float | None = None) -> int | None:
        """QEMU's exit status once it ends (the firmware got EXIT, or crashed); None at the timeout."""
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None


def parse_listen(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise DeviceError(f"--listen wants HOST:PORT (e.g. 127.0.0.1:5555), not '{address}'")
    return host, int(port)


@contextmanager
def serve_emulator(board: Board, elf: Path, host: str, port: int) -> Iterator[NetworkBoard]:
    """QEMU listening on host:port; killed when the block ends, whatever ends it."""
    if board.qemu is None or shutil.which(board.qemu.system) is None:
        raise DeviceError(f"board '{board.name}' cannot be emulated here (no QEMU for it; run setup.sh)")
    if not Path(elf).is_file():
        raise DeviceError(f"firmware image not found: {elf}")
    with tempfile.TemporaryDirectory(prefix="tinygen-emulate-") as scratch:
        stderr_path = Path(scratch) / "qemu.stderr"
        with stderr_path.open("wb") as stderr_file:
            process = subprocess.Popen(qemu_command(board, Path(elf), port, host), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=stderr_file)
        try:
            failure = _wait_until_listening(process, stderr_path)
            if failure:
                raise DeviceError(f"QEMU could not serve {host}:{port}: {failure}")
            yield NetworkBoard(host, port, process)
        finally:
            _kill(process)


def wait_for_port(host: str, port: int, timeout_s: float = 10.0) -> None:
    """Until something accepts connections on host:port (without connecting: QEMU would start)."""
    import socket

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            try:
                probe.bind((host, port))
            except OSError:
                return  # taken: the server is up
        time.sleep(0.05)
    raise DeviceError(f"nothing listens on {host}:{port} after {timeout_s:g} s")
