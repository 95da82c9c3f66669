"""STRIDED_SLICE lowering: TFLM's index arithmetic (strided_slice_logic.h) at generation time,
then one tg_strided_copy_s8 call.

TFLM's kernel takes inputs up to 4-D, constant int32 begin/end/strides, and forces ellipsis_mask,
new_axis_mask and offset to 0: a model relying on them gets TFLM's output-shape check (Prepare's
CheckOutputSize), which tinygen repeats, so both refuse the same models.
"""

from __future__ import annotations

import math

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.kernels.call import KernelCall
from tinygen.kernels.data_movement import int8_operands, row_major_strides, strided_copy_call
from tinygen.kernels.registry import lowering

STRIDED_SLICE_MAX_RANK = 4  # "input dim should not exceed 4"
_PADDED_RANK = 5            # the reference kernel pads everything to 5-D (StridedSlicePadIndices)


def _clamp(v: int, lo: int, hi: int) -> int:
    return hi if v > hi else (lo if v < lo else v)


def _start(begin: int, stride: int, masked: bool, size: int) -> int:
    """StridedSliceStartForAxis (Eval)."""
    start = begin + size if begin < 0 else begin
    start = _clamp(start, 0, size) if stride > 0 else _clamp(start, -1, size - 1)
    if masked:
        start = 0 if stride > 0 else size - 1
    return start


def _stop(end: int, stride: int, masked: bool, shrink: bool, size: int, start: int) -> int:
    """StridedSliceEndForAxis (Eval), offset false as TFLM's kernel sets it."""
    if shrink:
        return start if start >= size else start + 1
    stop = end + size if end < 0 else end
    stop = _clamp(stop, 0, size) if stride > 0 else _clamp(stop, -1, size - 1)
    if masked:
        stop = size if stride > 0 else -1
    return stop


def _count(start: int, stop: int, stride: int) -> int:
    """Iterations of TFLM's loop: index from start while index < stop (stride > 0) or > stop."""
    if stride > 0:
        return max(0, -((start - stop) // stride))
    return max(0, -((stop - start) // -stride))


def _prepare_output_shape(attrs: ops.StridedSlice, shape: tuple[int, ...]) -> tuple[int, ...]:
    """CheckOutputSize: StartForAxis/StopForAxis, then ceil((end - begin) / float(stride)) in float32."""
    dims = []
    for axis, size in enumerate(shape):
        stride = attrs.strides[axis]
        begin = attrs.begin[axis]
        if attrs.begin_mask & (1 << axis):
            begin = -(2**31) if stride > 0 else 2**31 - 1
        if begin < 0:
            begin += size
        begin = _clamp(begin, 0, size) if stride > 0 else _clamp(begin, -1, size - 1)
        shrink = bool(attrs.shrink_axis_mask & (1 << axis))
        if shrink:
            continue  # end = begin + 1: a dimension of 1, dropped from the output
        end = attrs.end[axis]
        if attrs.end_mask & (1 << axis):
            end = 2**31 - 1 if stride > 0 else -(2**31)
        if end < 0:
            end += size
        end = _clamp(end, 0, size) if stride > 0 else _clamp(end, -1, size - 1)
        dim = math.ceil(float(np.float32(end - begin) / np.float32(stride)))
        dims.append(max(dim, 0))
    return tuple(dims)


def eval_indices(attrs: ops.StridedSlice, input_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...], int]:
    """The reference kernel's walk as an affine map: (output dims, input element steps, first input
    element), all in 5-D (StridedSlicePadIndices: padded at the front, padded axes taken whole)."""
    rank = len(input_shape)
    pad = _PADDED_RANK - rank
    shape = (1,) * pad + tuple(input_shape)
    begin, end, strides = (0,) * pad + attrs.begin, (1,) * pad + attrs.end, (1,) * pad + attrs.strides
    full = (1 << pad) - 1
    begin_mask, end_mask = (attrs.begin_mask << pad) | full, (attrs.end_mask << pad) | full
    shrink_mask = attrs.shrink_axis_mask << pad
    in_strides = row_major_strides(shape)
    dims, steps, offset = [], [], 0
    for axis in range(_PADDED_RANK):
        start = _start(begin[axis], strides[axis], bool(begin_mask & (1 << axis)), shape[axis])
        stop = _stop(end[axis], strides[axis], bool(end_mask & (1 << axis)), bool(shrink_mask & (1 << axis)),
                     shape[axis], start)
        dims.append(_count(start, stop, strides[axis]))
        steps.append(in_strides[axis] * strides[axis])
        offset += start * in_strides[axis]
    return tuple(dims), tuple(steps), offset


@lowering(ops.StridedSlice)
def lower_strided_slice(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.StridedSlice = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    rank = len(inp.shape)
    if rank > STRIDED_SLICE_MAX_RANK:
        raise UnsupportedModelError(
            f"operator #{op.index} STRIDED_SLICE: input '{inp.name}' has rank {rank}; TFLite Micro slices up to 4-D")
    if 0 in attrs.strides:
        raise InvalidModelError(f"operator #{op.index} STRIDED_SLICE: strides {list(attrs.strides)}; "
                                "TFLite Micro requires non-zero strides")
    expected = _prepare_output_shape(attrs, inp.shape)
    if tuple(out.shape) != expected:
        raise InvalidModelError(
            f"operator #{op.index} STRIDED_SLICE: output '{out.name}' has shape {list(out.shape)}, but TFLite Micro's "
            f"slice gives {list(expected)} (it ignores ellipsis_mask, new_axis_mask and offset)")

    dims, steps, offset = eval_indices(attrs, tuple(inp.shape))
    written = math.prod(dims)
    if written != out.num_elements:
        # A shrunk axis walked with a negative stride: TFLM's loop runs zero times and leaves the
        # output unwritten, which no result could match.
        raise UnsupportedModelError(
            f"operator #{op.index} STRIDED_SLICE: TFLite Micro's kernel writes {written} of the {out.num_elements} "
            f"elements of output '{out.name}' (a shrunk axis with a negative stride), leaving the rest undefined")
    return (strided_copy_call(op, inp, out, dims, steps, offset),)
