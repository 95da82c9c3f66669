"""tg_depthwise_conv_s8_lines_dsp (tinygen/kernels/variants_dsp_lines.py): the 3x3 stride-1 depthwise
one channel at a time over a ring of three int16 lines.

- on the host (the portable path): in place and out of place, exactly over its input (its contract's
  tightest placement), whole pixels below it (one, and the lowest the contract allows) and apart, bit-exact with TFLite Micro on random and extreme records: lines
  along rows and along columns, lengths 1 to 25 (every tail of the two-pair loop), zero points at
  both ends, RELU6 with a dead channel, two batches;
- on the M4 (mps2-an386, the asm checked in the disassembly): the same shapes' hard cases, in place
  exactly over the input and out of place at the lowest placement;
- where it applies, its weights' layout, and the compiler's exchange that keeps VWW's 1x1 variants.
"""

from __future__ import annotations

import math
import re
import subprocess

import numpy as np
import pytest

from conftest import kernel_functions, mlperf_model
from ops.test_depthwise import dw_model
from test_inplace import check_tight, run_tight_on_board, tight_compile
from test_variants_dsp import assert_clean_under_sanitizers
from tinygen.boards.catalog import load_board
from tinygen.compiler import compile_bytes
from tinygen.plan.arena import ALIGNMENT
from tinygen.kernels.variants_dsp_lines import LINES_FUNCTION, lines_weights, lines_why_not
from tinygen.kernels.variants import typed_args, DepthwiseArgs
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.kernels.select import lower_graph
from tinygen.kernels.call import KernelCall
from tinygen.passes.choose_kernels import KernelSet

DSP = frozenset({"dsp"})
# the other depthwise variants of a DSP core, refused so that the lines kernel is the one placed
OTHERS = frozenset({"tg_depthwise_conv_s8_wide", "tg_depthwise_conv_s8_inplace_dsp",
                    "tg_depthwise_conv_s8_inplace_dsp_rows", "tg_depthwise_conv_s8_plane_dsp"})

LINES_CASES = {
    "kws-25x5x64": dict(in_hw=(25, 5), in_c=64),                       # along columns, 25 long: 6 x 2 pairs + 1
    "rows-6x7": dict(in_hw=(6, 7), in_c=5),                             # along rows, 7: one 2-pair step, a pair, 1
    "columns-7x6": dict(in_hw=(7, 6), in_c=3),                          # along columns, 7
    "rows-4x8": dict(in_hw=(4, 8), in_c=2),                             # two 2-pair steps, no tail
    "rows-3x2": dict(in_hw=(2, 2), in_c=3),                             # one pair only
    "rows-1x3": dict(in_hw=(1, 3), in_c=4),                             # one line: both neighbours padding
    "columns-5x1": dict(in_hw=(5, 1), in_c=2),                          # a single column
    "zp-128": dict(in_hw=(6, 7), in_c=8, zero_points=(-128, 127)),      # the padding's zero point at both ends
    "zp127": dict(in_hw=(6, 7), in_c=8, zero_points=(127, -128)),
    "relu6-dead-channel": dict(in_hw=(5, 6), in_c=8, activation="RELU6", dead_channel=5, zero_points=(-128, 127)),
    "batch2": dict(in_hw=(5, 4), in_c=4, batch=2),
}


@pytest.mark.parametrize("inplace", [True, False], ids=["in-place", "out-of-place"])
@pytest.mark.parametrize("name", sorted(LINES_CASES))
def test_lines_depthwise_over_its_input(tmp_path, name, inplace):
    compiled = check_tight(tmp_path, dw_model(31, **LINES_CASES[name]), KernelSet.OPTIMISED, inplace=inplace,
                           features=DSP, expect=LINES_FUNCTION, exclude=OTHERS)
    placed = {p.buffer.key: p.offset for p in compiled.plan.placements}
    a = compiled.plan.allowances[0]
    assert placed[a.input] == placed[a.output]  # exactly over its input


def lattice_deltas(name: str) -> dict[str, int]:
    """The contract's other placements (kernels/overlap.py), aligned (a multiple of 4 as well): the
    fewest whole pixels (lines of pixels, where the lines are columns) below the input, and the most,
    within the portable twin's lag of a line and two."""
    case = LINES_CASES[name]
    (h, w), c = case["in_hw"], case["in_c"]
    pixel = c * w if h > w else c
    lowest = -(-(w + 2) * c // pixel) * pixel
    step = math.lcm(pixel, ALIGNMENT)
    return {"one-pixel-below": -step, "lag": -(lowest // step) * step}


@pytest.mark.parametrize("below", ["one-pixel-below", "lag"])
@pytest.mark.parametrize("name", ["kws-25x5x64", "rows-6x7", "columns-7x6", "rows-1x3", "batch2"])
def test_lines_depthwise_whole_pixels_below_its_input(tmp_path, name, below):
    """Output line o is written after input line o + 1 is copied, over the same channel's pixels only:
    whole pixels below the input it lands on copied ones."""
    delta = lattice_deltas(name)[below]
    compiled = check_tight(tmp_path, dw_model(31, **LINES_CASES[name]), KernelSet.OPTIMISED, inplace=False,
                           features=DSP, expect=LINES_FUNCTION, exclude=OTHERS, delta_change=delta)
    placed = {p.buffer.key: p.offset for p in compiled.plan.placements}
    a = compiled.plan.allowances[0]
    assert placed[a.output] - placed[a.input] == delta


@pytest.mark.qemu
@pytest.mark.parametrize("inplace", [True, False], ids=["in-place", "out-of-place"])
@pytest.mark.parametrize("name", ["kws-25x5x64", "rows-6x7", "rows-4x8", "rows-3x2", "columns-5x1", "zp-128", "zp127",
                                  "relu6-dead-channel", "batch2"])
def test_lines_depthwise_on_the_m4(tmp_path, monkeypatch, name, inplace):
    """The asm loops (two pairs, one pair, the odd last output; with and without the clamp) exactly
    over their input on the M4 (out of place: at the twin's lag below it), with the extreme records."""
    model = dw_model(31, **LINES_CASES[name])
    delta = 0 if inplace else lattice_deltas(name)["lag"]
    tight = tight_compile(model, KernelSet.OPTIMISED, inplace, delta_change=delta, features=DSP, exclude=OTHERS)
    assert LINES_FUNCTION in kernel_functions(tight.lowered)
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    body = next(part for part in disassembly.split("\n\n") if re.search(r"<channel3x3(\.[a-z]+\.\d+)*>:", part))
    assert "\tsmlad\t" in body and "\tsmlatb\t" in body and "\tsmlabt\t" in body  # the DSP path, not the portable C


@pytest.mark.long  # ~40 s: every kernel built with ASan + UBSan
@pytest.mark.parametrize("name", ["kws-25x5x64", "rows-6x7", "relu6-dead-channel"])
def test_lines_depthwise_is_clean_under_sanitizers(tmp_path, name):
    assert_clean_under_sanitizers(tmp_path, dw_model(31, **LINES_CASES[name]), OTHERS, LINES_FUNCTION)


def _args(model: bytes) -> tuple:
    graph = parse_tflite(model, name="model")
    call = next(c for c in lower_graph(graph) if isinstance(c, KernelCall))
    return graph, typed_args(call, DepthwiseArgs)


@pytest.mark.parametrize("case, reason", [
    (dict(stride=(2, 2)), "stride or dilation other than 1"),
    (dict(kernel=(5, 5)), "filter not 3x3"),
    (dict(padding="VALID"), "padding other than 1 (SAME)"),
    (dict(multiplier=2), "depth multiplier != 1"),
    (dict(in_hw=(65, 3)), "lines longer than 64 pixels"),
])
def test_lines_depthwise_refuses_what_it_cannot_do(case, reason):
    assert lines_why_not(*_args(dw_model(5, **case))) == reason


def test_lines_depthwise_takes_lines_of_64():
    assert lines_why_not(*_args(dw_model(5, in_hw=(3, 64), in_c=2))) is None


@pytest.mark.parametrize("transposed", [False, True])
def test_lines_weights_pair_each_window_line(transposed):
    rows = np.arange(-9, 9, dtype=np.int64).reshape(2, 9)  # two channels, taps row-major (ky, kx)
    words = lines_weights(rows, transposed).values.astype(np.int64).reshape(2, 3, 2) & 0xFFFFFFFF
    taps = rows.reshape(2, 3, 3)
    if transposed:
        taps = taps.transpose(0, 2, 1)  # the lines are columns: along a line is along ky
    low = (words & 0xFFFF).astype(np.int16)
    high = (words >> 16).astype(np.uint16).astype(np.int16)
    assert (low[..., 0] == taps[..., 0]).all() and (high[..., 0] == taps[..., 1]).all()  # u = (w0, w1)
    assert (low[..., 1] == taps[..., 1]).all() and (high[..., 1] == taps[..., 2]).all()  # v = (w1, w2)


def test_vww_keeps_its_1x1_variants_beside_the_lines_depthwise():
    """The lines depthwise's contract (the output a whole number of pixels below its input, down to
    the portable twin's lag, or exactly over it) lets VWW's stride-1 layers at 48x48 and 24x24 take it
    (the smaller ones take the plane kernel) without moving a 1x1 convolution off its variant: no
    portable twin is left, the arena stays."""
    compiled = compile_bytes(mlperf_model("vww").read_bytes(), board=load_board("mps2-an386"))
    functions = kernel_functions(compiled.lowered)
    assert "tg_conv_s8_fast" not in functions
    assert functions.count(LINES_FUNCTION) == 2
    assert compiled.plan.arena_bytes == 36888


def test_kws_runs_the_lines_depthwise_in_place():
    compiled = compile_bytes(mlperf_model("kws").read_bytes(), board=load_board("mps2-an386"))
    assert kernel_functions(compiled.lowered).count(LINES_FUNCTION) == 4
    assert compiled.plan.arena_bytes <= 8084  # its ring is on its stack
