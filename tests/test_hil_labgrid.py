"""`tinygen hil --labgrid PLACE` against a real labgrid coordinator and exporter on 127.0.0.1,
the exporter serving an emulated board's TCP serial (hil/labgrid/exporter.yaml) as a
NetworkSerialPort. Nothing is mocked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DIGITS_MODEL
from test_hil import BOARD, SAMPLES, _free_port, tinygen

from tinygen.device.netboard import serve_emulator
from tinygen.jobs import build_for_board

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _wait_listening(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def _client(coordinator: str, *args: str) -> str:
    done = subprocess.run([str(BIN / "labgrid-client"), "-x", coordinator, *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def lab_firmware(tmp_path_factory) -> Path:
    return build_for_board(DIGITS_MODEL, BOARD.name, tmp_path_factory.mktemp("lab") / "fw").elf


@pytest.fixture
def lab(tmp_path, lab_firmware):
    """A coordinator, an exporter and an emulated board; yields (coordinator address, place)."""
    coordinator_port, board_port = _free_port(), _free_port()
    coordinator = f"127.0.0.1:{coordinator_port}"
    elf = lab_firmware
    processes = []
    try:
        processes.append(subprocess.Popen([str(BIN / "labgrid-coordinator"), "-l", coordinator], cwd=tmp_path,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        _wait_listening(coordinator_port)
        with serve_emulator(BOARD, elf, "127.0.0.1", board_port):
            env = {**os.environ, "TINYGEN_BOARD_PORT": str(board_port)}
            processes.append(subprocess.Popen(
                [str(BIN / "labgrid-exporter"), "-c", coordinator, "-n", "lab1", "--hostname", "127.0.0.1",
                 str(ROOT / "hil" / "labgrid" / "exporter.yaml")], cwd=tmp_path, env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            deadline = time.monotonic() + 60
            while "NetworkSerialPort" not in _client(coordinator, "resources"):
                assert time.monotonic() < deadline, "the exporter never registered its board"
                time.sleep(0.5)
            _client(coordinator, "-p", "mps2-1", "create")
            _client(coordinator, "-p", "mps2-1", "add-match", "lab1/tinygen-mps2-an386/NetworkSerialPort")
            yield coordinator, "mps2-1"
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=20)


@pytest.mark.qemu
def test_hil_acquires_a_labgrid_place_runs_and_releases_it(lab):
    coordinator, place = lab
    done = tinygen("hil", str(DIGITS_MODEL), "--data", str(SAMPLES), "--labgrid", place,
                   "--labgrid-coordinator", coordinator, "--quiet")
    assert done.returncode == 0, done.stderr
    assert "8/8 vectors bit-exact" in done.stdout
    assert "acquired: None" in _client(coordinator, "-p", place, "show")  # released: others may take it


@pytest.mark.qemu
def test_a_place_held_by_someone_else_is_one_clear_error(lab):
    coordinator, place = lab
    _client(coordinator, "-p", place, "acquire")
    try:
        done = tinygen("hil", str(DIGITS_MODEL), "--data", str(SAMPLES), "--labgrid", place,
                       "--labgrid-coordinator", coordinator, "--quiet")
    finally:
        _client(coordinator, "-p", place, "release")
    assert done.returncode == 2 and "labgrid-client acquire" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
