"""Operators that only move int8 values: TRANSPOSE (and, through the same strided copy, slicing).

Each becomes one tg_strided_copy_s8 call: the output written in order, every element read from
an input position affine in the output index. TFLM copies stored values without requantizing,
whatever the two tensors' quantization, and so does tinygen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Operator, Tensor
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, require_shape
from tinygen.kernels.cvalues import ConstArray, CStruct
from tinygen.kernels.registry import lowering

COPY_RANK = 6  # TG_COPY_RANK
TRANSPOSE_MAX_RANK = 5  # TFLM's TransposePrepare: "Transpose op only supports 1D-5D input arrays."


@dataclass(frozen=True)
class StridedCopyParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_strided_copy_params_t"
    output_dims: ConstArray
    input_strides: ConstArray
    input_offset: int


def row_major_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


def int8_operands(op: Operator, inp: Tensor, out: Tensor) -> None:
    """Both int8: the copy moves bytes, so the types must agree (TFLM: TF_LITE_ENSURE_TYPES_EQ)."""
    if inp.dtype is not DType.INT8 or out.dtype is not DType.INT8:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: '{inp.name}' is {inp.dtype.value} -> '{out.name}' is "
            f"{out.dtype.value}; supported: int8 -> int8")


def strided_copy_call(op: Operator, inp: Tensor, out: Tensor, dims: tuple[int, ...],
                      strides: tuple[int, ...], offset: int) -> KernelCall:
    """out[i] = inp[offset + i . strides] over the output index i of shape `dims` (= out's size)."""
    if len(dims) > COPY_RANK:
        raise UnsupportedModelError(f"operator #{op.index} {op.kind}: rank {len(dims)}; at most {COPY_RANK}")
    if int(np.prod(dims, dtype=np.int64)) != out.num_elements:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: output '{out.name}' has {out.num_elements} "
                                f"elements, but its inputs give {list(dims)}")
    # Every read in bounds: the extreme positions of an affine map are at the corners.
    low = offset + sum(min(0, (d - 1) * s) for d, s in zip(dims, strides))
    high = offset + sum(max(0, (d - 1) * s) for d, s in zip(dims, strides))
    if low < 0 or high >= inp.num_elements:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: reads outside input '{inp.name}' {list(inp.shape)}")
    pad = COPY_RANK - len(dims)
    params = StridedCopyParams(
        output_dims=ConstArray("int32_t", np.array((1,) * pad + tuple(dims), dtype=np.int32)),
        input_strides=ConstArray("int32_t", np.array((0,) * pad + tuple(strides), dtype=np.int32)),
        input_offset=offset,
    )
    return elementwise_call(op, "tg_strided_copy_s8", "params", params, inp, out, with_size=False)


@lowering(ops.Transpose)
def lower_transpose(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    perm = op.attrs.perm
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    rank = len(inp.shape)
    if rank > TRANSPOSE_MAX_RANK:
        raise UnsupportedModelError(
            f"operator #{op.index} TRANSPOSE: input '{inp.name}' has rank {rank}; TFLite Micro transposes 1-D to 5-D")
    if sorted(perm) != list(range(rank)):
        raise InvalidModelError(
            f"operator #{op.index} TRANSPOSE: perm {list(perm)} is not a permutation of the {rank} input dimensions")
    require_shape(op, out, tuple(inp.shape[p] for p in perm))
    in_strides = row_major_strides(inp.shape)
    return (strided_copy_call(op, inp, out, tuple(out.shape), tuple(in_strides[p] for p in perm), 0),)
