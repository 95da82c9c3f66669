"""HARD_SWISH lowering, int8: TFLM's reference_ops::HardSwish<int8_t> with the HardSwishParams of
hard_swish_common.cc (int16 fixed point throughout)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, quantized, unary_operands
from tinygen.kernels.cvalues import CStruct
from tinygen.kernels.nonlinear_params import hard_swish_scaling
from tinygen.kernels.registry import lowering


@dataclass(frozen=True)
class HardSwishParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_hard_swish_params_t"
    input_zero_point: int
    output_zero_point: int
    reluish_multiplier: int
    reluish_exponent: int
    output_multiplier: int
    output_exponent: int


@lowering(ops.HardSwish)
def lower_hard_swish(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    try:
        scaling = hard_swish_scaling(in_scale, out_scale)
    except (InvalidModelError, UnsupportedModelError) as e:
        raise type(e)(f"operator #{op.index} HARD_SWISH: '{inp.name}' -> '{out.name}': {e}") from None
    params = HardSwishParams(
        input_zero_point=in_zp,
        output_zero_point=out_zp,
        reluish_multiplier=scaling.reluish_multiplier,
        reluish_exponent=scaling.reluish_exponent,
        output_multiplier=scaling.output_multiplier,
        output_exponent=scaling.output_exponent,
    )
    call = elementwise_call(op, "tg_hard_swish_s8", "params", params, inp, out)
    return (call,)
