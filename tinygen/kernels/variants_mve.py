"""The Helium (MVE) kernel variants (runtime_c/include/tinygen/tg_mve.h), registered in variants.py's registry.

They need the board's "mve" ISA feature (Cortex-M55: boards/mps3-an547.toml). Their data is made here
at generation time: int8 weights padded and interleaved per block of four rows for 16-byte loads, the
input offset folded into the bias, and per block of four channels the bias', multipliers and shifts
the vector epilogue loads. The epilogue (VQRDMULH, VRSHL after a fix-up of negative values) gives
TFLM's MultiplyByQuantizedMultiplier bits for every multiplier and shift QuantizeMultiplier gives
(multipliers in [0, 2^31 - 1], shifts in [-31, 30]; left shifts wrap as TFLM's do): the only
requantization condition is that range. tests/test_variants_mve.py runs them against TFLM on the
host (the plain-C lanes) and in QEMU on mps3-an547 (the Helium instructions).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.cvalues import HW, ChannelRequant, ConstArray, CStruct, NullPtr, Range, ScratchRef, TensorRef
from tinygen.kernels.variants import (
    AddArgs, ConvArgs, DepthwiseArgs, FullyConnectedArgs, Variant, _conv_why_not, _depthwise_why_not, _fc_why_not,
    depthwise_rows, depthwise_variant_args, filter_rows, folded_bias, round_up,
)
from tinygen.kernels.variants_dsp import InplaceDepthwiseArgs

MVE_ROWS = 4           # TG_MVE_ROWS
MVE_CHUNK = 16         # TG_MVE_CHUNK
MVE_BLOCK_WORDS = 16   # TG_MVE_BLOCK_WORDS
MVE = frozenset({"mve"})
MVE_STACK_COLUMN = 1024  # TG_CONV_S8_MVE_STACK_COLUMN: two im2col columns up to this go on the kernel's stack
MVE_DW_STACK_PLANE = 2560  # TG_MVE_DW_STACK_PLANE: the padded plane's buffer on the planes kernel's stack


@dataclass(frozen=True)
class ConvMveParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_conv_mve_params_t"
    pad_value: int
    output_offset: int
    stride: HW
    padding: HW
    dilation: HW
    activation: Range
    depth: int
    depth_padded: int
    direct: int
    left_shift: int     # some channel's shift is a left shift (else the epilogue skips it)


@dataclass(frozen=True)
class FcMveParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_fc_mve_params_t"
    output_offset: int
    activation: Range
    depth_padded: int
    left_shift: int


@dataclass(frozen=True)
class DepthwiseMveParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_depthwise_mve_params_t"
    pad_value: int
    output_offset: int
    stride: HW
    padding: HW
    dilation: HW
    activation: Range


@dataclass(frozen=True)
class DepthwisePlanesMveParams(DepthwiseMveParams):
    C_TYPE: ClassVar[str] = "tg_depthwise_planes_mve_params_t"
    transposed: int     # the plane's rows are the input's columns


@dataclass(frozen=True)
class Conv1x1InplaceArgs(ConvArgs):
    """tg_conv_1x1_s8_inplace's arguments: the convolution's, and its two-pixel copy in scratch."""

    pixels_copy: ScratchRef


# --- generation-time data -----------------------------------------------------------------------

def mve_weights(rows: np.ndarray) -> ConstArray:
    """[out][depth] int8 rows as tg_mve.h's layout: depth padded to a multiple of 16 and rows to a
    multiple of 4 with zeros; per block of 4 rows, per 16 k, each row's 16 bytes in turn."""
    out, depth = rows.shape
    padded = np.zeros((round_up(out, MVE_ROWS), round_up(depth, MVE_CHUNK)), dtype=np.int8)
    padded[:out, :depth] = rows
    blocks = padded.reshape(-1, MVE_ROWS, padded.shape[1] // MVE_CHUNK, MVE_CHUNK).transpose(0, 2, 1, 3)
    return ConstArray("int8_t", np.ascontiguousarray(blocks).reshape(-1))


def mve_depthwise_weights(rows: np.ndarray) -> ConstArray:
    """[channel][tap] int8 as [block of 4 channels][tap][4], channels completed with zeros."""
    channels, taps = rows.shape
    padded = np.zeros((round_up(channels, 4), taps), dtype=np.int8)
    padded[:channels] = rows
    return ConstArray("int8_t", np.ascontiguousarray(padded.reshape(-1, 4, taps).transpose(0, 2, 1)).reshape(-1))


def mve_channels(graph: Graph, bias: TensorRef | NullPtr, rows: np.ndarray, input_offset: int,
                 requant: ChannelRequant, pad_correction: bool = False) -> ConstArray:
    """Per block of 4 channels: folded bias x 4, multiplier x 4, left shift x 4, -right shift x 4
    (TFLM's shift split as MultiplyByQuantizedMultiplier splits it); pad_correction (the depthwise's
    TG_MVE_DW_BLOCK_WORDS): then the bias minus bias' x 4, wrapped. The channels completing the last
    block get zeros (multiplier 0: their lanes are computed, never stored)."""
    out = rows.shape[0]
    shifts = np.broadcast_to(requant.shift.values, (out,)).astype(np.int64)
    folded = folded_bias(graph, bias, rows, input_offset)
    words = [folded, np.broadcast_to(requant.multiplier.values, (out,)), np.maximum(shifts, 0), np.minimum(shifts, 0)]
    if pad_correction:
        words.append(folded_bias(graph, bias, rows, 0).astype(np.int64) - folded)
    columns = np.zeros((len(words), round_up(out, MVE_ROWS)), dtype=np.int64)
    columns[:, :out] = words
    columns = (columns & 0xFFFFFFFF).astype(np.uint32).view(np.int32)
    # [word][block][lane] -> [block][word][lane]
    words = columns.reshape(len(words), -1, MVE_ROWS).transpose(1, 0, 2)
    return ConstArray("int32_t", np.ascontiguousarray(words).reshape(-1).astype(np.int32))


# --- conditions and costs (estimated instructions on the Cortex-M55, GCC 12 -O2) --------------------
# The 4x1 dot: 10 instructions per 16 k of a column and four rows, ~8 to enter; ~20 per block of four
# channels and column (building the vector, the epilogue, the store); im2col ~3 per 16 bytes and ~10
# per filter row.

def _conv_mve_cost(a: ConvArgs) -> int:
    o, f = a.output_dims, a.filter_dims
    pixels, depth = o.n * o.h * o.w, f.h * f.w * f.c
    chunks, blocks = -(-depth // MVE_CHUNK), -(-o.c // MVE_ROWS)
    im2col = 0 if _is_direct(a) else f.h * (10 + 3 * -(-f.w * f.c // MVE_CHUNK))
    return pixels * (im2col + blocks * (10 * chunks + 28))


def _fc_mve_cost(a: FullyConnectedArgs) -> int:
    chunks, blocks = -(-a.accum_depth // MVE_CHUNK), -(-a.output_depth // MVE_ROWS)
    return a.batches * blocks * (10 * chunks + 28)


def _depthwise_mve_cost(a: DepthwiseArgs) -> int:
    """Fitted to single-layer runs on mps3-an547 (VWW's depthwise shapes, within 15 %): ~80 per output
    pixel, ~100 per pixel and block of four channels."""
    o = a.output_dims
    return o.n * o.h * o.w * (80 + 100 * -(-o.c // 4))


def _is_direct(a: ConvArgs) -> bool:
    p, f, i, o = a.params, a.filter_dims, a.input_dims, a.output_dims
    return ((f.h, f.w) == (1, 1) and (p.stride.h, p.stride.w) == (1, 1) and (p.padding.h, p.padding.w) == (0, 0)
            and (i.n, i.h, i.w) == (o.n, o.h, o.w))


def _conv_mve_why_not(graph: Graph, a: ConvArgs) -> str | None:
    if (reason := _conv_why_not(graph, a)) is not None:
        return reason
    return None if filter_rows(graph, a.filter) is not None else "filter not constant int8"


def _conv_inplace_mve_why_not(graph: Graph, a: Conv1x1InplaceArgs) -> str | None:
    if (reason := _conv_mve_why_not(graph, a)) is not None:
        return reason
    return None if _is_direct(a) else "not a 1x1 convolution over whole pixels"


def any_left_shift(requant: ChannelRequant) -> int:
    """1 where some channel's shift is a left one (tg_mve_block2x4 skips the VSHL otherwise)."""
    return int(bool((np.asarray(requant.shift.values) > 0).any()))


def _conv_mve_params(a: ConvArgs, depth: int) -> ConvMveParams:
    p = a.params
    return ConvMveParams(pad_value=-p.input_offset, output_offset=p.output_offset, stride=p.stride,
                         padding=p.padding, dilation=p.dilation, activation=p.activation, depth=depth,
                         depth_padded=round_up(depth, MVE_CHUNK), direct=int(_is_direct(a)),
                         left_shift=any_left_shift(a.requant))


def _make_conv_mve(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    params = _conv_mve_params(a, rows.shape[1])
    # two im2col columns (TG_CONV_S8_MVE_BUFFER_SIZE): on the kernel's stack up to MVE_STACK_COLUMN bytes,
    # else in the arena
    columns = 2 * params.depth_padded
    scratch = 0 if params.direct or columns <= MVE_STACK_COLUMN else columns
    args = (
        KernelArg("params", params),
        KernelArg("channels", mve_channels(graph, a.bias, rows, a.params.input_offset, a.requant)),
        KernelArg("input_dims", a.input_dims),
        KernelArg("input", a.input),
        KernelArg("filter_dims", a.filter_dims),
        KernelArg("filter", mve_weights(rows)),
        KernelArg("output_dims", a.output_dims),
        KernelArg("output", a.output),
        KernelArg("scratch", ScratchRef() if scratch else NullPtr()),
    )
    return dataclasses.replace(call, function="tg_conv_s8_mve", args=args, scratch_bytes=scratch)


def _make_conv_inplace_mve(graph: Graph, call: KernelCall, a: Conv1x1InplaceArgs) -> KernelCall:
    """The same data as tg_conv_s8_mve's; the same scratch as tg_conv_1x1_s8_inplace (two input pixels)."""
    made = _make_conv_mve(graph, call, a)
    args = made.args[:-1] + (KernelArg("pixels_copy", a.pixels_copy),)
    return dataclasses.replace(made, function="tg_conv_1x1_s8_inplace_mve", args=args,
                               scratch_bytes=call.scratch_bytes)


def _fc_mve_why_not(graph: Graph, a: FullyConnectedArgs) -> str | None:
    if (reason := _fc_why_not(graph, a)) is not None:
        return reason
    rows = filter_rows(graph, a.filter)
    return None if rows is not None and rows.shape == (a.output_depth, a.accum_depth) else \
        "weights not constant int8 [units][depth]"


def _make_fc_mve(graph: Graph, call: KernelCall, a: FullyConnectedArgs) -> KernelCall:
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    p = a.params
    args = (
        KernelArg("params", FcMveParams(output_offset=p.output_offset, activation=p.activation,
                                         depth_padded=round_up(a.accum_depth, MVE_CHUNK),
                                         left_shift=any_left_shift(a.requant))),
        KernelArg("channels", mve_channels(graph, a.bias, rows, p.input_offset, a.requant)),
        KernelArg("batches", a.batches),
        KernelArg("accum_depth", a.accum_depth),
        KernelArg("output_depth", a.output_depth),
        KernelArg("input", a.input),
        KernelArg("filter", mve_weights(rows)),
        KernelArg("output", a.output),
    )
    return dataclasses.replace(call, function="tg_fully_connected_s8_mve", args=args, scratch_bytes=0)


def _depthwise_mve_why_not(graph: Graph, a: DepthwiseArgs) -> str | None:
    if (reason := _depthwise_why_not(graph, a)) is not None:
        return reason
    return None if depthwise_rows(graph, a.filter) is not None else "filter not constant int8"


def _make_depthwise_mve(graph: Graph, call: KernelCall, a: DepthwiseArgs) -> KernelCall:
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    p = a.params
    params = DepthwiseMveParams(pad_value=-p.input_offset, output_offset=p.output_offset, stride=p.stride,
                                padding=p.padding, dilation=p.dilation, activation=p.activation)
    args = (
        KernelArg("params", params),
        KernelArg("channels", mve_channels(graph, a.bias, rows, p.input_offset, a.requant, pad_correction=True)),
        KernelArg("input_dims", a.input_dims),
        KernelArg("input", a.input),
        KernelArg("filter_dims", a.filter_dims),
        KernelArg("filter", mve_depthwise_weights(rows)),
        KernelArg("output_dims", a.output_dims),
        KernelArg("output", a.output),
    )
    return dataclasses.replace(call, function="tg_depthwise_conv_s8_mve", args=args, scratch_bytes=0)


# --- tg_depthwise_conv_s8_planes_mve: channel by channel over a padded plane ----------------------

@dataclass(frozen=True)
class PlaneAxes:
    """The plane's geometry as the kernel lays it out (planes_of in tg_depthwise_conv_s8_planes_mve.c):
    rows along b, the vector's axis; a across them."""

    transposed: bool
    out_a: int
    out_b: int
    stride_b: int
    in_step_b: int   # bytes between an input channel's neighbours along b: the gather's step
    row: int
    bytes: int       # TG_MVE_DW_PLANE_BYTES


def _padded_extent(out_size: int, stride: int, padding: int, dilation: int, taps: int, size: int) -> int:
    end = (out_size - 1) * stride - padding + dilation * (taps - 1) + 1
    return padding + max(end, size)


def plane_axes(a: DepthwiseArgs, transposed: bool) -> PlaneAxes:
    p, i, f, o = a.params, a.input_dims, a.filter_dims, a.output_dims
    y = (o.h, p.stride.h, p.padding.h, p.dilation.h, f.h, i.h)
    x = (o.w, p.stride.w, p.padding.w, p.dilation.w, f.w, i.w)
    along_a, along_b = (x, y) if transposed else (y, x)
    row = _padded_extent(*along_b)
    rows = _padded_extent(*along_a)
    return PlaneAxes(transposed, along_a[0], along_b[0], along_b[1], (i.w * i.c) if transposed else i.c, row,
                     rows * row + 3 * along_b[1] + 4)


def _plane_groups(axes: PlaneAxes) -> int:
    return axes.out_a * -(-axes.out_b // 4)


def best_plane_axes(a: DepthwiseArgs) -> PlaneAxes:
    """The orientation with the fewer groups of four output pixels (the plain one on a tie)."""
    return min((plane_axes(a, False), plane_axes(a, True)), key=_plane_groups)


def _depthwise_planes_mve_why_not(graph: Graph, a: DepthwiseArgs) -> str | None:
    if (reason := _depthwise_mve_why_not(graph, a)) is not None:
        return reason
    if a.input_dims.c != a.output_dims.c:
        return "output channels differ from the input's"
    axes = best_plane_axes(a)
    if axes.bytes > MVE_DW_STACK_PLANE:
        return f"padded plane of {axes.bytes} bytes over the kernel's {MVE_DW_STACK_PLANE}-byte buffer"
    if 7 * axes.in_step_b >= 1 << 16:
        return "input pixels too far apart for the plane copy's 16-bit gather offsets"
    return None


def _depthwise_planes_mve_cost(a: DepthwiseArgs) -> int:
    """Fitted to single-layer runs on mps3-an547 (VWW's and KWS's depthwise shapes, within 3 %): per
    channel ~114 (the call, the setup), per output row ~64 (its setup and an input row's copy), per
    group of four output pixels ~44 (the 3x3 assembly, stride 1 along the row); with gathers (another
    stride) ~107, ~89 and ~84; any other filter ~5 per tap more."""
    axes, f, p, i = best_plane_axes(a), a.filter_dims, a.params, a.input_dims
    undilated_3x3 = (f.h, f.w) == (3, 3) and (p.dilation.h, p.dilation.w) == (1, 1)
    channel, row, group = (114, 64, 44) if axes.stride_b == 1 else (107, 89, 84)
    if not undilated_3x3:
        group += 5 * f.h * f.w
    return i.n * i.c * (channel + row * axes.out_a + group * _plane_groups(axes))


def planes_channel_words(graph: Graph, bias: TensorRef | NullPtr, rows: np.ndarray, input_offset: int,
                         requant: ChannelRequant) -> tuple[ConstArray, np.ndarray]:
    """Per channel: bias' << left shift, multiplier, right shift (TG_MVE_DW_CHANNEL_WORDS), wrapped; and
    the left shifts, which the weights take too ((x * w) << s = x * (w << s) modulo 2^32)."""
    out = rows.shape[0]
    shifts = np.broadcast_to(requant.shift.values, (out,)).astype(np.int64)
    left = np.maximum(shifts, 0)
    bias_words = folded_bias(graph, bias, rows, input_offset).astype(np.int64) << left
    words = np.stack([bias_words, np.broadcast_to(requant.multiplier.values, (out,)), np.maximum(-shifts, 0)], axis=1)
    return ConstArray("int32_t", ((words & 0xFFFFFFFF).astype(np.uint32).view(np.int32)).reshape(-1)), left


def planes_weights(rows: np.ndarray, f_h: int, f_w: int, left: np.ndarray, transposed: bool) -> ConstArray:
    """[channel][tap] int8 as [channel][a][b] int32 (transposed: [x][y]), each shifted left by its
    channel's left shift, wrapped."""
    taps = rows.astype(np.int64).reshape(-1, f_h, f_w)
    if transposed:
        taps = taps.transpose(0, 2, 1)
    shifted = (taps << left[:, None, None]) & 0xFFFFFFFF
    return ConstArray("int32_t", np.ascontiguousarray(shifted).astype(np.uint32).view(np.int32).reshape(-1))


def _make_depthwise_planes_mve(graph: Graph, call: KernelCall, a: DepthwiseArgs) -> KernelCall:
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    p, axes = a.params, best_plane_axes(a)
    params = DepthwisePlanesMveParams(pad_value=-p.input_offset, output_offset=p.output_offset, stride=p.stride,
                                      padding=p.padding, dilation=p.dilation, activation=p.activation,
                                      transposed=int(axes.transposed))
    words, left = planes_channel_words(graph, a.bias, rows, p.input_offset, a.requant)
    args = depthwise_variant_args(a, params, words,
                                  planes_weights(rows, a.filter_dims.h, a.filter_dims.w, left, axes.transposed))
    # in place, the plane it copies each channel to is on its stack: the reference's plane scratch goes
    return dataclasses.replace(call, function="tg_depthwise_conv_s8_planes_mve", args=args, scratch_bytes=0)


def _add_mve_why_not(graph: Graph, a: AddArgs) -> str | None:
    """The rescales take QuantizeMultiplier's range; (x + offset) << left_shift must stay an int32
    (TFLM's int8 ADD: 20, with |x + offset| <= 255)."""
    p = a.params
    for r in (p.input1, p.input2, p.output):
        if r.multiplier < 0 or not -31 <= r.shift <= 30:
            return "multiplier outside QuantizeMultiplier's range"
    if not 0 <= p.left_shift <= 22:
        return f"left shift {p.left_shift} outside [0, 22]"
    return None


MVE_VARIANTS: tuple[Variant, ...] = (
    Variant("tg_conv_s8_mve", "tg_conv_s8", ConvArgs, MVE, _conv_mve_why_not, _conv_mve_cost, _make_conv_mve,
            any_window=True),
    Variant("tg_conv_1x1_s8_inplace_mve", "tg_conv_1x1_s8_inplace", Conv1x1InplaceArgs, MVE,
            _conv_inplace_mve_why_not, _conv_mve_cost, _make_conv_inplace_mve),
    Variant("tg_depthwise_conv_s8_mve", "tg_depthwise_conv_s8", DepthwiseArgs, MVE, _depthwise_mve_why_not,
            _depthwise_mve_cost, _make_depthwise_mve, any_window=True),
    Variant("tg_depthwise_conv_s8_planes_mve", "tg_depthwise_conv_s8", DepthwiseArgs, MVE,
            _depthwise_planes_mve_why_not, _depthwise_planes_mve_cost, _make_depthwise_planes_mve),
    Variant("tg_depthwise_conv_s8_planes_mve", "tg_depthwise_conv_s8_inplace", InplaceDepthwiseArgs, MVE,
            _depthwise_planes_mve_why_not, _depthwise_planes_mve_cost, _make_depthwise_planes_mve),
    Variant("tg_fully_connected_s8_mve", "tg_fully_connected_s8", FullyConnectedArgs, MVE, _fc_mve_why_not,
            _fc_mve_cost, _make_fc_mve),
    # the same arguments as tg_add_s8 (a twin): ~35 instructions per four elements
    Variant("tg_add_s8_mve", "tg_add_s8", AddArgs, MVE, _add_mve_why_not, lambda a: 9 * a.size + 20,
            any_window=True),
)
