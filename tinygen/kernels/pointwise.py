"""LEAKY_RELU, ABS and TANH lowerings, int8: TFLM's leaky_relu_common.cc / elementwise.cc Prepare
arithmetic, with each scale ratio in the precision the installed TFLM uses. TANH takes LOGISTIC's
input scaling (tanh.cc computes it the same way) and, like TFLM, ignores the output quantization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.ir.quant import quantize_multiplier
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, quantized, unary_operands
from tinygen.kernels.cvalues import CStruct, Requant
from tinygen.kernels.logistic import LogisticParams
from tinygen.kernels.nonlinear_params import logistic_scaling
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16


@dataclass(frozen=True)
class LeakyReluParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_leaky_relu_params_t"
    input_zero_point: int
    output_zero_point: int
    identity: Requant
    alpha: Requant


@dataclass(frozen=True)
class AbsParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_abs_params_t"
    input_zero_point: int
    output_zero_point: int
    rescale: int
    requant: Requant


def _requant(real: float) -> Requant:
    m = quantize_multiplier(float(real))
    return Requant(m.multiplier, m.shift)


@lowering(ops.LeakyRelu)
def lower_leaky_relu(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    f = np.float32
    alpha = f(op.attrs.alpha)
    if not alpha >= 0:
        # TFLM versions differ here (older ones hand a negative multiplier to the fixed-point
        # multiply, newer ones negate the product): no single behaviour to match.
        raise UnsupportedModelError(f"operator #{op.index} LEAKY_RELU: alpha {float(alpha)!r} is negative")
    # The installed TFLM takes both ratios in double (checked: the float32 ratio of its older
    # sources changes an output); the operands are the float32 values widened.
    s_in, s_out = float(f(in_scale)), float(f(out_scale))
    params = LeakyReluParams(
        input_zero_point=in_zp,
        output_zero_point=out_zp,
        identity=_requant(s_in / s_out),
        alpha=_requant(s_in * float(alpha) / s_out),
    )
    return (elementwise_call(op, "tg_leaky_relu_s8", "params", params, inp, out),)


@lowering(ops.Abs)
def lower_abs(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    rescale = np.float32(in_scale) != np.float32(out_scale)
    # In double, like LEAKY_RELU's (checked against the installed TFLM on every int8 value).
    requant = _requant(float(np.float32(in_scale)) / float(np.float32(out_scale))) if rescale else Requant(0, 0)
    params = AbsParams(input_zero_point=in_zp, output_zero_point=out_zp, rescale=int(rescale), requant=requant)
    return (elementwise_call(op, "tg_abs_s8", "params", params, inp, out),)


@lowering(ops.Tanh)
def lower_tanh(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    if int16.is_16x8(graph, op):  # issue 10: ops-b
        return (int16.tanh_16(graph, op),)
    inp, out = unary_operands(graph, op)
    in_scale, in_zp = quantized(op, inp)
    try:
        scaling = logistic_scaling(in_scale)
    except UnsupportedModelError as e:
        reason = str(e).replace("LOGISTIC input scale", "input scale")
        raise UnsupportedModelError(f"operator #{op.index} TANH: input '{inp.name}': {reason}") from None
    params = LogisticParams(
        input_zero_point=in_zp,
        input_range_radius=scaling.input_range_radius,
        input_multiplier=scaling.input_multiplier,
        input_left_shift=scaling.input_left_shift,
    )
    return (elementwise_call(op, "tg_tanh_s8", "params", params, inp, out),)
