"""LOGISTIC lowering, int8: TFLM's gemmlowp fixed-point reference (logistic_common.cc,
reference_integer_ops::Logistic), not a lookup table.

TFLM checks only the output zero point (-128); the kernel always produces steps of 1/256 and never
reads the output scale, so a model with another output scale gets the same bytes as under TFLM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, quantized, unary_operands
from tinygen.kernels.cvalues import CStruct
from tinygen.kernels.nonlinear_params import logistic_scaling
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16


@dataclass(frozen=True)
class LogisticParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_logistic_params_t"
    input_zero_point: int
    input_range_radius: int
    input_multiplier: int
    input_left_shift: int


@lowering(ops.Logistic)
def lower_logistic(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    if int16.is_16x8(graph, op):  # issue 10: ops-b
        return (int16.logistic_16(graph, op),)
    inp, out = unary_operands(graph, op)
    in_scale, in_zp = quantized(op, inp)
    _, out_zp = quantized(op, out)
    if out_zp != -128:
        raise InvalidModelError(
            f"operator #{op.index} LOGISTIC: output '{out.name}' has zero point {out_zp}; TFLite Micro requires -128")
    try:
        scaling = logistic_scaling(in_scale)
    except UnsupportedModelError as e:
        raise UnsupportedModelError(f"operator #{op.index} LOGISTIC: input '{inp.name}': {e}") from None
    params = LogisticParams(
        input_zero_point=in_zp,
        input_range_radius=scaling.input_range_radius,
        input_multiplier=scaling.input_multiplier,
        input_left_shift=scaling.input_left_shift,
    )
    call = elementwise_call(op, "tg_logistic_s8", "params", params, inp, out)
    return (call,)
