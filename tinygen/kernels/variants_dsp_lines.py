"""tg_depthwise_conv_s8_lines_dsp: the 3x3 stride-1 depthwise convolution one channel at a time, on
cores with the DSP extension (runtime_c/kernels/tg_depthwise_conv_s8_lines_dsp.c states the method).

It replaces both the out-of-place reference (`tg_depthwise_conv_s8`, where the four-channel wide
depthwise runs otherwise) and the in-place one (`tg_depthwise_conv_s8_inplace`, KWS's). Its contract
(kernels/overlap.py): the output exactly over its input, or a whole number of pixels below it (down
to the portable kernel's lag), or apart. Its ring of three int16 lines is on its own stack, so it
takes no arena.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelCall
from tinygen.kernels.cvalues import ConstArray, CStruct, Range
from tinygen.kernels.variants import (
    DepthwiseArgs, Variant, _quantize_multiplier_range, depthwise_rows, depthwise_variant_args, normalized_channels,
    not_normalized, wide_channels, wide_requant_why_not,
)
from tinygen.kernels.variants_dsp import InplaceDepthwiseArgs

MAX_LINE = 64  # TG_DEPTHWISE_LINES_DSP_MAX_LINE: the ring on the kernel's stack


@dataclass(frozen=True)
class DepthwiseLinesDspParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_depthwise_lines_dsp_params_t"
    input_offset: int
    output_offset: int
    activation: Range
    transposed: int  # the lines are the input's columns


def lines_transposed(a: DepthwiseArgs) -> bool:
    """The lines run along the longer axis (the rows on a tie): the per-line work is spread widest."""
    return a.input_dims.h > a.input_dims.w


def _line_length(a: DepthwiseArgs) -> int:
    return max(a.input_dims.h, a.input_dims.w)


def lines_why_not(graph: Graph, a: DepthwiseArgs) -> str | None:
    p, i, o, f = a.params, a.input_dims, a.output_dims, a.filter_dims
    if p.depth_multiplier != 1:
        return "depth multiplier != 1"
    if (f.h, f.w) != (3, 3):
        return "filter not 3x3"
    if (p.stride.h, p.stride.w, p.dilation.h, p.dilation.w) != (1, 1, 1, 1):
        return "stride or dilation other than 1"
    if (p.padding.h, p.padding.w) != (1, 1):
        return "padding other than 1 (SAME)"
    if (o.n, o.h, o.w, o.c) != (i.n, i.h, i.w, i.c):
        return "output dims differ from the input's"
    if _line_length(a) > MAX_LINE:
        return f"lines longer than {MAX_LINE} pixels"
    return channel_requant_why_not(graph, a)


def channel_requant_why_not(graph: Graph, a: DepthwiseArgs) -> str | None:
    """What the channel-at-a-time kernels (lines, plane) need of the weights and the requantization:
    constant int8 weights, the wide channel words, every multiplier normalizable (their asm epilogue
    has no mask)."""
    if not _quantize_multiplier_range(a.requant):
        return "multiplier outside QuantizeMultiplier's range"
    rows = depthwise_rows(graph, a.filter)
    if rows is None:
        return "filter not constant int8"
    return (wide_requant_why_not(graph, a.bias, rows, a.params.input_offset, a.requant)
            or not_normalized(a.requant, rows.shape[0]))


# Estimated instructions (Cortex-M4, GCC 12 -O2): ~22 per output (a pair: 2 for the bias, 6 loads and
# 12 MACs, ~17 for the epilogue and the stores, 3 for the loop), ~3 per input value copied into the
# ring, ~40 per line (the weights' rotation, the call) and ~30 per channel.
def lines_cost(a: DepthwiseArgs) -> int:
    i = a.input_dims
    lines, length = (i.w, i.h) if lines_transposed(a) else (i.h, i.w)
    return i.n * i.c * (lines * (25 * length + 40) + 30)


def lines_weights(rows: np.ndarray, transposed: bool) -> ConstArray:
    """[channel][tap] int8 (3x3, row-major) as the kernel's six words per channel: per window line k
    (across the lines), the int16 pairs (w[k][0], w[k][1]) and (w[k][1], w[k][2]) along the line,
    the first in the low half."""
    taps = rows.astype(np.int64).reshape(-1, 3, 3)
    if transposed:
        taps = taps.transpose(0, 2, 1)
    u = (taps[:, :, 0] & 0xFFFF) | ((taps[:, :, 1] & 0xFFFF) << 16)
    v = (taps[:, :, 1] & 0xFFFF) | ((taps[:, :, 2] & 0xFFFF) << 16)
    words = np.stack([u, v], axis=2)  # [channel][k][u, v]
    return ConstArray("int32_t", words.reshape(-1).astype(np.uint32).view(np.int32))


def make_lines(graph: Graph, call: KernelCall, a: DepthwiseArgs) -> KernelCall:
    """Channels normalized (normalized_channels): the asm epilogue has no mask."""
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    p = a.params
    rows, channels = normalized_channels(rows, wide_channels(graph, a.bias, rows, p.input_offset, a.requant))
    transposed = lines_transposed(a)
    params = DepthwiseLinesDspParams(input_offset=p.input_offset, output_offset=p.output_offset,
                                     activation=p.activation, transposed=int(transposed))
    args = depthwise_variant_args(a, params, channels, lines_weights(rows, transposed))
    # in place, the ring is on its stack: the reference's plane scratch goes
    return dataclasses.replace(call, function="tg_depthwise_conv_s8_lines_dsp", args=args, scratch_bytes=0)


LINES_FUNCTION = "tg_depthwise_conv_s8_lines_dsp"
LINES_VARIANTS: tuple[Variant, ...] = (
    Variant(LINES_FUNCTION, "tg_depthwise_conv_s8", DepthwiseArgs, frozenset({"dsp"}), lines_why_not, lines_cost,
            make_lines),
    Variant(LINES_FUNCTION, "tg_depthwise_conv_s8_inplace", InplaceDepthwiseArgs, frozenset({"dsp"}), lines_why_not,
            lines_cost, make_lines),
)
