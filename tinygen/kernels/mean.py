"""MEAN lowering: TFLM's QuantizedMeanOrSum, the path the int8 MEAN kernel always takes.

TFLM sums the stored int8 values over the reduced axes in int32, subtracts input_zero_point *
count once, and requantizes with the input/output scale ratio into which it folds 1 / count at
Eval time (integer arithmetic, reproduced here exactly). Older TFLM releases had two other int8
paths (a 4-D axes-{1,2} special case, and a truncating division when input and output share
quantization); the interpreter tinygen is checked against takes neither, as its tests show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Operator
from tinygen.ir.quant import FixedPointMultiplier, quantize_multiplier
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, quantized
from tinygen.kernels.cvalues import ConstArray, CStruct, Requant
from tinygen.kernels.registry import lowering

MAX_RANK = 6  # TG_MEAN_MAX_RANK in C


@dataclass(frozen=True)
class MeanParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_mean_params_t"
    rank: int
    dims: ConstArray
    reduced: ConstArray
    count: int
    input_zero_point: int
    output_zero_point: int
    requant: Requant


def mean_multiplier(input_scale: float, output_scale: float, count: int) -> FixedPointMultiplier:
    """QuantizedMeanOrSum's multiplier: QuantizeMultiplier(in/out in double), then 1/count folded in.

    The count is divided into the Q31 multiplier after shifting it left by floor(log2(count)),
    limited to 32 and to what keeps the final shift >= -31; the division truncates.
    """
    base = quantize_multiplier(float(input_scale) / float(output_scale))
    shift = min(count.bit_length() - 1, 32, 31 + base.shift)
    return FixedPointMultiplier((base.multiplier << shift) // count, base.shift - shift)


def merged_dims(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[list[int], list[int]]:
    """Drop size-1 dims and merge neighbours that are both reduced or both kept.

    Neither changes which input elements meet in which output, nor the output order.
    """
    dims: list[int] = []
    reduced: list[int] = []
    for d, size in enumerate(shape):
        if size == 1:
            continue
        flag = int(d in axes)
        if reduced and reduced[-1] == flag:
            dims[-1] *= size
        else:
            dims.append(size)
            reduced.append(flag)
    if not dims:  # a single element: keep one dim so the C arrays are never empty
        return [1], [1]
    return dims, reduced


@lowering(ops.Mean)
def lower_mean(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Mean = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    axes_tensor = graph.tensor(op.inputs[1])
    if axes_tensor.dtype is not DType.INT32:
        raise UnsupportedModelError(
            f"operator #{op.index} MEAN: axes '{axes_tensor.name}' are {axes_tensor.dtype.value}; "
            f"TFLite Micro needs int32"
        )
    if len(inp.shape) > MAX_RANK:
        raise UnsupportedModelError(
            f"operator #{op.index} MEAN: input '{inp.name}' has rank {len(inp.shape)}; "
            f"tinygen averages up to {MAX_RANK}"
        )
    if inp.num_elements == 0:
        raise UnsupportedModelError(f"operator #{op.index} MEAN: input '{inp.name}' is empty")
    kept = [size for d, size in enumerate(inp.shape) if d not in attrs.axes]
    expected = [1 if d in attrs.axes else size for d, size in enumerate(inp.shape)] if attrs.keep_dims else kept
    # TFLM only counts the output's elements; any shape with the right count gets the same bytes.
    if out.num_elements != math.prod(kept):
        raise InvalidModelError(
            f"operator #{op.index} MEAN: output '{out.name}' has shape {list(out.shape)}, "
            f"but averaging '{inp.name}' {list(inp.shape)} over axes {list(attrs.axes)} gives {expected}"
        )
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    count = math.prod(inp.shape[d] for d in attrs.axes)
    multiplier = mean_multiplier(in_scale, out_scale, count)
    dims, reduced = merged_dims(inp.shape, attrs.axes)
    params = MeanParams(
        rank=len(dims),
        dims=ConstArray("int32_t", np.array(dims, dtype=np.int32)),
        reduced=ConstArray("int32_t", np.array(reduced, dtype=np.int32)),
        count=count,
        input_zero_point=in_zp,
        output_zero_point=out_zp,
        requant=Requant(multiplier.multiplier, multiplier.shift),
    )
    return (elementwise_call(op, "tg_mean_s8", "params", params, inp, out, with_size=False),)
