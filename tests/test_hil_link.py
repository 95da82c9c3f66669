"""Serial protocol v3 on the real firmware in QEMU: chunks, sessions, resets, faults, the link's
cost; and the pieces of `tinygen hil` that need no board (vectors, reports, fault options)."""

from __future__ import annotations

import socket
import struct
import time
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import numpy as np
import pytest
from elftools.elf.elffile import ELFFile
from test_firmware_qemu import BOARD, build, fake_inputs, fake_reference, fixture_sources

from tinygen.codegen.sources import GeneratedSources
from tinygen.device.emulator import start_emulator
from tinygen.device.faultproxy import FaultyLine, LineFaults, parse_socket_url
from tinygen.device.protocol import (
    OFFSET, ErrorCode, Frame, MessageType, decode_error_reply, decode_frame, encode_frame,
)
from tinygen.device.runner import DeviceFault, DeviceSession
from tinygen.errors import DeviceError, InputError
from tinygen.hil.check import first_mismatch
from tinygen.hil.report import HilReport, Mismatch, VectorOutcome
from tinygen.hil.vectors import load_vectors
from tinygen.frontend.tflite_reader import parse_tflite
from conftest import DIGITS_MODEL


@pytest.fixture(scope="module")
def fake_firmware(tmp_path_factory):
    return build(tmp_path_factory.mktemp("fw"), BOARD, fixture_sources("fake", 620))


def error_of(session: DeviceSession, frame: Frame) -> tuple[int, int]:
    session.send_bytes(encode_frame(frame))
    reply = session.receive_frame()
    assert (reply.type, reply.seq) == (MessageType.ERROR, frame.seq)
    error = decode_error_reply(reply.payload)
    return error.code, error.detail


@pytest.mark.qemu
def test_v3_requests_need_a_session_and_stay_in_range(fake_firmware):
    with start_emulator(BOARD, fake_firmware.elf_path, timeout_s=60) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            # Before any v3 HELLO the board has no session: what a host sees after a reset.
            assert error_of(session, Frame(MessageType.WRITE, 1, OFFSET.pack(0) + b"x")) == (ErrorCode.NO_SESSION, 0)
            # A v2 host (HELLO without payload) still gets the v2 reply: no chunk size at its end.
            session.send_bytes(encode_frame(Frame(MessageType.HELLO, 2, b"")))
            v2 = session.receive_frame()
            assert v2.payload[:2] == b"\x02\x00"
            info = session.hello()
            assert info.protocol_version == 3 and info.chunk_bytes == 256
            assert error_of(session, Frame(MessageType.WRITE, 3, OFFSET.pack(300) + bytes(9))) == (ErrorCode.BAD_RANGE, 308)
            assert error_of(session, Frame(MessageType.READ, 4, struct.pack("<II", 0, 257))) == (ErrorCode.BAD_RANGE, 312)
            code, held = error_of(session, Frame(MessageType.INVOKE, 5, OFFSET.pack(0x12345678)))
            assert code == ErrorCode.INPUT_CRC
            assert session.run(fake_inputs(1)).outputs == fake_reference(*fake_inputs(1))
            session.exit()
    assert emulator.exit_code == 0


@pytest.mark.qemu
def test_a_repeated_invoke_replays_its_result_instead_of_running_again(fake_firmware):
    inputs = fake_inputs(2)
    with start_emulator(BOARD, fake_firmware.elf_path, timeout_s=60) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            first = session.run(inputs)
            # The reply to INVOKE was lost, say: the host asks again, the board answers from memory.
            again = session.request(MessageType.INVOKE, OFFSET.pack(zlib.crc32(b"".join(inputs))))
            assert struct.unpack_from("<iQ", again.payload)[1] == first.instructions
            session.exit()


def _monitor_board(path: Path):
    extra = [*BOARD.qemu.extra_args, "-monitor", f"unix:{path},server=on,wait=off"]
    return BOARD.model_copy(update={"qemu": BOARD.qemu.model_copy(update={"extra_args": extra})})


@pytest.mark.qemu
def test_a_board_reset_mid_run_is_detected_and_the_run_goes_on(fake_firmware, tmp_path):
    monitor_path = tmp_path / "monitor.sock"
    with start_emulator(_monitor_board(monitor_path), fake_firmware.elf_path, timeout_s=60) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            assert session.run(fake_inputs(3)).outputs == fake_reference(*fake_inputs(3))
            with socket.socket(socket.AF_UNIX) as monitor:
                monitor.connect(str(monitor_path))
                monitor.sendall(b"system_reset\n")
                time.sleep(0.5)
            assert session.run(fake_inputs(4)).outputs == fake_reference(*fake_inputs(4))
            assert session.stats.resets == 1
            session.exit()
    assert emulator.exit_code == 0


@pytest.mark.qemu
def test_a_hard_fault_is_reported_with_the_faulting_pc(tmp_path):
    crash_c = """#include "tinygen/tg_model.h"
static uint8_t crash_arena[4];
static const uint8_t crash_sha256[32];
__attribute__((noinline)) int crash_invoke(void) { __builtin_trap(); }
static const tg_tensor_info_t crash_io[1] = {{"x", crash_arena, 4, TG_DTYPE_INT8, 1, {4}, 1.0f, 0}};
const tg_model_t crash_model = {"crash", "test", crash_sha256, 4, 1, 1, crash_io, crash_io, crash_invoke};
"""
    firmware = build(tmp_path, BOARD, GeneratedSources("crash", (("crash.c", crash_c),), 4))
    with firmware.elf_path.open("rb") as f:
        symbol = ELFFile(f).get_section_by_name(".symtab").get_symbol_by_name("crash_invoke")[0]
    start, size = symbol["st_value"] & ~1, symbol["st_size"]
    with start_emulator(BOARD, firmware.elf_path, timeout_s=30) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=5) as session:
            with pytest.raises(DeviceFault) as caught:
                session.run([b"\x00" * 4])
    message = str(caught.value)
    pc = int(message.split(" at pc ")[1].split()[0], 16)
    assert start <= pc < start + size, (message, hex(start))
    assert "hard fault" in message and emulator.exit_code == 3 and not emulator.timed_out


@pytest.mark.qemu
def test_framing_costs_under_a_fifth_of_a_clean_line(fake_firmware):
    with start_emulator(BOARD, fake_firmware.elf_path, timeout_s=60) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            for seed in range(3):
                assert session.run(fake_inputs(seed)).outputs == fake_reference(*fake_inputs(seed))
            session.exit()
    link = session.stats.to_json()
    assert link["payload_bytes"] == 3 * (308 + 312)
    assert link["payload_share"] >= 0.8, link


@pytest.mark.qemu
@pytest.mark.parametrize("seed", [21, 22])
def test_through_a_very_bad_line_results_are_right_or_the_run_fails(fake_firmware, seed):
    # 2 % corruption plus drops and duplicates: the 250-byte HELLO reply gets through about one
    # time in 150, so the session may well give up; what must never happen is a wrong answer.
    faults = LineFaults(corrupt=0.02, drop=0.005, duplicate=0.005, seed=seed)
    results = []
    with start_emulator(BOARD, fake_firmware.elf_path, timeout_s=120) as emulator:
        with FaultyLine(parse_socket_url(emulator.serial_url), faults) as line:
            with DeviceSession(line.url, timeout_s=10) as session:
                try:
                    for seed_in in range(2):
                        results.append((seed_in, session.run(fake_inputs(seed_in)).outputs))
                except DeviceError as exc:
                    assert "\n" not in str(exc) and str(exc)
    assert all(outputs == fake_reference(*fake_inputs(i)) for i, outputs in results)
    assert line.counts.corrupted > 0 and session.stats.retries > 0


# ---- no board needed ------------------------------------------------------------------------------

def test_line_fault_options_parse_and_refuse_nonsense():
    assert LineFaults.parse("corrupt=0.01, drop=0.002,seed=4") == LineFaults(corrupt=0.01, drop=0.002, seed=4)
    with pytest.raises(InputError, match="unknown fault 'flip'"):
        LineFaults.parse("flip=0.1")
    with pytest.raises(InputError, match="probability"):
        LineFaults.parse("drop=1.5")
    with pytest.raises(InputError, match="socket://"):
        parse_socket_url("/dev/ttyACM0")


def test_vectors_from_an_npz_or_a_folder(tmp_path):
    graph = parse_tflite(DIGITS_MODEL.read_bytes(), name="digits", source="digits")
    samples = np.load(DIGITS_MODEL.parent / "sample_inputs.npy")
    np.savez(tmp_path / "by_x.npz", x=samples[:3])
    np.savez(tmp_path / "by_name.npz", **{graph.input_tensors()[0].name: samples[:2]})
    assert [r[0].tobytes() for r in load_vectors(tmp_path / "by_x.npz", graph)] == [s.tobytes() for s in samples[:3]]
    assert len(load_vectors(tmp_path / "by_name.npz", graph)) == 2
    folder = tmp_path / "vectors"
    folder.mkdir()
    for i in range(4):
        np.save(folder / f"{i:03d}.npy", samples[i])
    assert [r[0].tobytes() for r in load_vectors(folder, graph)] == [s.tobytes() for s in samples[:4]]
    np.save(folder / "999.npy", samples[:2])
    with pytest.raises(InputError, match="one vector, not a stack"):
        load_vectors(folder, graph)
    with pytest.raises(InputError, match="no array for input"):
        np.savez(tmp_path / "other.npz", y=samples)
        load_vectors(tmp_path / "other.npz", graph)
    with pytest.raises(InputError, match="no .npy or .npz"):
        (tmp_path / "empty").mkdir()
        load_vectors(tmp_path / "empty", graph)


def test_first_mismatch_names_the_output_and_element():
    expected = (np.array([[1, 2], [3, 4]], np.int8), np.array([7], np.int32))
    assert first_mismatch([expected[0].tobytes(), expected[1].tobytes()], expected, ["a", "b"]) is None
    changed = np.array([[1, 2], [3, -4]], np.int8)
    assert first_mismatch([changed.tobytes(), expected[1].tobytes()], expected, ["a", "b"]) == Mismatch("a", (1, 1), -4, 4)
    assert first_mismatch([expected[0].tobytes(), struct.pack("<i", 8)], expected, ["a", "b"]) == Mismatch("b", (0,), 8, 7)


def test_report_exit_codes_json_and_junit():
    report = HilReport("m", "b", "qemu", 3, "instructions")
    report.vectors += [VectorOutcome(0, 10), VectorOutcome(1, 30, Mismatch("out", (0, 2), 5, 6))]
    report.error = "the board stopped answering"
    assert report.exit_code == 1  # a mismatch outranks an unfinished run
    data = report.to_json()
    assert data["failures"] == [{"vector": 1, "output": "out", "index": [0, 2], "device": 5, "expected": 6}]
    assert data["latency"] == {"unit": "instructions", "min": 10, "median": 20.0, "max": 30}
    suite = ET.fromstring(report.to_junit())
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("3", "1", "1")
    report.vectors.pop()
    assert report.exit_code == 2
    report.error = None
    report.planned = 1
    assert report.exit_code == 0 and report.bit_exact


def test_a_frame_round_trips_through_the_proxy_untouched_on_a_clean_line():
    with socket.create_server(("127.0.0.1", 0)) as upstream:
        with FaultyLine(upstream.getsockname(), LineFaults()) as line:
            host, port = parse_socket_url(line.url)
            with socket.create_connection((host, port)) as client:
                board, _ = upstream.accept()
                frame = encode_frame(Frame(MessageType.HELLO, 9, b"\x03\x00"))
                client.sendall(frame)
                got = b""
                while len(got) < len(frame):
                    got += board.recv(100)
                board.close()
    assert decode_frame(got) == Frame(MessageType.HELLO, 9, b"\x03\x00")


@pytest.mark.qemu
def test_a_board_that_stops_answering_is_given_up_on_and_killed(tmp_path):
    hang_c = """#include "tinygen/tg_model.h"
static uint8_t hang_arena[4];
static const uint8_t hang_sha256[32];
__attribute__((noreturn)) static int hang_invoke(void) { for (;;) { __asm__ volatile(""); } }
static const tg_tensor_info_t hang_io[1] = {{"x", hang_arena, 4, TG_DTYPE_INT8, 1, {4}, 1.0f, 0}};
const tg_model_t hang_model = {"hang", "test", hang_sha256, 4, 1, 1, hang_io, hang_io, hang_invoke};
"""
    firmware = build(tmp_path, BOARD, GeneratedSources("hang", (("hang.c", hang_c),), 4))
    started = time.monotonic()
    with start_emulator(BOARD, firmware.elf_path, timeout_s=120) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=3) as session:
            with pytest.raises(DeviceError, match="the board stopped answering: no reply to INVOKE within 3 s"):
                session.run([b"\x00" * 4])
    assert emulator.process.poll() is not None and not emulator.timed_out  # killed on leaving, not by the backstop
    assert time.monotonic() - started < 60
