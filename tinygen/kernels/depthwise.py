"""DEPTHWISE_CONV_2D lowering: TFLM's per-channel int8 kernel (filter quantized along axis 3)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.ir.quant import activation_range
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import (
    nhwc, quantized, require_bias_size, require_rank,
    require_shape,
)
from tinygen.kernels.conv import check_filter_quant, conv_call, conv_window
from tinygen.kernels.cvalues import HW, CStruct, Dims, Range
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16

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
    in_dims = nhwc(inp)
    one, f_h, f_w, out_c = flt.shape
    # TFLM loops over input channels x the depth_multiplier option and never checks the filter
    # against them (a DCHECK only): a model where they disagree would read and write out of bounds.
    if one != 1 or out_c != in_dims.c * attrs.depth_multiplier:
        raise InvalidModelError(
            f"operator #{op.index} DEPTHWISE_CONV_2D: filter '{flt.name}' {list(flt.shape)} does not fit input "
            f"{list(inp.shape)} with depth multiplier {attrs.depth_multiplier}"
        )
    window = conv_window(attrs, in_dims, f_h, f_w)
    require_shape(op, out, (in_dims.n, window.out_h, window.out_w, out_c))
    check_filter_quant(op, graph, flt.index, FILTER_CHANNEL_AXIS)
    require_bias_size(graph, op, out_c)

    out_scale, out_zp = quantized(op, out)
    params = DepthwiseParams(
        input_offset=-quantized(op, inp)[1],
        output_offset=out_zp,
        stride=window.stride,
        padding=window.padding,
        dilation=window.dilation,
        depth_multiplier=attrs.depth_multiplier,
        activation=Range(*activation_range(attrs.activation, out_scale, out_zp)),
    )
    call = conv_call(graph, op, "tg_depthwise_conv_s8", params, Dims(1, f_h, f_w, out_c))
    if int16.is_16x8(graph, op):  # issue 10: ops-b
        return (int16.conv_16x8(graph, op, call),)
    return (call,)
