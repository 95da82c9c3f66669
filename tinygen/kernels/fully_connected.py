"""FULLY_CONNECTED lowering."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import NO_TENSOR, Graph, Operator
from tinygen.ir.quant import activation_range, conv_channel_multipliers, conv_tensor_multiplier
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import channel_requant, optional_input, quantized, require_bias_size
from tinygen.kernels.conv import check_filter_quant
from tinygen.kernels.cvalues import CStruct, Range, TensorRef
from tinygen.kernels.registry import lowering
from tinygen.kernels import int16

# TFLM refuses a per-tensor layer whose bias scale strays further than this from
# input_scale * filter_scale, relative to the output scale (GetQuantizedConvolutionMultipler).
MAX_BIAS_SCALE_ERROR = 0.02


@dataclass(frozen=True)
class FullyConnectedParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_fc_params_t"
    input_offset: int
    filter_offset: int
    output_offset: int
    activation: Range


@lowering(ops.FullyConnected)
def lower_fully_connected(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.FullyConnected = op.attrs
    inp, flt, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    if len(flt.shape) != 2:
        raise InvalidModelError(f"operator #{op.index} FULLY_CONNECTED: weights '{flt.name}' have shape {list(flt.shape)}")
    output_depth, accum_depth = flt.shape
    if accum_depth == 0 or inp.num_elements % accum_depth:
        raise InvalidModelError(
            f"operator #{op.index} FULLY_CONNECTED: input '{inp.name}' {list(inp.shape)} is not a multiple of {accum_depth}"
        )
    batches = inp.num_elements // accum_depth
    if out.num_elements != batches * output_depth or (out.shape and out.shape[-1] != output_depth):
        raise InvalidModelError(
            f"operator #{op.index} FULLY_CONNECTED: output '{out.name}' has shape {list(out.shape)}, "
            f"expected {batches} x {output_depth}"
        )
    check_filter_quant(op, graph, flt.index, 0)
    require_bias_size(graph, op, output_depth)

    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    if flt.quant.per_channel:
        multipliers = conv_channel_multipliers(in_scale, flt.quant.scales, out_scale, output_depth)
    else:
        _check_bias_scale(graph, op, in_scale * flt.quant.scale, out_scale)
        multipliers = [conv_tensor_multiplier(in_scale, flt.quant.scale, out_scale)]
    params = FullyConnectedParams(
        input_offset=-in_zp,
        # TFLM's per-channel FullyConnected takes no filter offset (checked: zero points 3 are ignored).
        filter_offset=0 if flt.quant.per_channel else -flt.quant.zero_point,
        output_offset=out_zp,
        activation=Range(*activation_range(attrs.activation, out_scale, out_zp)),
    )
    call = KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function="tg_fully_connected_s8",
        args=(
            KernelArg("params", params),
            KernelArg("requant", channel_requant(multipliers)),
            KernelArg("batches", batches),
            KernelArg("accum_depth", accum_depth),
            KernelArg("output_depth", output_depth),
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("filter", TensorRef(flt.index)),
            KernelArg("bias", optional_input(graph, op, 2)),
            KernelArg("output", TensorRef(out.index)),
        ),
        reads=(inp.index,),
        writes=(out.index,),
    )
    if int16.is_16x8(graph, op):  # issue 10: ops-b
        return (int16.fully_connected_16x8(graph, op, call),)
    return (call,)


def _check_bias_scale(graph: Graph, op: Operator, product_scale: float, output_scale: float) -> None:
    if len(op.inputs) < 3 or op.inputs[2] == NO_TENSOR:
        return
    bias = graph.tensor(op.inputs[2])
    # TFLM reads params.scale, which is 0 for a bias without quantization parameters.
    bias_scale = bias.quant.scale if bias.quant is not None else 0.0
    if abs(product_scale - bias_scale) / output_scale > MAX_BIAS_SCALE_ERROR:
        raise InvalidModelError(
            f"operator #{op.index} FULLY_CONNECTED: bias '{bias.name}' scale {bias_scale} does not match "
            f"input scale x weight scale {product_scale}"
        )
