"""QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32) lowerings.

TFLM's quantize_common.cc / dequantize_common.cc:
- float32 -> int8: AffineQuantize, round(x / scale) with a float division and roundf, + zero point,
  clamped to int8 (the C kernel reproduces this in float).
- int8 -> int8: Requantize with QuantizeMultiplier(double(input_scale) / double(output_scale)).
- int8 -> float32: Dequantize, scale * (q - zero_point) in float.
Only per-tensor quantization: TFLM's QUANTIZE requires one output scale.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Operator
from tinygen.ir.quant import f32, quantize_multiplier
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, quantized, require_shape
from tinygen.kernels.cvalues import CStruct, Requant
from tinygen.kernels.registry import lowering


@dataclass(frozen=True)
class AffineQuant(CStruct):
    C_TYPE: ClassVar[str] = "tg_affine_quant_t"
    scale: float  # rendered as the exact float32 literal
    zero_point: int


@dataclass(frozen=True)
class RequantizeParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_requantize_params_t"
    input_zero_point: int
    output_zero_point: int
    requant: Requant


def requantize_multiplier(op: Operator, in_scale: float, out_scale: float) -> Requant:
    """PrepareQuantizeReference for integer inputs: the ratio in double."""
    try:
        m = quantize_multiplier(float(f32(in_scale)) / float(f32(out_scale)))
    except InvalidModelError as e:
        raise UnsupportedModelError(f"operator #{op.index} QUANTIZE: {e}") from None
    return Requant(m.multiplier, m.shift)


_REQUANTIZE_16 = {(DType.INT8, DType.INT16): "tg_requantize_s8_s16", (DType.INT16, DType.INT8): "tg_requantize_s16_s8",
                  (DType.INT16, DType.INT16): "tg_requantize_s16"}


@lowering(ops.Quantize)
def lower_quantize(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    require_shape(op, out, inp.shape)
    out_scale, out_zp = quantized(op, out)
    if inp.dtype is DType.FLOAT32:
        function = "tg_quantize_f32_s8"
        params: CStruct = AffineQuant(scale=out_scale, zero_point=out_zp)
        param_name = "quant"
    elif inp.dtype is DType.INT8 and out.dtype is DType.INT8:
        in_scale, in_zp = quantized(op, inp)
        function = "tg_requantize_s8"
        params = RequantizeParams(in_zp, out_zp, requantize_multiplier(op, in_scale, out_scale))
        param_name = "params"
    elif {inp.dtype, out.dtype} <= {DType.INT8, DType.INT16}:  # int16 (issue 10, ops-c)
        in_scale, in_zp = quantized(op, inp)
        function = _REQUANTIZE_16[(inp.dtype, out.dtype)]
        params = RequantizeParams(in_zp, out_zp, requantize_multiplier(op, in_scale, out_scale))
        param_name = "params"
    else:
        raise UnsupportedModelError(f"operator #{op.index} QUANTIZE: input '{inp.name}' is {inp.dtype.value}")
    call = elementwise_call(op, function, param_name, params, inp, out)
    return (call,)


@lowering(ops.Dequantize)
def lower_dequantize(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    require_shape(op, out, inp.shape)
    if inp.dtype is not DType.INT8 or out.dtype is not DType.FLOAT32:
        raise UnsupportedModelError(
            f"operator #{op.index} DEQUANTIZE: '{inp.name}' {inp.dtype.value} to '{out.name}' {out.dtype.value}"
        )
    in_scale, in_zp = quantized(op, inp)
    call = elementwise_call(op, "tg_dequantize_s8_f32", "quant", AffineQuant(scale=in_scale, zero_point=in_zp), inp, out)
    return (call,)
