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
  back in a ring of lag + 1 pixels (4 x (padding.h x in_w + padding.w + 1) bytes of scratch).

Each in-place kernel is also registered as its own variant with its cost, so the registry says
what the DSP variant saves (inspect, the greedy choice in pipeline._choose_variants).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.cvalues import HW, CStruct, Range, ScratchRef
from tinygen.kernels.variants import (
    ConvArgs, DepthwiseArgs, Variant, _conv_wide_why_not, _make_conv_wide, _output_elements, _quantize_multiplier_range,
    _wide_dot_cost, _FAST_PER_OUTPUT, depthwise_rows, depthwise_wide_weights, wide_channels, wide_requant_why_not,
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


def _make_inplace_conv_wide(graph: Graph, call: KernelCall, a: InplaceConvArgs) -> KernelCall:
    base = ConvArgs(*(getattr(a, f.name) for f in dataclasses.fields(ConvArgs)))
    return _make_conv_wide(graph, call, base)


# --- tg_depthwise_conv_s8_inplace -> tg_depthwise_conv_s8_inplace_dsp ------------------------------

def depthwise_lag(a: DepthwiseArgs) -> int:
    """The output pixels tg_depthwise_conv_s8_inplace_dsp holds back: padding.h * in_w + padding.w."""
    return a.params.padding.h * a.input_dims.w + a.params.padding.w


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
    args = (
        KernelArg("params", params),
        KernelArg("channels", wide_channels(graph, a.bias, rows, p.input_offset, a.requant)),
        KernelArg("input_dims", a.input_dims),
        KernelArg("input", a.input),
        KernelArg("filter_dims", a.filter_dims),
        KernelArg("filter", depthwise_wide_weights(rows)),
        KernelArg("output_dims", a.output_dims),
        KernelArg("output", a.output),
        KernelArg("ring", ScratchRef()),
    )
    return dataclasses.replace(call, function="tg_depthwise_conv_s8_inplace_dsp", args=args,
                               scratch_bytes=4 * (lag + 1))  # TG_DEPTHWISE_CONV_S8_INPLACE_DSP_BUFFER_SIZE


_ALWAYS = lambda graph, a: None  # noqa: E731  (the in-place kernels take every call the in-place stage gave them)

DSP_VARIANTS: tuple[Variant, ...] = (
    Variant("tg_conv_1x1_s8_inplace", "tg_conv_1x1_s8_inplace", InplaceConvArgs, frozenset(), _ALWAYS,
            _inplace_conv_cost),
    Variant("tg_conv_s8_wide", "tg_conv_1x1_s8_inplace", InplaceConvArgs, frozenset({"dsp"}), _conv_wide_why_not,
            _inplace_conv_wide_cost, _make_inplace_conv_wide),
    Variant("tg_depthwise_conv_s8_inplace", "tg_depthwise_conv_s8_inplace", InplaceDepthwiseArgs, frozenset(),
            _ALWAYS, _inplace_depthwise_cost),
    Variant("tg_depthwise_conv_s8_inplace_dsp", "tg_depthwise_conv_s8_inplace", InplaceDepthwiseArgs,
            frozenset({"dsp"}), _inplace_depthwise_dsp_why_not, _inplace_depthwise_dsp_cost,
            _make_inplace_depthwise_dsp),
)
