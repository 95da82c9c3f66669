"""SUB, MAXIMUM, MINIMUM, PRELU and SQUARED_DIFFERENCE lowerings (int8, TFLite broadcasting), beside ADD/MUL in elementwise.py.

SUB is ADD's arithmetic with a difference, with ADD's multipliers; MAXIMUM and MINIMUM compare stored values with no
rescaling and no Prepare checks, over up to 5 broadcast dimensions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.ir.quant import activation_range, quantize_multiplier
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import quantized
from tinygen.kernels.cvalues import ConstArray, CStruct, Range, Requant, TensorRef
from tinygen.kernels.data_movement import int8_operands
from tinygen.kernels.elementwise import (
    ADD_LEFT_SHIFT_INT8, BROADCAST_RANK, AddParams, Broadcast, _broadcast_strides, _padded, add_multipliers,
    binary_call, binary_operands, quantize_multiplier_smaller_than_one_exp,
)
from tinygen.ir.quant import FixedPointMultiplier
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16

MAXIMUM_MINIMUM_MAX_RANK = 5  # MaximumMinimumBroadcastSlow's NdArrayDesc<5>
PRELU_MAX_RANK = 4  # BroadcastPrelu4DSlow


@lowering(ops.Sub)
def lower_sub(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Sub = op.attrs
    operands = binary_operands(graph, op)
    if not int16.is_16x8(graph, op):  # issue 10: ops-b (int16: checked by int16.binary_16x8)
        for t in (operands.input1, operands.input2):
            int8_operands(op, t, operands.output)
    s1, zp1 = quantized(op, operands.input1)
    s2, zp2 = quantized(op, operands.input2)
    so, zpo = quantized(op, operands.output)
    # The installed TFLM computes SUB's ratios in double, as ADD's (checked: the float32 ratios of
    # newer sources give other bits), so ADD's multipliers serve.
    if int16.is_16x8(graph, op):  # its own left shift, so its own multipliers
        m1 = m2 = mo = FixedPointMultiplier(0, 0)
    else:
        m1, m2, mo = add_multipliers(s1, s2, so, f"operator #{op.index} SUB, output '{operands.output.name}'")
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
    call = binary_call(op, operands, "sub", params)
    return (int16.binary_16x8(graph, op, call),) if int16.is_16x8(graph, op) else (call,)


def _always_broadcast_call(graph: Graph, op: Operator, function: str, max_rank: int,
                           params: CStruct | None = None) -> KernelCall:
    """One kernel for both cases (same shapes are a broadcast with contiguous strides):
    function([params,] broadcast, input1, input2, output)."""
    operands = binary_operands(graph, op)
    in1, in2, out = operands.input1, operands.input2, operands.output
    for t in (in1, in2):
        int8_operands(op, t, out)
    if len(out.shape) > max_rank:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: output '{out.name}' has rank {len(out.shape)}; "
            f"TFLite Micro's kernel takes up to {max_rank}")
    out_padded = _padded(tuple(out.shape), BROADCAST_RANK)
    broadcast = Broadcast(
        output_dims=ConstArray("int32_t", np.array(out_padded, dtype=np.int32)),
        input1_strides=ConstArray("int32_t", _broadcast_strides(_padded(in1.shape, BROADCAST_RANK), out_padded)),
        input2_strides=ConstArray("int32_t", _broadcast_strides(_padded(in2.shape, BROADCAST_RANK), out_padded)),
    )
    leading = (KernelArg("params", params),) if params is not None else ()
    return KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function=function,
        args=(*leading, KernelArg("broadcast", broadcast), KernelArg("input1", TensorRef(in1.index)),
              KernelArg("input2", TensorRef(in2.index)), KernelArg("output", TensorRef(out.index))),
        reads=tuple(dict.fromkeys(t.index for t in (in1, in2) if not t.is_constant)),
        writes=(out.index,),
    )


def _maximum_minimum(graph: Graph, op: Operator, function: str) -> tuple[KernelCall, ...]:
    return (_always_broadcast_call(graph, op, function, MAXIMUM_MINIMUM_MAX_RANK),)


@lowering(ops.Maximum)
def lower_maximum(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _maximum_minimum(graph, op, "tg_maximum_s8")


@lowering(ops.Minimum)
def lower_minimum(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _maximum_minimum(graph, op, "tg_minimum_s8")


@dataclass(frozen=True)
class PreluParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_prelu_params_t"
    input_offset: int
    alpha_offset: int
    output_offset: int
    identity: Requant
    alpha: Requant


@lowering(ops.Prelu)
def lower_prelu(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, alpha, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    s_in, zp_in = quantized(op, inp)
    s_alpha, zp_alpha = quantized(op, alpha)
    s_out, zp_out = quantized(op, out)
    f = np.float32
    # CalculatePreluParams: both ratios in double, from the float32 scales.
    identity = quantize_multiplier(float(f(s_in)) / float(f(s_out)))
    scaled = quantize_multiplier(float(f(s_in)) * float(f(s_alpha)) / float(f(s_out)))
    params = PreluParams(input_offset=-zp_in, alpha_offset=-zp_alpha, output_offset=zp_out,
                         identity=Requant(identity.multiplier, identity.shift),
                         alpha=Requant(scaled.multiplier, scaled.shift))
    return (_always_broadcast_call(graph, op, "tg_prelu_s8", PRELU_MAX_RANK, params),)


SQUARED_DIFFERENCE_LEFT_SHIFT_INT8 = 7
SQUARED_DIFFERENCE_MAX_RANK = 4  # BroadcastBinaryFunction4DSlow


@lowering(ops.SquaredDifference)
def lower_squared_difference(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    in1, in2, out = (graph.tensor(i) for i in (*op.inputs[:2], op.outputs[0]))
    s1, zp1 = quantized(op, in1)
    s2, zp2 = quantized(op, in2)
    so, zpo = quantized(op, out)
    f = np.float32
    what = f"operator #{op.index} SQUARED_DIFFERENCE, output '{out.name}'"
    # PrepareQuantized: ratios in double; the output's denominator (1 << 14) * scale in float32.
    twice_max_input_scale = 2.0 * float(max(f(s1), f(s2)))
    m1 = quantize_multiplier_smaller_than_one_exp(float(f(s1)) / twice_max_input_scale, what)
    m2 = quantize_multiplier_smaller_than_one_exp(float(f(s2)) / twice_max_input_scale, what)
    with np.errstate(over="ignore"):  # an infinite denominator makes the multiplier 0, in TFLM too
        denominator = float(f(1 << (SQUARED_DIFFERENCE_LEFT_SHIFT_INT8 * 2)) * f(so))
    mo = quantize_multiplier(twice_max_input_scale * twice_max_input_scale / denominator)
    params = AddParams(
        input1_offset=-zp1, input2_offset=-zp2, output_offset=zpo, left_shift=SQUARED_DIFFERENCE_LEFT_SHIFT_INT8,
        input1=Requant(m1.multiplier, m1.shift), input2=Requant(m2.multiplier, m2.shift),
        output=Requant(mo.multiplier, mo.shift), activation=Range(-128, 127),
    )
    return (_always_broadcast_call(graph, op, "tg_squared_difference_s8", SQUARED_DIFFERENCE_MAX_RANK, params),)
