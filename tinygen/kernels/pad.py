"""PAD lowering: TFLM's Pad on shapes extended to 5 dims, with PADV2's optional constant value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import NO_TENSOR, DType, Graph, Operator
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, quantized, require_shape
from tinygen.kernels.cvalues import ConstArray, CStruct
from tinygen.kernels.registry import lowering

PAD_RANK = 5  # TFLM's PadKernelMaxDimensionCount (TG_PAD_RANK in C)


@dataclass(frozen=True)
class PadParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_pad_params_t"
    input_dims: ConstArray
    before: ConstArray
    after: ConstArray
    pad_value: int


def _five(values: list[int], fill: int) -> ConstArray:
    """A per-dimension array extended at the front to PAD_RANK entries, as RuntimeShape::ExtendedShape."""
    return ConstArray("int32_t", np.array([fill] * (PAD_RANK - len(values)) + list(values), dtype=np.int32))


@lowering(ops.Pad)
def lower_pad(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Pad = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if len(inp.shape) > PAD_RANK:
        raise UnsupportedModelError(
            f"operator #{op.index} PAD: input '{inp.name}' has rank {len(inp.shape)}; "
            f"TFLite Micro pads up to {PAD_RANK}"
        )
    paddings = graph.tensor(op.inputs[1])
    if paddings.dtype is not DType.INT32:
        # TFLM reads the paddings buffer as int32 whatever its type, so it refuses int64 paddings.
        raise UnsupportedModelError(
            f"operator #{op.index} PAD: paddings '{paddings.name}' are {paddings.dtype.value}; TFLite Micro needs int32"
        )
    if len(attrs.paddings) != len(inp.shape):
        raise InvalidModelError(
            f"operator #{op.index} PAD: {len(attrs.paddings)} paddings for input '{inp.name}' of rank {len(inp.shape)}"
        )
    require_shape(op, out, tuple(d + lo + hi for d, (lo, hi) in zip(inp.shape, attrs.paddings)))
    quantized(op, inp)  # an int8 activation, per tensor
    params = PadParams(
        input_dims=_five(list(inp.shape), 1),
        before=_five([lo for lo, _ in attrs.paddings], 0),
        after=_five([hi for _, hi in attrs.paddings], 0),
        pad_value=_pad_value(graph, op),
    )
    function = "tg_pad_s16" if out.dtype is DType.INT16 else "tg_pad_s8"  # int16: issue 10, ops-c
    return (elementwise_call(op, function, "params", params, inp, out, with_size=False),)


def _pad_value(graph: Graph, op: Operator) -> int:
    """The stored int8 written into the padding: the output zero point, or PADV2's constant.

    TFLM uses either one as is; it never requantizes, and neither the input nor the output is
    rescaled (PAD copies the input's stored values even when its quantization differs).
    """
    out = graph.tensor(op.outputs[0])
    out_scale, out_zp = quantized(op, out)
    if len(op.inputs) < 3 or op.inputs[2] == NO_TENSOR:
        low, high = (-32768, 32767) if out.dtype is DType.INT16 else (-128, 127)
        if not low <= out_zp <= high:
            raise InvalidModelError(f"operator #{op.index} PAD: output '{out.name}' zero point {out_zp} is not "
                                    f"{out.dtype.value}")
        return out_zp
    const = graph.tensor(op.inputs[2])
    if const.dtype is not out.dtype or const.data is None or const.num_elements != 1:
        raise UnsupportedModelError(
            f"operator #{op.index} PAD: constant_values '{const.name}' must be one constant {out.dtype.value} value"
        )
    quant = const.quant
    if quant is None or quant.per_channel or quant.zero_point != out_zp or quant.scale != out_scale:
        raise InvalidModelError(
            f"operator #{op.index} PAD: constant_values '{const.name}' must have the quantization of output "
            f"'{out.name}' (scale {out_scale}, zero point {out_zp}), as TFLite Micro requires"
        )
    return int(np.asarray(const.data).reshape(-1)[0])
