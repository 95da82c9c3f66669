"""tg_depthwise_conv_s8_plane_dsp (tinygen/kernels/variants_dsp_plane.py): the 3x3 depthwise, stride 1
or 2, one channel at a time over its whole plane copied into int16 on the stack.

- on the host (the portable path): in place and out of place, exactly over its input, whole pixels
  below it (the fewest, and the most its contract allows) and apart, bit-exact with TFLite Micro on
  random and extreme records: both strides, rows of even width (the whole-channel asm, one or three
  pairs an iteration) and odd (a pair and the last output), padding 0 and 1, the plane's full width
  and height, zero points at both ends, RELU6 with a dead channel, two batches;
- on the M4 (mps2-an386, the asm checked in the disassembly): the same hard cases, in place and at
  the lowest placement out of place;
- what it refuses, and where VWW runs it.
"""

from __future__ import annotations

import math
import re
import subprocess

import pytest

from conftest import kernel_functions, mlperf_model
from ops.test_depthwise import dw_model
from test_inplace import check_tight, run_tight_on_board, tight_compile
from test_variants_dsp import assert_clean_under_sanitizers
from tinygen.boards.catalog import load_board
from tinygen.compiler import compile_bytes
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.kernels.call import KernelCall
from tinygen.kernels.select import lower_graph
from tinygen.kernels.variants import DepthwiseArgs, typed_args
from tinygen.kernels.variants_dsp_lines import LINES_FUNCTION
from tinygen.kernels.variants_dsp_plane import PLANE_FUNCTION, plane_why_not
from tinygen.passes.choose_kernels import KernelSet
from tinygen.plan.arena import ALIGNMENT

DSP = frozenset({"dsp"})
# the other depthwise variants of a DSP core, refused so that the plane kernel is the one placed
OTHERS = frozenset({"tg_depthwise_conv_s8_wide", "tg_depthwise_conv_s8_inplace_dsp",
                    "tg_depthwise_conv_s8_inplace_dsp_rows", LINES_FUNCTION})

PLANE_CASES = {
    "s1-6x6": dict(in_hw=(6, 6), in_c=8),                               # MobileNet's: 3 pairs a row, one iteration
    "s1-12x12": dict(in_hw=(12, 12), in_c=4),                           # 6 pairs a row: two iterations of three
    "s1-4x8": dict(in_hw=(4, 8), in_c=3),                               # 4 pairs a row: one pair an iteration
    "s1-3x3": dict(in_hw=(3, 3), in_c=5),                               # odd rows: a pair and the last output
    "s1-5x7": dict(in_hw=(5, 7), in_c=2),                               # odd rows: the two-pair loop, a pair, the last
    "s1-2x30": dict(in_hw=(2, 30), in_c=1),                             # the plane's full width (32 values)
    "s1-14x4": dict(in_hw=(14, 4), in_c=2),                             # its full height (16 rows)
    "s2-12x12": dict(in_hw=(12, 12), in_c=4, stride=(2, 2)),            # SAME, even: no padding before, 6x6 out
    "s2-6x6": dict(in_hw=(6, 6), in_c=8, stride=(2, 2)),                # 3x3 out: odd rows
    "s2-9x9": dict(in_hw=(9, 9), in_c=3, stride=(2, 2)),                # SAME, odd: padding 1 before, 5x5 out
    "s2-valid": dict(in_hw=(10, 7), in_c=4, stride=(2, 2), padding="VALID"),  # 4x3 out
    "zp-128": dict(in_hw=(6, 6), in_c=8, zero_points=(-128, 127)),      # the padding's zero point at both ends
    "zp127": dict(in_hw=(6, 6), in_c=8, zero_points=(127, -128)),
    "relu6-dead-channel": dict(in_hw=(6, 6), in_c=8, activation="RELU6", dead_channel=5, zero_points=(-128, 127)),
    "relu6-s2": dict(in_hw=(12, 12), in_c=4, stride=(2, 2), activation="RELU6", zero_points=(127, -128)),
    "batch2": dict(in_hw=(4, 4), in_c=4, batch=2),
}


@pytest.mark.parametrize("inplace", [True, False], ids=["in-place", "out-of-place"])
@pytest.mark.parametrize("name", sorted(PLANE_CASES))
def test_plane_depthwise_over_its_input(tmp_path, name, inplace):
    compiled = check_tight(tmp_path, dw_model(41, **PLANE_CASES[name]), KernelSet.OPTIMISED, inplace=inplace,
                           features=DSP, expect=PLANE_FUNCTION, exclude=OTHERS)
    placed = {p.buffer.key: p.offset for p in compiled.plan.placements}
    a = compiled.plan.allowances[0]
    assert placed[a.input] == placed[a.output]  # exactly over its input


def lattice_deltas(compiled_allowance_min: int, channels: int) -> dict[str, int]:
    """The contract's other placements, aligned (a multiple of 4 as well): the fewest whole pixels
    below the input, and the most the contract allows."""
    step = math.lcm(channels, ALIGNMENT)
    return {"one-pixel-below": -step, "lowest": -(-compiled_allowance_min // step) * step}


@pytest.mark.parametrize("below", ["one-pixel-below", "lowest"])
@pytest.mark.parametrize("name", ["s1-6x6", "s1-3x3", "s2-9x9", "s2-valid", "batch2"])
def test_plane_depthwise_whole_pixels_below_its_input(tmp_path, name, below):
    """A channel's whole plane is copied before any of its outputs is written, and the writes land on
    that channel's pixels only: whole pixels below the input they land on copied ones."""
    model = dw_model(41, **PLANE_CASES[name])
    probe = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=OTHERS)
    lowest = probe.plan.allowances[0].min_delta
    delta = lattice_deltas(lowest, PLANE_CASES[name]["in_c"])[below]
    if delta < lowest:  # the lowest placement is exactly over the input (stride 2, no padding before)
        delta = 0
    compiled = check_tight(tmp_path, model, KernelSet.OPTIMISED, inplace=False, features=DSP, expect=PLANE_FUNCTION,
                           exclude=OTHERS, delta_change=delta)
    placed = {p.buffer.key: p.offset for p in compiled.plan.placements}
    a = compiled.plan.allowances[0]
    assert placed[a.output] - placed[a.input] == delta


@pytest.mark.qemu
@pytest.mark.parametrize("inplace", [True, False], ids=["in-place", "out-of-place"])
@pytest.mark.parametrize("name", ["s1-6x6", "s1-12x12", "s1-4x8", "s1-5x7", "s1-2x30", "s2-12x12", "s2-9x9", "zp-128",
                                  "zp127", "relu6-dead-channel", "relu6-s2", "batch2"])
def test_plane_depthwise_on_the_m4(tmp_path, monkeypatch, name, inplace):
    """The asm (the whole-channel rows, one and three pairs an iteration; the row loop's pairs and last
    output; both strides, with and without the clamp) over their input on the M4 (out of place: at
    the lowest placement), with the extreme records."""
    model = dw_model(41, **PLANE_CASES[name])
    delta = 0
    if not inplace:
        probe = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=OTHERS)
        delta = min(0, lattice_deltas(probe.plan.allowances[0].min_delta, PLANE_CASES[name]["in_c"])["lowest"])
    tight = tight_compile(model, KernelSet.OPTIMISED, inplace, delta_change=delta, features=DSP, exclude=OTHERS)
    assert PLANE_FUNCTION in kernel_functions(tight.lowered)
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    stride = PLANE_CASES[name].get("stride", (1, 1))[0]
    body = next(part for part in disassembly.split("\n\n")
                if re.search(rf"<channel_plane_s{stride}(\.[a-z]+\.\d+)*>:", part))
    assert "\tsmlad\t" in body and "\tsmlabt\t" in body  # the DSP path, not the portable C
    assert ("\tsmlatb\t" in body) == (stride == 1)


@pytest.mark.long  # ~40 s: every kernel built with ASan + UBSan
@pytest.mark.parametrize("name", ["s1-5x7", "s2-9x9", "relu6-dead-channel"])
def test_plane_depthwise_is_clean_under_sanitizers(tmp_path, name):
    assert_clean_under_sanitizers(tmp_path, dw_model(41, **PLANE_CASES[name]), OTHERS, PLANE_FUNCTION)


def _args(model: bytes) -> tuple:
    graph = parse_tflite(model, name="model")
    call = next(c for c in lower_graph(graph) if isinstance(c, KernelCall))
    return graph, typed_args(call, DepthwiseArgs)


@pytest.mark.parametrize("case, reason", [
    (dict(stride=(3, 3)), "stride other than 1 or 2 both ways"),
    (dict(stride=(1, 2)), "stride other than 1 or 2 both ways"),
    (dict(dilation=(2, 2)), "dilation other than 1"),
    (dict(kernel=(5, 5)), "filter not 3x3"),
    (dict(multiplier=2), "depth multiplier != 1"),
    (dict(in_hw=(15, 4)), "plane of 17x6 beyond its 16x32 buffer"),
    (dict(in_hw=(2, 31)), "plane of 4x34 beyond its 16x32 buffer"),
    (dict(in_hw=(16, 16), stride=(2, 2)), "plane of 17x18 beyond its 16x32 buffer"),
    (dict(in_hw=(4, 32), stride=(2, 2)), "plane of 5x34 beyond its 16x32 buffer"),
])
def test_plane_depthwise_refuses_what_it_cannot_do(case, reason):
    assert plane_why_not(*_args(dw_model(5, **case))) == reason


def test_vww_runs_the_plane_depthwise_on_its_small_images():
    """Every depthwise of VWW from 12x12 down but the one from 24x24 at stride 2 (its plane, 25 rows,
    passes the buffer's 16): nine layers; the arena stays."""
    compiled = compile_bytes(mlperf_model("vww").read_bytes(), board=load_board("mps2-an386"))
    calls = [c for c in compiled.lowered if isinstance(c, KernelCall) and c.op_kind == "DEPTHWISE_CONV_2D"]
    plane = [c.arg("input_dims").h for c in calls if c.function == PLANE_FUNCTION]
    assert plane == [12, 12, 6, 6, 6, 6, 6, 6, 3]
    assert compiled.plan.arena_bytes == 36888
