"""Kernel variants: faster code for an operator, chosen per call from a registry by the board's ISA.

A lowering emits the reference kernel's call (runtime_c's tg_<op>_s8, shaped after TFLM). A variant
may take the same arguments (the `_fast` twins) or its own: the wide variants (tinygen/tg_wide.h)
get weights widened to int16 and interleaved at generation time, the input offset folded into the
bias, and scratch for their im2col column. Each variant states its conditions as types and checks
(op, shapes, quantization), the ISA features it needs, and a cost estimate; the cheapest variant
whose conditions hold on the board replaces the reference call. Every variant has the reference
kernel as its twin: tests/ops runs both against TFLM, tests/test_kernel_choice.py on the boards.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

import numpy as np

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.cvalues import HW, ChannelRequant, ConstArray, CStruct, Dims, NullPtr, Range, ScratchRef, TensorRef

WIDE_ROWS = 4  # TG_WIDE_ROWS in runtime_c/include/tinygen/tg_wide.h


# --- typed access to a reference call's arguments -------------------------------------------------

@dataclass(frozen=True)
class ConvArgs:
    params: CStruct  # tinygen.kernels.conv.ConvParams (not imported: conv.py imports this module's users)
    requant: ChannelRequant
    input_dims: Dims
    input: TensorRef
    filter_dims: Dims
    filter: TensorRef
    bias: TensorRef | NullPtr
    output_dims: Dims
    output: TensorRef


@dataclass(frozen=True)
class DepthwiseArgs(ConvArgs):
    pass


@dataclass(frozen=True)
class FullyConnectedArgs:
    params: CStruct  # tinygen.kernels.fully_connected.FullyConnectedParams
    requant: ChannelRequant
    batches: int
    accum_depth: int
    output_depth: int
    input: TensorRef
    filter: TensorRef
    bias: TensorRef | NullPtr
    output: TensorRef


@dataclass(frozen=True)
class AddArgs:
    params: CStruct  # tinygen.kernels.elementwise.AddParams
    size: int
    input1: TensorRef
    input2: TensorRef
    output: TensorRef


Args = TypeVar("Args", ConvArgs, DepthwiseArgs, FullyConnectedArgs, AddArgs)


def typed_args(call: KernelCall, cls: type[Args]) -> Args:
    """The call's arguments as cls, checked field by field (name, position and type)."""
    names = tuple(f.name for f in dataclasses.fields(cls))
    if tuple(a.name for a in call.args) != names:
        raise TypeError(f"{call.function}: arguments {[a.name for a in call.args]} are not {cls.__name__}'s")
    hints = typing.get_type_hints(cls)
    for arg in call.args:
        if not isinstance(arg.value, _runtime_types(hints[arg.name])):
            raise TypeError(f"{call.function}: argument {arg.name} is {type(arg.value).__name__}")
    return cls(*(a.value for a in call.args))


def _runtime_types(hint: object) -> tuple[type, ...]:
    return typing.get_args(hint) or (hint,)  # type: ignore[return-value]


# --- the variants' own C parameters (runtime_c/include/tinygen/tg_wide.h) --------------------------

@dataclass(frozen=True)
class ConvWideParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_conv_wide_params_t"
    input_offset: int
    output_offset: int
    stride: HW
    padding: HW
    dilation: HW
    activation: Range
    depth_padded: int


@dataclass(frozen=True)
class FcWideParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_fc_wide_params_t"
    output_offset: int
    activation: Range
    depth_padded: int
    uniform: int = 0  # 1: every channel's multiplier, shift and rounding the same (uniform_channels)


def uniform_channels(channels: ConstArray) -> int:
    """1 where the wide channel words (TG_WIDE_CHANNEL_WORDS per channel) share words 1-3, the
    multiplier, shift and rounding (a per-tensor quantized layer), for the epilogues that load them once."""
    words = channels.values.reshape(-1, WIDE_CHANNEL_WORDS)
    return int(bool((words[:, 1:4] == words[0, 1:4]).all()))


# --- generation-time data -----------------------------------------------------------------------

def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def wide_weights(rows: np.ndarray) -> ConstArray:
    """[out][depth] int8 weights as tg_wide.h's packed int16 pairs: depth padded to a multiple of 4
    and rows to a multiple of WIDE_ROWS with zeros; per block of rows, per 4 k, each row's (k0, k1)
    then each row's (k2, k3); a pair is one int32, k0 in its low half."""
    out, depth = rows.shape
    padded = np.zeros((round_up(out, WIDE_ROWS), round_up(depth, 4)), dtype=np.int16)
    padded[:out, :depth] = rows
    # [block][row][kb][half][k in pair] -> [block][kb][half][row][k in pair]
    blocks = padded.reshape(-1, WIDE_ROWS, padded.shape[1] // 4, 2, 2).transpose(0, 2, 3, 1, 4)
    pairs = np.ascontiguousarray(blocks).reshape(-1, 2).astype(np.int64)
    words = (pairs[:, 0] & 0xFFFF) | ((pairs[:, 1] & 0xFFFF) << 16)
    return ConstArray("int32_t", words.astype(np.uint32).view(np.int32))


def folded_bias(graph: Graph, bias: TensorRef | NullPtr, rows: np.ndarray, input_offset: int) -> np.ndarray:
    """bias + input_offset * sum_k w[k], per output channel, wrapped to int32 as the kernels' sums
    are (the same bits modulo 2^32 as adding the offset to every input)."""
    sums = rows.astype(np.int64).sum(axis=1) * input_offset
    if isinstance(bias, TensorRef):
        sums = sums + np.asarray(graph.tensor(bias.tensor).data, dtype=np.int64).ravel()
    return (sums & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def doubled_multipliers(multipliers: np.ndarray) -> np.ndarray:
    """Each multiplier m in [0, 2^31 - 1] as tg_wide_high_mul takes it: 2m modulo 2^32, as int32."""
    return ((2 * np.asarray(multipliers, dtype=np.int64)) & 0xFFFFFFFF).astype(np.uint32).view(np.int32)


def wide_channels(graph: Graph, bias: TensorRef | NullPtr, rows: np.ndarray, input_offset: int,
                  requant: ChannelRequant) -> ConstArray:
    """tg_wide.h's per-channel words: folded bias, the multiplier doubled (2m modulo 2^32, as
    tg_wide_high_mul takes it), right shift e, 2^(e - 1), bias; zeros for the rows that complete the
    last block. A zero multiplier (a channel whose scale is 0) gives 0 whatever the shift: it gets
    e = 1, which tg_wide_requantize takes."""
    out = rows.shape[0]
    multipliers = np.broadcast_to(requant.multiplier.values, (out,)).astype(np.int64)
    doubled = doubled_multipliers(multipliers).astype(np.int64)
    right = -np.broadcast_to(requant.shift.values, (out,)).astype(np.int64)
    right = np.where(multipliers == 0, 1, right)
    plain = np.zeros(out, dtype=np.int64) if isinstance(bias, NullPtr) else \
        np.asarray(graph.tensor(bias.tensor).data, dtype=np.int64).ravel()
    words = np.zeros((round_up(out, WIDE_ROWS), WIDE_CHANNEL_WORDS), dtype=np.int64)
    words[:out] = np.stack([folded_bias(graph, bias, rows, input_offset), doubled, right,
                            np.left_shift(1, right - 1), plain], axis=1)
    return ConstArray("int32_t", words.astype(np.int32))


WIDE_CHANNEL_WORDS = 5  # TG_WIDE_CHANNEL_WORDS
WIDE_ALWAYS_EXACT_SHIFT = 23  # right shifts up to this are exact for any accumulator (see tg_wide_dot.h)


def not_normalized(requant: ChannelRequant, out: int) -> str | None:
    """Why an epilogue without the mask (normalized_channels) cannot take these multipliers: each must be 0 or in [2^30, 2^31),
    as QuantizeMultiplier gives them."""
    multipliers = np.broadcast_to(requant.multiplier.values, (out,)).astype(np.int64)
    if ((multipliers != 0) & (multipliers < 1 << 30)).any():
        return "a multiplier below 2^30 (not normalized)"
    return None


_MULTIPLIER_HALF = 1 << 30  # doubled: INT32_MIN as the channel's word


def normalized_channels(rows: np.ndarray, channels: ConstArray) -> tuple[np.ndarray, ConstArray]:
    """The rows and tg_wide.h's channel words as the kernels whose asm epilogue has no mask take them
    (tg_conv_wide_pair_body.h's, the depthwise rows and window loops): every doubled multiplier with its
    sign bit set, so that the high multiply needs no mask. A channel whose multiplier is 0 (its output always the offset) gets zero weights and biases
    and the multiplier 2^30 instead: its sum is then 0, and so its high part."""
    words = channels.values.reshape(-1, WIDE_CHANNEL_WORDS).copy()
    dead = words[:rows.shape[0], 1] == 0
    words[:rows.shape[0]][dead] = (0, -2 * _MULTIPLIER_HALF, 1, 1, 0)
    live = rows.copy()
    live[dead] = 0
    return live, ConstArray("int32_t", words.reshape(-1))


def wide_requant_why_not(graph: Graph, bias: TensorRef | NullPtr, rows: np.ndarray, input_offset: int,
                         requant: ChannelRequant) -> str | None:
    """None where tg_wide_requantize gives TFLM's bits for every channel. Right shifts in [1, 23] are
    exact for any accumulator. A larger one is exact where QADD cannot saturate: the accumulator
    (bias' + sum w * x, x in [-128, 127]; any int32 if that bound passes 2^31) times the multiplier
    stays below (2^31 - 2^(e - 1)) * 2^31 - 2^30. A shift of 0 (a multiplier in [0.5, 1)) is not taken."""
    out = rows.shape[0]
    multipliers = np.broadcast_to(requant.multiplier.values, (out,)).astype(object)
    right = -np.broadcast_to(requant.shift.values, (out,)).astype(np.int64)
    bias_folded = folded_bias(graph, bias, rows, input_offset).astype(np.int64)
    spans = np.abs(bias_folded) + 128 * np.abs(rows.astype(np.int64)).sum(axis=1)
    for channel in range(out):
        m, e = int(multipliers[channel]), int(right[channel])
        if m == 0 or 1 <= e <= WIDE_ALWAYS_EXACT_SHIFT:
            continue
        if e < 1 or e > 31:
            return f"channel {channel}: right shift {e} outside [1, 31]"
        span = min(int(spans[channel]), 2**31)
        if span * m + 2**30 >= (2**31 - 2 ** (e - 1)) * 2**31:
            return f"channel {channel}: right shift {e} with accumulators that may saturate the rounding"
    return None


def filter_rows(graph: Graph, filter_ref: TensorRef) -> np.ndarray | None:
    data = graph.tensor(filter_ref.tensor).data
    if data is None:
        return None
    data = np.asarray(data)
    return data.reshape(data.shape[0], -1) if data.dtype == np.int8 else None


# --- the registry -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Variant(Generic[Args]):
    """A kernel that may replace `replaces` where its conditions hold on a board with `needs`."""

    function: str
    replaces: str
    args: type[Args]
    needs: frozenset[str]
    why_not: Callable[[Graph, Args], str | None]  # None: it applies; else the condition that fails
    cost: Callable[[Args], int]                   # estimated instructions for the call
    make: Callable[[Graph, KernelCall, Args], KernelCall] = lambda graph, call, args: call
    # Variants this one displaces where both apply (their cost estimates are another core's: e.g. the
    # portable twins' SMLAD emulation on a core without SIMD costs far more than their M4 estimate).
    supersedes: frozenset[str] = frozenset()
    # Computes any window of its output from the matching window of its input (dims, padding or size
    # read at run time, taps outside the input skipped): it may run in a patch stage, whose calls get
    # each patch's dims and local padding (schedule/patches.py), where it takes no scratch.
    any_window: bool = False


def _quantize_multiplier_range(requant: ChannelRequant) -> bool:
    """The variants' requantization (tg_dot_requantize) takes what QuantizeMultiplier gives: multipliers
    in [0, 2^31 - 1], shifts in [-31, 30]. Always so today; checked so that it stays a guarantee."""
    multipliers, shifts = requant.multiplier.values, requant.shift.values
    return bool((multipliers >= 0).all() and (shifts >= -31).all() and (shifts <= 30).all())


def _conv_macs(a: ConvArgs) -> int:
    o, f = a.output_dims, a.filter_dims
    return o.n * o.h * o.w * o.c * f.h * f.w * f.c


def _fc_macs(a: FullyConnectedArgs) -> int:
    return a.batches * a.accum_depth * a.output_depth


# Estimated instructions on the Cortex-M4 (GCC 12 -O2), fitted to single-layer runs in QEMU: the
# _fast twins ~2 per MAC (2.5 for depthwise) and ~40 per output (60 for depthwise: window set-up);
# the wide variants 1 per MAC of the padded block (the 16-instruction inner loop), ~3 per im2col
# element, ~30 per block of four channels and ~18 per output (fitted with the SMLAL + QADD epilogue;
# the SMMLAR one takes ~11; not refitted, so their cost is overstated); the wide
# depthwise ~2 per MAC and ~45 per output.
_FAST_PER_OUTPUT = 40
_WIDE_PER_ELEMENT, _WIDE_PER_BLOCK, _WIDE_PER_OUTPUT = 3, 30, 18


def _wide_dot_cost(columns: int, depth: int, channels: int) -> int:
    """columns im2col columns of depth, each against channels rows in blocks of WIDE_ROWS."""
    depth_padded, rows = round_up(depth, 4), round_up(channels, WIDE_ROWS)
    per_column = (_WIDE_PER_ELEMENT * depth_padded + rows * depth_padded + rows // WIDE_ROWS * _WIDE_PER_BLOCK
                  + channels * _WIDE_PER_OUTPUT)
    return columns * per_column


def _conv_why_not(graph: Graph, a: ConvArgs) -> str | None:
    if a.filter_dims.c != a.input_dims.c:
        return "grouped convolution"
    if not _quantize_multiplier_range(a.requant):
        return "multiplier outside QuantizeMultiplier's range"
    return None


def _conv_wide_why_not(graph: Graph, a: ConvArgs) -> str | None:
    if (reason := _conv_why_not(graph, a)) is not None:
        return reason
    rows = filter_rows(graph, a.filter)
    if rows is None:
        return "filter not constant int8"
    return wide_requant_why_not(graph, a.bias, rows, a.params.input_offset, a.requant)


# An odd input depth (a stem's three channels) leaves every run of taps but the first unaligned, and
# tg_widen_s8 takes it a value at a time around each: ~9 per value on VWW's 3x3x3 stem (1.57 M for
# 2,304 pixels against the 1.18 M that 3 per value gives).
_WIDE_PER_ELEMENT_ODD = 9


def _conv_wide_cost(a: ConvArgs) -> int:
    o, f = a.output_dims, a.filter_dims
    cost = _wide_dot_cost(o.n * o.h * o.w, f.h * f.w * f.c, o.c)
    if f.c % 2:
        cost += o.n * o.h * o.w * (_WIDE_PER_ELEMENT_ODD - _WIDE_PER_ELEMENT) * round_up(f.h * f.w * f.c, 4)
    return cost


def _make_conv_wide(graph: Graph, call: KernelCall, a: ConvArgs) -> KernelCall:
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    depth_padded = round_up(rows.shape[1], 4)
    p = a.params
    params = ConvWideParams(input_offset=p.input_offset, output_offset=p.output_offset, stride=p.stride,
                            padding=p.padding, dilation=p.dilation, activation=p.activation,
                            depth_padded=depth_padded)
    args = (
        KernelArg("params", params),
        KernelArg("channels", wide_channels(graph, a.bias, rows, p.input_offset, a.requant)),
        KernelArg("input_dims", a.input_dims),
        KernelArg("input", a.input),
        KernelArg("filter_dims", a.filter_dims),
        KernelArg("filter", wide_weights(rows)),
        KernelArg("output_dims", a.output_dims),
        KernelArg("output", a.output),
        KernelArg("scratch", ScratchRef()),
    )
    return dataclasses.replace(call, function="tg_conv_s8_wide", args=args, scratch_bytes=2 * depth_padded)


def _fc_why_not(graph: Graph, a: FullyConnectedArgs) -> str | None:
    if a.params.filter_offset != 0:
        return "weights with a zero point"
    if not _quantize_multiplier_range(a.requant):
        return "multiplier outside QuantizeMultiplier's range"
    return None


def _fc_wide_why_not(graph: Graph, a: FullyConnectedArgs) -> str | None:
    if (reason := _fc_why_not(graph, a)) is not None:
        return reason
    rows = filter_rows(graph, a.filter)
    if rows is None or rows.shape != (a.output_depth, a.accum_depth):
        return "weights not constant int8 [units][depth]"
    return wide_requant_why_not(graph, a.bias, rows, a.params.input_offset, a.requant)


def _make_fc_wide(graph: Graph, call: KernelCall, a: FullyConnectedArgs) -> KernelCall:
    rows = filter_rows(graph, a.filter)
    assert rows is not None
    depth_padded = round_up(a.accum_depth, 4)
    p = a.params
    params = FcWideParams(output_offset=p.output_offset, activation=p.activation, depth_padded=depth_padded)
    args = (
        KernelArg("params", params),
        KernelArg("channels", wide_channels(graph, a.bias, rows, p.input_offset, a.requant)),
        KernelArg("batches", a.batches),
        KernelArg("accum_depth", a.accum_depth),
        KernelArg("output_depth", a.output_depth),
        KernelArg("input", a.input),
        KernelArg("filter", wide_weights(rows)),
        KernelArg("output", a.output),
        KernelArg("scratch", ScratchRef()),
    )
    return dataclasses.replace(call, function="tg_fully_connected_s8_wide", args=args, scratch_bytes=2 * depth_padded)


def _depthwise_why_not(graph: Graph, a: DepthwiseArgs) -> str | None:
    if a.params.depth_multiplier != 1:
        return "depth multiplier != 1"
    if not _quantize_multiplier_range(a.requant):
        return "multiplier outside QuantizeMultiplier's range"
    return None


@dataclass(frozen=True)
class DepthwiseWideParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_depthwise_wide_params_t"
    input_offset: int
    output_offset: int
    stride: HW
    padding: HW
    dilation: HW
    activation: Range


def depthwise_rows(graph: Graph, filter_ref: TensorRef) -> np.ndarray | None:
    """[channel][tap] weights of a [1, H, W, C] depthwise filter."""
    data = graph.tensor(filter_ref.tensor).data
    if data is None or np.asarray(data).dtype != np.int8:
        return None
    data = np.asarray(data)
    return np.ascontiguousarray(data.reshape(-1, data.shape[-1]).T)


def depthwise_wide_weights(rows: np.ndarray) -> ConstArray:
    """tg_depthwise_conv_s8_wide's layout: per four channels, per tap, (w[c0], w[c2]) then (w[c1], w[c3])."""
    channels, taps = rows.shape
    padded = np.zeros((round_up(channels, 4), taps), dtype=np.int64)
    padded[:channels] = rows
    groups = padded.reshape(-1, 2, 2, taps).transpose(0, 3, 1, 2)  # [group][tap][c0c1 vs c2c3][even/odd]
    lo, hi = groups[:, :, 0, :], groups[:, :, 1, :]                  # (c0, c1) and (c2, c3)
    words = (lo & 0xFFFF) | ((hi & 0xFFFF) << 16)                     # (c0, c2) and (c1, c3)
    return ConstArray("int32_t", words.reshape(-1).astype(np.uint32).view(np.int32))


def depthwise_variant_args(a: DepthwiseArgs, params: CStruct, channels: ConstArray,
                           weights: ConstArray) -> tuple[KernelArg, ...]:
    """The arguments every depthwise variant with its own data takes, in their C order: params,
    channels, input dims and input, filter dims and the variant's weights, output dims and output."""
    return (
        KernelArg("params", params),
        KernelArg("channels", channels),
        KernelArg("input_dims", a.input_dims),
        KernelArg("input", a.input),
        KernelArg("filter_dims", a.filter_dims),
        KernelArg("filter", weights),
        KernelArg("output_dims", a.output_dims),
        KernelArg("output", a.output),
    )


def _depthwise_wide_why_not(graph: Graph, a: DepthwiseArgs) -> str | None:
    if (reason := _depthwise_why_not(graph, a)) is not None:
        return reason
    rows = depthwise_rows(graph, a.filter)
    if rows is None:
        return "filter not constant int8"
    return (wide_requant_why_not(graph, a.bias, rows, a.params.input_offset, a.requant)
            or not_normalized(a.requant, rows.shape[0]))


def _make_depthwise_wide(graph: Graph, call: KernelCall, a: DepthwiseArgs) -> KernelCall:
    """Channels normalized (normalized_channels): inside_groups3x3's asm epilogue has no mask."""
    rows = depthwise_rows(graph, a.filter)
    assert rows is not None
    rows, channels = normalized_channels(rows, wide_channels(graph, a.bias, rows, a.params.input_offset, a.requant))
    p = a.params
    params = DepthwiseWideParams(input_offset=p.input_offset, output_offset=p.output_offset, stride=p.stride,
                                 padding=p.padding, dilation=p.dilation, activation=p.activation)
    args = depthwise_variant_args(a, params, channels, depthwise_wide_weights(rows))
    return dataclasses.replace(call, function="tg_depthwise_conv_s8_wide", args=args)


def _output_elements(dims: Dims) -> int:
    return dims.n * dims.h * dims.w * dims.c


VARIANTS: tuple[Variant, ...] = (
    Variant("tg_conv_s8_fast", "tg_conv_s8", ConvArgs, frozenset(), _conv_why_not,
            lambda a: 2 * _conv_macs(a) + _FAST_PER_OUTPUT * _output_elements(a.output_dims), any_window=True),
    Variant("tg_conv_s8_wide", "tg_conv_s8", ConvArgs, frozenset({"dsp"}), _conv_wide_why_not, _conv_wide_cost,
            _make_conv_wide),
    Variant("tg_depthwise_conv_s8_fast", "tg_depthwise_conv_s8", DepthwiseArgs, frozenset(), _depthwise_why_not,
            lambda a: 5 * _conv_macs(a) // a.filter_dims.c // 2 + 60 * _output_elements(a.output_dims),
            any_window=True),
    Variant("tg_depthwise_conv_s8_wide", "tg_depthwise_conv_s8", DepthwiseArgs, frozenset({"dsp"}),
            _depthwise_wide_why_not,
            lambda a: 2 * _conv_macs(a) // a.filter_dims.c + 45 * _output_elements(a.output_dims),
            _make_depthwise_wide, any_window=True),
    Variant("tg_fully_connected_s8_fast", "tg_fully_connected_s8", FullyConnectedArgs, frozenset(), _fc_why_not,
            lambda a: 2 * _fc_macs(a) + _FAST_PER_OUTPUT * a.batches * a.output_depth),
    Variant("tg_fully_connected_s8_wide", "tg_fully_connected_s8", FullyConnectedArgs, frozenset({"dsp"}),
            _fc_wide_why_not, lambda a: _wide_dot_cost(a.batches, a.accum_depth, a.output_depth), _make_fc_wide),
)


@dataclass(frozen=True)
class Choice:
    """Why a call got its kernel: every variant considered, with its cost or the reason it was out."""

    op_index: int
    function: str
    considered: tuple[tuple[str, str], ...]  # (variant, "~N instructions" or why not)

    def describe(self) -> str:
        return "; ".join(f"{name}: {note}" for name, note in self.considered) or "no variant"


def registered_variants() -> tuple[Variant, ...]:
    """The registry: the variants above and those of the ISA modules that build on this one
    (imported when asked for, as they import this module)."""
    from tinygen.kernels.variants_rv import RV_VARIANTS
    return VARIANTS + RV_VARIANTS


def not_any_window(reference: str) -> frozenset[str]:
    """The variants of `reference` that cannot run over a patch's window (see Variant.any_window)."""
    return frozenset(v.function for v in registered_variants() if v.replaces == reference and not v.any_window)


def choose_variant(graph: Graph, call: KernelCall, isa_features: frozenset[str],
                   exclude: frozenset[str] = frozenset()) -> tuple[KernelCall, Choice]:
    """The cheapest variant of the call on a board with isa_features, leaving out the variants named
    in exclude (the ones a caller refused, e.g. for their scratch)."""
    best: tuple[int, Variant, object] | None = None
    considered: list[tuple[str, str]] = []
    candidates = [v for v in registered_variants() if v.replaces == call.function and v.function not in exclude]
    reasons = {}
    for variant in candidates:
        missing = variant.needs - isa_features
        reasons[variant.function] = f"needs {', '.join(sorted(missing))}" if missing else \
            variant.why_not(graph, typed_args(call, variant.args))
    for variant in candidates:
        if reasons[variant.function] is None:
            for displaced in variant.supersedes & reasons.keys():
                if reasons[displaced] is None:
                    reasons[displaced] = f"superseded by {variant.function} on this core"
    for variant in candidates:
        args = typed_args(call, variant.args)
        reason = reasons[variant.function]
        if reason is not None:
            considered.append((variant.function, reason))
            continue
        cost = variant.cost(args)
        considered.append((variant.function, f"~{cost} instructions"))
        if best is None or cost < best[0]:
            best = (cost, variant, args)
    if best is None:
        return call, Choice(call.op_index, call.function, tuple(considered))
    _, variant, args = best
    chosen = dataclasses.replace(variant.make(graph, call, args), function=variant.function)
    return chosen, Choice(call.op_index, variant.function, tuple(considered))


# The DSP extension's in-place variants (tinygen/kernels/variants_dsp.py), registered here.
from tinygen.kernels.variants_dsp import DSP_VARIANTS  # noqa: E402  (it builds on this module's names)

VARIANTS = VARIANTS + DSP_VARIANTS
# The one-channel-at-a-time DSP depthwise (tinygen/kernels/variants_dsp_lines.py).
from tinygen.kernels.variants_dsp_lines import LINES_VARIANTS  # noqa: E402
from tinygen.kernels.variants_dsp_plane import PLANE_VARIANTS  # noqa: E402

VARIANTS = VARIANTS + LINES_VARIANTS + PLANE_VARIANTS
# The Helium (MVE) variants live in their own module, which builds on this one's.
from tinygen.kernels.variants_mve import MVE_VARIANTS  # noqa: E402

VARIANTS = VARIANTS + MVE_VARIANTS
