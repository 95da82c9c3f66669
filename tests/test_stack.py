"""Stack: a static bound from -fstack-usage along the call graph, checked against the painted
high-water mark in QEMU; no recursion and no allocation of a run-time size anywhere."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_firmware_qemu import BOARD, build
from test_guards import DIGITS

from tinygen.build.stack import (
    Function,
    StackError,
    analyse_firmware,
    analyse_image,
    parse_su,
    prologue_frame,
    riscv_prologue_frame,
    stack_bound,
)
from tinygen.boards.catalog import load_board
from tinygen.codegen.sources import GeneratedSources
from tinygen.errors import BuildError


def test_su_lines_are_read_and_unbounded_frames_refused():
    text = ("runtime/kernels/tg_conv_s8.c:5:6:tg_conv_s8\t176\tstatic\n"
            "model/m.c:10:5:helper.constprop.0\t24\tdynamic,bounded\n")
    assert parse_su(text) == {("tg_conv_s8.c", "tg_conv_s8"): 176, ("m.c", "helper.constprop.0"): 24}
    with pytest.raises(StackError, match=r"f \(m.c\) allocates stack of a run-time size"):
        parse_su("model/m.c:3:5:f\t16\tdynamic\n")
    with pytest.raises(StackError, match="not a -fstack-usage line"):
        parse_su("garbage\n")


def test_prologue_frames_count_every_push_even_after_an_early_exit():
    shrink_wrapped = [("cmp", "r1, #0"), ("ble.w", "c7e <f+0x20a>"), ("stmdb", "sp!, {r4, r5, r6, r7, r8, r9, sl, fp, lr}"),
                      ("sub", "sp, #12"), ("vpush", "{d8-d9}"), ("bl", "100 <g>"), ("pop", "{r4, pc}")]
    assert prologue_frame(shrink_wrapped, "f") == 9 * 4 + 12 + 2 * 8
    assert prologue_frame([("push", "{r7, lr}"), ("sub.w", "sp, sp, #1024")], "f") == 1032
    with pytest.raises(StackError, match="run-time amount"):
        prologue_frame([("push", "{r7, lr}"), ("sub", "sp, r3")], "f")


def test_riscv_prologue_frames_and_the_entry_that_loads_sp():
    body = [("beqz", "a0,8000 <f+0x40>"), ("add", "sp,sp,-48"), ("sw", "ra,44(sp)"), ("jal", "8100 <g>"),
            ("add", "sp,sp,48"), ("ret", "")]
    assert riscv_prologue_frame(body, "f") == 48
    # The port's entry loads sp (auipc + its low part): that sets a stack, it takes none.
    assert riscv_prologue_frame([("auipc", "sp,0x403"), ("add", "sp,sp,-1000"), ("j", "8000 <reset>")], "e") == 0
    with pytest.raises(StackError, match="run-time amount"):
        riscv_prologue_frame([("add", "sp,sp,-16"), ("sub", "sp,sp,a5")], "f")


def test_an_image_of_another_isa_is_refused_in_one_line(tmp_path):
    with pytest.raises(StackError, match=r"^no static stack bound for this image: .*Thumb and RV32.*EM_X86_64"):
        analyse_image(Path(sys.executable).resolve(), tmp_path, "objdump")


def _functions(frames: dict[str, int], calls: dict[str, list[str]]) -> dict[int, Function]:
    address = {name: 2 * i for i, name in enumerate(frames)}
    return {address[n]: Function(n, "", address[n], frames[n], "su", tuple(address[c] for c in calls.get(n, [])), False)
            for n in frames}


def test_bound_is_the_deepest_chain_and_recursion_has_none():
    functions = _functions({"invoke": 48, "conv": 176, "dw": 200, "leaf": 8},
                           {"invoke": ["conv", "dw"], "conv": ["leaf"], "dw": []})
    bound = stack_bound(functions, 0)
    assert (bound.bytes, [name for name, _ in bound.path]) == (248, ["invoke", "dw"])
    looping = _functions({"invoke": 48, "a": 8, "b": 8}, {"invoke": ["a"], "a": ["b"], "b": ["a"]})
    with pytest.raises(StackError, match="recursion: a -> b -> a"):
        stack_bound(looping, 0)


@pytest.mark.qemu
def test_digits_bound_holds_in_qemu_and_the_fallback_agrees_with_the_compiler(tmp_path):
    from tinygen.jobs import run_on_board

    report = run_on_board(DIGITS, BOARD.name, tmp_path / "fw", random_count=2, timeout_s=60)
    assert report.bit_exact
    # Painted in QEMU, never more than the static bounds; the bound is tight for this model.
    assert 0 < report.stack_bytes <= report.stack_bound_bytes <= report.stack_bytes + 64
    assert report.stack_bytes < report.stack_peak_bytes <= report.firmware_stack_bound_bytes
    assert report.firmware_stack_bound_bytes <= report.stack_reserved_bytes == BOARD.memory.stack_bytes

    stack = analyse_firmware(tmp_path / "fw", BOARD, "digits_cnn_int8")
    assert stack.invoke.bytes == report.stack_bound_bytes
    assert stack.invoke.path[0][0] == "digits_cnn_int8_invoke" and len(stack.invoke.path) >= 2
    functions = analyse_image(tmp_path / "fw" / "build" / "firmware.elf", tmp_path / "fw" / "build",
                              "arm-none-eabi-objdump")
    from_su = [f for f in functions.values() if f.frame_from == "su"]
    assert len(from_su) >= 20
    # The disassembly's frame (used where the compiler gives none: libgcc, assembly) is the compiler's.
    from tinygen.build.stack import _disassemble
    disassembly = _disassemble(tmp_path / "fw" / "build" / "firmware.elf", "arm-none-eabi-objdump")
    assert {f.name: prologue_frame(disassembly[f.address], f.name) for f in from_su} == {
        f.name: f.frame_bytes for f in from_su}


RECURSIVE_MODEL = """#include "tinygen/tg_model.h"
static uint8_t rec_arena[4];
static const uint8_t rec_sha256[32];
__attribute__((noipa)) static int depth(int n) { return n <= 1 ? n : depth(n - 1) ^ depth(n - 2) * 3; }
static int rec_invoke(void) { rec_arena[0] = (uint8_t)depth(rec_arena[0]); return 0; }
int rec_invoke_entry(void) { return rec_invoke(); }
static const tg_tensor_info_t rec_io[1] = {{"x", rec_arena, 4, TG_DTYPE_INT8, 1, {4}, 1.0f, 0}};
const tg_model_t rec_model = {"rec", "test", rec_sha256, 4, 1, 1, rec_io, rec_io, rec_invoke};
"""


@pytest.mark.qemu
def test_recursion_in_a_firmware_is_refused_by_name(tmp_path):
    firmware = build(tmp_path, BOARD, GeneratedSources("rec", (("rec.c", RECURSIVE_MODEL),), 4))
    with pytest.raises(StackError, match=r"recursion: depth -> depth"):
        analyse_firmware(firmware.elf_path.parents[1], BOARD, "rec")


@pytest.mark.qemu
def test_a_variable_length_array_does_not_build(tmp_path):
    vla = RECURSIVE_MODEL.replace("static int rec_invoke(void) { rec_arena[0] = (uint8_t)depth(rec_arena[0]);",
                                  "static int rec_invoke(void) { uint8_t scratch[rec_arena[1] + 1]; "
                                  "scratch[0] = rec_arena[0]; rec_arena[0] = scratch[rec_arena[2] % sizeof scratch];")
    with pytest.raises(BuildError, match=r"variable length array"):
        build(tmp_path, BOARD, GeneratedSources("rec", (("rec.c", vla),), 4))


@pytest.mark.qemu
def test_recursion_in_a_riscv_firmware_is_refused_by_name(tmp_path):
    board = load_board("riscv32-virt")
    firmware = build(tmp_path, board, GeneratedSources("rec", (("rec.c", RECURSIVE_MODEL),), 4))
    with pytest.raises(StackError, match=r"recursion: depth -> depth"):
        analyse_firmware(firmware.elf_path.parents[1], board, "rec")
