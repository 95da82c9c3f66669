"""Kernel variants for cores with the DSP extension (Cortex-M4, M7, M33): in-place kernels with the
wide variants' generation-time data, registered into the registry of tinygen/kernels/variants.py.

The in-place stage (kernels/inplace.py) turns KWS's depthwise and 1x1 convolutions into in-place
kernels to halve its arena; these variants replace them on a DSP core and keep their contract
(kernels/overlap.py), so the arena stays the in-place plan's:

- `tg_conv_s8_wide` replaces `tg_conv_1x1_s8_inplace`: its im2col column of a 1x1 convolution is the
  pixel itself, widened to int16 in scratch before any output of that pixel is written (the same
  bytes of scratch, 2 x channels, as the in-place kernel's copy of two pixels);
- `tg_depthwise_conv_s8_inplace_dsp` (runtime_c/include/tinygen/tg_dsp.h) replaces
  `tg_depthwise_conv_s8_inplace`: four channels at a time over the whole image, their outputs held
  back in a ring of lag + 1 pixels (4 x (padding.h x in_w + padding.w + 1) bytes of scratch);
- `tg_depthwise_conv_s8_inplace_dsp_rows` replaces it too, faster where its scratch fits the arena:
  the same four channels row by row, their input rows copied into a ring of f_h padded rows (4 x f_h
  x (in_w + f_w - 1) bytes) before the output row over them is written; every window is whole.

Each in-place kernel is also registered as its own variant with its cost, so the registry says
what the DSP variant saves (inspect, the greedy choice in compiler._choose_variants).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable, ClassVar

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelArg, KernelCall
import numpy as np

from tinygen.ir.quant import multiply_by_quantized_multiplier
from tinygen.kernels.cvalues import HW, ConstArray, CStruct, NullPtr, Range, Requant, ScratchRef
from tinygen.kernels.variants import (
    WIDE_ROWS, AddArgs, ConvArgs, DepthwiseArgs, FcWideParams, FullyConnectedArgs, Variant, _conv_wide_why_not,
    _fc_wide_why_not, _make_conv_wide, _output_elements, _WIDE_PER_OUTPUT, _quantize_multiplier_range, _wide_dot_cost,
    _FAST_PER_OUTPUT, depthwise_rows, depthwise_variant_args, depthwise_wide_weights, doubled_multipliers,
    filter_rows,
    normalized_channels, not_normalized, WIDE_ALWAYS_EXACT_SHIFT, round_up, uniform_channels, wide_channels,
    wide_requant_why_not, wide_weights,
)


@dataclass(frozen=True)
class InplaceConvArgs(ConvArgs):
    pixels_copy: ScratchRef


@dataclass(frozen=True)
class InplaceDepthwiseArgs(DepthwiseArgs):
    plane: ScratchRef


@dataclass(frozen=True)
class DepthwiseInplaceDspParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_depthwise_inplace_dsp_params_t"
    input_offset: int
    output_offset: int
    padding: HW
    activation: Range
    lag: int


# --- tg_conv_1x1_s8_inplace -> tg_conv_s8_wide ----------------------------------------------------

def _pointwise_macs(a: ConvArgs) -> int:
    o = a.output_dims
    return o.n * o.h * o.w * o.c * a.filter_dims.c


def _inplace_conv_cost(a: InplaceConvArgs) -> int:
    """The in-place kernel: the _fast twin called per pair of pixels (~2 per MAC), plus the copy."""
    return 2 * _pointwise_macs(a) + _FAST_PER_OUTPUT * _output_elements(a.output_dims) \
        + 3 * _output_elements(a.input_dims)


def _inplace_conv_wide_cost(a: InplaceConvArgs) -> int:
    o = a.output_dims
    return _wide_dot_cost(o.n * o.h * o.w, a.filter_dims.c, o.c)


def _conv_args(a: InplaceConvArgs) -> ConvArgs:
    """The in-place call's arguments without its scratch: the out-of-place conv's."""
    return ConvArgs(*(getattr(a, f.name) for f in dataclasses.fields(ConvArgs)))


def _make_inplace_conv_wide(graph: Graph, call: KernelCall, a: InplaceConvArgs) -> KernelCall:
    return _make_conv_wide(graph, call, _conv_args(a))


# --- tg_conv_s8 -> tg_conv_s8_wide_pair: two output pixels per block ---------------------------------

# The pair's inner loop: 25 instructions per 32 MACs (6 LDRD, 16 SMLAD, the end compared from memory),
# ~20 per block of four channels and pixel, the epilogue as the one-pixel kernel's; im2col ~4.6 per
# value four at a time (an even input depth, or an odd one with dilation.w 1: its window rows padded to
# an even count, pair_window_rows), ~16 value by value (an odd depth with dilation.w > 1). Fitted to
# IC's 32x32x16 convolutions (2.89 M per layer) and KWS's 10x4 stem (0.51 M), single-layer counts; the
# padded rows measured ~4 per value on VWW's 3x3x3 stem (0.28 M for 2,304 pixels).
_PAIR_LOOP, _PAIR_MACS, _PAIR_PER_BLOCK = 25, 32, 20
_PAIR_PER_ELEMENT_EVEN, _PAIR_PER_ELEMENT_ODD = 4.6, 16


def _conv_wide_pair_why_not(graph: Graph, a: ConvArgs) -> str | None:
    if _pointwise_dsp_why_not(graph, a) is None:
        # the scratch-free FC takes these: laid over their input, --keep-plan still splits it by pixels
        return "1x1 stride 1: the scratch-free FC's"
    return _conv_wide_why_not(graph, a) or not_normalized(a.requant, a.output_dims.c)


def _conv_wide_pair_cost(a: ConvArgs, loop: int = _PAIR_LOOP, per_block: int = _PAIR_PER_BLOCK) -> int:
    o, f = a.output_dims, a.filter_dims
    depth_padded, rows = round_up(f.h * pair_row_values(a), 4), round_up(o.c, WIDE_ROWS)
    value_by_value = f.c % 2 and a.params.dilation.w != 1
    per_element = _PAIR_PER_ELEMENT_ODD if value_by_value else _PAIR_PER_ELEMENT_EVEN
    per_column = (int(per_element * depth_padded) + rows * depth_padded * loop // _PAIR_MACS
                  + rows // WIDE_ROWS * per_block + o.c * _WIDE_PER_OUTPUT)
    return o.n * o.h * o.w * per_column


PAIR_STACK_COLUMN = 256  # TG_CONV_S8_WIDE_PAIR_STACK_COLUMN: two columns up to this go on the kernel's stack
PAIR_STACK_COLUMN_1K = 1024  # TG_CONV_S8_WIDE_PAIR_STACK_COLUMN_1K: up to this, on the _stack1k entry's stack


def _stack1k_variant(pair: Variant, weights: Callable[[np.ndarray], ConstArray]) -> Variant:
    """`pair` as its _stack1k entry: columns of 257 B to 1 KiB on the kernel's stack, no arena bytes.
    Estimated one instruction dearer, so that the arena's columns are offered first and this only where
    they would raise the arena (IC's 3x3 layers over 16 channels)."""
    def why_not(graph: Graph, a: ConvArgs) -> str | None:
        if not PAIR_STACK_COLUMN < _pair_columns(a) <= PAIR_STACK_COLUMN_1K:
            return f"columns not within ({PAIR_STACK_COLUMN}, {PAIR_STACK_COLUMN_1K}] B"
        return pair.why_not(graph, a)

    function = f"{pair.function}_stack1k"

    def make(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
        return _pair_call(graph, call, a, weights, function)

    return dataclasses.replace(pair, function=function, why_not=why_not, cost=lambda a: pair.cost(a) + 1, make=make)


PAIR_ROWS_COLUMN = 512     # TG_CONV_S8_WIDE_PAIR_ROWS_COLUMN: a window row's two columns, on the _rows entry's stack
PAIR_ROWS_CHANNELS = 64    # TG_CONV_S8_WIDE_PAIR_ROWS_CHANNELS: the sums it keeps between rows
_PAIR_ROWS_PER_BLOCK_ROW = 24  # per pixel pair, block and window row but the last: the sums stored and reloaded


def _rows_variant(pair: Variant, weights: Callable[[np.ndarray], ConstArray]) -> Variant:
    """`pair` as its _rows entry: a window row at a time (tg_conv_wide_pair_rows_run), its row's columns
    and the blocks' sums on its stack, where whole columns would pass the _stack1k entry's 1 KiB (IC's
    3x3 layers over 32 channels, 1,152 B, which the arena refuses). Estimated dearer than both other
    entries (the sums between rows), so it is taken only where they are refused."""
    def why_not(graph: Graph, a: ConvArgs) -> str | None:
        f, c = a.filter_dims, a.input_dims.c
        if _pair_columns(a) <= PAIR_STACK_COLUMN_1K:
            return f"columns within {PAIR_STACK_COLUMN_1K} B: the whole-window entries'"
        if f.h < 2:
            return "a window of one row"
        if (f.w * c) % 4:
            return "window rows not whole blocks of four k"
        if 4 * f.w * c > PAIR_ROWS_COLUMN:
            return f"a window row's columns over {PAIR_ROWS_COLUMN} B"
        if a.output_dims.c > PAIR_ROWS_CHANNELS:
            return f"more than {PAIR_ROWS_CHANNELS} output channels"
        return pair.why_not(graph, a)

    function = f"{pair.function}_rows"

    def cost(a: ConvArgs) -> int:
        o = a.output_dims
        pairs = o.n * (o.h * o.w + 1) // 2
        return pair.cost(a) + 2 + pairs * (a.filter_dims.h - 1) * (round_up(o.c, WIDE_ROWS) // WIDE_ROWS) * \
            _PAIR_ROWS_PER_BLOCK_ROW

    def make(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
        made = _pair_call(graph, call, a, weights, function)
        args = tuple(KernelArg("scratch", NullPtr()) if arg.name == "scratch" else arg for arg in made.args)
        return dataclasses.replace(made, args=args, scratch_bytes=0)

    return dataclasses.replace(pair, function=function, why_not=why_not, cost=cost, make=make)


def _make_conv_wide_pair(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
    """The wide conv's data; its two columns (TG_CONV_S8_WIDE_PAIR_BUFFER_SIZE) on the kernel's stack up
    to PAIR_STACK_COLUMN bytes (no arena bytes: KWS's stem, whose output lies over its input in an arena
    with no bytes to spare), else in the arena."""
    return _pair_call(graph, call, a, wide_weights, "tg_conv_s8_wide_pair")


def pair_row_values(a: ConvArgs) -> int:
    """The pair kernels' column values per window row (tg_pair_row_values): f_w * c, rounded up to an
    even count where the input depth is odd and dilation.w 1, so that every row starts on a lane word
    and is widened four bytes at a time."""
    taps_c = a.filter_dims.w * a.input_dims.c
    return round_up(taps_c, 2) if a.input_dims.c % 2 and a.params.dilation.w == 1 else taps_c


def pair_window_rows(rows: np.ndarray, a: ConvArgs) -> np.ndarray:
    """[out][f_h * f_w * c] weights as the pair kernels' column takes them: each window row's weights
    padded with zeros to pair_row_values."""
    f, taps_c = a.filter_dims, a.filter_dims.w * a.input_dims.c
    pad = pair_row_values(a) - taps_c
    if pad == 0:
        return rows
    by_row = rows.reshape(rows.shape[0], f.h, taps_c)
    return np.concatenate([by_row, np.zeros((rows.shape[0], f.h, pad), dtype=rows.dtype)], axis=2).reshape(
        rows.shape[0], -1)


def _pair_columns(a: ConvArgs) -> int:
    """The pair's two columns, bytes (TG_CONV_S8_WIDE_PAIR_BUFFER_SIZE of pair_window_rows' depth)."""
    return 4 * round_up(a.filter_dims.h * pair_row_values(a), 4)


def _pair_call(graph: Graph, call: KernelCall, a: ConvArgs, weights: Callable[[np.ndarray], ConstArray],
               function: str) -> KernelCall:
    """The wide conv's call as the pair `function` takes it: its weights laid out by `weights` and its
    channels normalized (normalized_channels), the columns on the kernel's stack (up to
    PAIR_STACK_COLUMN, or PAIR_STACK_COLUMN_1K for a _stack1k function) or in the arena."""
    wide = _make_conv_wide(graph, call, a)
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    rows, channels = normalized_channels(rows, wide.arg("channels"))
    rows = pair_window_rows(rows, a)
    depth_padded = round_up(rows.shape[1], 4)
    columns = _pair_columns(a)
    on_stack = columns <= (PAIR_STACK_COLUMN_1K if function.endswith("_stack1k") else PAIR_STACK_COLUMN)
    replaced = {"filter": weights(rows), "channels": channels, **({"scratch": NullPtr()} if on_stack else {}),
                "params": dataclasses.replace(wide.arg("params"), depth_padded=depth_padded)}
    args = tuple(KernelArg(arg.name, replaced[arg.name]) if arg.name in replaced else arg for arg in wide.args)
    return dataclasses.replace(wide, function=function, args=args, scratch_bytes=0 if on_stack else columns)


# --- tg_conv_s8 -> tg_conv_s8_wide_pair_packed: the same with int8 weights, row pairs packed ---------
# 27 instructions per 32 MACs (4 LDRD, 4 SXTB16, 16 SMLAD, the end) and 32 estimated cycles (the int16
# pair's: 25 and 34); ~8 more per block of four channels and pixel to get rows 1 and 3 back.
_PAIR_PACKED_LOOP, _PAIR_PACKED_PER_BLOCK = 27, 28


def _conv_wide_pair_packed_why_not(graph: Graph, a: ConvArgs) -> str | None:
    if (reason := _conv_wide_pair_why_not(graph, a)) is not None:
        return reason
    rows = filter_rows(graph, a.filter)
    assert rows is not None  # _conv_wide_why_not checked it
    return packed_why_not(rows)


def _conv_wide_pair_packed_cost(a: ConvArgs) -> int:
    return _conv_wide_pair_cost(a, _PAIR_PACKED_LOOP, _PAIR_PACKED_PER_BLOCK)


def _make_conv_wide_pair_packed(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
    return _pair_call(graph, call, a, pair_packed_weights, "tg_conv_s8_wide_pair_packed")


# --- tg_conv_s8 -> tg_conv_s8_dsp: no scratch, the input read in place --------------------------------

# 17 instructions per 16 MACs of the padded block, ~12 per run of taps (a filter row inside the
# input) and block of four channels, ~20 per block and the epilogue's ~14 per output. It overstates
# IC's 32x32 and 16x16 layers by 11 and 24 %; a refit to those two (12, 20, 110, 10) chose this kernel
# for IC's 8x8 layers and VWW's late 1x1 ones, and those builds were slower (IC +0.7 %, VWW +7.3 %
# estimated cycles, VWW -0.8 % instructions): kept.
_CONV_DSP_PER_16_MACS, _CONV_DSP_PER_RUN, _CONV_DSP_PER_BLOCK, _CONV_DSP_PER_OUTPUT = 17, 12, 20, 14


def _conv_dsp_why_not(graph: Graph, a: ConvArgs) -> str | None:
    if a.input_dims.c % 4:
        return "input depth not a multiple of 4 (runs of taps must be whole words)"
    return _conv_wide_why_not(graph, a)


def _conv_dsp_cost(a: ConvArgs) -> int:
    o, f = a.output_dims, a.filter_dims
    depth, blocks = f.h * f.w * f.c, round_up(o.c, WIDE_ROWS) // WIDE_ROWS
    runs = f.h if a.params.dilation.w == 1 else f.h * f.w
    per_pixel = (blocks * (WIDE_ROWS * depth * _CONV_DSP_PER_16_MACS // 16 + runs * _CONV_DSP_PER_RUN
                           + _CONV_DSP_PER_BLOCK) + o.c * _CONV_DSP_PER_OUTPUT)
    return o.n * o.h * o.w * per_pixel


def _make_conv_dsp(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    wide = _make_conv_wide(graph, call, a)
    args = tuple(KernelArg("filter", dsp_weights(rows)) if arg.name == "filter" else arg
                 for arg in wide.args if arg.name != "scratch")
    return dataclasses.replace(wide, function="tg_conv_s8_dsp", args=args, scratch_bytes=0)


# --- tg_add_s8 -> tg_add_s8_table: each input's rescale looked up -------------------------------------

@dataclass(frozen=True)
class AddTableParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_add_table_params_t"
    output_offset: int
    output: Requant
    activation: Range


def _add_table_why_not(graph: Graph, a: AddArgs) -> str | None:
    """The tables hold TFLM's rescaled inputs exactly where (x + offset) << left_shift stays an int32
    and the input rescales shift right only (their left shift would saturate in the Python model
    and wrap in C)."""
    p = a.params
    if not 0 <= p.left_shift <= 22:
        return f"left shift {p.left_shift} outside [0, 22]"
    if p.input1.shift > 0 or p.input2.shift > 0:
        return "an input rescale shifts left"
    return None


def _rescaled(offset: int, left_shift: int, requant: Requant) -> np.ndarray:
    """Every int8 x's ((x + offset) << left_shift) rescaled as TFLM's AddFunc does, x = -128 first."""
    return np.array([multiply_by_quantized_multiplier((x + offset) << left_shift, requant) for x in range(-128, 128)],
                    dtype=np.int64)


def _make_add_table(graph: Graph, call: KernelCall, a: AddArgs) -> KernelCall:
    p = a.params
    tables = np.concatenate([_rescaled(p.input1_offset, p.left_shift, p.input1),
                             _rescaled(p.input2_offset, p.left_shift, p.input2)])
    args = (
        KernelArg("params", AddTableParams(output_offset=p.output_offset, output=p.output, activation=p.activation)),
        KernelArg("size", a.size),
        KernelArg("tables", ConstArray("int32_t", tables.astype(np.int32))),
        KernelArg("input1", a.input1),
        KernelArg("input2", a.input2),
        KernelArg("output", a.output),
    )
    return dataclasses.replace(call, function="tg_add_s8_table", args=args)


@dataclass(frozen=True)
class AddTableWideParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_add_table_wide_params_t"
    output_offset: int
    doubled: int      # the output multiplier doubled, modulo 2^32 (as tg_wide_high_mul takes it)
    right_shift: int
    rounding: int
    activation: Range


def _add_table_wide_why_not(graph: Graph, a: AddArgs) -> str | None:
    """tg_wide_requantize is the output rescale for a right shift in [1, 23] (tg_wide_dot.h); the
    kernel's SMMLAR takes the multiplier normalized (QuantizeMultiplier's: in [2^30, 2^31))."""
    if (reason := _add_table_why_not(graph, a)) is not None:
        return reason
    r = a.params.output
    if not 1 << 30 <= r.multiplier < 1 << 31:
        return "output multiplier not normalized to [2^30, 2^31)"
    if not -WIDE_ALWAYS_EXACT_SHIFT <= r.shift <= -1:
        return f"output shift {r.shift} not a right shift in [1, {WIDE_ALWAYS_EXACT_SHIFT}]"
    return None


def _make_add_table_wide(graph: Graph, call: KernelCall, a: AddArgs) -> KernelCall:
    made = _make_add_table(graph, call, a)
    p, right = a.params, -a.params.output.shift
    doubled = int(doubled_multipliers([p.output.multiplier])[0])
    params = AddTableWideParams(output_offset=p.output_offset, doubled=doubled, right_shift=right,
                                rounding=1 << (right - 1), activation=p.activation)
    args = tuple(KernelArg("params", params) if arg.name == "params" else arg for arg in made.args)
    return dataclasses.replace(made, function="tg_add_s8_table_wide", args=args)


# --- tg_depthwise_conv_s8_inplace -> tg_depthwise_conv_s8_inplace_dsp ------------------------------

def depthwise_lag(a: DepthwiseArgs) -> int:
    """The output pixels tg_depthwise_conv_s8_inplace_dsp holds back: padding.h * in_w + padding.w."""
    return a.params.padding.h * a.input_dims.w + a.params.padding.w


def _inplace_depthwise_dsp_rows_why_not(graph: Graph, a: InplaceDepthwiseArgs) -> str | None:
    return _inplace_depthwise_dsp_why_not(graph, a) or not_normalized(a.requant, a.output_dims.c)


def _inplace_depthwise_dsp_why_not(graph: Graph, a: InplaceDepthwiseArgs) -> str | None:
    p, i, o, f = a.params, a.input_dims, a.output_dims, a.filter_dims
    if p.depth_multiplier != 1:
        return "depth multiplier != 1"
    if (p.stride.h, p.stride.w, p.dilation.h, p.dilation.w) != (1, 1, 1, 1):
        return "stride or dilation other than 1"
    if (o.n, o.h, o.w, o.c) != (i.n, i.h, i.w, i.c):
        return "output dims differ from the input's"
    if i.c % 4:
        return "channels not a multiple of 4"
    if not (0 <= p.padding.h < f.h and 0 <= p.padding.w < f.w):
        return "padding as wide as the filter"
    if not _quantize_multiplier_range(a.requant):
        return "multiplier outside QuantizeMultiplier's range"
    rows = depthwise_rows(graph, a.filter)
    if rows is None:
        return "filter not constant int8"
    return wide_requant_why_not(graph, a.bias, rows, p.input_offset, a.requant)


def _depthwise_taps(a: DepthwiseArgs) -> int:
    return a.filter_dims.h * a.filter_dims.w


# Estimated instructions (Cortex-M4, GCC 12 -O2): the in-place kernel copies each channel's plane
# (strided byte loads, ~6 per pixel and channel) and computes one channel at a time (~3 per tap,
# ~40 per output with tg_requantize); the DSP variant ~2 per tap per channel (8 per 4 channels) and
# ~20 per output (epilogue and the ring's store).
def _inplace_depthwise_cost(a: InplaceDepthwiseArgs) -> int:
    outputs = _output_elements(a.output_dims)
    return outputs * (3 * _depthwise_taps(a) + 40) + 6 * _output_elements(a.input_dims)


def _inplace_depthwise_dsp_cost(a: InplaceDepthwiseArgs) -> int:
    return _output_elements(a.output_dims) * (2 * _depthwise_taps(a) + 20)


def _make_inplace_depthwise_dsp(graph: Graph, call: KernelCall, a: InplaceDepthwiseArgs) -> KernelCall:
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    p = a.params
    lag = depthwise_lag(a)
    params = DepthwiseInplaceDspParams(input_offset=p.input_offset, output_offset=p.output_offset,
                                       padding=p.padding, activation=p.activation, lag=lag)
    # normalized (normalized_channels): the rows kernel's 3x3 loop has no mask in its epilogue
    rows, channels = normalized_channels(rows, wide_channels(graph, a.bias, rows, p.input_offset, a.requant))
    args = depthwise_variant_args(a, params, channels, depthwise_wide_weights(rows))
    args += (KernelArg("ring", ScratchRef()),)
    return dataclasses.replace(call, function="tg_depthwise_conv_s8_inplace_dsp", args=args,
                               scratch_bytes=4 * (lag + 1))  # TG_DEPTHWISE_CONV_S8_INPLACE_DSP_BUFFER_SIZE


def depthwise_ring_rows_bytes(a: DepthwiseArgs) -> int:
    """tg_depthwise_conv_s8_inplace_dsp_rows's scratch (TG_DEPTHWISE_CONV_S8_INPLACE_DSP_ROWS_BUFFER_SIZE):
    f_h padded rows of in_w + f_w - 1 words, four channels each."""
    return 4 * a.filter_dims.h * (a.input_dims.w + a.filter_dims.w - 1)


# Measured on KWS (mps2-an386, 4 layers of 25x5x64): ~150 instructions per pixel of four channels
# against ~200 for tg_depthwise_conv_s8_inplace_dsp: three quarters of its cost.
def _inplace_depthwise_dsp_rows_cost(a: InplaceDepthwiseArgs) -> int:
    return _inplace_depthwise_dsp_cost(a) * 3 // 4


def _make_inplace_depthwise_dsp_rows(graph: Graph, call: KernelCall, a: InplaceDepthwiseArgs) -> KernelCall:
    made = _make_inplace_depthwise_dsp(graph, call, a)
    return dataclasses.replace(made, function="tg_depthwise_conv_s8_inplace_dsp_rows",
                               scratch_bytes=depthwise_ring_rows_bytes(a))


# --- tg_fully_connected_s8_dsp: FULLY_CONNECTED, and CONV_2D 1x1 as an FC over its pixels -------------

def dsp_weights(rows: np.ndarray) -> ConstArray:
    """[out][depth] int8 weights as tg_fully_connected_s8_dsp reads them: depth padded to a multiple
    of 4, rows to a multiple of WIDE_ROWS (zeros); per block of rows, per four k, for each row the
    int16 pairs (w0, w2) and (w1, w3) (SXTB16's order of the input bytes), w0 and w1 in the low halves."""
    out, depth = rows.shape
    padded = np.zeros((round_up(out, WIDE_ROWS), round_up(depth, 4)), dtype=np.int64)
    padded[:out, :depth] = rows
    # [block][row][kb][k] -> [block][kb][row][k], then k (0, 2) and (1, 3) as the two words
    quads = padded.reshape(-1, WIDE_ROWS, padded.shape[1] // 4, 4).transpose(0, 2, 1, 3)
    lo, hi = quads[..., [0, 1]], quads[..., [2, 3]]
    words = (lo & 0xFFFF) | ((hi & 0xFFFF) << 16)
    return ConstArray("int32_t", words.reshape(-1).astype(np.uint32).view(np.int32))


def narrow_weights(rows: np.ndarray) -> ConstArray:
    """[out][depth] int8 weights as tg_fully_connected_s8_dsp_narrow reads them: padded as dsp_weights;
    per block of rows, per four k, one word per row holding its four weights in order (w0 lowest)."""
    out, depth = rows.shape
    padded = np.zeros((round_up(out, WIDE_ROWS), round_up(depth, 4)), dtype=np.int8)
    padded[:out, :depth] = rows
    quads = padded.reshape(-1, WIDE_ROWS, padded.shape[1] // 4, 4).transpose(0, 2, 1, 3)
    return ConstArray("int32_t", np.ascontiguousarray(quads).reshape(-1).view("<i4").astype(np.int32))


PACKED_DOT_LIMIT = (1 << 23) - 1  # the odd row's sum comes back from a 32-bit difference shifted down by 8


def packed_why_not(rows: np.ndarray) -> str | None:
    """Why tg_fully_connected_s8_dsp_packed cannot take these [out][depth] weights: each pair of rows
    (0, 1), (2, 3), ... of a block is packed as v = 256 * odd + even per k, which must fit int16 (an
    odd-row -128 beside a negative even-row weight does not), and the odd row's sum over any int8
    input must fit 24 bits."""
    padded = np.zeros((round_up(rows.shape[0], 2), rows.shape[1]), dtype=np.int64)
    padded[:rows.shape[0]] = rows
    even, odd = padded[0::2], padded[1::2]
    packed = 256 * odd + even
    if packed.min() < -(1 << 15) or packed.max() >= 1 << 15:
        return "a weight of -128 beside a negative one in the row before it (the packed pair leaves int16)"
    if 128 * np.abs(odd).sum(axis=1).max(initial=0) > PACKED_DOT_LIMIT:
        return "an odd row's sum could leave 24 bits (the packed pair's difference loses it)"
    return None


def _packed_values(rows: np.ndarray) -> np.ndarray:
    """[out][depth] int8 weights padded as dsp_weights, as v = 256 * odd_row[k] + even_row[k] per row
    pair (int16 where packed_why_not passes): [block of rows][four k][pair (0, 1), (2, 3)][k]."""
    out, depth = rows.shape
    padded = np.zeros((round_up(out, WIDE_ROWS), round_up(depth, 4)), dtype=np.int64)
    padded[:out, :depth] = rows
    quads = padded.reshape(-1, WIDE_ROWS, padded.shape[1] // 4, 4).transpose(0, 2, 1, 3)  # [block][kb][row][k]
    return 256 * quads[:, :, 1::2, :] + quads[:, :, 0::2, :]


def _halves(lo: np.ndarray, hi: np.ndarray) -> ConstArray:
    words = (lo & 0xFFFF) | ((hi & 0xFFFF) << 16)
    return ConstArray("int32_t", words.reshape(-1).astype(np.uint32).view(np.int32))


def packed_weights(rows: np.ndarray) -> ConstArray:
    """[out][depth] int8 weights as tg_fully_connected_s8_dsp_packed reads them: per block of rows, per
    four k, for the row pairs (0, 1) and (2, 3) the words (v0, v2) and (v1, v3) (_packed_values), v0 and
    v1 in the low halves (the input's SXTB16 pairs)."""
    pairs = _packed_values(rows)
    return _halves(pairs[..., [0, 1]], pairs[..., [2, 3]])


def pair_packed_weights(rows: np.ndarray) -> ConstArray:
    """[out][depth] int8 weights as tg_conv_s8_wide_pair_packed reads them: per block of rows, per two
    k, the words (v_k0, v_k1) of pairs (0, 1) and (2, 3) (the int16 column's pairs)."""
    pairs = _packed_values(rows)  # [block][kb][pair][k]
    return _halves(pairs[..., [0, 2]].transpose(0, 1, 3, 2), pairs[..., [1, 3]].transpose(0, 1, 3, 2))


def packed8_why_not(rows: np.ndarray) -> str | None:
    """Why tg_fully_connected_s8_dsp_packed8 cannot take these [out][depth] weights: the packed layout's
    reasons, and blocks of eight rows over runs of eight k only."""
    out, depth = rows.shape
    if out % 8 or depth % 8:
        return "output or accumulation depth not a multiple of 8"
    return packed_why_not(rows)


def packed8_weights(rows: np.ndarray) -> ConstArray:
    """[out][depth] int8 weights as tg_fully_connected_s8_dsp_packed8 reads them: packed_weights' words
    with its blocks of four rows taken two at a time, per four k the first block's four words, then the
    second's (pairs (0, 1), (2, 3), (4, 5), (6, 7))."""
    out, depth = rows.shape
    words = packed_weights(rows).values.reshape(out // 8, 2, depth // 4, WIDE_ROWS)  # [block8][half][kb][word]
    return ConstArray("int32_t", np.ascontiguousarray(words.transpose(0, 2, 1, 3)).reshape(-1))


def _dsp_dot_cost(rows_of: int, depth: int, channels: int, per_16_macs: float = 14) -> int:
    """rows_of input rows of depth against channels rows: 14 instructions per 16 MACs of the padded
    block (two blocks of four k per iteration, each one load and two SXTB16 of the input shared by
    the block's four rows, two LDM of its weights, eight SMLAD; 21 where the int8 weights are split
    too), ~20 per block of four channels, ~14 per output (the wide epilogue); no widening of the
    input."""
    depth_padded, rows = round_up(depth, 4), round_up(channels, WIDE_ROWS)
    return rows_of * (int(rows * depth_padded * per_16_macs) // 16 + rows // WIDE_ROWS * 20 + channels * 14)


@dataclass(frozen=True)
class FcDspLayout:
    """One weight layout of the scratch-free DSP FC (runtime_c/kernels/tg_fc_dsp.h): its C function,
    the generation-time weights, its estimated instructions per 16 MACs, and what else it needs of them."""
    function: str
    weights: Callable[[np.ndarray], ConstArray]
    per_16_macs: float
    weights_why_not: Callable[[np.ndarray], str | None] = lambda rows: None
    supersedes: frozenset[str] = frozenset()  # with the int16-weight kernel of each operator below


WIDE16 = FcDspLayout("tg_fully_connected_s8_dsp", dsp_weights, 14)
NARROW = FcDspLayout("tg_fully_connected_s8_dsp_narrow", narrow_weights, 21)
# Packed supersedes the int16 layouts where its weights allow: fewer estimated cycles (21 per 16 MACs
# against 22, and the wide FC's ~26) with the flash of the int8 weights (AD 568 -> 304 KB), for 18 %
# more instructions in the loop (16.5 per 16 MACs against 14); the others stay where it is refused.
PACKED = FcDspLayout("tg_fully_connected_s8_dsp_packed", packed_weights, 16.5, packed_why_not,
                     frozenset({WIDE16.function, NARROW.function}))
# Eight rows per input word where both depths allow: 31 instructions and 40 estimated cycles per 32 MACs
# against 32.5 and 42 (+ the loop's), the same weights' bytes.
PACKED8 = FcDspLayout("tg_fully_connected_s8_dsp_packed8", packed8_weights, 15.7, packed8_why_not,
                      frozenset({WIDE16.function, NARROW.function, PACKED.function}))


def _make_fc_dsp_call(graph: Graph, call: KernelCall, a: ConvArgs | FullyConnectedArgs, batches: int, depth: int,
                      units: int, layout: FcDspLayout) -> KernelCall:
    rows = filter_rows(graph, a.filter)
    assert rows is not None and rows.shape == (units, depth)
    p = a.params
    channels = wide_channels(graph, a.bias, rows, p.input_offset, a.requant)
    params = FcWideParams(output_offset=p.output_offset, activation=p.activation, depth_padded=round_up(depth, 4),
                          uniform=uniform_channels(channels))
    args = (
        KernelArg("params", params),
        KernelArg("channels", channels),
        KernelArg("batches", batches),
        KernelArg("accum_depth", depth),
        KernelArg("output_depth", units),
        KernelArg("input", a.input),
        KernelArg("filter", layout.weights(rows)),
        KernelArg("output", a.output),
    )
    return dataclasses.replace(call, function=layout.function, args=args, scratch_bytes=0)


def _pointwise_dsp_why_not(graph: Graph, a: ConvArgs) -> str | None:
    p, f = a.params, a.filter_dims
    if (f.h, f.w) != (1, 1) or (p.stride.h, p.stride.w) != (1, 1) or (p.padding.h, p.padding.w) != (0, 0):
        return "not a 1x1 convolution with stride 1 and no padding"
    if (a.input_dims.h, a.input_dims.w) != (a.output_dims.h, a.output_dims.w):
        return "output pixels differ from the input's"
    return _conv_wide_why_not(graph, a)


def _fc_dsp_variants(layout: FcDspLayout) -> tuple[Variant, Variant]:
    """The layout's variants of FULLY_CONNECTED and of CONV_2D 1x1 (an FC over its pixels). WIDE16's cost
    is below the wide FC's (29 instructions per 32 MACs and the row widened into scratch), so it is
    chosen wherever both apply; a layout that supersedes others also displaces the wide FC / conv."""
    def weights_why_not(graph: Graph, a: ConvArgs | FullyConnectedArgs) -> str | None:
        rows = filter_rows(graph, a.filter)
        return None if rows is None else layout.weights_why_not(rows)

    def fc_why_not(graph: Graph, a: FullyConnectedArgs) -> str | None:
        return _fc_wide_why_not(graph, a) or weights_why_not(graph, a)

    def pointwise_why_not(graph: Graph, a: ConvArgs) -> str | None:
        return _pointwise_dsp_why_not(graph, a) or weights_why_not(graph, a)

    def fc_cost(a: FullyConnectedArgs) -> int:
        return _dsp_dot_cost(a.batches, a.accum_depth, a.output_depth, layout.per_16_macs)

    def pointwise_cost(a: ConvArgs) -> int:
        o = a.output_dims
        return _dsp_dot_cost(o.n * o.h * o.w, a.filter_dims.c, o.c, layout.per_16_macs)

    def make_fc(graph: Graph, call: KernelCall, a: FullyConnectedArgs) -> KernelCall:
        return _make_fc_dsp_call(graph, call, a, a.batches, a.accum_depth, a.output_depth, layout)

    def make_pointwise(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
        o = a.output_dims
        return _make_fc_dsp_call(graph, call, a, o.n * o.h * o.w, a.filter_dims.c, o.c, layout)

    def supersedes(wide: str) -> frozenset[str]:
        return layout.supersedes | {wide} if layout.supersedes else frozenset()

    return (Variant(layout.function, "tg_fully_connected_s8", FullyConnectedArgs, frozenset({"dsp"}), fc_why_not,
                    fc_cost, make_fc, supersedes("tg_fully_connected_s8_wide")),
            Variant(layout.function, "tg_conv_s8", ConvArgs, frozenset({"dsp"}), pointwise_why_not, pointwise_cost,
                    make_pointwise, supersedes("tg_conv_s8_wide")))


_ALWAYS = lambda graph, a: None  # noqa: E731  (the in-place kernels take every call the in-place stage gave them)


# --- tg_conv_1x1_s8_inplace -> tg_fully_connected_s8_dsp_packed_inplace: the packed FC over the pixels,
# each pixel's input copied to scratch before its outputs are written (KWS's in-place 1x1 convolutions:
# 2.09 estimated cycles and 1.54 instructions per MAC, the wide conv's 2.33 and 1.43) ------------------

def _inplace_packed_variant(layout: FcDspLayout, supersedes: frozenset[str]) -> Variant:
    """The in-place 1x1 convolution as `layout`'s FC over the pixels, each pixel's row copied first
    (C function: the layout's, with _inplace)."""
    function = f"{layout.function}_inplace"

    def why_not(graph: Graph, a: InplaceConvArgs) -> str | None:
        why = _pointwise_dsp_why_not(graph, _conv_args(a))
        if why is not None:
            return why
        rows = filter_rows(graph, a.filter)
        return "filter not constant int8" if rows is None else layout.weights_why_not(rows)

    def cost(a: InplaceConvArgs) -> int:
        o = a.output_dims
        pixels = o.n * o.h * o.w
        # the FC one row per call (~30 per call), and the row's copy (~2 per word)
        return _dsp_dot_cost(pixels, a.filter_dims.c, o.c, layout.per_16_macs) + pixels * (30 + a.filter_dims.c // 2)

    def make(graph: Graph, call: KernelCall, a: InplaceConvArgs) -> KernelCall:
        o, depth = a.output_dims, a.filter_dims.c
        made = _make_fc_dsp_call(graph, call, _conv_args(a), o.n * o.h * o.w, depth, o.c, layout)
        return dataclasses.replace(made, function=function, args=made.args + (KernelArg("row_copy", ScratchRef()),),
                                   scratch_bytes=round_up(depth, 4))  # TG_FULLY_CONNECTED_S8_DSP_PACKED_INPLACE_BUFFER_SIZE

    return Variant(function, "tg_conv_1x1_s8_inplace", InplaceConvArgs, frozenset({"dsp"}), why_not, cost, make,
                   supersedes=supersedes)


# --- tg_fully_connected_s8_dsp_pair: two input rows (pixels) per weight load ------------------------
# Per two rows: both widened into the column (~3.2 instructions per value: a word, two SXTB16, two PKH,
# two stores per four), then per block of four channels 12 instructions per 16 MACs (2 LDRD, 2 SXTB16,
# 8 SMLAD) and ~120 around it (start values, rows 1 and 3 back, 8 outputs with their channel's words
# loaded once, the loop's end). Fitted to KWS's four 25x5x64 layers (2.05 M in the runs, 0.10 M widening).
_PAIR_FC_PER_VALUE, _PAIR_FC_PER_16_MACS, _PAIR_FC_PER_BLOCK = 3.2, 12, 120
PAIR_FC_STACK_COLUMN = 256  # TG_FULLY_CONNECTED_S8_DSP_PAIR_STACK_COLUMN


def pair_fc_cost(rows_of: int, depth: int, channels: int) -> int:
    pairs = (rows_of + 1) // 2
    per_block = 8 * depth * _PAIR_FC_PER_16_MACS // 16 + _PAIR_FC_PER_BLOCK
    return pairs * (int(2 * depth * _PAIR_FC_PER_VALUE) + channels // WIDE_ROWS * per_block)


def pair_fc_weights(rows: np.ndarray) -> ConstArray:
    """[out][depth] int8 weights (depth a multiple of 4) as tg_fully_connected_s8_dsp_pair reads them:
    pair_packed_weights' words with each four k taken as (k0, k2), (k1, k3), the column's order."""
    order = np.arange(rows.shape[1]).reshape(-1, 4)[:, [0, 2, 1, 3]].reshape(-1)
    return pair_packed_weights(rows[:, order])


def pair_fc_why_not(rows: np.ndarray, batches: int) -> str | None:
    """Why tg_fully_connected_s8_dsp_pair cannot take these [out][depth] weights over `batches` rows."""
    out, depth = rows.shape
    if batches < 2:
        return "one input row (the pair needs two)"
    if out % 4 or depth % 4:
        return "output or accumulation depth not a multiple of 4"
    return packed_why_not(rows)


def _make_fc_pair_call(graph: Graph, call: KernelCall, a: ConvArgs | FullyConnectedArgs, batches: int, depth: int,
                       units: int) -> KernelCall:
    """The packed FC's params and channels, the pair conv's weights; the column on the kernel's stack up
    to PAIR_FC_STACK_COLUMN bytes, else in the arena."""
    made = _make_fc_dsp_call(graph, call, a, batches, depth, units, PACKED)
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    rows, channels = normalized_channels(rows, made.arg("channels"))
    column = 4 * depth  # TG_FULLY_CONNECTED_S8_DSP_PAIR_BUFFER_SIZE
    on_stack = column <= PAIR_FC_STACK_COLUMN
    replaced = {"filter": pair_fc_weights(rows), "channels": channels}
    args = tuple(KernelArg(arg.name, replaced[arg.name]) if arg.name in replaced else arg for arg in made.args)
    return dataclasses.replace(made, function="tg_fully_connected_s8_dsp_pair",
                               args=args + (KernelArg("column", NullPtr() if on_stack else ScratchRef()),),
                               scratch_bytes=0 if on_stack else column)


def _fc_pair_variants() -> tuple[Variant, Variant, Variant]:
    """tg_fully_connected_s8_dsp_pair for FULLY_CONNECTED over two rows or more, CONV_2D 1x1 and the
    in-place 1x1 convolution (both rows are copied before their outputs are written)."""
    function = "tg_fully_connected_s8_dsp_pair"

    def rows_why_not(graph: Graph, a: ConvArgs | FullyConnectedArgs, batches: int) -> str | None:
        rows = filter_rows(graph, a.filter)
        if rows is None:
            return "filter not constant int8"
        return pair_fc_why_not(rows, batches) or not_normalized(a.requant, rows.shape[0])

    def pixels(a: ConvArgs) -> int:
        o = a.output_dims
        return o.n * o.h * o.w

    def fc_why_not(graph: Graph, a: FullyConnectedArgs) -> str | None:
        return _fc_wide_why_not(graph, a) or rows_why_not(graph, a, a.batches)

    def pointwise_why_not(graph: Graph, a: ConvArgs) -> str | None:
        return _pointwise_dsp_why_not(graph, a) or rows_why_not(graph, a, pixels(a))

    def inplace_why_not(graph: Graph, a: InplaceConvArgs) -> str | None:
        return pointwise_why_not(graph, _conv_args(a))

    def make_fc(graph: Graph, call: KernelCall, a: FullyConnectedArgs) -> KernelCall:
        return _make_fc_pair_call(graph, call, a, a.batches, a.accum_depth, a.output_depth)

    def make_pointwise(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
        return _make_fc_pair_call(graph, call, a, pixels(a), a.filter_dims.c, a.output_dims.c)

    def make_inplace(graph: Graph, call: KernelCall, a: InplaceConvArgs) -> KernelCall:
        return dataclasses.replace(make_pointwise(graph, call, _conv_args(a)), function=f"{function}_inplace")

    return (
        Variant(function, "tg_fully_connected_s8", FullyConnectedArgs, frozenset({"dsp"}), fc_why_not,
                lambda a: pair_fc_cost(a.batches, a.accum_depth, a.output_depth), make_fc),
        Variant(function, "tg_conv_s8", ConvArgs, frozenset({"dsp"}), pointwise_why_not,
                lambda a: pair_fc_cost(pixels(a), a.filter_dims.c, a.output_dims.c), make_pointwise),
        Variant(f"{function}_inplace", "tg_conv_1x1_s8_inplace", InplaceConvArgs, frozenset({"dsp"}), inplace_why_not,
                lambda a: pair_fc_cost(pixels(a), a.filter_dims.c, a.output_dims.c), make_inplace),
    )


PAIR_VARIANT = Variant("tg_conv_s8_wide_pair", "tg_conv_s8", ConvArgs, frozenset({"dsp"}), _conv_wide_pair_why_not,
                       _conv_wide_pair_cost, _make_conv_wide_pair)
PAIR_PACKED_VARIANT = Variant("tg_conv_s8_wide_pair_packed", "tg_conv_s8", ConvArgs, frozenset({"dsp"}),
                              _conv_wide_pair_packed_why_not, _conv_wide_pair_packed_cost, _make_conv_wide_pair_packed)


DSP_VARIANTS: tuple[Variant, ...] = (
    # ~37 instructions per element (two table loads, the sum's rescale and clamp) where tg_add_s8
    # computes three rescales (~98)
    Variant("tg_add_s8_table", "tg_add_s8", AddArgs, frozenset({"dsp"}), _add_table_why_not,
            lambda a: 37 * a.size + 30, _make_add_table, any_window=True),
    # ~14 per element: four per step (two word loads, eight table loads, the epilogue, one word stored)
    Variant("tg_add_s8_table_wide", "tg_add_s8", AddArgs, frozenset({"dsp"}), _add_table_wide_why_not,
            lambda a: 14 * a.size + 40, _make_add_table_wide, any_window=True),
    Variant("tg_conv_s8_dsp", "tg_conv_s8", ConvArgs, frozenset({"dsp"}), _conv_dsp_why_not, _conv_dsp_cost,
            _make_conv_dsp, any_window=True),
    PAIR_VARIANT, PAIR_PACKED_VARIANT,
    _stack1k_variant(PAIR_VARIANT, wide_weights), _stack1k_variant(PAIR_PACKED_VARIANT, pair_packed_weights),
    _rows_variant(PAIR_VARIANT, wide_weights), _rows_variant(PAIR_PACKED_VARIANT, pair_packed_weights),
    *_fc_dsp_variants(WIDE16), *_fc_dsp_variants(NARROW), *_fc_dsp_variants(PACKED), *_fc_dsp_variants(PACKED8),
    Variant("tg_conv_1x1_s8_inplace", "tg_conv_1x1_s8_inplace", InplaceConvArgs, frozenset(), _ALWAYS,
            _inplace_conv_cost),
    Variant("tg_conv_s8_wide", "tg_conv_1x1_s8_inplace", InplaceConvArgs, frozenset({"dsp"}), _conv_wide_why_not,
            _inplace_conv_wide_cost, _make_inplace_conv_wide),
    # as PACKED supersedes the int16 FCs: fewer estimated cycles (KWS 8.23 M -> 7.75 M) and no int16
    # weights in flash, for more instructions (5.35 M -> 5.58 M); the wide conv stays where it is refused
    _inplace_packed_variant(PACKED, frozenset({"tg_conv_s8_wide"})),
    _inplace_packed_variant(PACKED8, frozenset({"tg_conv_s8_wide", "tg_fully_connected_s8_dsp_packed_inplace"})),
    *_fc_pair_variants(),
    Variant("tg_depthwise_conv_s8_inplace", "tg_depthwise_conv_s8_inplace", InplaceDepthwiseArgs, frozenset(),
            _ALWAYS, _inplace_depthwise_cost),
    Variant("tg_depthwise_conv_s8_inplace_dsp", "tg_depthwise_conv_s8_inplace", InplaceDepthwiseArgs,
            frozenset({"dsp"}), _inplace_depthwise_dsp_why_not, _inplace_depthwise_dsp_cost,
            _make_inplace_depthwise_dsp),
    Variant("tg_depthwise_conv_s8_inplace_dsp_rows", "tg_depthwise_conv_s8_inplace", InplaceDepthwiseArgs,
            frozenset({"dsp"}), _inplace_depthwise_dsp_rows_why_not, _inplace_depthwise_dsp_rows_cost,
            _make_inplace_depthwise_dsp_rows),
)
