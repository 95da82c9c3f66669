"""Operators that only move int8 values: TRANSPOSE, SLICE, SPLIT, SPLIT_V, UNPACK, PACK,
DEPTH_TO_SPACE, SPACE_TO_DEPTH, REVERSE_V2, BROADCAST_TO, GATHER, MIRROR_PAD, BATCH_TO_SPACE_ND; PADV2 shares PAD's lowering.

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
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import elementwise_call, require_shape
from tinygen.kernels.concatenation import ConcatParams
from tinygen.kernels.cvalues import ConstArray, CStruct, TensorRef
from tinygen.kernels.pad import lower_pad
from tinygen.kernels.registry import lowering

COPY_RANK = 6  # TG_COPY_RANK
INT16_COPY_KINDS = frozenset({"TRANSPOSE", "STRIDED_SLICE"})  # int16 copies TFLM has (ops-c)
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
    if op.kind in INT16_COPY_KINDS and inp.dtype is DType.INT16 and out.dtype is DType.INT16:
        return  # issue 10, ops-c: TFLM's int16 TRANSPOSE and STRIDED_SLICE (tg_strided_copy_s16)
    if inp.dtype is not DType.INT8 or out.dtype is not DType.INT8:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: '{inp.name}' is {inp.dtype.value} -> '{out.name}' is "
            f"{out.dtype.value}; supported: int8 -> int8")


def strided_copy_call(op: Operator, inp: Tensor, out: Tensor, dims: tuple[int, ...],
                      strides: tuple[int, ...], offset: int, params_name: str = "params") -> KernelCall:
    """out[i] = inp[offset + i . strides] over the output index i of shape `dims` (= out's size).
    An operator lowered to several calls names each call's params differently."""
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
    function = "tg_strided_copy_s16" if inp.dtype is DType.INT16 else "tg_strided_copy_s8"
    return elementwise_call(op, function, params_name, params, inp, out, with_size=False)


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


SLICE_MAX_RANK = 5  # TFLM's slice.cc kMaxDim


def _normalised_axis(op: Operator, axis: int, rank: int, what: str) -> int:
    """TFLM adds the rank to a negative axis, then requires 0 <= axis < rank."""
    if not -rank <= axis < rank:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: axis {axis} of {what} of rank {rank}")
    return axis % rank


def _slice_along(op: Operator, inp: Tensor, out: Tensor, axis: int, start: int, count: int,
                 params_name: str) -> KernelCall:
    """The `count` entries from `start` along `axis`, all of every other dimension (SPLIT, UNPACK)."""
    shape = list(inp.shape)
    dims = tuple(shape[:axis]) + (count,) + tuple(shape[axis + 1:])
    strides = row_major_strides(inp.shape)
    return strided_copy_call(op, inp, out, dims, strides, start * strides[axis], params_name)


@lowering(ops.Slice)
def lower_slice(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.Slice = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    if len(inp.shape) > SLICE_MAX_RANK:
        raise UnsupportedModelError(
            f"operator #{op.index} SLICE: input '{inp.name}' has rank {len(inp.shape)}; TFLite Micro slices up to 5-D")
    # reference_ops::Slice: stop = begin + size, or the dimension's end for size -1; TFLM checks no
    # bounds, so a slice outside the input (undefined there) is refused.
    sizes = tuple(d - b if s == -1 else s for d, b, s in zip(inp.shape, attrs.begin, attrs.size))
    for d, b, s in zip(inp.shape, attrs.begin, sizes):
        if b < 0 or s < 0 or b + s > d:
            raise InvalidModelError(
                f"operator #{op.index} SLICE: begin {list(attrs.begin)} size {list(attrs.size)} leave input "
                f"'{inp.name}' {list(inp.shape)}")
    require_shape(op, out, sizes)
    strides = row_major_strides(inp.shape)
    offset = sum(b * s for b, s in zip(attrs.begin, strides))
    return (strided_copy_call(op, inp, out, sizes, strides, offset),)


def _split_outputs(graph: Graph, op: Operator, inp: Tensor, axis: int) -> tuple[KernelCall, ...]:
    """One copy per output, each the next block along `axis` (TFLM's SplitImpl / SplitVImpl)."""
    calls, start = [], 0
    for k, index in enumerate(op.outputs):
        out = graph.tensor(index)
        int8_operands(op, inp, out)
        if len(out.shape) != len(inp.shape):
            raise InvalidModelError(f"operator #{op.index} {op.kind}: output '{out.name}' {list(out.shape)} and input "
                                    f"'{inp.name}' {list(inp.shape)} differ in rank")
        expected = list(inp.shape)
        expected[axis] = out.shape[axis]
        require_shape(op, out, tuple(expected))
        calls.append(_slice_along(op, inp, out, axis, start, out.shape[axis], f"params{k}"))
        start += out.shape[axis]
    if start != inp.shape[axis]:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: outputs take {start} of the {inp.shape[axis]} "
                                f"entries of input '{inp.name}' along axis {axis}")
    return tuple(calls)


@lowering(ops.Split)
def lower_split(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp = graph.tensor(op.inputs[1])
    axis = _normalised_axis(op, op.attrs.axis, len(inp.shape), f"input '{inp.name}'")
    sizes = {graph.tensor(i).shape[axis] if len(graph.tensor(i).shape) > axis else -1 for i in op.outputs}
    if len(sizes) != 1:
        raise InvalidModelError(f"operator #{op.index} SPLIT: outputs of different sizes along axis {axis}")
    return _split_outputs(graph, op, inp, axis)


@lowering(ops.SplitV)
def lower_split_v(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp = graph.tensor(op.inputs[0])
    axis = _normalised_axis(op, op.attrs.axis, len(inp.shape), f"input '{inp.name}'")
    # TFLM sizes each output by its own shape; size_splits must say the same (it may hold one -1).
    splits = graph.tensor(op.inputs[1])
    if splits.data is not None:
        wanted = [int(v) for v in np.asarray(splits.data).reshape(-1)]
        actual = [graph.tensor(i).shape[axis] if len(graph.tensor(i).shape) > axis else -1 for i in op.outputs]
        if len(wanted) != len(actual) or any(w not in (a, -1) for w, a in zip(wanted, actual)):
            raise InvalidModelError(
                f"operator #{op.index} SPLIT_V: size_splits {wanted} do not match the outputs' sizes {actual}")
    return _split_outputs(graph, op, inp, axis)


@lowering(ops.Unpack)
def lower_unpack(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp = graph.tensor(op.inputs[0])
    axis = _normalised_axis(op, op.attrs.axis, len(inp.shape), f"input '{inp.name}'")
    if len(op.outputs) != inp.shape[axis]:
        raise InvalidModelError(f"operator #{op.index} UNPACK: {len(op.outputs)} outputs for dimension "
                                f"{inp.shape[axis]} of input '{inp.name}' along axis {axis}")
    calls = []
    expected = tuple(d for i, d in enumerate(inp.shape) if i != axis)
    for k, index in enumerate(op.outputs):
        out = graph.tensor(index)
        int8_operands(op, inp, out)
        require_shape(op, out, expected)
        calls.append(_slice_along(op, inp, out, axis, k, 1, f"params{k}"))
    return tuple(calls)


@lowering(ops.Pack)
def lower_pack(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inputs = [graph.tensor(i) for i in op.inputs]
    out = graph.tensor(op.outputs[0])
    axis = _normalised_axis(op, op.attrs.axis, len(out.shape), f"output '{out.name}'")
    first = inputs[0]
    for t in inputs:
        int8_operands(op, t, out)
        if t.shape != first.shape:
            raise InvalidModelError(f"operator #{op.index} PACK: inputs '{first.name}' {list(first.shape)} and "
                                    f"'{t.name}' {list(t.shape)} differ in shape")
    require_shape(op, out, first.shape[:axis] + (len(inputs),) + first.shape[axis:])
    outer = int(np.prod(first.shape[:axis], dtype=np.int64))
    block = int(np.prod(first.shape[axis:], dtype=np.int64))
    calls = []
    for k, t in enumerate(inputs):
        # PackImpl: input k fills block k of every group of len(inputs) blocks (a concatenation).
        params = ConcatParams(outer_size=outer, input_block=block, output_block=block * len(inputs),
                              output_offset=k * block)
        calls.append(KernelCall(
            op_index=op.index, op_kind=op.kind, function="tg_concatenation_s8",
            args=(KernelArg(f"params{k}", params), KernelArg("input", TensorRef(t.index)),
                  KernelArg("output", TensorRef(out.index))),
            reads=() if t.is_constant else (t.index,),
            writes=(out.index,),
        ))
    return tuple(calls)


def _block_operands(graph: Graph, op: Operator) -> tuple[Tensor, Tensor, int]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    if len(inp.shape) != 4:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: input '{inp.name}' has rank {len(inp.shape)}; TFLite Micro needs 4")
    block = op.attrs.block_size
    if block < 1:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: block_size {block}; TFLite Micro needs it > 0")
    return inp, out, block


@lowering(ops.DepthToSpace)
def lower_depth_to_space(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out, bs = _block_operands(graph, op)
    n, h, w, c = inp.shape
    if c % (bs * bs):
        raise InvalidModelError(f"operator #{op.index} DEPTH_TO_SPACE: {c} channels of '{inp.name}' do not divide "
                                f"into {bs}x{bs} blocks")
    oc = c // (bs * bs)
    require_shape(op, out, (n, h * bs, w * bs, oc))
    sb, sh, sw, _ = row_major_strides(inp.shape)
    # The output as [n, h, block_y, w, block_x, oc]: every index is affine in those six.
    return (strided_copy_call(op, inp, out, (n, h, bs, w, bs, oc), (sb, sh, bs * oc, sw, oc, 1), 0),)


@lowering(ops.SpaceToDepth)
def lower_space_to_depth(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out, bs = _block_operands(graph, op)
    n, h, w, c = inp.shape
    if h % bs or w % bs:
        raise InvalidModelError(f"operator #{op.index} SPACE_TO_DEPTH: '{inp.name}' {list(inp.shape)} does not "
                                f"divide into {bs}x{bs} blocks")
    require_shape(op, out, (n, h // bs, w // bs, c * bs * bs))
    sb, sh, sw, _ = row_major_strides(inp.shape)
    # The output as [n, h / bs, w / bs, block_y, block_x, c].
    return (strided_copy_call(op, inp, out, (n, h // bs, w // bs, bs, bs, c), (sb, bs * sh, bs * sw, sh, sw, 1), 0),)


@lowering(ops.ReverseV2)
def lower_reverse(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    rank = len(inp.shape)
    axes = sorted(a + rank if a < 0 else a for a in op.attrs.axes)
    if any(not 0 <= a < rank for a in axes) or len(axes) > rank:
        raise InvalidModelError(f"operator #{op.index} REVERSE_V2: axes {list(op.attrs.axes)} of a rank-{rank} input")
    if any(b != a + 1 for a, b in zip(axes, axes[1:])):
        raise UnsupportedModelError(f"operator #{op.index} REVERSE_V2: axes {list(op.attrs.axes)} are not contiguous; "
                                    "TFLite Micro reverses contiguous axes only")
    require_shape(op, out, tuple(inp.shape))
    strides = list(row_major_strides(inp.shape))
    offset = 0
    for a in axes:
        offset += (inp.shape[a] - 1) * strides[a]
        strides[a] = -strides[a]
    return (strided_copy_call(op, inp, out, tuple(inp.shape), tuple(strides), offset),)


lowering(ops.PadV2)(lower_pad)  # TFLM's Register_PADV2 is its PAD kernel

BROADCAST_TO_MAX_RANK = 5  # TFLM's broadcast_to.cc kMaxDims


@lowering(ops.BroadcastTo)
def lower_broadcast_to(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    shape = graph.tensor(op.inputs[1])
    if shape.data is None:
        raise UnsupportedModelError(f"operator #{op.index} BROADCAST_TO: non-constant shape tensor '{shape.name}'")
    target = tuple(int(v) for v in np.asarray(shape.data).reshape(-1))
    if len(target) > BROADCAST_TO_MAX_RANK:
        raise UnsupportedModelError(f"operator #{op.index} BROADCAST_TO: output rank {len(target)}; "
                                    f"TFLite Micro broadcasts up to {BROADCAST_TO_MAX_RANK}-D")
    rank = len(target)
    padded = (1,) * (rank - len(inp.shape)) + tuple(inp.shape)
    if len(inp.shape) > rank or any(d != t and d != 1 for d, t in zip(padded, target)):
        raise InvalidModelError(f"operator #{op.index} BROADCAST_TO: input '{inp.name}' {list(inp.shape)} does not "
                                f"broadcast to {list(target)}")
    require_shape(op, out, target)
    strides = row_major_strides(padded)
    steps = tuple(0 if d == 1 else s for d, s in zip(padded, strides))
    return (strided_copy_call(op, inp, out, target, steps, 0),)


@dataclass(frozen=True)
class GatherParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_gather_params_t"
    batch_size: int
    outer_size: int
    axis_size: int
    coord_size: int
    inner_size: int


@lowering(ops.Gather)
def lower_gather(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    inp, positions, out = graph.tensor(op.inputs[0]), graph.tensor(op.inputs[1]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    rank, coords_rank = len(inp.shape), len(positions.shape)
    axis = op.attrs.axis + rank if op.attrs.axis < 0 else op.attrs.axis
    batch_dims = op.attrs.batch_dims + coords_rank if op.attrs.batch_dims < 0 else op.attrs.batch_dims
    # TFLM's DCHECKs (compiled out in its release builds, so broken models read out of bounds there).
    if not (0 <= axis < rank and 0 <= batch_dims <= min(axis, coords_rank) and batch_dims < rank
            and inp.shape[:batch_dims] == positions.shape[:batch_dims]):
        raise InvalidModelError(f"operator #{op.index} GATHER: axis {op.attrs.axis}, batch_dims {op.attrs.batch_dims} "
                                f"do not fit input '{inp.name}' {list(inp.shape)} and positions {list(positions.shape)}")
    require_shape(op, out, inp.shape[:axis] + positions.shape[batch_dims:] + inp.shape[axis + 1:])
    axis_size = inp.shape[axis]
    if positions.data is not None and ((positions.data < 0).any() or (positions.data >= axis_size).any()):
        raise InvalidModelError(f"operator #{op.index} GATHER: positions '{positions.name}' leave [0, {axis_size}), "
                                "where TFLite Micro reads out of bounds")
    params = GatherParams(
        batch_size=int(np.prod(inp.shape[:batch_dims], dtype=np.int64)),
        outer_size=int(np.prod(inp.shape[batch_dims:axis], dtype=np.int64)),
        axis_size=axis_size,
        coord_size=int(np.prod(positions.shape[batch_dims:], dtype=np.int64)),
        inner_size=int(np.prod(inp.shape[axis + 1:], dtype=np.int64)),
    )
    return (KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_gather_s8",
        args=(KernelArg("params", params), KernelArg("input", TensorRef(inp.index)),
              KernelArg("positions", TensorRef(positions.index)), KernelArg("output", TensorRef(out.index))),
        reads=tuple(dict.fromkeys(t.index for t in (inp, positions) if not t.is_constant)),
        writes=(out.index,),
    ),)


@dataclass(frozen=True)
class SeparableGatherParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_separable_gather_params_t"
    output_dims: ConstArray
    table_start: ConstArray
    tables: ConstArray


def mirror_source(index: int, left: int, size: int, offset: int) -> int:
    """TFLM mirror_pad.cc GetInputDimension: the input index an output index along one dim reads."""
    if index < left:
        original = left + offset - 1
        return original - min(index, original - offset)
    index -= left
    if index >= size:
        index -= size
        original = size - (1 + offset)
        return original - min(index, original)
    return index


@lowering(ops.MirrorPad)
def lower_mirror_pad(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.MirrorPad = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    require_shape(op, out, tuple(d + lo + hi for d, (lo, hi) in zip(inp.shape, attrs.paddings)))
    offset = 1 if attrs.reflect else 0
    strides = row_major_strides(inp.shape)
    tables = []
    for d, (size, (left, right)) in enumerate(zip(inp.shape, attrs.paddings)):
        sources = [mirror_source(i, left, size, offset) for i in range(size + left + right)]
        if min(sources) < 0 or max(sources) >= size:
            mode = "REFLECT" if attrs.reflect else "SYMMETRIC"
            raise InvalidModelError(f"operator #{op.index} MIRROR_PAD: paddings {list(attrs.paddings[d])} of dimension "
                                    f"{d} (size {size}) are too large for {mode}; TFLite Micro reads out of bounds")
        tables.append([s * strides[d] for s in sources])
    return (_separable_gather_call(op, inp, out, tables),)


def _separable_gather_call(op: Operator, inp: Tensor, out: Tensor, tables: list[list[int]]) -> KernelCall:
    """out[i0..] = inp[tables[0][i0] + tables[1][i1] + ...], one table per output dimension."""
    pad = COPY_RANK - len(tables)
    flat: list[int] = [0] * pad  # the leading dims of 1 read offset 0
    starts = list(range(pad))
    for table in tables:
        starts.append(len(flat))
        flat.extend(table)
    params = SeparableGatherParams(
        output_dims=ConstArray("int32_t", np.array([1] * pad + [len(t) for t in tables], dtype=np.int32)),
        table_start=ConstArray("int32_t", np.array(starts, dtype=np.int32)),
        tables=ConstArray("int32_t", np.array(flat, dtype=np.int32)),
    )
    return elementwise_call(op, "tg_separable_gather_s8", "params", params, inp, out, with_size=False)


@lowering(ops.BatchToSpaceNd)
def lower_batch_to_space(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.BatchToSpaceNd = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    if len(inp.shape) not in (3, 4):
        raise UnsupportedModelError(f"operator #{op.index} BATCH_TO_SPACE_ND: input '{inp.name}' has rank "
                                    f"{len(inp.shape)}; TFLite Micro takes 3 or 4")
    # A 3-D input is 4-D with a width of 1 (ExtendShapeBatchToSpace).
    n, h, w, c = inp.shape if len(inp.shape) == 4 else (inp.shape[0], inp.shape[1], 1, inp.shape[2])
    bh, bw = attrs.block if len(attrs.block) == 2 else (attrs.block[0], 1)
    (top, bottom), (left, right) = attrs.crops if len(attrs.crops) == 2 else (attrs.crops[0], (0, 0))
    if bh < 1 or bw < 1 or n % (bh * bw) or min(top, bottom, left, right) < 0:
        raise InvalidModelError(f"operator #{op.index} BATCH_TO_SPACE_ND: block {list(attrs.block)} and crops "
                                f"{[list(p) for p in attrs.crops]} do not fit input '{inp.name}' {list(inp.shape)}")
    out_n, out_h, out_w = n // (bh * bw), h * bh - top - bottom, w * bw - left - right
    expected = (out_n, out_h, out_w, c) if len(inp.shape) == 4 else (out_n, out_h, c)
    require_shape(op, out, expected)
    image = h * w * c
    # The reference kernel's in_batch = (off_h * bw + off_w) * out_n + b, in_h * bh + off_h = out_h + top.
    return (_separable_gather_call(op, inp, out, [
        [b * image for b in range(out_n)],
        [((y + top) % bh) * bw * out_n * image + ((y + top) // bh) * w * c for y in range(out_h)],
        [((x + left) % bw) * out_n * image + ((x + left) // bw) * c for x in range(out_w)],
        list(range(c)),
    ]),)
