"""The cycle plugin (runtime_c/qemu_plugin) against counts worked out by hand from the table in
docs/cycle-model.md, on small hand-written Thumb-2 programs run in QEMU (mps2-an386), and against the
firmware's own instruction count of a whole model.

Each program's `measured` function is the region; the comments give each instruction's charge.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import DIGITS_MODEL
from tinygen.device.cycles import (CycleSettings, RegionCount, build_plugin, modelled_latency, plugin_arguments,
                                   read_intervals, read_regions, symbol_address, write_function_table)
from tinygen.jobs import build_for_board, run_on_board

pytestmark = pytest.mark.qemu

CFLAGS = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-nostdlib", "-nostartfiles",
          "-Wl,-Ttext=0", "-Wl,-e,reset"]

# Vector table, FPU on, call `measured`, exit through semihosting. Nothing here is in the region.
STARTUP = """\
    .syntax unified
    .thumb
    .text
    .word 0x20010000
    .word reset + 1
    .thumb_func
    .global reset
reset:
    ldr r0, =0xE000ED88
    ldr r1, [r0]
    orr r1, r1, #(0xF << 20)
    str r1, [r0]
    dsb
    isb
    bl measured
    movs r0, #0x20
    ldr r1, =exit_block
    bkpt 0xAB
1:  b 1b
    .ltorg
    .align 2
exit_block:
    .word 0x20026
    .word 0
"""


def measure(tmp_path: Path, body: str, settings: CycleSettings = CycleSettings(), prologue: str = "") -> RegionCount:
    source = tmp_path / "prog.S"
    source.write_text(STARTUP + textwrap.dedent(prologue) + "    .thumb_func\n    .global measured\nmeasured:\n"
                      + textwrap.dedent(body) + "\n    .ltorg\n")
    elf = tmp_path / "prog.elf"
    subprocess.run(["arm-none-eabi-gcc", *CFLAGS, "-o", str(elf), str(source)], check=True, capture_output=True)
    out = tmp_path / "regions.jsonl"
    plugin = plugin_arguments(build_plugin(), out, symbol_address(elf, "measured"), settings)
    proc = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "null",
                           "-icount", "shift=0", "-semihosting-config", "enable=on,target=native", *plugin,
                           "-kernel", str(elf)], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    regions = read_regions(out)
    assert len(regions) == 1
    assert regions[0].nonsequential == 0  # every flow change came from an instruction that can write the PC
    return regions[0]


ALU_LOOP = """\
    movs r2, #10          @ 1
loop:
    adds r3, r3, #1       @ 1
    subs r2, r2, #1       @ 1
    bne loop              @ 1, + P when taken (9 times)
    bx lr                 @ 1 + P
"""


def test_alu_loop(tmp_path):
    r = measure(tmp_path, ALU_LOOP)
    assert r.instructions == 1 + 10 * 3 + 1
    assert r.taken_branches == 10
    assert r.cycles == 1 + 10 * 3 + 9 * 2 + (1 + 2)
    assert r.classes["alu"] == 21 and r.classes["cond_branch"] == 10 and r.classes["branch"] == 1


def test_p_is_an_option(tmp_path):
    assert measure(tmp_path, ALU_LOOP, CycleSettings(p=3)).cycles == 52 + 10
    assert measure(tmp_path, ALU_LOOP, CycleSettings(p=1)).cycles == 52 - 10


def test_wide_conditional_branch_and_a_loop_across_a_1k_page_end(tmp_path):
    # The loop sits across 0x400: the 16-bit instructions at the page's end must keep size 2.
    prologue = "    .org 0x3f8\n"
    body = """\
        movs r2, #10          @ 1
    loop:
        adds r3, r3, #1       @ 1
        subs r2, r2, #1       @ 1
        nop                   @ 1
        bne.w loop            @ 1, + P when taken
        bx lr                 @ 1 + P
    """
    r = measure(tmp_path, body, prologue=prologue)
    assert r.instructions == 1 + 10 * 4 + 1
    assert r.cycles == 1 + 10 * 4 + 9 * 2 + 3
    assert r.classes["sys"] == 10


def test_load_store_runs_pipeline(tmp_path):
    body = """\
        ldr r0, =0x20000100   @ 2 (first of the run)
        ldr r1, [r0]          @ 2: its address is the register the previous load loaded
        ldr r2, [r0, #4]      @ 1: pipelined
        ldr r3, [r0, #8]      @ 1
        str r1, [r0, #12]     @ 1
        str r2, [r0, #16]     @ 1
        strb r3, [r0, #20]    @ 1
        ldrh r3, [r0, #2]     @ 1
        adds r1, r1, #1       @ 1: the run ends
        ldr r2, [r0, #4]      @ 2
        bx lr                 @ 1 + P
    """
    r = measure(tmp_path, body)
    assert r.instructions == 11
    assert r.pipelined == 6
    assert r.cycles == 2 + 2 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 2 + 3
    assert r.classes["load"] == 6 and r.classes["store"] == 3


def test_nothing_pipelines_after_a_register_offset_store(tmp_path):
    body = """\
        movs r1, #0           @ 1
        ldr r0, =0x20000100   @ 2
        str r1, [r0, r1]      @ 2: address from r0, which the previous load loaded
        ldr r2, [r0]          @ 2: after STR with a register offset
        ldr r3, [r0, #4]      @ 1: pipelined
        ldr r3, [r3]          @ 2: address from the register just loaded
        str.w r2, [r0, r1, lsl #2]  @ 1: pipelined (address registers r0, r1, not r3)
        ldr r2, [r0]          @ 2: after STR with a register offset
        bx lr                 @ 1 + P
    """
    r = measure(tmp_path, body)
    assert r.instructions == 9
    assert r.pipelined == 2
    assert r.cycles == 1 + 2 + 2 + 2 + 1 + 2 + 1 + 2 + 3


def test_multiple_and_dual_transfers(tmp_path):
    body = """\
        push {r4-r7, lr}      @ 1 + N = 6
        ldr r0, =0x20000100   @ 2
        ldmia r0!, {r1-r3}    @ 1 + 3
        stmdb r0!, {r1-r3}    @ 1 + 3 (32-bit)
        ldrd r4, r5, [r0]     @ 3
        strd r4, r5, [r0, #8] @ 3
        ldr r6, [r0]          @ 2: never pipelined after LDRD/STRD
        ldm.w r0, {r1-r4, r6} @ 1 + 5
        pop {r4-r7, pc}       @ 1 + N = 6, + P (loads the PC, taken)
    """
    r = measure(tmp_path, body)
    assert r.instructions == 9
    assert r.taken_branches == 1
    assert r.pipelined == 0
    assert r.cycles == 6 + 2 + 4 + 4 + 3 + 3 + 2 + 6 + (6 + 2)
    assert r.classes["ldm_pop"] == 3 and r.classes["stm_push"] == 2 and r.classes["ldrd_strd"] == 2


def test_dsp_multiply_divide(tmp_path):
    body = """\
        movs r0, #77          @ 1
        movs r2, #3           @ 1
        sxtb16 r1, r0         @ 1
        sxtb16 r3, r0, ror #8 @ 1
        smlad r4, r1, r3, r4  @ 1
        smlabb r4, r1, r3, r4 @ 1
        smull r4, r5, r1, r3  @ 1
        mla r6, r1, r3, r6    @ 1
        sdiv r6, r1, r2       @ 7 (fixed: the plugin cannot see operands)
        udiv r6, r1, r2       @ 7
        bx lr                 @ 1 + P
    """
    r = measure(tmp_path, body)
    assert r.instructions == 11
    assert r.cycles == 8 + 7 + 7 + 3
    assert r.classes["alu"] == 4 and r.classes["dsp_mac"] == 2 and r.classes["mul"] == 2 and r.classes["div"] == 2
    assert measure(tmp_path, body, CycleSettings(div=2)).cycles == 8 + 2 + 2 + 3


IT_TABLE_BRANCHES = """\
    movs r0, #1           @ 1
    cmp r0, #1            @ 1
    it eq                 @ 1 (after a 16-bit instruction: foldable)
    moveq r1, #5          @ 1
    cbz r0, 1f            @ 1: not taken
    cbnz r0, 2f           @ 1 + P: taken
1:  nop
2:  movs r2, #1           @ 1
    tbb [pc, r2]          @ 2 + P
tbl:
    .byte (c0 - tbl) / 2
    .byte (c1 - tbl) / 2
    .align 1
c0: nop
c1: subs r2, r2, #1       @ 1
    beq 3f                @ 1 + P: taken
    nop
3:  bne 4f                @ 1: not taken
    bx lr                 @ 1 + P
4:  bx lr
"""


def test_it_table_branch_compare_and_branch(tmp_path):
    r = measure(tmp_path, IT_TABLE_BRANCHES)
    assert r.instructions == 12
    assert r.taken_branches == 4
    assert r.it_foldable == 1
    assert r.cycles == 1 + 1 + 1 + 1 + 1 + 3 + 1 + 4 + 1 + 3 + 1 + 3
    assert r.classes["it"] == 1 and r.classes["table_branch"] == 1 and r.classes["cond_branch"] == 4
    assert measure(tmp_path, IT_TABLE_BRANCHES, CycleSettings(itfold=True)).cycles == 21 - 1


def test_floating_point(tmp_path):
    body = """\
        ldr r0, =0x20000100   @ 2
        vldr s0, [r0]         @ 2: never pipelined
        vldr d1, [r0, #8]     @ 3
        vmov s1, r1           @ 2
        vadd.f32 s2, s0, s1   @ 1
        vmla.f32 s2, s0, s1   @ 3
        vdiv.f32 s3, s2, s1   @ 14
        vsqrt.f32 s4, s2      @ 14
        vpush {s0-s3}         @ 1 + N = 5
        vpop {d0-d1}          @ 1 + 2N = 5
        bx lr                 @ 1 + P
    """
    r = measure(tmp_path, body)
    assert r.instructions == 11
    assert r.cycles == 2 + 2 + 3 + 2 + 1 + 3 + 14 + 14 + 5 + 5 + 3
    assert r.classes["fp_ldst"] == 4 and r.classes["fp_div"] == 2 and r.classes["fp_mac"] == 1


@pytest.fixture(scope="module")
def digits_firmware(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("digits") / "fw"
    return build_for_board(DIGITS_MODEL, "mps2-an386", out).out_dir


def test_instructions_equal_the_firmwares_own_count(digits_firmware):
    report = run_on_board(DIGITS_MODEL, "mps2-an386", digits_firmware, random_count=2, seed=3, count_cycles=True)
    assert report.bit_exact
    assert [c.instructions for c in report.cycles] == [r.instructions for r in report.results]
    for c in report.cycles:
        assert c.nonsequential == 0
        assert sum(c.classes.values()) == c.instructions and c.classes["unknown"] == 0
        assert sum(c.class_cycles.values()) == c.cycles > c.instructions


# The decoder's class for every instruction of a whole firmware, against the mnemonic objdump prints.
CONDITIONS = ("eq", "ne", "cs", "cc", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le", "al")
_ALU = ("mov movw movt mvn add addw adc adr sub subw sbc rsb neg cmp cmn and orr eor bic orn tst teq lsl lsr asr ror "
        "rrx clz rev rev16 revsh rbit sxtb sxth uxtb uxth sxtb16 uxtb16 sxtab sxtah uxtab uxtah sxtab16 uxtab16 bfi "
        "bfc ubfx sbfx ssat usat ssat16 usat16 qadd qsub qdadd qdsub sel pkhbt pkhtb sadd16 ssub16 uadd16 usub16 "
        "sadd8 ssub8 uadd8 usub8 qadd16 qadd8 qsub16 qsub8 shadd16 uhadd16 sasx ssax").split()
MNEMONIC_CLASS = {
    **{m: "alu" for m in _ALU}, **{m + "s": "alu" for m in _ALU},
    **{m: "mul" for m in "mul muls mla mls smull umull smlal umlal umaal".split()},
    **{m: "dsp_mac" for m in ("smlad smladx smlsd smlsdx smuad smuadx smusd smusdx smlabb smlabt smlatb smlatt smulbb "
                              "smulbt smultb smultt smlawb smlawt smulwb smulwt smlalbb smlalbt smlaltb smlaltt smlald "
                              "smlaldx smlsld smlsldx smmul smmulr smmla smmlar smmls smmlsr usad8 usada8").split()},
    "sdiv": "div", "udiv": "div",
    **{m: "load" for m in "ldr ldrb ldrh ldrsb ldrsh ldrex ldrexb ldrexh ldrt ldrbt ldrht".split()},
    **{m: "store" for m in "str strb strh strex strexb strexh strt strbt strht".split()},
    "ldrd": "ldrd_strd", "strd": "ldrd_strd",
    **{m: "ldm_pop" for m in "ldm ldmia ldmdb ldmfd pop".split()},
    **{m: "stm_push" for m in "stm stmia stmdb stmea push".split()},
    **{m: "branch" for m in "b bl bx blx".split()}, "cbz": "cond_branch", "cbnz": "cond_branch",
    "tbb": "table_branch", "tbh": "table_branch",
    **{m: "sys" for m in "nop yield wfi wfe sev dmb dsb isb mrs msr cpsid cpsie svc bkpt udf pld pli".split()},
    **{m: "fp" for m in "vadd vsub vmul vnmul vabs vneg vcvt vcvtr vcmp vcmpe vmrs vmsr".split()},
    **{m: "fp_mac" for m in "vmla vmls vnmla vnmls vfma vfms vfnma vfnms".split()},
    **{m: "fp_div" for m in "vdiv vsqrt".split()},
    **{m: "fp_ldst" for m in "vldr vstr vldmia vldmdb vstmia vstmdb vpush vpop".split()},
}


def expected_class(mnemonic: str, operands: str) -> str:
    m = mnemonic.split(".")[0]
    if m.startswith("it") and set(m[2:]) <= {"t", "e"}:
        return "it"
    if m == "vmov":  # core <-> FP register moves cost 2, the rest 1
        return "fp_xfer" if any(r in operands for r in ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9",
                                                        "sl", "fp", "ip", "lr")) else "fp"
    if m in MNEMONIC_CLASS:
        return MNEMONIC_CLASS[m]
    if m[:-2] == "b" and m[-2:] in CONDITIONS:
        return "cond_branch"
    if m[-2:] in CONDITIONS and m[:-2] in MNEMONIC_CLASS:
        return MNEMONIC_CLASS[m[:-2]]  # inside an IT block
    raise AssertionError(f"no class for {mnemonic} {operands}")


DRIVER = r"""
#include <stdio.h>
#include "tg_thumb_decode.h"
int main(void)
{
    unsigned address, hw1, hw2;
    while (scanf("%x %x %x", &address, &hw1, &hw2) == 3) {
        const tg_insn_t insn = tg_thumb_decode(address, (uint16_t)hw1, (uint16_t)hw2);
        printf("%s %u\n", tg_class_names[insn.cls], insn.size);
    }
    return 0;
}
"""


def test_every_instruction_of_a_firmware_gets_the_class_of_its_mnemonic(digits_firmware, tmp_path):
    from tinygen.device.cycles import PLUGIN_SOURCE_DIR

    driver = tmp_path / "driver.c"
    driver.write_text(DRIVER)
    subprocess.run(["gcc", "-O1", f"-I{PLUGIN_SOURCE_DIR}", "-o", str(tmp_path / "decode"), str(driver),
                    str(PLUGIN_SOURCE_DIR / "tg_thumb_decode.c")], check=True, capture_output=True)
    elf = next(digits_firmware.rglob("*.elf"))
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], check=True, capture_output=True,
                             text=True).stdout
    rows = []
    for line in listing.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0].strip().endswith(":") or parts[2].startswith("."):
            continue
        words = parts[1].split()
        rows.append((parts[0].strip()[:-1], words, parts[2].strip(), parts[3] if len(parts) > 3 else ""))
    stdin = "".join(f"{addr} {words[0]} {words[1] if len(words) > 1 else '0'}\n" for addr, words, _, _ in rows)
    decoded = subprocess.run([str(tmp_path / "decode")], input=stdin, check=True, capture_output=True,
                             text=True).stdout.split("\n")
    assert len(rows) > 2000
    wrong = []
    for (addr, words, mnemonic, operands), got in zip(rows, decoded):
        cls, size = got.split()
        if (cls, int(size)) != (expected_class(mnemonic, operands), 2 * len(words)):
            wrong.append(f"{addr}: {mnemonic} {operands} -> {cls}/{size}")
    assert not wrong, wrong[:20]


# Two Cortex-M33s (mps2-an521): core 0 releases core 1, both run a different amount of work between
# the same two barriers. Busy = instructions outside `barrier` (its entry closes an interval).
DUAL_CORE = """\
    .syntax unified
    .thumb
    .text
    .word 0x38010000
    .word reset + 1
    .thumb_func
    .global reset
reset:
    ldr r0, =0x5001F000       @ CPU identity: 0 or 1
    ldr r0, [r0]
    cbnz r0, core1
    ldr r0, =0x50021118       @ CPUWAIT: release core 1
    movs r1, #0
    str r1, [r0]
    movs r2, #100
    bl work                   @ core 0, interval 0: 7 + 1 + (2 * 100 + 1) + 2 = 211
    movs r0, #2
    bl barrier
    movs r2, #10
    bl work                   @ interval 1: 2 + 21 + 2 = 25
    movs r0, #4
    bl barrier
    movs r0, #0x20            @ interval 2 (last): 3
    ldr r1, =exit_block
    bkpt 0xAB
core1:
    ldr r0, =0x38008000
    mov sp, r0
    movs r2, #30
    bl work                   @ core 1, interval 0: 3 + 4 + 61 + 2 = 70
    movs r0, #2
    bl barrier
    movs r2, #50
    bl work                   @ interval 1: 2 + 101 + 2 = 105
    movs r0, #4
    bl barrier
1:  wfi                       @ interval 2: 1
    b 1b
    .thumb_func
work:
    subs r2, r2, #1
    bne work
    bx lr
    .thumb_func
    .global barrier
barrier:                       @ r0: the arrivals to wait for
    ldr r1, =arrived
2:  ldrex r2, [r1]
    adds r2, r2, #1
    strex r3, r2, [r1]
    cmp r3, #0
    bne 2b
    sev                       @ wake a core waiting below
3:  ldr r2, [r1]
    cmp r2, r0
    bge 4f
    wfe                       @ sleep until the other core's SEV (QEMU then runs that core)
    b 3b
4:  bx lr
    .ltorg
    .align 2
exit_block:
    .word 0x20026
    .word 0
    .bss
    .align 2
arrived: .word 0
"""


def test_per_virtual_cpu_intervals_between_barriers_on_two_cores(tmp_path):
    source = tmp_path / "dual.S"
    source.write_text(DUAL_CORE)
    elf = tmp_path / "dual.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m33", "-mthumb", "-mfloat-abi=soft", "-nostdlib",
                    "-nostartfiles", "-Wl,-Ttext=0x10000000", "-Wl,-Tbss=0x38000000", "-Wl,-e,reset",
                    "-o", str(elf), str(source)], check=True, capture_output=True)
    out = tmp_path / "intervals.jsonl"
    plugin = plugin_arguments(build_plugin(), out, barrier=symbol_address(elf, "barrier"))
    proc = subprocess.run(["qemu-system-arm", "-M", "mps2-an521", "-nographic", "-monitor", "none", "-serial", "null",
                           "-icount", "shift=0", "-semihosting-config", "enable=on,target=native", *plugin,
                           "-kernel", str(elf)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    intervals = read_intervals(out)
    busy = {(iv.vcpu, iv.index): iv.busy for iv in intervals}
    assert busy == {(0, 0): 211, (0, 1): 25, (0, 2): 3, (1, 0): 70, (1, 1): 105, (1, 2): 1}
    # The core that arrives first waits in the barrier: counted as wait, not as work.
    assert all(iv.wait >= 11 for iv in intervals if iv.index < 2)
    assert max(iv.wait for iv in intervals) > 11  # one of them went round the wait loop
    assert modelled_latency(intervals) == 211 + 105 + 3
    # The whole run of each core is a region of its own when no start= is given.
    assert {r.vcpu: r.instructions for r in read_regions(out)} == {0: 211 + 25 + 3 + sum(
        iv.wait for iv in intervals if iv.vcpu == 0), 1: 70 + 105 + 1 + sum(iv.wait for iv in intervals if iv.vcpu == 1)}


def test_address_after_alu_is_counted_and_charged_only_when_asked(tmp_path):
    body = """\
        ldr r0, =0x20000100   @ 2
        adds r0, r0, #4       @ 1
        ldr r1, [r0]          @ 2, + 1 with agu=1: its address is the ADD's result
        add.w r2, r0, #8      @ 1
        ldrd r4, r5, [r2]     @ 3, + 1 with agu=1
        movs r3, #0           @ 1
        str r1, [r0, #4]      @ 2: r0 was not written by the MOVS
        mul r3, r3, r1        @ 1
        ldr r1, [r0, r3]      @ 2 (a MUL came between: no run), + 1 with agu=1 (its offset is the MUL's result)
        bx lr                 @ 1 + P
    """
    r = measure(tmp_path, body)
    assert r.agu_pairs == 3
    assert r.cycles == 2 + 1 + 2 + 1 + 3 + 1 + 2 + 1 + 2 + 3
    assert measure(tmp_path, body, CycleSettings(agu=True)).cycles == r.cycles + 3


def test_run_cycles_on_the_command_line(digits_firmware):
    proc = subprocess.run([sys.executable, "-m", "tinygen.cli", "run", str(DIGITS_MODEL), "--random", "1", "--cycles",
                           "--json", "-o", str(digits_firmware)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["cycles"] == report["cycles_per_input"][0]["cycles"] > report["instructions"]
    assert report["cycles_per_input"][0]["instructions"] == report["instructions"]
    other = subprocess.run([sys.executable, "-m", "tinygen.cli", "run", str(DIGITS_MODEL), "--cycles", "--board",
                            "mps2-an500"], capture_output=True, text=True, timeout=60)
    assert other.returncode != 0 and "Cortex-M4" in other.stderr and "Traceback" not in other.stderr
    assert len(other.stderr.strip().splitlines()) == 1


def test_a_flat_profile_by_function(tmp_path):
    prologue = """\
        .thumb_func
    helper:
        adds r3, r3, #1       @ 1
        bx lr                 @ 1 + P
    """
    body = """\
        push {r4, lr}         @ 1 + 2
        movs r4, #3           @ 1
    1:  bl helper             @ 1 + P, three times
        subs r4, r4, #1       @ 1
        bne 1b                @ 1, + P twice
        pop {r4, pc}          @ 1 + 2 + P
    """
    source = tmp_path / "prog.S"
    source.write_text(STARTUP + textwrap.dedent(prologue) + "    .size helper, . - helper\n"
                      "    .thumb_func\n    .global measured\nmeasured:\n" + textwrap.dedent(body)
                      + "    .size measured, . - measured\n")
    elf = tmp_path / "prog.elf"
    subprocess.run(["arm-none-eabi-gcc", *CFLAGS, "-o", str(elf), str(source)], check=True, capture_output=True)
    out = tmp_path / "regions.jsonl"
    table = write_function_table(elf, tmp_path / "functions.txt")
    plugin = plugin_arguments(build_plugin(), out, symbol_address(elf, "measured"), functions=table)
    subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor", "none", "-serial", "null",
                    "-icount", "shift=0", "-semihosting-config", "enable=on,target=native", *plugin,
                    "-kernel", str(elf)], check=True, capture_output=True, timeout=30)
    (region,) = read_regions(out)
    assert region.functions == {"helper": (6, 3 * (1 + 3)), "measured": (12, 3 + 1 + 3 * 3 + 3 + 3 + 2 * 2 + 5)}
    assert region.cycles == sum(c for _, c in region.functions.values())


def test_the_function_table_keeps_static_functions_of_one_name_apart(tmp_path):
    """Two files' static helpers of one name (a shared header's, as the pair convs' im2col_lane): the
    table names the second "helper.2", so the plugin's profile (keyed by name) loses neither's counts;
    bench.source_functions adds them up again under "helper"."""
    objects = []
    for index in (1, 2):
        source = tmp_path / f"unit{index}.c"
        source.write_text(f"static int __attribute__((noinline)) helper(int x) {{ return x * {index + 2}; }}\n"
                          f"int entry{index}(int x) {{ return helper(x) + {index}; }}\n")
        objects.append(tmp_path / f"unit{index}.o")
        subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-O2", "-c", str(source), "-o",
                        str(objects[-1])], check=True, capture_output=True)
    elf = tmp_path / "units.elf"
    subprocess.run(["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-nostdlib", "-Wl,-r", "-o", str(elf),
                    *map(str, objects)], check=True, capture_output=True)
    names = [line.split(" ", 2)[2] for line in write_function_table(elf, tmp_path / "f.txt").read_text().splitlines()]
    assert sorted(names) == ["entry1", "entry2", "helper", "helper.2"]
    from tinygen.bench import source_functions
    assert source_functions({"helper": (1, 2), "helper.2": (3, 4)}) == {"helper": (4, 6)}
