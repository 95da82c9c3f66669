"""AVERAGE_POOL_2D and MAX_POOL_2D lowerings (TFLM reference_integer_ops pooling)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.ir.quant import activation_range
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import compute_out_size, compute_padding, nhwc, quantized, require_rank, require_shape
from tinygen.kernels.cvalues import HW, CStruct, Range, TensorRef
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16

# PoolingPrepare accepts an int8 output whose scale differs from the input's by at most this
# much (an absolute difference, in double), and requires equal zero points.
MAX_SCALE_DIFFERENCE = 1.0e-6


@dataclass(frozen=True)
class PoolParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_pool_params_t"
    stride: HW
    padding: HW
    filter: HW
    activation: Range


def _lower_pool(graph: Graph, op: Operator, function: str) -> tuple[KernelCall, ...]:
    attrs: ops.AveragePool2D | ops.MaxPool2D = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    require_rank(op, inp, 4)
    require_rank(op, out, 4)
    in_dims, out_dims = nhwc(inp), nhwc(out)
    out_h = compute_out_size(attrs.padding, in_dims.h, attrs.filter_h, attrs.stride_h, 1)
    out_w = compute_out_size(attrs.padding, in_dims.w, attrs.filter_w, attrs.stride_w, 1)
    require_shape(op, out, (in_dims.n, out_h, out_w, in_dims.c))

    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    # The kernels work on stored values, which is only right when both tensors share quantization.
    if abs(in_scale - out_scale) > MAX_SCALE_DIFFERENCE or in_zp != out_zp:
        raise InvalidModelError(
            f"operator #{op.index} {op.kind}: output '{out.name}' (scale {out_scale}, zero point {out_zp}) must have "
            f"the quantization of input '{inp.name}' (scale {in_scale}, zero point {in_zp}), as TFLite Micro requires"
        )
    # With TFLM's SAME padding every window overlaps the image, so no average divides by zero.
    params = PoolParams(
        stride=HW(attrs.stride_h, attrs.stride_w),
        padding=HW(compute_padding(attrs.stride_h, 1, in_dims.h, attrs.filter_h, out_h),
                   compute_padding(attrs.stride_w, 1, in_dims.w, attrs.filter_w, out_w)),
        filter=HW(attrs.filter_h, attrs.filter_w),
        activation=Range(*activation_range(attrs.activation, out_scale, out_zp)),
    )
    call = KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function=function,
        args=(
            KernelArg("params", params),
            KernelArg("input_dims", in_dims),
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("output_dims", out_dims),
            KernelArg("output", TensorRef(out.index)),
        ),
        reads=(inp.index,),
        writes=(out.index,),
    )
    if int16.is_16x8(graph, op):  # issue 10: ops-b
        return (int16.pool_16x8(graph, op, call),)
    return (call,)


@lowering(ops.AveragePool2D)
def lower_average_pool2d(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _lower_pool(graph, op, "tg_avg_pool_s8")


@lowering(ops.MaxPool2D)
def lower_max_pool2d(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _lower_pool(graph, op, "tg_max_pool_s8")
