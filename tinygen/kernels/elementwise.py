"""ADD and MUL lowerings: int8 binary operators with TFLite broadcasting and fused activations.

Both follow TFLM's reference kernels (add_common.cc / mul_common.cc): the same-shape case runs a
flat loop, anything else a broadcast loop over TG_BROADCAST_RANK dimensions. TFLM decides this
with ProcessBroadcastShapes: shapes equal once padded with leading 1s (e.g. [1, 16] and [16]) are
not a broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator, Tensor
from tinygen.ir.quant import FixedPointMultiplier, activation_range, f32, quantize_multiplier
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import quantized
from tinygen.kernels.cvalues import ConstArray, CStruct, Range, Requant, TensorRef
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16

# TG_BROADCAST_RANK in tg_elementwise.h. TFLM's ADD and MUL broadcast up to 6-D (BroadcastAdd6DSlow;
# the installed interpreter's MUL matches a 6-D broadcast too, checked by tests/ops/test_mul.py).
BROADCAST_RANK = 6
# AddFunc shifts int8 inputs left by 20 bits before rescaling them to a common scale.
ADD_LEFT_SHIFT_INT8 = 20


@dataclass(frozen=True)
class Broadcast(CStruct):
    C_TYPE: ClassVar[str] = "tg_broadcast_t"
    output_dims: ConstArray
    input1_strides: ConstArray
    input2_strides: ConstArray


@dataclass(frozen=True)
class AddParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_add_params_t"
    input1_offset: int
    input2_offset: int
    output_offset: int
    left_shift: int
    input1: Requant
    input2: Requant
    output: Requant
    activation: Range


@dataclass(frozen=True)
class MulParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_mul_params_t"
    input1_offset: int
    input2_offset: int
    output_offset: int
    output: Requant
    activation: Range


@dataclass(frozen=True)
class BinaryOperands:
    input1: Tensor
    input2: Tensor
    output: Tensor
    broadcast: Broadcast | None  # None: every tensor has the output's elements in the same order


# --- shapes ---------------------------------------------------------------------------------

def _padded(shape: tuple[int, ...], rank: int) -> tuple[int, ...]:
    return (1,) * (rank - len(shape)) + tuple(shape)


def _broadcast_strides(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> np.ndarray:
    """Contiguous element strides of `shape`, 0 along the dimensions it broadcasts."""
    strides = np.zeros(len(shape), dtype=np.int32)
    step = 1
    for i in reversed(range(len(shape))):
        strides[i] = step if shape[i] == out_shape[i] and shape[i] != 1 else 0
        step *= shape[i]
    return strides


def binary_operands(graph: Graph, op: Operator) -> BinaryOperands:
    """The operands of ADD/MUL, with the broadcast description when the input shapes differ."""
    in1, in2 = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1])
    out = graph.tensor(op.outputs[0])
    rank = max(len(in1.shape), len(in2.shape))
    a, b = _padded(in1.shape, rank), _padded(in2.shape, rank)
    expected = []
    for da, db in zip(a, b):
        if da != db and da != 1 and db != 1:
            raise InvalidModelError(
                f"operator #{op.index} {op.kind}: inputs '{in1.name}' {list(in1.shape)} and "
                f"'{in2.name}' {list(in2.shape)} cannot be broadcast together"
            )
        expected.append(db if da == 1 else da)
    if tuple(out.shape) != tuple(expected):
        raise InvalidModelError(
            f"operator #{op.index} {op.kind}: output '{out.name}' has shape {list(out.shape)}, "
            f"but its inputs broadcast to {expected}"
        )
    if a == b:
        return BinaryOperands(in1, in2, out, None)
    if rank > BROADCAST_RANK:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: broadcasting '{in1.name}' {list(in1.shape)} with "
            f"'{in2.name}' {list(in2.shape)} needs rank {rank}; TFLM broadcasts up to rank {BROADCAST_RANK}"
        )
    out_padded = _padded(tuple(expected), BROADCAST_RANK)
    broadcast = Broadcast(
        output_dims=ConstArray("int32_t", np.array(out_padded, dtype=np.int32)),
        input1_strides=ConstArray("int32_t", _broadcast_strides(_padded(in1.shape, BROADCAST_RANK), out_padded)),
        input2_strides=ConstArray("int32_t", _broadcast_strides(_padded(in2.shape, BROADCAST_RANK), out_padded)),
    )
    return BinaryOperands(in1, in2, out, broadcast)


def binary_call(op: Operator, operands: BinaryOperands, base_name: str, params: CStruct) -> KernelCall:
    """tg_<base>_s8 for same-shape operands, tg_<base>_broadcast_s8 otherwise."""
    inputs = (operands.input1, operands.input2)
    tensors = (
        KernelArg("input1", TensorRef(operands.input1.index)),
        KernelArg("input2", TensorRef(operands.input2.index)),
        KernelArg("output", TensorRef(operands.output.index)),
    )
    if operands.broadcast is None:
        function = f"tg_{base_name}_s8"
        shape_args = (KernelArg("size", operands.output.num_elements),)
    else:
        function = f"tg_{base_name}_broadcast_s8"
        shape_args = (KernelArg("broadcast", operands.broadcast),)
    # Constant inputs live in flash; an input given twice is read once.
    reads = tuple(dict.fromkeys(t.index for t in inputs if not t.is_constant))
    return KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function=function,
        args=(KernelArg("params", params), *shape_args, *tensors),
        reads=reads,
        writes=(operands.output.index,),
    )


# --- TFLM-exact multipliers ------------------------------------------------------------------

def quantize_multiplier_smaller_than_one_exp(real: float, what: str) -> FixedPointMultiplier:
    """TFLM QuantizeMultiplierSmallerThanOneExp: QuantizeMultiplier, checked to be in (0, 1).

    TFLM aborts (TFLITE_CHECK) outside that range; tinygen refuses the model instead.
    """
    if not 0.0 < real < 1.0:
        raise UnsupportedModelError(f"{what}: rescale factor {real!r} is not in (0, 1), which TFLM requires")
    m = quantize_multiplier(real)
    if m.shift > 0:
        raise UnsupportedModelError(f"{what}: rescale factor {real!r} rounds up to 1, which TFLM rejects")
    return m


def add_multipliers(in1_scale: float, in2_scale: float, out_scale: float,
                    what: str) -> tuple[FixedPointMultiplier, FixedPointMultiplier, FixedPointMultiplier]:
    """CalculateOpDataAdd for int8: everything in double, from the float32 scales."""
    s1, s2, so = float(f32(in1_scale)), float(f32(in2_scale)), float(f32(out_scale))
    twice_max_input_scale = 2.0 * max(s1, s2)
    real_input1 = s1 / twice_max_input_scale
    real_input2 = s2 / twice_max_input_scale
    real_output = twice_max_input_scale / ((1 << ADD_LEFT_SHIFT_INT8) * so)
    return (
        quantize_multiplier_smaller_than_one_exp(real_input1, what),
        quantize_multiplier_smaller_than_one_exp(real_input2, what),
        quantize_multiplier_smaller_than_one_exp(real_output, what),
    )


def mul_multiplier(in1_scale: float, in2_scale: float, out_scale: float) -> FixedPointMultiplier:
    """CalculateOpDataMul: (s1 * s2) / s_out in double, then QuantizeMultiplier."""
    s1, s2, so = float(f32(in1_scale)), float(f32(in2_scale)), float(f32(out_scale))
    return quantize_multiplier(s1 * s2 / so)


# --- lowerings -------------------------------------------------------------------------------

@lowering(ops.Add)
def lower_add(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Add = op.attrs
    operands = binary_operands(graph, op)
    s1, zp1 = quantized(op, operands.input1)
    s2, zp2 = quantized(op, operands.input2)
    so, zpo = quantized(op, operands.output)
    if int16.is_16x8(graph, op):  # issue 10: ops-b (its own left shift, so its own multipliers)
        m1 = m2 = mo = FixedPointMultiplier(0, 0)
    else:
        m1, m2, mo = add_multipliers(s1, s2, so, f"operator #{op.index} ADD, output '{operands.output.name}'")
    params = AddParams(
        input1_offset=-zp1,
        input2_offset=-zp2,
        output_offset=zpo,
        left_shift=ADD_LEFT_SHIFT_INT8,
        input1=Requant(m1.multiplier, m1.shift),
        input2=Requant(m2.multiplier, m2.shift),
        output=Requant(mo.multiplier, mo.shift),
        activation=Range(*activation_range(attrs.activation, so, zpo)),
    )
    call = binary_call(op, operands, "add", params)
    return (int16.binary_16x8(graph, op, call),) if int16.is_16x8(graph, op) else (call,)


@lowering(ops.Mul)
def lower_mul(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Mul = op.attrs
    operands = binary_operands(graph, op)
    s1, zp1 = quantized(op, operands.input1)
    s2, zp2 = quantized(op, operands.input2)
    so, zpo = quantized(op, operands.output)
    try:
        m = mul_multiplier(s1, s2, so)
    except InvalidModelError as e:
        raise InvalidModelError(f"operator #{op.index} MUL, output '{operands.output.name}': {e}") from None
    params = MulParams(
        input1_offset=-zp1,
        input2_offset=-zp2,
        output_offset=zpo,
        output=Requant(m.multiplier, m.shift),
        activation=Range(*activation_range(attrs.activation, so, zpo)),
    )
    call = binary_call(op, operands, "mul", params)
    return (int16.binary_16x8(graph, op, call),) if int16.is_16x8(graph, op) else (call,)
