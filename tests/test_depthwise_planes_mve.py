"""tg_depthwise_conv_s8_planes_mve (runtime_c/kernels/tg_depthwise_conv_s8_planes_mve.c): the Helium
depthwise that runs channel by channel over a padded copy of each channel's plane, four output pixels
per vector.

- its data: int32 weights and biases with the left shift folded in, per-channel words, the plane's
  orientation (the longer output axis along the vector);
- chosen where its cost is the lower (KWS's in-place depthwise, VWW's large maps), never off an
  "mve" board;
- bit-exact with TFLite Micro on a grid of shapes (rows and columns, strides 1 and 2 along the
  vector, tails of 0 to 3 pixels, other filters, dilation, VALID padding, batches) with extreme values
  (weights at +-127 and -128, zero points at +-128, accumulators near the int32 limits, left shifts,
  right shifts 0..31, a dead channel), its output exactly over its input and apart: on the host (the
  plain-C lanes, ASan + UBSan) and in QEMU on mps3-an547 (the assembly, whose VLDRB.S32 and VMLA the
  test finds in the firmware).
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from ops.test_depthwise import dw_model
from test_inplace import check_tight, run_tight_on_board, tight_compile
from test_variants import REALS, extreme_model
from tinygen.boards.catalog import load_board
from tinygen.compiler import compile_bytes
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.kernels.call import KernelCall
from tinygen.kernels.select import lower_graph
from tinygen.kernels.variants import DepthwiseArgs, depthwise_rows, typed_args
from tinygen.kernels.variants_mve import best_plane_axes, planes_channel_words, planes_weights
from tinygen.passes.choose_kernels import KernelSet

from conftest import kernel_functions, mlperf_model

BOARD = "mps3-an547"
MVE = frozenset({"mve"})
PLANES = "tg_depthwise_conv_s8_planes_mve"
OTHER = frozenset({"tg_depthwise_conv_s8_mve"})  # left out, so that the grid runs the planes kernel
# multipliers above 1 (left shifts 1 and 2) beside REALS' right shifts 1..31, 0 (0.7) and the dead channel
LEFT_REALS = [1.5, 3.0, 0.4999, 2**-31, 0.7, 0.0]


def _dw_args(model: bytes) -> tuple[DepthwiseArgs, object]:
    graph = parse_tflite(model, name="model")
    call = next(c for c in lower_graph(graph) if isinstance(c, KernelCall) and "depthwise" in c.function)
    return typed_args(call, DepthwiseArgs), graph


def test_the_left_shift_is_folded_into_weights_and_bias():
    """(x * w + b) << s = x * (w << s) + (b << s) modulo 2^32: the words carry the shifted bias, the
    multiplier and the right shift; the weights are int32, [channel][a][b], shifted per channel."""
    model = extreme_model("dw", 4, 127, -128, reals=LEFT_REALS)
    a, graph = _dw_args(model)
    rows = depthwise_rows(graph, a.filter)
    words, left = planes_channel_words(graph, a.bias, rows, a.params.input_offset, a.requant)
    shifts = np.broadcast_to(a.requant.shift.values, (rows.shape[0],))
    assert list(left) == [max(int(s), 0) for s in shifts] and max(left) == 2
    table = words.values.reshape(-1, 3).astype(np.int64)
    assert list(table[:, 1]) == list(np.broadcast_to(a.requant.multiplier.values, (rows.shape[0],)))
    assert list(table[:, 2]) == [max(-int(s), 0) for s in shifts]
    weights = planes_weights(rows, 3, 3, left, transposed=False).values.reshape(-1, 9).astype(np.int64)
    x = np.arange(-128, 128, 37, dtype=np.int64)
    for ch, s in enumerate(left):
        for tap in range(9):
            wrapped = (x * weights[ch, tap]) % 2**32
            assert list(wrapped) == list(((x * int(rows[ch, tap])) << int(s)) % 2**32)
    transposed = planes_weights(rows, 3, 3, left, transposed=True).values.reshape(-1, 3, 3)
    assert (transposed == weights.reshape(-1, 3, 3).transpose(0, 2, 1)).all()


def test_the_plane_runs_along_the_longer_output_axis():
    rows_model, columns_model = dw_model(1, in_hw=(9, 14), in_c=4), dw_model(1, in_hw=(25, 5), in_c=4)
    along_x, along_y = best_plane_axes(_dw_args(rows_model)[0]), best_plane_axes(_dw_args(columns_model)[0])
    assert not along_x.transposed and (along_x.out_a, along_x.out_b, along_x.row) == (9, 14, 16)
    assert along_y.transposed and (along_y.out_a, along_y.out_b, along_y.row) == (5, 25, 27)
    assert along_y.in_step_b == 5 * 4  # a column's pixels are a row of the input apart
    assert along_y.bytes == 7 * 27 + 3 + 4  # the plane, then what the last vector of four reads past it


def test_chosen_for_kws_in_place_and_vww_large_maps_only_on_mve():
    kws = compile_bytes(mlperf_model("kws").read_bytes(), board=load_board(BOARD))
    assert kernel_functions(kws.lowered).count(PLANES) == 4  # its four depthwise, in place
    assert PLANES not in kernel_functions(compile_bytes(mlperf_model("kws").read_bytes(),
                                                        board=load_board("mps2-an386")).lowered)
    vww = kernel_functions(compile_bytes(mlperf_model("vww").read_bytes(), board=load_board(BOARD)).lowered)
    assert 1 <= vww.count(PLANES) < 13  # the large maps; the 6x6 and 3x3 ones keep four channels per vector


GRID = {
    "extreme_right_shifts": lambda: extreme_model("dw", 4, 127, -128, reals=REALS),
    "extreme_left_shifts": lambda: extreme_model("dw", 5, -128, 127, reals=LEFT_REALS),
    "rows_tail2": lambda: dw_model(31, in_hw=(9, 14), in_c=6, activation="RELU6"),
    "columns_tail1": lambda: dw_model(32, in_hw=(17, 5), in_c=5),
    "stride2_rows": lambda: dw_model(33, in_hw=(12, 23), in_c=3, stride=(2, 2), activation="RELU"),
    "stride2_columns": lambda: dw_model(34, in_hw=(20, 6), in_c=4, stride=(2, 1)),
    "stride_1x2_valid": lambda: dw_model(35, in_hw=(10, 17), in_c=3, stride=(1, 2), padding="VALID"),
    "filter_5x5_dilated": lambda: dw_model(36, in_hw=(11, 12), in_c=3, kernel=(5, 5), dilation=(2, 2)),
    "filter_3x5_per_tensor": lambda: dw_model(37, in_hw=(8, 12), in_c=5, kernel=(3, 5), per_channel=False,
                                              bias=False),
    "batch2_tail3": lambda: dw_model(38, in_hw=(7, 7), in_c=4, batch=2),
}


@pytest.mark.parametrize("inplace", [True, False], ids=["in_place", "apart"])
@pytest.mark.parametrize("name", sorted(GRID))
def test_planes_are_bit_exact_on_the_host(tmp_path, name, inplace):
    """The plain-C lanes (ASan + UBSan), the output exactly over the input or at the tightest distance
    the contract allows apart, random and extreme inputs, every tensor against TFLM."""
    compiled = check_tight(tmp_path, GRID[name](), KernelSet.OPTIMISED, inplace=inplace, expect=PLANES,
                           features=MVE, exclude=OTHER)
    if inplace:
        placed = {p.buffer.key: p.offset for p in compiled.plan.placements}
        a = compiled.plan.allowances[0]
        assert placed[a.input] == placed[a.output]


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["extreme_right_shifts", "extreme_left_shifts", "columns_tail1", "stride2_rows",
                                  "stride2_columns", "filter_5x5_dilated", "batch2_tail3"])
def test_planes_in_place_are_bit_exact_on_the_cortex_m55(tmp_path, monkeypatch, name):
    """In QEMU on mps3-an547, in place (the output exactly over the input: the build takes this plan),
    random and extreme inputs: the assembly's taps and epilogue against TFLM."""
    model_bytes = GRID[name]()
    tight = tight_compile(model_bytes, KernelSet.OPTIMISED, True, features=MVE, exclude=OTHER)
    assert kernel_functions(tight.lowered) == [PLANES]
    elf = run_tight_on_board(tmp_path, monkeypatch, model_bytes, tight, BOARD)
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", "-m", "armv8.1-m.main", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    assert f"<{PLANES}>:" in disassembly
    assert "\tvmla.s32\t" in disassembly and "\tvldrb.s32\t" in disassembly and "\tvstrb.32\t" in disassembly
