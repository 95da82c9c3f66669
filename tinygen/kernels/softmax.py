"""SOFTMAX lowering, int8 input: TFLM's gemmlowp fixed-point reference (softmax_common.cc,
reference_ops::Softmax), over the last axis, for int8 or int16 output.

TFLM requires the output quantization it produces: int8 at exactly scale 1/256, zero point -128;
int16 at zero point -32768 and scale 1/65536 (within 0.1%). Anything else is refused at Prepare,
so it is refused here too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Operator, Tensor
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import activation_reads, quantized, unary_operands
from tinygen.kernels.cvalues import CStruct, TensorRef
from tinygen.kernels.nonlinear_params import SOFTMAX_INT8_OUTPUT_SCALE, SOFTMAX_INT16_OUTPUT_SCALE, softmax_scaling
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16


@dataclass(frozen=True)
class SoftmaxParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_softmax_params_t"
    input_multiplier: int
    input_left_shift: int
    diff_min: int


def check_softmax_output(op: Operator, out: Tensor) -> None:
    """CalculateSoftmaxParams' checks on the output quantization."""
    scale, zero_point = quantized(op, out)
    scale32 = np.float32(scale)
    if out.dtype is DType.INT8:
        ok = zero_point == -128 and scale32 == np.float32(SOFTMAX_INT8_OUTPUT_SCALE)
        expected = "scale 1/256 (exactly) and zero point -128"
    else:
        # TF_LITE_ENSURE_NEAR in float: |scale - 1/65536| <= 0.001 / 65536.
        target = np.float32(SOFTMAX_INT16_OUTPUT_SCALE)
        tolerance = np.float32(np.float32(0.001) * np.float32(1.0)) / np.float32(65536)
        ok = zero_point == -32768 and abs(scale32 - target) <= tolerance
        expected = "scale 1/65536 and zero point -32768"
    if not ok:
        raise InvalidModelError(
            f"operator #{op.index} SOFTMAX: output '{out.name}' has scale {scale!r} and zero point {zero_point}; "
            f"TFLite Micro requires {expected}")


@lowering(ops.Softmax)
def lower_softmax(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Softmax = op.attrs
    if int16.is_16x8(graph, op):  # issue 10: ops-b
        return (int16.softmax_16(graph, op),)
    inp, out = unary_operands(graph, op, (DType.INT8, DType.INT16))
    if not inp.shape or inp.shape[-1] < 1:
        raise InvalidModelError(f"operator #{op.index} SOFTMAX: input '{inp.name}' has shape {list(inp.shape)}")
    check_softmax_output(op, out)
    in_scale, _ = quantized(op, inp)
    try:
        scaling = softmax_scaling(attrs.beta, in_scale)
    except InvalidModelError as e:
        raise InvalidModelError(f"operator #{op.index} SOFTMAX: input '{inp.name}': {e}") from None

    depth = inp.shape[-1]
    call = KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function="tg_softmax_s8" if out.dtype is DType.INT8 else "tg_softmax_s8_s16",
        args=(
            KernelArg("params", SoftmaxParams(scaling.input_multiplier, scaling.input_left_shift, scaling.diff_min)),
            KernelArg("outer_size", inp.num_elements // depth),
            KernelArg("depth", depth),
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("output", TensorRef(out.index)),
        ),
        reads=activation_reads(inp),
        writes=(out.index,),
    )
    return (call,)
