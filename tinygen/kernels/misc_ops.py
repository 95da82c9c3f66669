"""Lowerings of issue 10's second set (ops-a), int8, each following its TFLite Micro kernel's Prepare
arithmetic: ELU (a 256-entry table built as TFLM's PopulateLookupTable builds it, in float32 with the
host libm's expf), RSQRT, ADD_N, ZEROS_LIKE, LESS/GREATER/EQUAL/NOT_EQUAL/LESS_EQUAL/GREATER_EQUAL,
SELECT_V2, CUMSUM, L2_NORMALIZATION, GATHER_ND and SPACE_TO_BATCH_ND (its index arithmetic
tabulated at generation time)."""

from __future__ import annotations

import ctypes
import ctypes.util
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Operator, Tensor
from tinygen.ir.quant import activation_range, f32, quantize_multiplier, round_half_away_f32
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import activation_reads, elementwise_call, quantized, require_shape, unary_operands
from tinygen.kernels.cvalues import ConstArray, CStruct, Range, Requant, ScratchRef, TensorRef
from tinygen.kernels.data_movement import int8_operands, row_major_strides
from tinygen.kernels.elementwise import quantize_multiplier_smaller_than_one_exp
from tinygen.kernels.registry import lowering

NARY_RANK = 6               # TG_MISC_RANK
COMPARE_LEFT_SHIFT = 8      # comparisons.cc kLeftShift
SUM_LEFT_SHIFT = 20         # add_n.cc kAddNIntegerShift, cumsum.cc kCumSumIntegerShift
GATHER_ND_MAX_DEPTH = 5     # gather_nd.cc MAX_INDICES_ND
COMPARE_BROADCAST_RANK = 4  # Broadcast4DSlow...WithScaling
SELECT_BROADCAST_RANK = 5   # BroadcastSelect5DSlow
L2NORM_MAX_RANK = 4


def _fail(op: Operator, why: str) -> UnsupportedModelError:
    return UnsupportedModelError(f"operator #{op.index} {op.kind}: {why}")


def _requant(m) -> Requant:
    return Requant(m.multiplier, m.shift)


# --- ELU: TFLM's lookup table ----------------------------------------------------------------

@lru_cache(maxsize=1)
def _libm_expf():
    libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    expf = libm.expf
    expf.restype = ctypes.c_float
    expf.argtypes = [ctypes.c_float]
    return expf


def elu_table(in_scale: float, in_zp: int, out_scale: float, out_zp: int) -> np.ndarray:
    """elu.cc PopulateLookupTable<int8_t>: every step in float32, std::exp(float) being the C
    library's expf (the host's, which TFLite Micro's Python interpreter calls too)."""
    expf = _libm_expf()
    inverse_scale = f32(1.0) / f32(out_scale)
    table = np.zeros(256, dtype=np.int8)
    for val in range(-128, 128):
        dequantized = f32(in_scale) * f32(val - in_zp)
        transformed = f32(f32(expf(float(dequantized))) - f32(1.0)) if dequantized < 0 else dequantized
        with np.errstate(over="ignore", invalid="ignore"):
            rescaled = round_half_away_f32(f32(transformed * inverse_scale))
            shifted = f32(rescaled + f32(out_zp))
        # static_cast<int32_t> of the float, then clamped to int8.
        quantized_value = int(shifted) if math.isfinite(shifted) and abs(shifted) < 2**31 else (
            -(2**31) if shifted < 0 else 2**31 - 1)
        table[val & 0xFF] = max(-128, min(127, quantized_value))
    return table


@lowering(ops.Elu)
def lower_elu(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    table = ConstArray("int8_t", elu_table(in_scale, in_zp, out_scale, out_zp))
    return (elementwise_call(op, "tg_lut_s8", "table", table, inp, out),)


# --- RSQRT ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class RsqrtParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_rsqrt_params_t"
    input_offset: int
    output_offset: int
    output: Requant


@lowering(ops.Rsqrt)
def lower_rsqrt(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    # SetRsqrtOutputMultiplier: sqrt and product in float, the reciprocal in double.
    product = f32(np.sqrt(f32(in_scale)) * f32(out_scale))
    multiplier = quantize_multiplier(1.0 / float(product))
    params = RsqrtParams(input_offset=in_zp, output_offset=out_zp, output=_requant(multiplier))
    return (elementwise_call(op, "tg_rsqrt_s8", "params", params, inp, out),)


# --- ADD_N and CUMSUM: ADD's rescaling with one input scale ------------------------------------

def _sum_multipliers(op: Operator, in_scale: float, out_scale: float):
    """add_n.cc / cumsum.cc CalculateOpData: in double, from the float32 scales."""
    twice_max_input_scale = 2.0 * float(f32(in_scale))
    real_input = float(f32(in_scale)) / twice_max_input_scale
    real_output = twice_max_input_scale / ((1 << SUM_LEFT_SHIFT) * float(f32(out_scale)))
    what = f"operator #{op.index} {op.kind}"
    return (quantize_multiplier_smaller_than_one_exp(real_input, what),
            quantize_multiplier_smaller_than_one_exp(real_output, what))


@dataclass(frozen=True)
class AddNParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_add_n_params_t"
    count: int
    input_offset: int
    output_offset: int
    left_shift: int
    input: Requant
    output: Requant
    activation: Range


@lowering(ops.AddN)
def lower_add_n(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inputs = [graph.tensor(i) for i in op.inputs]
    out = graph.tensor(op.outputs[0])
    for t in inputs:
        int8_operands(op, t, out)
        require_shape(op, t, tuple(out.shape))
    in_scale, in_zp = quantized(op, inputs[0])
    out_scale, out_zp = quantized(op, out)
    m_in, m_out = _sum_multipliers(op, in_scale, out_scale)
    params = AddNParams(count=len(inputs), input_offset=-in_zp, output_offset=out_zp, left_shift=SUM_LEFT_SHIFT,
                        input=_requant(m_in), output=_requant(m_out),
                        activation=Range(*activation_range(ops.Activation.NONE, out_scale, out_zp)))
    return (KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_add_n_s8",
        args=(KernelArg("params", params), KernelArg("size", out.num_elements), KernelArg("scratch", ScratchRef()),
              KernelArg("output", TensorRef(out.index)),
              *(KernelArg(f"input{j}", TensorRef(t.index)) for j, t in enumerate(inputs))),
        reads=activation_reads(*inputs), writes=(out.index,), scratch_bytes=4 * out.num_elements),)


@dataclass(frozen=True)
class CumSumParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_cumsum_params_t"
    input_offset: int
    output_offset: int
    left_shift: int
    input: Requant
    output: Requant
    activation: Range
    before: int
    depth: int
    after: int
    exclusive: int
    reverse: int


@lowering(ops.CumSum)
def lower_cumsum(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.CumSum = op.attrs
    inp, out = unary_operands(graph, op)
    rank = len(inp.shape)
    if rank < 1:
        raise _fail(op, "a scalar input; TFLite Micro needs rank >= 1")
    axis = attrs.axis + rank if attrs.axis < 0 else attrs.axis
    if not 0 <= axis < rank:
        raise _fail(op, f"axis {attrs.axis} of a rank-{rank} input; TFLite Micro fails on it")
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    m_in, m_out = _sum_multipliers(op, in_scale, out_scale)
    params = CumSumParams(
        input_offset=-in_zp, output_offset=out_zp, left_shift=SUM_LEFT_SHIFT, input=_requant(m_in),
        output=_requant(m_out), activation=Range(*activation_range(ops.Activation.NONE, out_scale, out_zp)),
        before=math.prod(inp.shape[:axis]), depth=inp.shape[axis], after=math.prod(inp.shape[axis + 1:]),
        exclusive=int(attrs.exclusive), reverse=int(attrs.reverse))
    return (elementwise_call(op, "tg_cumsum_s8", "params", params, inp, out, with_size=False),)


# --- ZEROS_LIKE -----------------------------------------------------------------------------

@lowering(ops.ZerosLike)
def lower_zeros_like(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    require_shape(op, out, tuple(inp.shape))
    return (KernelCall(op_index=op.index, op_kind=op.kind, function="tg_zeros_like",
                       args=(KernelArg("bytes", out.nbytes), KernelArg("output", TensorRef(out.index))),
                       reads=(), writes=(out.index,)),)


# --- broadcasting over several inputs --------------------------------------------------------

@dataclass(frozen=True)
class NaryBroadcast(CStruct):
    C_TYPE: ClassVar[str] = "tg_nary_broadcast_t"
    output_dims: ConstArray
    strides: ConstArray


def _broadcast_shape(op: Operator, tensors: list[Tensor]) -> tuple[int, ...]:
    rank = max(len(t.shape) for t in tensors)
    result = []
    for axis in range(rank):
        sizes = {t.shape[axis - rank + len(t.shape)] for t in tensors if axis - rank + len(t.shape) >= 0}
        big = sizes - {1}
        if len(big) > 1:
            raise InvalidModelError(f"operator #{op.index} {op.kind}: shapes "
                                    f"{', '.join(str(list(t.shape)) for t in tensors)} cannot be broadcast together")
        result.append(big.pop() if big else 1)
    return tuple(result)


def nary_broadcast(op: Operator, inputs: list[Tensor], out: Tensor, max_broadcast_rank: int) -> NaryBroadcast:
    shape = _broadcast_shape(op, inputs)
    require_shape(op, out, shape)
    if len({t.shape for t in inputs}) > 1 and len(shape) > max_broadcast_rank:
        raise _fail(op, f"broadcasting to rank {len(shape)}; TFLite Micro's kernel broadcasts up to rank {max_broadcast_rank}")
    if len(shape) > NARY_RANK:
        raise _fail(op, f"rank {len(shape)}; at most {NARY_RANK}")
    padded_out = (1,) * (NARY_RANK - len(shape)) + shape
    strides = []
    for t in inputs:
        padded = (1,) * (NARY_RANK - len(t.shape)) + tuple(t.shape)
        contiguous = row_major_strides(padded)
        strides.extend(s if d == o and d != 1 else 0 for s, d, o in zip(contiguous, padded, padded_out))
    return NaryBroadcast(output_dims=ConstArray("int32_t", np.array(padded_out, dtype=np.int32)),
                         strides=ConstArray("int32_t", np.array(strides, dtype=np.int32)))


# --- comparisons and SELECT_V2 ---------------------------------------------------------------

# The outcomes (TG_OUTCOME_LESS 1, _EQUAL 2, _GREATER 4) for which each comparison is true.
_PREDICATES = {"<": 1, "<=": 3, ">": 4, ">=": 6, "==": 2, "!=": 5}


@dataclass(frozen=True)
class CompareParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_compare_params_t"
    predicate: int
    input1_offset: int
    input2_offset: int
    left_shift: int
    input1: Requant
    input2: Requant


def lower_comparison(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    in1, in2 = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
    out = graph.tensor(op.outputs[0])
    if out.dtype is not DType.BOOL:
        raise _fail(op, f"output '{out.name}' is {out.dtype.value}, not bool")
    broadcast = nary_broadcast(op, [in1, in2], out, COMPARE_BROADCAST_RANK)
    s1, zp1 = quantized(op, in1)
    s2, zp2 = quantized(op, in2)
    # ComparisonsPrepare: each input's own scale, QuantizeMultiplierSmallerThanOneExp (scale < 1).
    m1 = quantize_multiplier_smaller_than_one_exp(float(f32(s1)), f"operator #{op.index} {op.kind}, input '{in1.name}' scale")
    m2 = quantize_multiplier_smaller_than_one_exp(float(f32(s2)), f"operator #{op.index} {op.kind}, input '{in2.name}' scale")
    params = CompareParams(predicate=_PREDICATES[op.attrs.PREDICATE], input1_offset=-zp1, input2_offset=-zp2,
                           left_shift=COMPARE_LEFT_SHIFT, input1=_requant(m1), input2=_requant(m2))
    return (KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_compare_s8",
        args=(KernelArg("params", params), KernelArg("broadcast", broadcast),
              KernelArg("input1", TensorRef(in1.index)), KernelArg("input2", TensorRef(in2.index)),
              KernelArg("output", TensorRef(out.index))),
        reads=activation_reads(in1, in2), writes=(out.index,)),)


for _cls in (ops.Less, ops.Greater, ops.Equal, ops.NotEqual, ops.LessEqual, ops.GreaterEqual):
    lowering(_cls)(lower_comparison)


@lowering(ops.SelectV2)
def lower_select_v2(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    cond, x, y = (graph.tensor(i) for i in op.inputs)
    out = graph.tensor(op.outputs[0])
    int8_operands(op, x, out)
    int8_operands(op, y, out)
    broadcast = nary_broadcast(op, [cond, x, y], out, SELECT_BROADCAST_RANK)
    return (KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_select_s8",
        args=(KernelArg("broadcast", broadcast), KernelArg("condition", TensorRef(cond.index)),
              KernelArg("x", TensorRef(x.index)), KernelArg("y", TensorRef(y.index)),
              KernelArg("output", TensorRef(out.index))),
        reads=activation_reads(cond, x, y), writes=(out.index,)),)


# --- L2_NORMALIZATION ------------------------------------------------------------------------

@dataclass(frozen=True)
class L2NormParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_l2norm_params_t"
    input_zero_point: int
    outer: int
    depth: int


@lowering(ops.L2Normalization)
def lower_l2_normalization(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    if len(inp.shape) > L2NORM_MAX_RANK or not inp.shape:
        raise _fail(op, f"rank-{len(inp.shape)} input; TFLite Micro takes rank 1 to {L2NORM_MAX_RANK}")
    _, in_zp = quantized(op, inp)
    depth = inp.shape[-1]
    params = L2NormParams(input_zero_point=in_zp, outer=inp.num_elements // depth, depth=depth)
    return (elementwise_call(op, "tg_l2norm_s8", "params", params, inp, out, with_size=False),)


# --- GATHER_ND -------------------------------------------------------------------------------

@dataclass(frozen=True)
class GatherNdParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_gather_nd_params_t"
    slices: int
    index_depth: int
    slice_size: int
    params_size: int
    dim_strides: ConstArray


@lowering(ops.GatherNd)
def lower_gather_nd(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    values, indices = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
    out = graph.tensor(op.outputs[0])
    int8_operands(op, values, out)
    if not values.shape or not indices.shape:
        raise _fail(op, "scalar params or indices; TFLite Micro needs at least vectors")
    depth = indices.shape[-1]
    if depth > len(values.shape):
        raise _fail(op, f"index depth {depth} above the params' rank {len(values.shape)}; TFLite Micro refuses it")
    if depth > GATHER_ND_MAX_DEPTH:
        raise _fail(op, f"index depth {depth}; TFLite Micro takes at most {GATHER_ND_MAX_DEPTH}")
    require_shape(op, out, tuple(indices.shape[:-1]) + tuple(values.shape[depth:]))
    slice_size = math.prod(values.shape[depth:])
    strides = row_major_strides(tuple(values.shape))[:depth]
    if indices.is_constant:
        positions = np.asarray(indices.data, dtype=np.int64).reshape(-1, depth) @ np.array(strides, dtype=np.int64)
        if ((positions < 0) | (positions + slice_size > values.num_elements)).any():
            raise _fail(op, "constant indices out of range; TFLite Micro fails on them")
    params = GatherNdParams(slices=math.prod(indices.shape[:-1]), index_depth=depth, slice_size=slice_size,
                            params_size=values.num_elements,
                            dim_strides=ConstArray("int32_t", np.array(strides or (0,), dtype=np.int32)))
    return (KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_gather_nd_s8",
        args=(KernelArg("params", params), KernelArg("values", TensorRef(values.index)),
              KernelArg("indices", TensorRef(indices.index)), KernelArg("output", TensorRef(out.index))),
        reads=activation_reads(values, indices), writes=(out.index,)),)


# --- SPACE_TO_BATCH_ND -----------------------------------------------------------------------

@dataclass(frozen=True)
class RowGatherParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_row_gather_params_t"
    rows: int
    depth: int
    pad_value: int
    sources: ConstArray


@lowering(ops.SpaceToBatchNd)
def lower_space_to_batch(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.SpaceToBatchNd = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    four = len(inp.shape) == 4
    if len(out.shape) != len(inp.shape):
        raise _fail(op, f"input rank {len(inp.shape)}, output rank {len(out.shape)}; TFLite Micro needs them equal")
    # ExtendShapeSpaceToBatch: a rank-3 tensor is [batch, height, 1, depth].
    b, h, w, d = inp.shape if four else (inp.shape[0], inp.shape[1], 1, inp.shape[2])
    block_h, block_w = (attrs.block[0], attrs.block[1]) if four else (attrs.block[0], 1)
    (pad_top, pad_bottom), (pad_left, pad_right) = attrs.paddings[0], attrs.paddings[1] if four else (0, 0)
    if min(block_h, block_w) < 1 or min(pad_top, pad_bottom, pad_left, pad_right) < 0:
        raise _fail(op, f"block {list(attrs.block)} or paddings {[list(p) for p in attrs.paddings]} not positive")
    padded_h, padded_w = h + pad_top + pad_bottom, w + pad_left + pad_right
    if padded_h % block_h or padded_w % block_w:
        raise _fail(op, f"padded size {padded_h}x{padded_w} not a multiple of the block {block_h}x{block_w}")
    expected = (b * block_h * block_w, padded_h // block_h, padded_w // block_w, d)
    require_shape(op, out, expected if four else (expected[0], expected[1], d))
    out_b, out_h, out_w = expected[:3]
    sources = np.full(out_b * out_h * out_w, -1, dtype=np.int32)
    row = 0
    for ob in range(out_b):
        ib = ob % b
        shift_w = (ob // b) % block_w
        shift_h = (ob // b) // block_w
        for oh in range(out_h):
            for ow in range(out_w):
                ih = oh * block_h + shift_h - pad_top
                iw = ow * block_w + shift_w - pad_left
                if 0 <= ih < h and 0 <= iw < w:
                    sources[row] = ((ib * h + ih) * w + iw) * d
                row += 1
    # TFLM pads with SpaceToBatchParams.output_offset, which its Prepare never sets: whatever bytes
    # its persistent buffer held (seen: 0 in a fresh arena, other values after earlier models). No
    # result can match that; tinygen pads with the output zero point (a real 0), as TFLite does.
    _, out_zp = quantized(op, out)
    params = RowGatherParams(rows=len(sources), depth=d, pad_value=out_zp, sources=ConstArray("int32_t", sources))
    return (elementwise_call(op, "tg_row_gather_s8", "params", params, inp, out, with_size=False),)


# --- BATCH_MATMUL ----------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchMatMulParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_batch_matmul_params_t"
    lhs_offset: int
    rhs_offset: int
    output_offset: int
    output: Requant
    rows: int
    cols: int
    depth: int
    lhs_row_stride: int
    lhs_depth_stride: int
    rhs_depth_stride: int
    rhs_col_stride: int
    batch: ConstArray


def _batch_strides(shape5: tuple[int, ...]) -> list[int]:
    """batch_matmul.h extent(): 0 along a dimension of size 1 (broadcast), else its element stride."""
    return [0 if shape5[d] == 1 else math.prod(shape5[d + 1:]) for d in range(3)]


@lowering(ops.BatchMatMul)
def lower_batch_matmul(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    from tinygen.ir.quant import conv_tensor_multiplier

    attrs: ops.BatchMatMul = op.attrs
    lhs, rhs = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
    out = graph.tensor(op.outputs[0])
    int8_operands(op, lhs, out)
    int8_operands(op, rhs, out)
    rank = max(len(lhs.shape), len(rhs.shape))
    l5 = (1,) * (5 - len(lhs.shape)) + tuple(lhs.shape)
    r5 = (1,) * (5 - len(rhs.shape)) + tuple(rhs.shape)
    batch = []
    for d in range(3):
        if l5[d] != r5[d] and 1 not in (l5[d], r5[d]):
            raise InvalidModelError(f"operator #{op.index} BATCH_MATMUL: batch dimensions of {list(lhs.shape)} "
                                    f"and {list(rhs.shape)} do not broadcast")
        batch.append(max(l5[d], r5[d]))
    rows, depth = (l5[4], l5[3]) if attrs.adj_x else (l5[3], l5[4])
    rhs_depth, cols = (r5[4], r5[3]) if attrs.adj_y else (r5[3], r5[4])
    if depth != rhs_depth:
        raise InvalidModelError(f"operator #{op.index} BATCH_MATMUL: accumulation depths {depth} and {rhs_depth} differ")
    require_shape(op, out, tuple(batch[3 - (rank - 2):]) + (rows, cols) if rank > 2 else (rows, cols))
    ls, lz = quantized(op, lhs)
    rs, rz = quantized(op, rhs)
    os_, oz = quantized(op, out)
    m = conv_tensor_multiplier(ls, rs, os_)
    params = BatchMatMulParams(
        lhs_offset=-lz, rhs_offset=-rz, output_offset=oz, output=_requant(m), rows=rows, cols=cols, depth=depth,
        lhs_row_stride=1 if attrs.adj_x else depth, lhs_depth_stride=rows if attrs.adj_x else 1,
        rhs_depth_stride=1 if attrs.adj_y else cols, rhs_col_stride=depth if attrs.adj_y else 1,
        batch=ConstArray("int32_t", np.array(batch + _batch_strides(l5) + _batch_strides(r5), dtype=np.int32)))
    return (KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_batch_matmul_s8",
        args=(KernelArg("params", params), KernelArg("lhs", TensorRef(lhs.index)), KernelArg("rhs", TensorRef(rhs.index)),
              KernelArg("output", TensorRef(out.index))),
        reads=activation_reads(lhs, rhs), writes=(out.index,)),)


# --- TRANSPOSE_CONV --------------------------------------------------------------------------

@dataclass(frozen=True)
class TransposeConvParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_transpose_conv_params_t"
    input_offset: int
    output_offset: int
    stride_h: int
    stride_w: int
    pad_h: int
    pad_w: int
    activation: Range


@lowering(ops.TransposeConv)
def lower_transpose_conv(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    from tinygen.ir.quant import conv_channel_multipliers
    from tinygen.kernels.common import channel_requant, compute_out_size, compute_padding, nhwc, optional_input, require_rank

    attrs: ops.TransposeConv = op.attrs
    flt, inp, out = graph.tensor(op.inputs[1]), graph.tensor(op.inputs[2]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    for t in (inp, flt, out):
        require_rank(op, t, 4)
    out_c, f_h, f_w, f_c = flt.shape
    n, in_h, in_w, in_c = inp.shape
    if f_c != in_c or out.shape[3] != out_c or out.shape[0] != n:
        raise InvalidModelError(f"operator #{op.index} TRANSPOSE_CONV: filter {list(flt.shape)} does not fit input "
                                f"{list(inp.shape)} and output {list(out.shape)}")
    q = flt.quant
    if len(q.scales) not in (1, out_c):
        raise _fail(op, f"filter '{flt.name}' has {len(q.scales)} scales for {out_c} output channels; TFLite Micro needs 1 or {out_c}")
    bias = optional_input(graph, op, 3)
    if isinstance(bias, TensorRef) and graph.tensor(bias.tensor).num_elements != out_c:
        raise InvalidModelError(f"operator #{op.index} TRANSPOSE_CONV: bias has {graph.tensor(bias.tensor).num_elements} "
                                f"values for {out_c} channels")
    # ComputePaddingHeightWidth over the *output* size, as TFLM's CalculateOpData calls it.
    out_h, out_w = out.shape[1], out.shape[2]
    pad_h = compute_padding(attrs.stride_h, 1, out_h, f_h, compute_out_size(attrs.padding, out_h, f_h, attrs.stride_h, 1))
    pad_w = compute_padding(attrs.stride_w, 1, out_w, f_w, compute_out_size(attrs.padding, out_w, f_w, attrs.stride_w, 1))
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    requant = channel_requant(conv_channel_multipliers(in_scale, q.scales, out_scale, out_c))
    params = TransposeConvParams(input_offset=-in_zp, output_offset=out_zp, stride_h=attrs.stride_h,
                                 stride_w=attrs.stride_w, pad_h=pad_h, pad_w=pad_w,
                                 activation=Range(*activation_range(attrs.activation, out_scale, out_zp)))
    return (KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_transpose_conv_s8",
        args=(KernelArg("params", params), KernelArg("requant", requant), KernelArg("input_dims", nhwc(inp)),
              KernelArg("input", TensorRef(inp.index)), KernelArg("filter_dims", nhwc(flt)),
              KernelArg("filter", TensorRef(flt.index)), KernelArg("bias", bias), KernelArg("output_dims", nhwc(out)),
              KernelArg("scratch", ScratchRef()), KernelArg("output", TensorRef(out.index))),
        reads=activation_reads(inp, flt), writes=(out.index,), scratch_bytes=4 * out.num_elements),)


# --- float islands ---------------------------------------------------------------------------

FLOAT_BROADCAST_RANK = {ops.AddF32: 4, ops.MulF32: 4, ops.SubF32: 5}  # BroadcastAdd4DSlow, ..., BroadcastSubSlow
_F32_OPERATION = {ops.AddF32: 0, ops.SubF32: 1, ops.MulF32: 2}      # TG_F32_ADD, TG_F32_SUB, TG_F32_MUL


@dataclass(frozen=True)
class RangeF32(CStruct):
    C_TYPE: ClassVar[str] = "tg_range_f32_t"
    min: float
    max: float


def float_activation_range(activation: ops.Activation) -> RangeF32:
    """CalculateActivationRange<float>: NONE is [lowest, max] of float32."""
    big = float(np.finfo(np.float32).max)
    low, high = {ops.Activation.NONE: (-big, big), ops.Activation.RELU: (0.0, big),
                 ops.Activation.RELU6: (0.0, 6.0), ops.Activation.RELU_N1_TO_1: (-1.0, 1.0)}[activation]
    return RangeF32(min=low, max=high)


def _float_unary(graph: Graph, op: Operator, function: str) -> tuple[KernelCall, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    require_shape(op, out, tuple(inp.shape))
    return (KernelCall(op_index=op.index, op_kind=op.kind, function=function,
                       args=(KernelArg("size", inp.num_elements), KernelArg("input", TensorRef(inp.index)),
                             KernelArg("output", TensorRef(out.index))),
                       reads=activation_reads(inp), writes=(out.index,)),)


@lowering(ops.NegF32)
def lower_neg_f32(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _float_unary(graph, op, "tg_neg_f32")


@lowering(ops.RsqrtF32)
def lower_rsqrt_f32(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _float_unary(graph, op, "tg_rsqrt_f32")


def lower_binary_f32(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    in1, in2 = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
    out = graph.tensor(op.outputs[0])
    broadcast = nary_broadcast(op, [in1, in2], out, FLOAT_BROADCAST_RANK[type(op.attrs)])
    return (KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_binary_f32",
        args=(KernelArg("operation", _F32_OPERATION[type(op.attrs)]),
              KernelArg("activation", float_activation_range(op.attrs.activation)),
              KernelArg("broadcast", broadcast), KernelArg("input1", TensorRef(in1.index)),
              KernelArg("input2", TensorRef(in2.index)), KernelArg("output", TensorRef(out.index))),
        reads=activation_reads(in1, in2), writes=(out.index,)),)


for _cls in (ops.AddF32, ops.SubF32, ops.MulF32):
    lowering(_cls)(lower_binary_f32)
