"""DEPTHWISE_CONV_2D lowering: TFLM's per-channel int8 kernel (filter quantized along axis 3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.ir.quant import activation_range, conv_channel_multipliers
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import (
    channel_requant, compute_out_size, compute_padding, nhwc, optional_input, quantized, require_bias_size, require_rank,
    require_shape,
)
from tinygen.kernels.conv import check_filter_quant
from tinygen.kernels.cvalues import HW, CStruct, Dims, Range, TensorRef
from tinygen.kernels.registry import lowering

# DepthwiseConv weights are [1, H, W, C * M], quantized along the last dimension.
FILTER_CHANNEL_AXIS = 3


@dataclass(frozen=True)
class DepthwiseParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_depthwise_params_t"
    input_offset: int
    output_offset: int
    stride: HW
    padding: HW
    dilation: HW
    depth_multiplier: int
    activation: Range


@lowering(ops.DepthwiseConv2D)
def lower_depthwise_conv2d(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.DepthwiseConv2D = op.attrs
    inp, flt, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    for t in (inp, flt, out):
        require_rank(op, t, 4)
    in_dims, out_dims = nhwc(inp), nhwc(out)
    one, f_h, f_w, out_c = flt.shape
    # TFLM loops over input channels x the depth_multiplier option and never checks the filter
    # against them (a DCHECK only): a model where they disagree would read and write out of bounds.
    if one != 1 or out_c != in_dims.c * attrs.depth_multiplier:
        raise InvalidModelError(
            f"operator #{op.index} DEPTHWISE_CONV_2D: filter '{flt.name}' {list(flt.shape)} does not fit input "
            f"{list(inp.shape)} with depth multiplier {attrs.depth_multiplier}"
        )
    out_h = compute_out_size(attrs.padding, in_dims.h, f_h, attrs.stride_h, attrs.dilation_h)
    out_w = compute_out_size(attrs.padding, in_dims.w, f_w, attrs.stride_w, attrs.dilation_w)
    require_shape(op, out, (in_dims.n, out_h, out_w, out_c))
    check_filter_quant(op, graph, flt.index, FILTER_CHANNEL_AXIS)
    require_bias_size(graph, op, out_c)

    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    params = DepthwiseParams(
        input_offset=-in_zp,
        output_offset=out_zp,
        stride=HW(attrs.stride_h, attrs.stride_w),
        padding=HW(compute_padding(attrs.stride_h, attrs.dilation_h, in_dims.h, f_h, out_h),
                   compute_padding(attrs.stride_w, attrs.dilation_w, in_dims.w, f_w, out_w)),
        dilation=HW(attrs.dilation_h, attrs.dilation_w),
        depth_multiplier=attrs.depth_multiplier,
        activation=Range(*activation_range(attrs.activation, out_scale, out_zp)),
    )
    # PopulateConvolutionQuantizationParams: one multiplier per output channel, in double.
    requant = channel_requant(conv_channel_multipliers(in_scale, flt.quant.scales, out_scale, out_c))
    call = KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function="tg_depthwise_conv_s8",
        args=(
            KernelArg("params", params),
            KernelArg("requant", requant),
            KernelArg("input_dims", in_dims),
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("filter_dims", Dims(1, f_h, f_w, out_c)),
            KernelArg("filter", TensorRef(flt.index)),
            KernelArg("bias", optional_input(graph, op, 2)),
            KernelArg("output_dims", out_dims),
            KernelArg("output", TensorRef(out.index)),
        ),
        reads=(inp.index,),
        writes=(out.index,),
    )
    return (call,)

