"""SVDF lowering: TFLM's integer SVDF, with its activation state kept between invocations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Operator
from tinygen.ir.quant import quantize_multiplier
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import activation_reads, quantized, require_rank, require_shape
from tinygen.kernels.cvalues import CStruct, ScratchRef, TensorRef
from tinygen.kernels.registry import lowering

# TFLM's Prepare: |bias scale - state scale x time-weight scale| must stay under this.
MAX_BIAS_SCALE_ERROR = 1e-5


@dataclass(frozen=True)
class SvdfParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_svdf_params_t"
    batches: int
    input_size: int
    filters: int
    units: int
    rank: int
    memory: int
    input_zero_point: int
    state_zero_point: int
    output_zero_point: int
    feature_multiplier: int
    feature_shift: int
    output_multiplier: int
    output_shift: int


@lowering(ops.Svdf)
def lower_svdf(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Svdf = op.attrs
    inp, feature, time, bias, state = (graph.tensor(i) for i in op.inputs)
    out = graph.tensor(op.outputs[0])
    for t in (inp, feature, time, state, out):
        require_rank(op, t, 2)
    batches, input_size = inp.shape
    filters, memory = time.shape
    if filters % attrs.rank:
        raise InvalidModelError(f"operator #{op.index} SVDF: {filters} filters are not a multiple of rank {attrs.rank}")
    units = filters // attrs.rank
    require_shape(op, feature, (filters, input_size))
    require_shape(op, state, (batches, memory * filters))
    require_shape(op, out, (batches, units))
    if bias.shape[:1] != (units,):
        raise InvalidModelError(f"operator #{op.index} SVDF: bias '{bias.name}' has shape {list(bias.shape)}, "
                                f"expected [{units}]")

    in_scale, in_zp = quantized(op, inp)
    state_scale, state_zp = quantized(op, state)
    out_scale, out_zp = quantized(op, out)
    # The ratios in double: the float expression of TFLM's source (svdf_common.cc, Aug 2026) gives
    # other multipliers than the tflite-micro wheel computes with (checked on 24 random models).
    feature_ratio = in_scale * feature.quant.scale / state_scale
    product = state_scale * time.quant.scale
    output_ratio = product / out_scale
    if not abs(bias.quant.scale - product) < MAX_BIAS_SCALE_ERROR:
        raise InvalidModelError(f"operator #{op.index} SVDF: bias '{bias.name}' scale {bias.quant.scale} is not "
                                f"state scale x time-weight scale {product} (TFLite Micro refuses it)")
    feature_m, output_m = quantize_multiplier(feature_ratio), quantize_multiplier(output_ratio)
    params = SvdfParams(
        batches=batches, input_size=input_size, filters=filters, units=units, rank=attrs.rank, memory=memory,
        input_zero_point=in_zp, state_zero_point=state_zp, output_zero_point=out_zp,
        feature_multiplier=feature_m.multiplier, feature_shift=feature_m.shift,
        output_multiplier=output_m.multiplier, output_shift=output_m.shift,
    )
    wide = state.dtype is DType.INT16
    call = KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function="tg_svdf_s8_s16" if wide else "tg_svdf_s8_s8",
        args=(
            KernelArg("params", params),
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("weights_feature", TensorRef(feature.index)),
            KernelArg("weights_time", TensorRef(time.index)),
            KernelArg("bias", TensorRef(bias.index)),
            # The state lives outside the arena (plan/state.py): neither read nor written there.
            KernelArg("state", TensorRef(state.index)),
            KernelArg("output", TensorRef(out.index)),
            KernelArg("scratch", ScratchRef()),
        ),
        reads=activation_reads(inp),
        writes=(out.index,),
        scratch_bytes=4 * (batches * filters + batches * units),
    )
    return (call,)
