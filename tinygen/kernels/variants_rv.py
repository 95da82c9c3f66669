"""Kernel variants for cores without SIMD (RISC-V rv32imac / rv32imc): register blocking over data
re-laid out at generation time (runtime_c/include/tinygen/tg_rv.h).

On rv32 a byte load sign-extends an int8 in one instruction, so the weights stay int8 (wider ones
would buy no instruction and double the flash); what pays is loading each byte once for many
multiply-adds: TG_RV_ROWS output channels per inner loop, their weights interleaved so that one
pointer walks them, two output pixels at a time, and the input offset folded into the bias. The
portable `_fast` twins emulate SMLAD in C there (several instructions per MAC), so these variants
supersede them on the cores that have what they need ("rv-m": the multiply instructions). The C is
plain and portable; the host build is how the tests check it bit for bit.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.cvalues import HW, ChannelRequant, ConstArray, CStruct, Dims, NullPtr, Range, ScratchRef, TensorRef
from tinygen.kernels.variants import (
    ConvArgs, DepthwiseArgs, FullyConnectedArgs, Variant, _conv_why_not, _depthwise_why_not, _fc_why_not,
    depthwise_rows, depthwise_variant_args, filter_rows, folded_bias, round_up,
)

RV_ROWS = 8            # TG_RV_ROWS in runtime_c/include/tinygen/tg_rv.h
RV_CHANNEL_WORDS = 8   # TG_RV_CHANNEL_WORDS
RV_FEATURES = frozenset({"rv-m"})


@dataclass(frozen=True)
class ConvRvParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_conv_rv_params_t"
    input_offset: int
    output_offset: int
    stride: HW
    padding: HW
    dilation: HW
    activation: Range
    folded_rounding: int  # 1: the short epilogue is exact for every channel (folded_rounding())


def rv_weights(rows: np.ndarray) -> ConstArray:
    """[out][taps] int8 weights as tg_conv_s8_rv reads them: per block of RV_ROWS channels (the last
    completed with zero rows), per tap, one byte per channel of the block."""
    out, taps = rows.shape
    padded = np.zeros((round_up(out, RV_ROWS), taps), dtype=np.int8)
    padded[:out] = rows
    blocks = padded.reshape(-1, RV_ROWS, taps).transpose(0, 2, 1)  # [block][tap][channel]
    return ConstArray("int8_t", np.ascontiguousarray(blocks).reshape(-1))


# |x - zero point| for int8 x and zero point: the largest input factor of a product.
_MAX_INPUT_FACTOR = 255


@dataclass(frozen=True)
class _LayerRequant:
    """A layer's per-channel plain bias, multiplier, shift and accumulator bound (int64 arrays, one per
    output channel), as the RISC-V epilogue takes them."""
    plain: np.ndarray
    multipliers: np.ndarray
    shifts: np.ndarray
    bound: np.ndarray  # |bias| + 255 * sum |w|: no accumulator exceeds it (the true sum; 2^31 or more: none)


def _high_bound(bound: int, multiplier: int) -> int:
    """The largest |high| of the rounding doubling high multiply of an accumulator within `bound`."""
    return (bound * multiplier >> 31) + 2


def _layer_requant(graph: Graph, bias: TensorRef | NullPtr, rows: np.ndarray, requant: ChannelRequant) -> _LayerRequant:
    """A channel whose output is the offset whatever its input gets multiplier 0 and right shift 1 (the
    same bits in both epilogues): a dead channel, or one whose |high| stays below 2^(right - 1), so
    that TFLM's rounding divide gives 0 (e.g. MobileNet's pruned channels: bias 2^30, right shift 31)."""
    out = rows.shape[0]
    plain = np.zeros(out, dtype=np.int64) if isinstance(bias, NullPtr) else \
        np.asarray(graph.tensor(bias.tensor).data, dtype=np.int64).ravel()
    multipliers = np.broadcast_to(requant.multiplier.values, (out,)).astype(np.int64)
    shifts = np.broadcast_to(requant.shift.values, (out,)).astype(np.int64)
    bound = np.abs(plain) + _MAX_INPUT_FACTOR * np.abs(rows.astype(np.int64)).sum(axis=1)
    constant = np.array([m == 0 or (e < 0 and a < 2**31 and _high_bound(int(a), int(m)) < 2 ** (-int(e) - 1))
                         for a, m, e in zip(bound, multipliers, shifts)], dtype=bool)
    return _LayerRequant(plain, np.where(constant, 0, multipliers), np.where(constant, -1, shifts), bound)


def _rounding(right: np.ndarray, output_offset: int) -> np.ndarray:
    """The short epilogue's word: 2^(right - 1) + output_offset * 2^right (unwrapped, int64)."""
    half = np.where(right > 0, np.int64(1) << np.maximum(right - 1, 0), 0)
    return half + np.int64(output_offset) * (np.int64(1) << right)


def rv_channels(graph: Graph, bias: TensorRef | NullPtr, rows: np.ndarray, input_offset: int,
                requant: ChannelRequant, folded_offset: int, padded_to: int = RV_ROWS) -> ConstArray:
    """tg_rv.h's words per output channel: folded bias, plain bias, 2 * multiplier (as uint32), left
    shift, right shift, 2^right - 1, (2^right - 1) >> 1, the short epilogue's rounding with the output
    offset `folded_offset` in it (wrapped); zero words for the channels that complete the last block
    (never written out)."""
    out = rows.shape[0]
    q = _layer_requant(graph, bias, rows, requant)
    left, right = np.maximum(q.shifts, 0), np.maximum(-q.shifts, 0)
    mask = (np.int64(1) << right) - 1
    words = np.zeros((round_up(out, padded_to), RV_CHANNEL_WORDS), dtype=np.int64)
    words[:out] = np.stack([folded_bias(graph, bias, rows, input_offset).astype(np.int64), q.plain,
                            2 * q.multipliers, left, right, mask, mask >> 1, _rounding(right, folded_offset)], axis=1)
    return ConstArray("int32_t", (words & 0xFFFFFFFF).astype(np.uint32).view(np.int32).reshape(-1))


def folded_rounding(graph: Graph, bias: TensorRef | NullPtr, rows: np.ndarray, requant: ChannelRequant,
                    folded_offset: int) -> bool:
    """Whether the short epilogue (tg_rv_requantize_folded) with `folded_offset` in its rounding word is
    exact for every channel: no left shift,
    right shifts >= 1, the accumulators' bound below 2^31 (so that the wrapped sum is the true one) and
    |high| <= bound * m / 2^31 + 2 (the doubling high multiply), so that the one addition
    high - [high < 0] + rounding stays within int32."""
    q = _layer_requant(graph, bias, rows, requant)
    if (q.shifts >= 0).any() or (q.bound >= 2**31).any():
        return False
    rounding = _rounding(-q.shifts, folded_offset)
    return all(_high_bound(int(a), int(m)) + 1 + abs(int(r)) < 2**31
               for a, m, r in zip(q.bound, q.multipliers, rounding))


# Estimated rv32 instructions (GCC 12 -O2), from the inner loops' code: 46 per 16 MACs for a pair of
# interior pixels (2.9 per MAC), 25 per 8 for a lone pixel; ~25 per output for the epilogue.
_PAIR_PER_MAC_X10, _SINGLE_PER_MAC_X10, _RV_PER_OUTPUT = 29, 32, 25


def _conv_rv_why_not(graph: Graph, a: ConvArgs) -> str | None:
    if (reason := _conv_why_not(graph, a)) is not None:
        return reason
    return None if filter_rows(graph, a.filter) is not None else "filter not constant int8"


def _conv_rv_cost(a: ConvArgs) -> int:
    o, f = a.output_dims, a.filter_dims
    macs = o.n * o.h * o.w * round_up(o.c, RV_ROWS) * f.h * f.w * f.c
    per_mac = _PAIR_PER_MAC_X10 if o.h * o.w > 1 else _SINGLE_PER_MAC_X10
    return macs * per_mac // 10 + _RV_PER_OUTPUT * o.n * o.h * o.w * o.c


def _conv_rv_params(p, folded: bool) -> ConvRvParams:
    return ConvRvParams(input_offset=p.input_offset, output_offset=p.output_offset, stride=p.stride,
                        padding=p.padding, dilation=p.dilation, activation=p.activation, folded_rounding=int(folded))


def _make_conv_rv(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    p = a.params
    folded = folded_rounding(graph, a.bias, rows, a.requant, p.output_offset)
    args = (
        KernelArg("params", _conv_rv_params(p, folded)),
        KernelArg("channels", rv_channels(graph, a.bias, rows, p.input_offset, a.requant, p.output_offset)),
        KernelArg("input_dims", a.input_dims),
        KernelArg("input", a.input),
        KernelArg("filter_dims", a.filter_dims),
        KernelArg("filter", rv_weights(rows)),
        KernelArg("output_dims", a.output_dims),
        KernelArg("output", a.output),
    )
    return dataclasses.replace(call, function="tg_conv_s8_rv", args=args, scratch_bytes=0)


def _fc_rv_why_not(graph: Graph, a: FullyConnectedArgs) -> str | None:
    if (reason := _fc_why_not(graph, a)) is not None:
        return reason
    rows = filter_rows(graph, a.filter)
    if rows is None or rows.shape != (a.output_depth, a.accum_depth):
        return "weights not constant int8 [units][depth]"
    return None


def _fc_rv_cost(a: FullyConnectedArgs) -> int:
    per_mac = _PAIR_PER_MAC_X10 if a.batches > 1 else _SINGLE_PER_MAC_X10
    return a.batches * round_up(a.output_depth, RV_ROWS) * a.accum_depth * per_mac // 10 \
        + _RV_PER_OUTPUT * a.batches * a.output_depth


def _make_fc_rv(graph: Graph, call: KernelCall, a: FullyConnectedArgs) -> KernelCall:
    """FULLY_CONNECTED as tg_conv_s8_rv's 1x1 convolution over `batches` pixels (a column of them)."""
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    p = a.params
    params = ConvRvParams(input_offset=p.input_offset, output_offset=p.output_offset, stride=HW(1, 1),
                          padding=HW(0, 0), dilation=HW(1, 1), activation=p.activation,
                          folded_rounding=int(folded_rounding(graph, a.bias, rows, a.requant, p.output_offset)))
    args = (
        KernelArg("params", params),
        KernelArg("channels", rv_channels(graph, a.bias, rows, p.input_offset, a.requant, p.output_offset)),
        KernelArg("input_dims", Dims(1, a.batches, 1, a.accum_depth)),
        KernelArg("input", a.input),
        KernelArg("filter_dims", Dims(a.output_depth, 1, 1, a.accum_depth)),
        KernelArg("filter", rv_weights(rows)),
        KernelArg("output_dims", Dims(1, a.batches, 1, a.output_depth)),
        KernelArg("output", a.output),
    )
    return dataclasses.replace(call, function="tg_conv_s8_rv", args=args, scratch_bytes=0)


def _depthwise_rv_why_not(graph: Graph, a: DepthwiseArgs) -> str | None:
    if (reason := _depthwise_why_not(graph, a)) is not None:
        return reason
    return None if depthwise_rows(graph, a.filter) is not None else "filter not constant int8"


def _depthwise_rv_cost(a: DepthwiseArgs) -> int:
    """~4.3 instructions per MAC (a byte load of input and weight, MUL, ADD, addresses) and the epilogue
    per output."""
    o, f = a.output_dims, a.filter_dims
    outputs = o.n * o.h * o.w * o.c
    return outputs * (43 * f.h * f.w // 10 + _RV_PER_OUTPUT)


def rv_depthwise_weights(rows: np.ndarray) -> ConstArray:
    """[channel][tap] weights as tg_depthwise_conv_s8_rv reads them: per block of 4 channels (the last
    completed with zeros), tap by tap, one byte per channel."""
    channels, taps = rows.shape
    padded = np.zeros((round_up(channels, 4), taps), dtype=np.int8)
    padded[:channels] = rows
    return ConstArray("int8_t", np.ascontiguousarray(padded.reshape(-1, 4, taps).transpose(0, 2, 1)).reshape(-1))


def _depthwise_rv_call(graph: Graph, call: KernelCall, a: DepthwiseArgs, function: str, weights: ConstArray,
                       padded_to: int) -> KernelCall:
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    p = a.params
    folded = folded_rounding(graph, a.bias, rows, a.requant, p.output_offset)
    channels = rv_channels(graph, a.bias, rows, p.input_offset, a.requant, p.output_offset, padded_to=padded_to)
    args = depthwise_variant_args(a, _conv_rv_params(p, folded), channels, weights)
    return dataclasses.replace(call, function=function, args=args)


def _make_depthwise_rv(graph: Graph, call: KernelCall, a: DepthwiseArgs) -> KernelCall:
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    return dataclasses.replace(_depthwise_rv_call(graph, call, a, "tg_depthwise_conv_s8_rv",
                                                  rv_depthwise_weights(rows), 4), scratch_bytes=0)


# --- the in-place kernels' counterparts (kernels/inplace.py chose them for the arena) --------------

@dataclass(frozen=True)
class Conv1x1InplaceArgs(ConvArgs):
    pixels_copy: ScratchRef


@dataclass(frozen=True)
class DepthwiseInplaceArgs(DepthwiseArgs):
    plane: ScratchRef


def _with_scratch(call: KernelCall, function: str, scratch_name: str) -> KernelCall:
    """The out-of-place variant's call made by `make`, with the in-place call's scratch argument."""
    return dataclasses.replace(call, function=function, args=call.args + (KernelArg(scratch_name, ScratchRef()),))


def _make_conv_1x1_inplace_rv(graph: Graph, call: KernelCall, a: Conv1x1InplaceArgs) -> KernelCall:
    made = _make_conv_rv(graph, call, a)
    return dataclasses.replace(_with_scratch(made, "tg_conv_1x1_s8_inplace_rv", "pixels_copy"),
                               scratch_bytes=call.scratch_bytes)


def _make_depthwise_inplace_rv(graph: Graph, call: KernelCall, a: DepthwiseInplaceArgs) -> KernelCall:
    """Channel by channel over the copied plane: the weights per channel, tap by tap."""
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    made = _depthwise_rv_call(graph, call, a, "tg_depthwise_conv_s8_inplace_rv",
                              ConstArray("int8_t", np.ascontiguousarray(rows).reshape(-1)), 1)
    return _with_scratch(made, "tg_depthwise_conv_s8_inplace_rv", "plane")


def _depthwise_inplace_rv_cost(a: DepthwiseInplaceArgs) -> int:
    i = a.input_dims
    return _depthwise_rv_cost(a) + 4 * i.n * i.h * i.w * i.c  # the plane copies


RV_VARIANTS: tuple[Variant, ...] = (
    Variant("tg_conv_s8_rv", "tg_conv_s8", ConvArgs, RV_FEATURES, _conv_rv_why_not, _conv_rv_cost, _make_conv_rv,
            supersedes=frozenset({"tg_conv_s8_fast"}), any_window=True),
    Variant("tg_conv_s8_rv", "tg_fully_connected_s8", FullyConnectedArgs, RV_FEATURES, _fc_rv_why_not, _fc_rv_cost,
            _make_fc_rv, supersedes=frozenset({"tg_fully_connected_s8_fast"})),
    Variant("tg_depthwise_conv_s8_rv", "tg_depthwise_conv_s8", DepthwiseArgs, RV_FEATURES, _depthwise_rv_why_not,
            _depthwise_rv_cost, _make_depthwise_rv, supersedes=frozenset({"tg_depthwise_conv_s8_fast"}),
            any_window=True),
    Variant("tg_conv_1x1_s8_inplace_rv", "tg_conv_1x1_s8_inplace", Conv1x1InplaceArgs, RV_FEATURES,
            _conv_rv_why_not, _conv_rv_cost, _make_conv_1x1_inplace_rv,
            supersedes=frozenset({"tg_conv_1x1_s8_inplace"})),  # the portable kernel, a variant of itself
    Variant("tg_depthwise_conv_s8_inplace_rv", "tg_depthwise_conv_s8_inplace", DepthwiseInplaceArgs, RV_FEATURES,
            _depthwise_rv_why_not, _depthwise_inplace_rv_cost, _make_depthwise_inplace_rv,
            supersedes=frozenset({"tg_depthwise_conv_s8_inplace"})),
)
