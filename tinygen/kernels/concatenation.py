"""CONCATENATION lowering: one copy call per input into its slice of the output.

TFLM's int8 kernel requires every input to have the output's scale and zero point (it refuses
the model otherwise), so concatenation is a pure copy of stored values. Splitting it per input
keeps the C kernel free of pointer arrays and matches CMSIS-NN's per-input concatenation API.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Operator, Tensor
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import quantized, require_shape
from tinygen.kernels.cvalues import CStruct, TensorRef
from tinygen.kernels.registry import lowering

MAX_INPUTS = 10  # TFLM's kMaxInputNum
MAX_RANK = 6     # TFLM's RuntimeShape::kMaxSmallSize


@dataclass(frozen=True)
class ConcatParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_concat_params_t"
    outer_size: int
    input_block: int
    output_block: int
    output_offset: int


@lowering(ops.Concatenation)
def lower_concatenation(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Concatenation = op.attrs
    inputs = [graph.tensor(i) for i in op.inputs]
    out = graph.tensor(op.outputs[0])
    _check_supported(op, attrs, inputs, out)
    axis = attrs.axis
    rank = len(out.shape)
    for t in inputs:
        if len(t.shape) != rank or any(t.shape[d] != out.shape[d] for d in range(rank) if d != axis):
            raise InvalidModelError(
                f"operator #{op.index} CONCATENATION: input '{t.name}' {list(t.shape)} does not fit output "
                f"'{out.name}' {list(out.shape)} along axis {axis}"
            )
    expected = list(out.shape)
    expected[axis] = sum(t.shape[axis] for t in inputs)
    require_shape(op, out, tuple(expected))

    outer = math.prod(out.shape[:axis])
    inner = math.prod(out.shape[axis + 1:])
    calls = []
    offset = 0
    for t in inputs:
        block = t.shape[axis] * inner
        if block > 0 and outer > 0:
            params = ConcatParams(outer_size=outer, input_block=block, output_block=out.shape[axis] * inner,
                                  output_offset=offset)
            calls.append(KernelCall(
                op_index=op.index,
                op_kind=op.kind,
                function="tg_concatenation_s16" if out.dtype is DType.INT16 else "tg_concatenation_s8",
                args=(
                    KernelArg(f"params{len(calls)}", params),  # one named constant per call
                    KernelArg("input", TensorRef(t.index)),
                    KernelArg("output", TensorRef(out.index)),
                ),
                reads=() if t.is_constant else (t.index,),
                # Every call lists the output: its buffer must be live from the first copy on.
                writes=(out.index,),
            ))
        offset += block
    return tuple(calls)


def _check_supported(op: Operator, attrs: ops.Concatenation, inputs: list[Tensor], out: Tensor) -> None:
    if attrs.activation is not ops.Activation.NONE:
        raise UnsupportedModelError(
            f"operator #{op.index} CONCATENATION: fused activation {attrs.activation.value}; TFLite Micro takes none"
        )
    if len(inputs) > MAX_INPUTS:
        raise UnsupportedModelError(
            f"operator #{op.index} CONCATENATION: {len(inputs)} inputs; TFLite Micro takes at most {MAX_INPUTS}"
        )
    if len(out.shape) > MAX_RANK:
        raise UnsupportedModelError(
            f"operator #{op.index} CONCATENATION: output '{out.name}' has rank {len(out.shape)}; "
            f"TFLite Micro takes at most {MAX_RANK}"
        )
    for t in inputs:  # int16 (ops-c): every input of the output's type, as TFLM's kernel requires
        if t.dtype is not out.dtype:
            raise UnsupportedModelError(f"operator #{op.index} CONCATENATION: input '{t.name}' is {t.dtype.value}, "
                                        f"output '{out.name}' {out.dtype.value}; TFLite Micro requires one type")
    out_scale, out_zp = quantized(op, out)
    for t in inputs:
        scale, zp = quantized(op, t)
        if scale != out_scale or zp != out_zp:
            raise UnsupportedModelError(
                f"operator #{op.index} CONCATENATION: input '{t.name}' (scale {scale}, zero point {zp}) differs from "
                f"output '{out.name}' (scale {out_scale}, zero point {out_zp}); TFLite Micro requires them equal"
            )
