"""LOG_SOFTMAX lowering, int8: TFLM's log_softmax.cc (CalculateOpData) and
reference_ops::LogSoftmaxQuantized, over the last axis.

TFLM requires the output quantization it produces, scale 16/256 and zero point 127, and refuses
any other at Prepare; so does tinygen, with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.ir.quant import quantize_multiplier
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import activation_reads, quantized, unary_operands
from tinygen.kernels.cvalues import CStruct, TensorRef
from tinygen.kernels.nonlinear_params import softmax_scaling
from tinygen.kernels.registry import lowering

LOG_SOFTMAX_OUTPUT_SCALE = float(np.float32(16.0 / 256))
LOG_SOFTMAX_OUTPUT_ZERO_POINT = 127


@dataclass(frozen=True)
class LogSoftmaxParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_log_softmax_params_t"
    input_multiplier: int
    input_left_shift: int
    reverse_scaling_divisor: int
    reverse_scaling_right_shift: int
    diff_min: int


def log_softmax_params(input_scale: float) -> LogSoftmaxParams:
    """PreprocessLogSoftmaxScalingExp(beta 1.0, input_scale, 5) and the diff_min of CalculateOpData."""
    scaling = softmax_scaling(1.0, input_scale)  # PreprocessSoftmaxScaling and -CalculateInputRadius
    # (1 << (31 - left_shift)) / double(multiplier): an int shift, then a double division.
    reverse = float(1 << (31 - scaling.input_left_shift)) / float(scaling.input_multiplier)
    if not 0.0 < reverse < 1.0:
        # QuantizeMultiplierSmallerThanOneExp's TFLITE_CHECKs abort TFLM.
        raise InvalidModelError(f"input scale {input_scale!r} gives a reverse scaling {reverse!r} outside (0, 1); "
                                "TFLite Micro aborts on it")
    divisor = quantize_multiplier(reverse)
    return LogSoftmaxParams(
        input_multiplier=scaling.input_multiplier,
        input_left_shift=scaling.input_left_shift,
        reverse_scaling_divisor=divisor.multiplier,
        reverse_scaling_right_shift=-divisor.shift,
        diff_min=scaling.diff_min,
    )


@lowering(ops.LogSoftmax)
def lower_log_softmax(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = unary_operands(graph, op)
    if not inp.shape:
        raise InvalidModelError(f"operator #{op.index} LOG_SOFTMAX: input '{inp.name}' is a scalar")
    out_scale, out_zp = quantized(op, out)
    if np.float32(out_scale) != np.float32(LOG_SOFTMAX_OUTPUT_SCALE) or out_zp != LOG_SOFTMAX_OUTPUT_ZERO_POINT:
        raise InvalidModelError(
            f"operator #{op.index} LOG_SOFTMAX: output '{out.name}' has scale {out_scale!r} and zero point {out_zp}; "
            f"TFLite Micro requires scale 16/256 and zero point 127")
    in_scale, _ = quantized(op, inp)
    try:
        params = log_softmax_params(in_scale)
    except InvalidModelError as e:
        raise InvalidModelError(f"operator #{op.index} LOG_SOFTMAX: input '{inp.name}': {e}") from None
    depth = inp.shape[-1]
    call = KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function="tg_log_softmax_s8",
        args=(
            KernelArg("params", params),
            KernelArg("outer_size", inp.num_elements // depth),
            KernelArg("depth", depth),
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("output", TensorRef(out.index)),
        ),
        reads=activation_reads(inp),
        writes=(out.index,),
    )
    return (call,)
