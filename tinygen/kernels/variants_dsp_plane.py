"""tg_depthwise_conv_s8_plane_dsp: the 3x3 depthwise convolution, stride 1 or 2, one channel at a time
over its whole plane copied into int16, on cores with the DSP extension, for small images
(runtime_c/kernels/tg_depthwise_conv_s8_plane_dsp.c states the method).

It replaces the out-of-place reference (`tg_depthwise_conv_s8`) and the in-place one
(`tg_depthwise_conv_s8_inplace`) where the plane fits its stack buffer: MobileNet's last stages
(6x6, 12x12, their stride-2 layers), where the lines kernel's per-line work and the four-channel
kernel's border windows weigh most. Its contract (kernels/overlap.py) is the lines kernel's: the
output exactly over its input, or a whole number of pixels below it, or apart.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelCall
from tinygen.kernels.cvalues import HW, CStruct, Range
from tinygen.kernels.variants import (
    DepthwiseArgs, Variant, depthwise_rows, depthwise_variant_args, normalized_channels, wide_channels,
)
from tinygen.kernels.variants_dsp import InplaceDepthwiseArgs
from tinygen.kernels.variants_dsp_lines import channel_requant_why_not, lines_weights

PITCH_VALUES = 32  # TG_DEPTHWISE_PLANE_DSP_PITCH / 2: int16 per plane row
ROWS = 16          # TG_DEPTHWISE_PLANE_DSP_ROWS


@dataclass(frozen=True)
class DepthwisePlaneDspParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_depthwise_plane_dsp_params_t"
    input_offset: int
    output_offset: int
    activation: Range
    stride: int
    padding: HW


def plane_reach(a: DepthwiseArgs) -> tuple[int, int]:
    """(rows, columns) of the plane the kernel reads: the input at its padding, and every window's
    reach, a row's last pair included (an odd row's last output is computed as a pair)."""
    p, i, o = a.params, a.input_dims, a.output_dims
    s = p.stride.h
    pairs = (o.w + 1) // 2
    columns = 2 * pairs + 2 if s == 1 else 4 * pairs + 2  # the last pair's last word's second value
    rows = s * (o.h - 1) + 3
    return max(rows, p.padding.h + i.h), max(columns, p.padding.w + i.w)


def plane_why_not(graph: Graph, a: DepthwiseArgs) -> str | None:
    p, i, o, f = a.params, a.input_dims, a.output_dims, a.filter_dims
    if p.depth_multiplier != 1:
        return "depth multiplier != 1"
    if (f.h, f.w) != (3, 3):
        return "filter not 3x3"
    if (p.dilation.h, p.dilation.w) != (1, 1):
        return "dilation other than 1"
    if p.stride.h != p.stride.w or p.stride.h not in (1, 2):
        return "stride other than 1 or 2 both ways"
    if p.padding.h not in (0, 1) or p.padding.w not in (0, 1):
        return "padding before the input other than 0 or 1"
    if (o.n, o.c) != (i.n, i.c):
        return "output batches or channels differ from the input's"
    rows, columns = plane_reach(a)
    if rows > ROWS or columns > PITCH_VALUES:
        return f"plane of {rows}x{columns} beyond its {ROWS}x{PITCH_VALUES} buffer"
    return channel_requant_why_not(graph, a)


# Estimated instructions (Cortex-M4, GCC 12 -O2): ~21 per output at stride 1 (a pair: 2 for the bias,
# 3 LDRD and 12 MACs, ~17 for the epilogue and the stores, 3 for the loop), 23 at stride 2 (three
# loads a window line), ~2.5 per input value copied, ~25 per output row and ~60 per channel.
def plane_cost(a: DepthwiseArgs) -> int:
    i, o = a.input_dims, a.output_dims
    per_output = 21 if a.params.stride.h == 1 else 23
    return o.n * o.c * (o.h * (per_output * o.w + 25) + (5 * i.h * i.w) // 2 + 60)


def make_plane(graph: Graph, call: KernelCall, a: DepthwiseArgs) -> KernelCall:
    """Channels normalized (normalized_channels): the asm epilogue has no mask."""
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    p = a.params
    rows, channels = normalized_channels(rows, wide_channels(graph, a.bias, rows, p.input_offset, a.requant))
    params = DepthwisePlaneDspParams(input_offset=p.input_offset, output_offset=p.output_offset,
                                     activation=p.activation, stride=p.stride.h, padding=HW(p.padding.h, p.padding.w))
    args = depthwise_variant_args(a, params, channels, lines_weights(rows, transposed=False))
    # the plane is on its stack: in place, the reference's plane scratch goes
    return dataclasses.replace(call, function="tg_depthwise_conv_s8_plane_dsp", args=args, scratch_bytes=0)


PLANE_FUNCTION = "tg_depthwise_conv_s8_plane_dsp"
PLANE_VARIANTS: tuple[Variant, ...] = (
    Variant(PLANE_FUNCTION, "tg_depthwise_conv_s8", DepthwiseArgs, frozenset({"dsp"}), plane_why_not, plane_cost,
            make_plane),
    Variant(PLANE_FUNCTION, "tg_depthwise_conv_s8_inplace", InplaceDepthwiseArgs, frozenset({"dsp"}), plane_why_not,
            plane_cost, make_plane),
)
