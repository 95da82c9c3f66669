"""CONV_2D lowering (DEPTHWISE_CONV_2D is in depthwise.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.ir.quant import activation_range, conv_channel_multipliers
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import (
    channel_requant, compute_out_size, compute_padding, nhwc, optional_input, quantized, require_bias_size, require_rank,
    require_shape,
)
from tinygen.kernels.cvalues import HW, ChannelRequant, CStruct, Dims, Range, TensorRef
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16


@dataclass(frozen=True)
class ConvParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_conv_params_t"
    input_offset: int
    output_offset: int
    stride: HW
    padding: HW
    dilation: HW
    activation: Range


def check_filter_quant(op: Operator, graph: Graph, filter_index: int, channel_axis: int) -> None:
    quant = graph.tensor(filter_index).quant
    if quant is not None and quant.per_channel and quant.axis != channel_axis:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: filter quantized along axis {quant.axis}, expected {channel_axis}"
        )


@dataclass(frozen=True)
class ConvWindow:
    """Where a convolution's filter window goes: TFLM's output size and top/left padding."""

    out_h: int
    out_w: int
    stride: HW
    padding: HW
    dilation: HW


def conv_window(attrs: ops.Conv2D | ops.DepthwiseConv2D, in_dims: Dims, f_h: int, f_w: int) -> ConvWindow:
    out_h = compute_out_size(attrs.padding, in_dims.h, f_h, attrs.stride_h, attrs.dilation_h)
    out_w = compute_out_size(attrs.padding, in_dims.w, f_w, attrs.stride_w, attrs.dilation_w)
    return ConvWindow(
        out_h=out_h,
        out_w=out_w,
        stride=HW(attrs.stride_h, attrs.stride_w),
        padding=HW(compute_padding(attrs.stride_h, attrs.dilation_h, in_dims.h, f_h, out_h),
                   compute_padding(attrs.stride_w, attrs.dilation_w, in_dims.w, f_w, out_w)),
        dilation=HW(attrs.dilation_h, attrs.dilation_w),
    )


def per_channel_requant(op: Operator, graph: Graph, out_c: int) -> ChannelRequant:
    """PopulateConvolutionQuantizationParams: one multiplier per output channel, in double."""
    inp, flt, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    return channel_requant(conv_channel_multipliers(quantized(op, inp)[0], flt.quant.scales, quantized(op, out)[0], out_c))


def conv_call(graph: Graph, op: Operator, function: str, params: CStruct, filter_dims: Dims) -> KernelCall:
    """The call every convolution kernel shares: params, requant, then (dims, data) of input,
    filter, bias and output."""
    inp, flt, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    return KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function=function,
        args=(
            KernelArg("params", params),
            KernelArg("requant", per_channel_requant(op, graph, nhwc(out).c)),
            KernelArg("input_dims", nhwc(inp)),
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("filter_dims", filter_dims),
            KernelArg("filter", TensorRef(flt.index)),
            KernelArg("bias", optional_input(graph, op, 2)),
            KernelArg("output_dims", nhwc(out)),
            KernelArg("output", TensorRef(out.index)),
        ),
        reads=(inp.index,),
        writes=(out.index,),
    )


@lowering(ops.Conv2D)
def lower_conv2d(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Conv2D = op.attrs
    inp, flt, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    for t in (inp, flt, out):
        require_rank(op, t, 4)
    in_dims = nhwc(inp)
    out_c, f_h, f_w, f_c = flt.shape
    if f_c < 1 or in_dims.c % f_c or out_c % (in_dims.c // f_c):
        raise InvalidModelError(
            f"operator #{op.index} CONV_2D: filter '{flt.name}' {list(flt.shape)} does not fit input {list(inp.shape)}"
        )
    window = conv_window(attrs, in_dims, f_h, f_w)
    require_shape(op, out, (in_dims.n, window.out_h, window.out_w, out_c))
    check_filter_quant(op, graph, op.inputs[1], 0)
    require_bias_size(graph, op, out_c)

    out_scale, out_zp = quantized(op, out)
    params = ConvParams(
        input_offset=-quantized(op, inp)[1],
        output_offset=out_zp,
        stride=window.stride,
        padding=window.padding,
        dilation=window.dilation,
        activation=Range(*activation_range(attrs.activation, out_scale, out_zp)),
    )
    call = conv_call(graph, op, "tg_conv_s8", params, Dims(out_c, f_h, f_w, f_c))
    if int16.is_16x8(graph, op):  # issue 10: ops-b
        return (int16.conv_16x8(graph, op, call),)
    return (call,)
