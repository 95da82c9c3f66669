"""The RISC-V variants (tinygen/kernels/variants_rv.py, runtime_c/kernels/*_rv*): register-blocked
CONV_2D / FULLY_CONNECTED / DEPTHWISE_CONV_2D for cores without SIMD.

- their data layouts, unpacked again and used as the C kernels use them;
- their epilogue (MUL + MULHSU, masks made at generation time) against tg_dot_requantize and TFLM's
  arithmetic at the ends of QuantizeMultiplier's range, shifts -31..30;
- whole models with extreme values (zero points at +-128, weights at +-127/-128, accumulators near the
  int32 limits, right shifts 0..31, a dead channel), odd sizes, strides, dilation, borders: bit-exact
  with TFLM on the host under UBSan and ASan (the C is portable), and in QEMU on riscv32-virt, where
  the kernels' code holds no call (no libgcc, no memcpy).
"""

from __future__ import annotations

import ctypes
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ops.test_conv import conv_model
from ops.test_depthwise import dw_model
from ops.test_fully_connected import fc_model
from test_variants import EXTREME_CASES, WIDE_REALS, extreme_model
from tinygen.boards.catalog import load_board
from tinygen.jobs import run_on_board
from tinygen.ir.quant import FixedPointMultiplier, multiply_by_quantized_multiplier
from tinygen.kernels.call import KernelCall
from tinygen.kernels.cvalues import ChannelRequant, ConstArray, NullPtr, TensorRef
from tinygen.passes.choose_kernels import KernelSet
from tinygen.kernels.variants import choose_variant  # noqa: F401  (the registry, before its RISC-V module)
from tinygen.kernels.variants_rv import (
    RV_CHANNEL_WORDS, RV_FEATURES, RV_ROWS, ConvRvParams, folded_rounding, rv_channels, rv_weights,
)
from tinygen.compiler import compile_bytes
from tinygen.resources import KERNELS_DIR, RUNTIME_INCLUDE_DIR
from tinygen.testing.compare import compare_on_host

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
RV_BOARD = "riscv32-virt"
RV_KERNELS = ("tg_conv_s8_rv", "tg_depthwise_conv_s8_rv")


def rv_functions(compiled) -> list[str]:
    return [c.function for c in compiled.lowered if isinstance(c, KernelCall)]


# --- data layouts --------------------------------------------------------------------------------

def test_rv_weights_are_blocks_of_eight_channels_tap_by_tap():
    rng = np.random.default_rng(0)
    rows = rng.integers(-128, 128, size=(11, 13)).astype(np.int8)
    packed = rv_weights(rows).values.reshape(2, 13, RV_ROWS)  # [block][tap][channel]
    x = rng.integers(-128, 128, size=13).astype(np.int64)
    acc = np.einsum("btc,t->bc", packed.astype(np.int64), x).reshape(-1)
    assert (acc[:11] == rows.astype(np.int64) @ x).all() and (acc[11:] == 0).all()


def test_rv_channels_hold_the_folded_bias_and_the_epilogues_words():
    rows = np.array([[1, -2, 3], [127, 127, -128], [127, 127, -128]], dtype=np.int8)
    requant = ChannelRequant(ConstArray("int32_t", np.array([2**30, INT32_MAX, INT32_MAX])),
                             ConstArray("int32_t", np.array([3, -15, -31])), 1)
    words = rv_channels(None, NullPtr(), rows, 128, requant, -5).values.reshape(-1, RV_CHANNEL_WORDS)
    assert words.shape == (RV_ROWS, RV_CHANNEL_WORDS) and not words[3:].any()
    assert list(words[0]) == [128 * 2, 0, 2**31 - 2**32, 3, 0, 0, 0, -5]
    assert list(words[1][:2]) == [128 * 126, 0]
    assert list(words[1][2:]) == [(2 * INT32_MAX) - 2**32, 0, 15, 2**15 - 1, 2**14 - 1, 2**14 - 5 * 2**15]
    # |acc| <= 255 * 382, so |high| < 2^30: TFLM's output is the offset; multiplier 0, right shift 1
    assert list(words[2][2:]) == [0, 0, 1, 1, 0, 1 - 2 * 5]


class _BiasOnly:
    """The one graph look-up folded_rounding makes: the bias tensor's data."""

    def __init__(self, bias: list[int]):
        self.data = np.array(bias, dtype=np.int32)

    def tensor(self, index: int) -> "_BiasOnly":
        return self


def test_the_short_epilogue_is_taken_only_where_proven_exact():
    """No left shift, right shifts >= 1 (a channel whose output is the offset counts as 1), and room
    for the rounding word beside |high| <= (|bias| + 255 * sum |w|) * m / 2^31 + 2."""
    rows = np.array([[127, -128, 5], [1, 2, 3]], dtype=np.int8)

    def folded(multipliers, shifts, bias=(0, 0), offset=0):
        requant = ChannelRequant(ConstArray("int32_t", np.array(multipliers)), ConstArray("int32_t", np.array(shifts)), 1)
        return folded_rounding(_BiasOnly(list(bias)), TensorRef(0), rows, requant, offset)

    big = (0, 2**30)
    assert folded([2**30, INT32_MAX], [-1, -24], big)                   # |high| ~ 2^30, rounding 2^23
    assert not folded([2**30, INT32_MAX], [-1, -24], big, offset=127)   # + 127 * 2^24: past 2^31
    assert folded([2**30, 2**29], [-1, -31], big, offset=127)           # |high| < 2^30: the offset alone
    assert not folded([2**30, INT32_MAX], [-1, -1], (0, 2**31 - 1000))  # the bound reaches 2^31
    assert folded([2**30, 0], [-1, 0])                                  # a dead channel
    assert not folded([2**30, 2**30], [-1, 0])                          # right shift 0
    assert not folded([2**30, 2**30], [1, -3])                          # a left shift


# --- the epilogue against tg_dot_requantize and TFLM ---------------------------------------------

REQUANT = r"""
#include <stdint.h>
#include "tinygen/tg_fixedpoint.h"
#include "tg_rv_dot.h"

int32_t rv(int32_t x, int32_t m, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int32_t mask = (int32_t)((UINT32_C(1) << right) - 1u);
    const int32_t channel[TG_RV_CHANNEL_WORDS] = {0, 0, (int32_t)(2u * (uint32_t)m), left, right, mask, mask >> 1, 0};
    return tg_rv_requantize((uint32_t)x, channel);
}

int32_t dot(int32_t x, int32_t m, int32_t shift) { return tg_dot_requantize(x, m, shift); }

/* The short epilogue with output offset `offset` (right = -shift >= 1), the rounding word wrapped. */
int32_t folded(int32_t x, int32_t m, int32_t shift, int32_t offset)
{
    const int32_t right = -shift;
    const uint32_t rounding = (UINT32_C(1) << (right - 1)) + (uint32_t)offset * (UINT32_C(1) << right);
    const tg_rv_requant_t q = {2u * (uint32_t)m, 0, right, 0, 0};
    return tg_rv_requantize_folded((uint32_t)x, q, (int32_t)rounding);
}
"""


@pytest.fixture(scope="module")
def requantizers(tmp_path_factory):
    work = tmp_path_factory.mktemp("rv")
    (work / "rv.c").write_text(REQUANT)
    lib = work / "rv.so"
    subprocess.run(["gcc", "-O2", "-std=c11", "-shared", "-fPIC", f"-I{RUNTIME_INCLUDE_DIR}", f"-I{KERNELS_DIR}",
                    "-fsanitize=undefined", "-fno-sanitize-recover=all", str(work / "rv.c"), "-o", str(lib)],
                   check=True)
    dll = ctypes.CDLL(str(lib))
    for f in (dll.rv, dll.dot):
        f.argtypes = (ctypes.c_int32,) * 3
        f.restype = ctypes.c_int32
    dll.folded.argtypes = (ctypes.c_int32,) * 4
    dll.folded.restype = ctypes.c_int32
    return dll.rv, dll.dot, dll.folded


X_EDGES = [INT32_MIN, INT32_MIN + 1, -(2**30) - 1, -(2**30), -(2**24), -3, -2, -1, 0, 1, 2, 3, 2**24, 2**30 - 1,
           2**30, INT32_MAX - 1, INT32_MAX]
M_EDGES = [0, 1, 2**30, 2**30 + 1, 1518500250, INT32_MAX - 1, INT32_MAX]


def test_rv_requantize_is_tflms_at_the_edges(requantizers):
    rv, dot, _ = requantizers
    for shift in range(-31, 31):
        for x in X_EDGES:
            for m in M_EDGES:
                assert rv(x, m, shift) == dot(x, m, shift), (x, m, shift)
                if shift <= 0 or INT32_MIN <= x * 2**shift <= INT32_MAX:  # TFLM's left shift does not overflow
                    assert rv(x, m, shift) == multiply_by_quantized_multiplier(x, FixedPointMultiplier(m, shift))


@settings(max_examples=1000, deadline=None)
@given(x=st.integers(INT32_MIN, INT32_MAX), m=st.sampled_from([0]) | st.integers(2**30, INT32_MAX),
       shift=st.integers(-31, 30))
def test_rv_requantize_is_tflms(requantizers, x, m, shift):
    rv, dot, _ = requantizers
    assert rv(x, m, shift) == dot(x, m, shift)


def short_epilogue_applies(x: int, m: int, shift: int, offset: int) -> bool:
    """folded_rounding's condition for one accumulator x: |high| + 1 + |rounding| < 2^31."""
    right = -shift
    return right >= 1 and (abs(x) * m >> 31) + 3 + abs(2 ** (right - 1) + offset * 2**right) < 2**31


def check_short_epilogue(folded, x: int, m: int, shift: int, offset: int) -> None:
    expected = multiply_by_quantized_multiplier(x, FixedPointMultiplier(m, shift)) + offset
    assert folded(x, m, shift, offset) == expected, (x, m, shift, offset)


def test_the_short_epilogue_is_tflms_at_the_edges(requantizers):
    """Where folded_rounding allows it: every right shift, accumulators at the largest bound it takes
    (and their neighbours), offsets -128 and 127, multipliers at both ends; UBSan on."""
    *_, folded = requantizers
    checked = 0
    for shift in range(-31, 0):
        for m in M_EDGES:
            for offset in (-128, -1, 0, 127):
                for x in X_EDGES + [2**31 - 2**(-shift) * 130, -(2**31) + 2**(-shift) * 130]:
                    for x in (x - 1, x, x + 1):
                        if INT32_MIN <= x <= INT32_MAX and short_epilogue_applies(x, m, shift, offset):
                            check_short_epilogue(folded, x, m, shift, offset)
                            checked += 1
    assert checked > 10000


@settings(max_examples=1000, deadline=None)
@given(x=st.integers(INT32_MIN, INT32_MAX), m=st.sampled_from([0]) | st.integers(2**30, INT32_MAX),
       shift=st.integers(-31, -1), offset=st.integers(-128, 127))
def test_the_short_epilogue_is_tflms(requantizers, x, m, shift, offset):
    from hypothesis import assume
    assume(short_epilogue_applies(x, m, shift, offset))
    check_short_epilogue(requantizers[2], x, m, shift, offset)


# --- models on the host (portable C, sanitizers) ---------------------------------------------------

def host_bit_exact(tmp_path, model: bytes, count: int = 3) -> list[str]:
    compiled = compile_bytes(model, board=load_board(RV_BOARD), kernel_set=KernelSet.FASTEST)
    result = compare_on_host(model, tmp_path / "host", count=count, compiled=compiled, sanitize=True)
    assert result.tensors_compared > 0
    assert not result.mismatches, "\n".join(result.mismatches[:10])
    return rv_functions(compiled)


KINDS = {"conv": "tg_conv_s8_rv", "fc": "tg_conv_s8_rv", "dw": "tg_depthwise_conv_s8_rv"}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_extreme_values_are_bit_exact_on_the_host(tmp_path, kind):
    """Input zero point -128, output 127, accumulators near the int32 limits, right shifts 0..31 and a
    dead channel (test_variants.REALS), 7 channels (a partial block), borders and pairs."""
    assert host_bit_exact(tmp_path, extreme_model(kind, 3, **EXTREME_CASES["zp-128"]), count=4) == [KINDS[kind]]


# Right shifts 1..23 (a smaller multiplier's right shift of 30 leaves no room for the output offset
# beside the rounding: that layer takes the general epilogue).
SHORT_REALS = [r for r in WIDE_REALS if r > 0] + [2**-20]


def short_epilogue_model(kind: str, seed: int, in_zp: int, out_zp: int) -> bytes:
    """Weights at +-127/-128, zero points at the ends, right shifts 1..23, biases small enough for the
    short epilogue (tg_rv_requantize_folded)."""
    return extreme_model(kind, seed, in_zp=in_zp, out_zp=out_zp, reals=SHORT_REALS, near_limit=False)


def folded_flags(compiled) -> list[int]:
    return [arg.value.folded_rounding for c in compiled.lowered if isinstance(c, KernelCall)
            for arg in c.args if isinstance(arg.value, ConvRvParams)]


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_short_epilogue_is_bit_exact_on_the_host(tmp_path, kind):
    model = short_epilogue_model(kind, 4, in_zp=-128, out_zp=127)
    assert folded_flags(compile_bytes(model, board=load_board(RV_BOARD), kernel_set=KernelSet.FASTEST)) == [1]
    assert host_bit_exact(tmp_path, model, count=4) == [KINDS[kind]]


ODD_MODELS = {
    "conv_stride2_valid": lambda: conv_model(21, in_hw=(9, 8), in_c=3, out_c=9, kernel=(3, 3), stride=(2, 2),
                                             padding="VALID"),
    "conv_dilated": lambda: conv_model(22, in_hw=(8, 7), in_c=2, out_c=5, kernel=(3, 2), dilation=(2, 2)),
    "conv_1x1_odd": lambda: conv_model(23, in_hw=(5, 3), in_c=7, out_c=17, kernel=(1, 1), padding="VALID"),
    "conv_10x4_stem": lambda: conv_model(24, in_hw=(13, 9), in_c=1, out_c=8, kernel=(10, 4), stride=(2, 2),
                                         activation="RELU"),
    "fc_batches": lambda: fc_model(25, batches=3, depth=29, units=13, per_channel=True),
    "dw_stride2": lambda: dw_model(26, in_hw=(9, 8), in_c=5, stride=(2, 2), activation="RELU6"),
    "dw_5x3_dilated": lambda: dw_model(27, in_hw=(10, 9), in_c=3, kernel=(5, 3), dilation=(1, 2)),
}


@pytest.mark.long
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("case", sorted(EXTREME_CASES))
def test_extreme_grid_is_bit_exact_on_the_host(tmp_path, kind, case):
    assert host_bit_exact(tmp_path, extreme_model(kind, 3, **EXTREME_CASES[case]), count=4) == [KINDS[kind]]


@pytest.mark.long
@pytest.mark.parametrize("name", sorted(ODD_MODELS))
def test_odd_shapes_are_bit_exact_on_the_host(tmp_path, name):
    functions = host_bit_exact(tmp_path, ODD_MODELS[name]())
    assert functions[0] in RV_KERNELS, functions


# --- over their own input: the tightest placement each contract allows (tests/test_inplace.py) -------

TIGHT_CASES = {
    "conv_3x3": (lambda: conv_model(3, in_c=7, out_c=5, in_hw=(6, 9)), False, "tg_conv_s8_rv"),
    "conv_stride2": (lambda: conv_model(3, stride=(2, 2)), False, "tg_conv_s8_rv"),
    "conv_1x1_in_place": (lambda: conv_model(13, kernel=(1, 1), in_hw=(5, 3), in_c=16, out_c=9), True,
                          "tg_conv_1x1_s8_inplace_rv"),
    "dw_raster": (lambda: dw_model(5, in_hw=(6, 7), in_c=10, activation="RELU"), False, "tg_depthwise_conv_s8_rv"),
    "dw_in_place": (lambda: dw_model(11, in_hw=(5, 5), in_c=24), True, "tg_depthwise_conv_s8_inplace_rv"),
    "dw_in_place_5x5_valid": (lambda: dw_model(11, kernel=(5, 5), in_hw=(7, 6), in_c=6, stride=(1, 2),
                                               padding="VALID"), True, "tg_depthwise_conv_s8_inplace_rv"),
    # the padded plane on the stack (zero points at both ends, accumulators near the limits), and a
    # plane too large for it (19 x 18 padded > TG_RV_DW_PADDED_PLANE): the copy in `plane`, borders apart
    "dw_in_place_padded_zp-128": (lambda: extreme_model("dw", 7, in_zp=-128, out_zp=127), True,
                                  "tg_depthwise_conv_s8_inplace_rv"),
    "dw_in_place_padded_zp127": (lambda: extreme_model("dw", 8, in_zp=127, out_zp=-128), True,
                                 "tg_depthwise_conv_s8_inplace_rv"),
    "dw_in_place_large_plane": (lambda: dw_model(12, in_hw=(17, 16), in_c=6, activation="RELU6"), True,
                                "tg_depthwise_conv_s8_inplace_rv"),
}


@pytest.mark.parametrize("name", sorted(TIGHT_CASES))
def test_rv_variants_over_their_input(tmp_path, name):
    from test_inplace import check_tight
    make, inplace, expect = TIGHT_CASES[name]
    check_tight(tmp_path, make(), KernelSet.OPTIMISED, inplace=inplace, expect=expect, features=RV_FEATURES)


# --- in QEMU on riscv32-virt ---------------------------------------------------------------------

@pytest.mark.parametrize("source", ["tg_conv_s8_rv.c", "tg_depthwise_conv_s8_rv.c"])
def test_rv_kernels_need_no_library_function(tmp_path, source):
    """Built as the firmware builds them for rv32imac (-O2), the kernels' objects reference no symbol
    of their own: no libgcc helper (the 64-bit products are MUL + MULHSU), no memcpy."""
    board = load_board(RV_BOARD)
    obj = tmp_path / "kernel.o"
    subprocess.run([f"{board.toolchain.prefix}gcc", *board.toolchain.cflags, "-std=c11", "-O2", "-Wall", "-Wextra",
                    "-Werror", "-ffreestanding", f"-I{RUNTIME_INCLUDE_DIR}", f"-I{KERNELS_DIR}", "-c",
                    str(KERNELS_DIR / source), "-o", str(obj)], check=True)
    undefined = subprocess.run([f"{board.toolchain.prefix}nm", "-u", str(obj)], capture_output=True, text=True,
                               check=True).stdout.split()
    assert undefined == []
    disassembly = subprocess.run([f"{board.toolchain.prefix}objdump", "-d", str(obj)], capture_output=True,
                                 text=True, check=True).stdout
    assert "\tmul\t" in disassembly and "\tmulhsu\t" in disassembly


@pytest.mark.qemu
@pytest.mark.parametrize("epilogue", ["general", "short"])
@pytest.mark.parametrize("kind", ["conv", "dw"])
def test_rv_variants_are_bit_exact_in_qemu_and_call_nothing(tmp_path, kind, epilogue):
    model = tmp_path / f"{kind}.tflite"
    make = extreme_model if epilogue == "general" else short_epilogue_model
    model.write_bytes(make(kind, 5, in_zp=127, out_zp=-128))
    report = run_on_board(model, RV_BOARD, tmp_path / "build", random_count=3, timeout_s=120,
                          kernel_set=KernelSet.FASTEST)
    assert report.bit_exact, report
    elf = next((tmp_path / "build").rglob("*.elf"))
    objdump = f"{load_board(RV_BOARD).toolchain.prefix}objdump"
    disassembly = subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    assert f"<{KINDS[kind]}>:" in disassembly


@pytest.mark.long
@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(ODD_MODELS))
def test_odd_shapes_are_bit_exact_in_qemu(tmp_path, name):
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(ODD_MODELS[name]())
    report = run_on_board(model, RV_BOARD, tmp_path / "build", random_count=2, timeout_s=120,
                          kernel_set=KernelSet.FASTEST)
    assert report.bit_exact, report


# --- the RISC-V section of BENCHMARKS.md ---------------------------------------------------------

def test_a_board_section_is_written_into_the_m4_report_and_outlives_its_rewrite(tmp_path):
    from tinygen.bench import merge_section, recorded_figures, section_markers, written_report
    report = tmp_path / "BENCHMARKS.md"
    m4 = (BENCHMARKS_HEAD + "## Figures for tools\n\n<!-- tinygen-bench figures (read by the regression guard, "
          "tests/test_mlperf_qemu.py) -->\n```json\n{\"board\": \"mps2-an386\", \"models\": {}}\n```\n")
    start, end = section_markers(RV_BOARD)
    section = f"{start}\n## `{RV_BOARD}`: rows\n{end}"
    merged = merge_section(m4, RV_BOARD, section)
    assert merged.index(section) < merged.index("## Figures for tools")
    assert recorded_figures(merged)["board"] == "mps2-an386"
    again = merge_section(merged, RV_BOARD, section.replace("rows", "new rows"))
    assert again.count(start) == 1 and "new rows" in again and "## `riscv32-virt`: rows" not in again
    report.write_text(again)
    rewritten = written_report(report, [], "mps2-an386", "tinygen bench", m4.replace("Head", "New head"))
    assert "New head" in rewritten and "new rows" in rewritten  # the M4 rewrite keeps the RISC-V section


BENCHMARKS_HEAD = "# Benchmarks\n\nHead\n\n"
