"""Helpers every lowering uses: shapes as NHWC dims, TFLM's padding arithmetic, checks."""

from __future__ import annotations

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir.graph import NO_TENSOR, Graph, Operator, Tensor
from tinygen.ir.ops import Padding
from tinygen.ir.quant import FixedPointMultiplier
from tinygen.kernels.cvalues import ChannelRequant, ConstArray, Dims, NullPtr, TensorRef


def nhwc(tensor: Tensor) -> Dims:
    """A tensor of rank <= 4 as NHWC dims, missing leading dimensions being 1."""
    shape = tensor.shape
    if len(shape) > 4:
        raise UnsupportedModelError(f"tensor '{tensor.name}' has rank {len(shape)}; this operator takes rank <= 4")
    n, h, w, c = (1,) * (4 - len(shape)) + tuple(shape)
    return Dims(n=n, h=h, w=w, c=c)


def require_rank(op: Operator, tensor: Tensor, rank: int) -> None:
    if len(tensor.shape) != rank:
        raise InvalidModelError(
            f"operator #{op.index} {op.kind}: tensor '{tensor.name}' has shape {list(tensor.shape)}, expected rank {rank}"
        )


def require_shape(op: Operator, tensor: Tensor, expected: tuple[int, ...]) -> None:
    if tuple(tensor.shape) != tuple(expected):
        raise InvalidModelError(
            f"operator #{op.index} {op.kind}: tensor '{tensor.name}' has shape {list(tensor.shape)}, "
            f"but its inputs give {list(expected)}"
        )


def compute_out_size(padding: Padding, in_size: int, filter_size: int, stride: int, dilation: int) -> int:
    """TFLM ComputeOutSize."""
    effective = (filter_size - 1) * dilation + 1
    if padding is Padding.SAME:
        return (in_size + stride - 1) // stride
    return (in_size + stride - effective) // stride


def compute_padding(stride: int, dilation: int, in_size: int, filter_size: int, out_size: int) -> int:
    """TFLM ComputePadding: the top/left padding (the extra odd pixel goes bottom/right)."""
    effective = (filter_size - 1) * dilation + 1
    # C++ integer division truncates toward zero; the result is clamped to >= 0 anyway.
    total = (out_size - 1) * stride + effective - in_size
    padding = int(total / 2)
    return padding if padding > 0 else 0


def channel_requant(multipliers: list[FixedPointMultiplier]) -> ChannelRequant:
    """Per-channel arrays, collapsed to one entry when every channel is the same."""
    if all(m == multipliers[0] for m in multipliers):
        multipliers = multipliers[:1]
    return ChannelRequant(
        multiplier=ConstArray("int32_t", np.array([m.multiplier for m in multipliers], dtype=np.int32)),
        shift=ConstArray("int32_t", np.array([m.shift for m in multipliers], dtype=np.int32)),
        per_channel=int(len(multipliers) > 1),
    )


def optional_input(graph: Graph, op: Operator, position: int) -> TensorRef | NullPtr:
    if len(op.inputs) > position and op.inputs[position] != NO_TENSOR:
        return TensorRef(op.inputs[position])
    return NullPtr()


def quantized(op: Operator, tensor: Tensor) -> tuple[float, int]:
    """(scale, zero_point) of a per-tensor quantized activation."""
    if tensor.quant is None:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: tensor '{tensor.name}' is not quantized")
    if tensor.quant.per_channel:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: activation tensor '{tensor.name}' is quantized per channel"
        )
    return tensor.quant.scale, tensor.quant.zero_point
