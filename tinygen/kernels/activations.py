"""RELU and RELU6 lowerings (int8), as TFLM's activations_common.cc computes them.

The two differ in TFLM more than their names suggest:
- RELU (ReluQuantized) rescales from the input's to the output's quantization with the multiplier
  of double(input_scale) / double(output_scale), then clamps at the output's zero point. (Older
  TFLM divided the float scales before widening; the installed interpreter divides in double, as
  tests/ops/test_activations.py checks with scales where the two differ.)
- RELU6 (Relu6Quantized) does no arithmetic: it clamps the input's int8 values to
  [input zero point, 6.0 quantized with the input's scale] and stores them as they are. The output
  tensor's scale and zero point are never read, so a model whose RELU6 output is quantized
  differently from its input gets the input's bytes, exactly as under TFLM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator, Tensor
from tinygen.ir.quant import INT32_MAX, INT32_MIN, f32, quantize_multiplier, round_half_away
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, quantized, unary_operands
from tinygen.kernels.cvalues import CStruct, Range, Requant
from tinygen.kernels.registry import lowering

INT8_MIN, INT8_MAX = -128, 127


@dataclass(frozen=True)
class ReluParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_relu_params_t"
    input_zero_point: int
    output_zero_point: int
    requant: Requant
    activation: Range


def relu_requant(op: Operator, inp: Tensor, out: Tensor) -> Requant:
    """CalculateReluOpData: the ratio of the float32 scales, divided in double."""
    in_scale, _ = quantized(op, inp)
    out_scale, _ = quantized(op, out)
    ratio = float(f32(in_scale)) / float(f32(out_scale))
    try:
        m = quantize_multiplier(ratio)
    except InvalidModelError as e:
        raise UnsupportedModelError(f"operator #{op.index} RELU: input '{inp.name}' to output '{out.name}': {e}") from None
    return Requant(m.multiplier, m.shift)


def relu6_range(op: Operator, inp: Tensor) -> Range:
    """Relu6Prepare: [zero point, FloatToQuantizedType<int8_t>(6.0f, scale, zero point)].

    FloatToQuantizedType rounds 6.0f / scale (a float division) half away from zero, adds the zero
    point and clamps to int8.
    """
    scale, zero_point = quantized(op, inp)
    with np.errstate(over="ignore"):  # a tiny scale overflows the float division: refused below
        ratio = float(f32(6.0) / f32(scale))
    six = round_half_away(ratio) + zero_point if math.isfinite(ratio) else math.inf
    if not INT32_MIN <= six <= INT32_MAX:
        # TFLM converts this double to int32_t: undefined behaviour, so no result to match.
        raise UnsupportedModelError(
            f"operator #{op.index} RELU6: input '{inp.name}' scale {scale} puts 6.0 outside int32"
        )
    return Range(zero_point, min(INT8_MAX, max(INT8_MIN, int(six))))


@lowering(ops.Relu)
def lower_relu(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    _, in_zp = quantized(op, inp)
    _, out_zp = quantized(op, out)
    params = ReluParams(
        input_zero_point=in_zp,
        output_zero_point=out_zp,
        requant=relu_requant(op, inp, out),
        # roundf(0.0f / output_scale) is 0: the lower bound is the output zero point itself.
        activation=Range(max(INT8_MIN, out_zp), INT8_MAX),
    )
    call = elementwise_call(op, "tg_relu_s8", "params", params, inp, out)
    return (call,)


@lowering(ops.Relu6)
def lower_relu6(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    quantized(op, out)  # TFLM ignores the output's quantization, but it must still be int8-quantized
    call = elementwise_call(op, "tg_relu6_s8", "range", relu6_range(op, inp), inp, out)
    return (call,)
