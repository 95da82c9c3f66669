"""Helpers every lowering uses: shapes as NHWC dims, TFLM's padding arithmetic, checks."""

from __future__ import annotations

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir.graph import NO_TENSOR, DType, Graph, Operator, Tensor
from tinygen.ir.ops import Padding
from tinygen.ir.quant import FixedPointMultiplier
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.cvalues import ChannelRequant, ConstArray, CValue, Dims, NullPtr, TensorRef


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


def require_bias_size(graph: Graph, op: Operator, channels: int) -> None:
    """The kernels read one bias per output channel: a shorter bias would be read past its end."""
    bias = optional_input(graph, op, 2)
    if isinstance(bias, TensorRef) and graph.tensor(bias.tensor).num_elements != channels:
        t = graph.tensor(bias.tensor)
        raise InvalidModelError(
            f"operator #{op.index} {op.kind}: bias '{t.name}' has {t.num_elements} values for {channels} channels"
        )


def quantized(op: Operator, tensor: Tensor) -> tuple[float, int]:
    """(scale, zero_point) of a per-tensor quantized activation."""
    if tensor.quant is None:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: tensor '{tensor.name}' is not quantized")
    if tensor.quant.per_channel:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: activation tensor '{tensor.name}' is quantized per channel"
        )
    return tensor.quant.scale, tensor.quant.zero_point


def activation_reads(*tensors: Tensor) -> tuple[int, ...]:
    """The tensors a call reads from the arena: constants live in flash."""
    return tuple(dict.fromkeys(t.index for t in tensors if not t.is_constant))


def unary_operands(graph: Graph, op: Operator, output_dtypes: tuple[DType, ...] = (DType.INT8,)) -> tuple[Tensor, Tensor]:
    """The int8 input and the output of an elementwise-shaped operator, checked: same shape,
    supported types, per-tensor quantization."""
    if not op.inputs or not op.outputs:
        raise InvalidModelError(f"operator #{op.index} {op.kind} needs one input and one output")
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if inp.dtype is not DType.INT8 or out.dtype not in output_dtypes:
        allowed = " or ".join(d.value for d in output_dtypes)
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: '{inp.name}' is {inp.dtype.value} -> '{out.name}' is "
            f"{out.dtype.value}; supported: int8 -> {allowed}")
    require_shape(op, out, tuple(inp.shape))
    quantized(op, inp)
    quantized(op, out)
    return inp, out


def elementwise_call(op: Operator, function: str, params_name: str, params: CValue,
                     inp: Tensor, out: Tensor, with_size: bool = True) -> KernelCall:
    """The call shape every one-input kernel shares: (params, [size,] input, output); the size
    (element count) is left out for kernels whose params already describe the shapes."""
    size = (KernelArg("size", inp.num_elements),) if with_size else ()
    return KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function=function,
        args=(
            KernelArg(params_name, params),
            *size,
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("output", TensorRef(out.index)),
        ),
        reads=activation_reads(inp),
        writes=(out.index,),
    )
