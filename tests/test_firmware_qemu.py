"""The firmware end to end: project, cross build, QEMU, serial protocol, exact instruction counts.

Uses hand-written models with the generated code's C API (tests/fixtures/*_model), so it needs
neither the code generator nor TensorFlow. Nothing is mocked: real toolchain, real QEMU.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import struct
from pathlib import Path

import pytest

from tinygen.boards.catalog import load_board
from tinygen.boards.schema import Board
from tinygen.build.toolchain import BuildResult, build_firmware
from tinygen.codegen.sources import GeneratedSources
from tinygen.device.emulator import start_emulator
from tinygen.device.protocol import PROTOCOL_VERSION, ErrorCode, Frame, MessageType, decode_error_reply, encode_frame
from tinygen.device.runner import DeviceSession
from tinygen.errors import BuildError, DeviceError
from tinygen.project.firmware import write_firmware_project
from tinygen.resources import ROOT

FIXTURES = Path(__file__).parent / "fixtures"
BOARD = load_board("mps2-an386")
FAKE_IMAGE_BYTES = 300
EXIT_FAULT = 3  # TG_PORT_EXIT_FAULT, runtime_c/include/tinygen/tg_port.h


def fixture_sources(name: str, arena_bytes: int) -> GeneratedSources:
    folder = FIXTURES / f"{name}_model"
    return GeneratedSources(name, tuple((p.name, p.read_text()) for p in sorted(folder.iterdir())), arena_bytes)


def build(tmp: Path, board: Board, sources: GeneratedSources) -> BuildResult:
    return build_firmware(write_firmware_project(tmp / f"{sources.model_name}-{board.name}", board, sources), board)


def fake_inputs(seed: int) -> list[bytes]:
    rng = random.Random(seed)
    image = bytes(rng.randrange(256) for _ in range(FAKE_IMAGE_BYTES))
    if seed == 0:
        image = bytes([0x7F, 0x80, 0xFF, 0x00]) + image[4:]  # saturation and sign edges
    return [image, struct.pack("<2f", rng.uniform(-100, 100), rng.uniform(-1, 1))]


def fake_reference(image: bytes, gain: bytes) -> list[bytes]:
    """What tests/fixtures/fake_model/fake.c computes, in Python."""
    pixels = struct.unpack(f"{FAKE_IMAGE_BYTES}b", image)
    plus_one = struct.pack(f"{FAKE_IMAGE_BYTES}b", *(min(v + 1, 127) for v in pixels))
    # 2 * g + 0.5 in float32: doubling is exact, so one rounding (packing to f32) matches the
    # device whether or not it fuses the multiply-add.
    affine = struct.pack("<2f", *(2.0 * g + 0.5 for g in struct.unpack("<2f", gain)))
    acc = 0
    for _ in range(10):
        for v in pixels:
            acc = (acc * 31 + v) & 0xFFFFFFFF
    return [plus_one, affine, struct.pack("<I", acc)]


@pytest.fixture(scope="module")
def fake_firmware(tmp_path_factory) -> BuildResult:
    return build(tmp_path_factory.mktemp("fw"), BOARD, fixture_sources("fake", 620))


@pytest.fixture(scope="module")
def counting_firmware(tmp_path_factory) -> BuildResult:
    return build(tmp_path_factory.mktemp("fw"), BOARD, fixture_sources("counting", 8))


# ---- build ----------------------------------------------------------------------------------------

@pytest.mark.qemu
def test_build_reports_sizes_and_links_no_c_library(fake_firmware):
    sections = fake_firmware.sections
    assert fake_firmware.flash_bytes == sum(sections.get(s, 0) for s in (".text", ".rodata", ".ARM.exidx", ".data"))
    assert fake_firmware.ram_bytes == sections.get(".data", 0) + sections[".bss"]
    assert fake_firmware.ram_bytes >= 620  # the arena
    assert fake_firmware.stack_bytes == BOARD.memory.stack_bytes
    assert 1000 < fake_firmware.flash_bytes < 16_000
    from elftools.elf.elffile import ELFFile
    with fake_firmware.elf_path.open("rb") as stream:
        symbols = {s.name for s in ELFFile(stream).get_section_by_name(".symtab").iter_symbols()}
    assert "fake_model" in symbols and "tg_mps2_reset" in symbols
    assert not symbols & {"malloc", "printf", "_sbrk", "_impure_ptr", "__libc_init_array"}


@pytest.mark.qemu
def test_project_is_self_contained(fake_firmware, tmp_path):
    project = fake_firmware.elf_path.parents[1]
    moved = tmp_path / "elsewhere"
    shutil.copytree(project, moved, ignore=shutil.ignore_patterns("build", "build.log"))
    for path in moved.rglob("*"):
        if path.is_file():
            assert str(ROOT) not in path.read_text(errors="replace"), f"{path} points back into the checkout"
    rebuilt = build_firmware(moved, BOARD)
    assert rebuilt.flash_bytes == fake_firmware.flash_bytes


def test_missing_toolchain_is_one_line(tmp_path):
    board = BOARD.model_copy(update={"toolchain": BOARD.toolchain.model_copy(update={"prefix": "no-such-eabi-"})})
    project = write_firmware_project(tmp_path / "p", board, fixture_sources("fake", 620))
    with pytest.raises(BuildError) as caught:
        build_firmware(project, board)
    assert caught.value.one_line() == ("tinygen: build: 'no-such-eabi-gcc' not found (needed to build for board "
                                       "'mps2-an386'); run setup.sh")


@pytest.mark.qemu
def test_compile_error_is_one_line_and_the_log_is_kept(tmp_path):
    sources = GeneratedSources("broken", (("broken.c", "int broken_invoke(void) { return undeclared; }\n"),), 0)
    project = write_firmware_project(tmp_path / "p", BOARD, sources)
    with pytest.raises(BuildError) as caught:
        build_firmware(project, BOARD)
    message = caught.value.one_line()
    assert "\n" not in message and "undeclared" in message and "build.log" in message
    assert "undeclared" in (project / "build.log").read_text()


def test_project_writing_never_leaves_half_a_project(tmp_path):
    out = tmp_path / "project"
    good = fixture_sources("fake", 620)
    write_firmware_project(out, BOARD, good)
    bad = GeneratedSources("fake", (("../escape.c", "x"),), 620)
    with pytest.raises(ValueError):
        write_firmware_project(out, BOARD, bad)
    assert (out / "model" / "fake.c").read_text() == dict(good.files)["fake.c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project"]  # no temporary leftovers

    foreign = tmp_path / "not-a-project"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(BuildError, match="not a tinygen firmware project"):
        write_firmware_project(foreign, BOARD, good)
    assert (foreign / "notes.txt").read_text() == "mine"


# ---- running ------------------------------------------------------------------------------------

@pytest.mark.qemu
def test_hello_describes_the_model(fake_firmware):
    with start_emulator(BOARD, fake_firmware.elf_path, timeout_s=30) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            info = session.hello()
            session.exit()
    assert emulator.exit_code == 0
    assert info.protocol_version == PROTOCOL_VERSION
    assert info.sha256 == hashlib.sha256(b"tinygen fake model").digest()
    assert (info.model_name, info.tinygen_version, info.arena_bytes) == ("fake", "test-fixture", 620)
    assert info.max_payload == FAKE_IMAGE_BYTES + 8
    assert [(t.name, t.dtype.name, t.bytes, t.dims) for t in info.inputs] == [
        ("image", "INT8", 300, (1, 10, 10, 3)), ("gain", "FLOAT32", 8, (1, 2))]
    assert [(t.name, t.dtype.name, t.bytes, t.dims) for t in info.outputs] == [
        ("image_plus_one", "INT8", 300, (1, 10, 10, 3)), ("gain_affine", "FLOAT32", 8, (1, 2)),
        ("checksum", "INT32", 4, (1,))]
    assert (info.inputs[0].scale, info.inputs[0].zero_point) == (0.0078125, -1)


def run_fake(elf: Path, seeds: list[int]) -> list[tuple[list[bytes], int]]:
    with start_emulator(BOARD, elf, timeout_s=60) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            results = [session.run(fake_inputs(seed)) for seed in seeds]
            session.exit()
    assert emulator.exit_code == 0
    return [(r.outputs, r.instructions) for r in results]


@pytest.mark.qemu
def test_run_gives_correct_outputs_and_deterministic_counts(fake_firmware):
    seeds = [0, 1, 2, 3, 0]
    first = run_fake(fake_firmware.elf_path, seeds)
    for seed, (outputs, _) in zip(seeds, first):
        assert outputs == fake_reference(*fake_inputs(seed)), f"seed {seed}"
    counts = [instructions for _, instructions in first]
    # 3000 multiply-accumulates alone take >= 3 instructions each; the whole is well under 10 per.
    assert all(9_000 < c < 30_000 for c in counts), counts
    assert counts[0] == counts[-1]  # the same input again, in the same session
    assert [instructions for _, instructions in run_fake(fake_firmware.elf_path, seeds)] == counts


def assert_counts_exact(board: Board, counting_elf: Path, iterations: list[int]) -> None:
    """counting_invoke executes exactly 2 * n + 6 instructions (see its source): the firmware must say so."""
    with start_emulator(board, counting_elf, timeout_s=60) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            results = {n: session.run([struct.pack("<i", n)]) for n in iterations}
            session.exit()
    assert emulator.exit_code == 0
    assert {n: r.instructions for n, r in results.items()} == {n: 2 * n + 6 for n in iterations}
    assert all(r.outputs == [struct.pack("<i", n)] for n, r in results.items())


@pytest.mark.qemu
def test_instruction_counts_are_exact(counting_firmware):
    assert_counts_exact(BOARD, counting_firmware.elf_path, [0, 1, 2, 7, 1000, 123_457, 1_000_003])


@pytest.mark.qemu
@pytest.mark.slow
def test_instruction_count_survives_a_systick_wrap(counting_firmware):
    n = 400_000_000  # 800 M instructions: more than the 2^24 ticks * 40 of one SysTick period
    with start_emulator(BOARD, counting_firmware.elf_path, timeout_s=120) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=60) as session:
            counted = session.run([struct.pack("<i", n)]).instructions
            session.exit()
    # Exact, plus the instructions of the one SysTick wrap interrupt that ran during invoke()
    # (5 with GCC 12 -O2): they were executed in the measured region, so they are counted.
    assert 2 * n + 6 < counted <= 2 * n + 6 + 12


@pytest.mark.qemu
def test_bad_frames_get_error_replies_and_the_session_continues(fake_firmware):
    def error_for(session: DeviceSession, frame_bytes: bytes, seq: int) -> tuple[int, int]:
        session.send_bytes(frame_bytes)
        reply = session.receive_frame()
        assert (reply.type, reply.seq) == (MessageType.ERROR, seq)
        error = decode_error_reply(reply.payload)
        return error.code, error.detail

    with start_emulator(BOARD, fake_firmware.elf_path, timeout_s=60) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            corrupted = bytearray(encode_frame(Frame(MessageType.RUN, 11, b"\x05" * 308)))
            corrupted[100] ^= 0x40
            assert error_for(session, bytes(corrupted), 11) == (ErrorCode.BAD_CRC, 0)
            assert error_for(session, encode_frame(Frame(0x42, 12, b"")), 12) == (ErrorCode.UNKNOWN_TYPE, 0x42)
            assert error_for(session, encode_frame(Frame(MessageType.RUN, 13, b"\x00" * 5)), 13) == (
                ErrorCode.BAD_LENGTH, 308)
            assert error_for(session, encode_frame(Frame(MessageType.HELLO, 14, b"\x00")), 14) == (
                ErrorCode.BAD_LENGTH, 0)
            # A length beyond any request is refused at once, without waiting for its payload.
            assert error_for(session, encode_frame(Frame(MessageType.RUN, 15, b""))[:4] + struct.pack("<I", 1 << 20),
                             15) == (ErrorCode.TOO_LONG, 308)
            session.send_bytes(b"line noise \x00\xff\x5a")  # outside any frame: skipped
            with pytest.raises(DeviceError, match=r"device rejected RUN: BAD_LENGTH \(detail 308\)"):
                session.request(MessageType.RUN, b"\x00")
            assert session.hello().model_name == "fake"
            assert session.run(fake_inputs(5)).outputs == fake_reference(*fake_inputs(5))
            session.exit()
    assert emulator.exit_code == 0


@pytest.mark.qemu
@pytest.mark.parametrize("board", [BOARD, load_board("riscv32-virt"), load_board("sifive-e")], ids=lambda b: b.name)
def test_a_crash_ends_qemu_with_the_fault_status(tmp_path, board):
    """A CPU fault (Arm) or trap (RISC-V; exit through the test device or through semihosting)."""
    crash_c = """#include "tinygen/tg_model.h"
static uint8_t crash_arena[4];
static const uint8_t crash_sha256[32];
static int crash_invoke(void) { __builtin_trap(); }
static const tg_tensor_info_t crash_io[1] = {{"x", crash_arena, 4, TG_DTYPE_INT8, 1, {4}, 1.0f, 0}};
const tg_model_t crash_model = {"crash", "test", crash_sha256, 4, 1, 1, crash_io, crash_io, crash_invoke};
"""
    firmware = build(tmp_path, board, GeneratedSources("crash", (("crash.c", crash_c),), 4))
    with start_emulator(board, firmware.elf_path, timeout_s=30) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=5) as session:
            with pytest.raises(DeviceError) as caught:
                session.run([b"\x00" * 4])
    assert "\n" not in caught.value.one_line()
    assert emulator.exit_code == EXIT_FAULT and not emulator.timed_out


@pytest.mark.qemu
def test_a_hung_firmware_is_killed_by_the_host_timeout(fake_firmware):
    with start_emulator(BOARD, fake_firmware.elf_path, timeout_s=1.5) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=0.5) as session:
            session.send_bytes(encode_frame(Frame(MessageType.RUN, 1, b""))[:4] + struct.pack("<I", 308))
            with pytest.raises(DeviceError, match="no answer from the device"):
                session.receive_frame()  # the firmware waits for 308 payload bytes that never come
            emulator.process.wait(timeout=10)
    assert emulator.timed_out and emulator.exit_code != 0


@pytest.mark.qemu
@pytest.mark.parametrize("board_name", ["mps2-an385", "mps2-an500"])
def test_the_same_port_runs_on_sibling_boards(board_name, tmp_path):
    board = load_board(board_name)
    fake = build(tmp_path, board, fixture_sources("fake", 620))
    counting = build(tmp_path, board, fixture_sources("counting", 8))
    with start_emulator(board, fake.elf_path, timeout_s=30) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            assert session.run(fake_inputs(1)).outputs == fake_reference(*fake_inputs(1))
            session.exit()
    assert emulator.exit_code == 0
    with start_emulator(board, counting.elf_path, timeout_s=30) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=10) as session:
            assert session.run([struct.pack("<i", 5000)]).instructions == 2 * 5000 + 6
            session.exit()
    assert emulator.exit_code == 0


@pytest.mark.qemu
@pytest.mark.slow
def test_a_generated_model_runs_bit_exact_in_qemu(tmp_path):
    """The real code generator's output through the firmware: MLPerf Tiny AD (ad01) against TFLM."""
    import numpy as np
    from tflite_micro import runtime

    from tinygen.compiler import compile_file

    model_path = ROOT.parent / "shared" / "models" / "mlperf_tiny" / "ad01_int8.tflite"
    compiled = compile_file(model_path, arena_budget=BOARD.arena_budget_bytes)
    firmware = build(tmp_path, BOARD, compiled.sources)
    reference = runtime.Interpreter.from_bytes(model_path.read_bytes(), arena_size=400_000)
    rng = np.random.default_rng(7)
    with start_emulator(BOARD, firmware.elf_path, timeout_s=120) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=30) as session:
            info = session.hello()
            assert info.sha256 == hashlib.sha256(model_path.read_bytes()).digest()
            counts = []
            for _ in range(2):
                x = rng.integers(-128, 128, info.inputs[0].dims, dtype=np.int8)
                result = session.run([x.tobytes()])
                reference.set_input(x, 0)
                reference.invoke()
                assert result.outputs == [reference.get_output(0).tobytes()]
                counts.append(result.instructions)
            session.exit()
    assert emulator.exit_code == 0
    # 264 K multiply-accumulates: between the SMLAD floor and 20 instructions each.
    assert all(130_000 < c < 5_300_000 for c in counts), counts
