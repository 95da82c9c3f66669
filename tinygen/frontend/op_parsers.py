"""Operator parsers: a TFLite operator's flatbuffer options and operands -> its typed attrs (ir.ops).

`PARSERS` maps a builtin operator's name to its parser; a parser raises `Unsupported` with the reason
when tinygen (or TFLite Micro) cannot compute that operator as given. `fold_at_import` replaces the
outputs of operators whose values are known at import by constants.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tflite

from tinygen.errors import InvalidModelError
from tinygen.frontend.unsupported import Unsupported
from tinygen.ir import ops
from tinygen.ir.graph import NO_TENSOR, DType
from tinygen.passes.fold_constants import as_constant, folded_outputs

_PADDINGS = {tflite.Padding.SAME: ops.Padding.SAME, tflite.Padding.VALID: ops.Padding.VALID}

_ACTIVATIONS = {
    tflite.ActivationFunctionType.NONE: ops.Activation.NONE,
    tflite.ActivationFunctionType.RELU: ops.Activation.RELU,
    tflite.ActivationFunctionType.RELU_N1_TO_1: ops.Activation.RELU_N1_TO_1,
    tflite.ActivationFunctionType.RELU6: ops.Activation.RELU6,
}


def _options(op, cls):
    table = op.BuiltinOptions()
    if table is None or op.BuiltinOptionsType() == tflite.BuiltinOptions.NONE:
        return None
    if op.BuiltinOptionsType() != getattr(tflite.BuiltinOptions, cls.__name__):
        # TFLM reads options only through their union type; another table must not be read as this one.
        raise InvalidModelError(f"options of union type {op.BuiltinOptionsType()}, not {cls.__name__}")
    opts = cls()
    opts.Init(table.Bytes, table.Pos)
    return opts


def _activation(code: int) -> ops.Activation:
    act = _ACTIVATIONS.get(code)
    if act is None:
        name = {v: k for k, v in vars(tflite.ActivationFunctionType).items() if isinstance(v, int)}.get(code, code)
        raise Unsupported(f"fused activation {name}")
    return act


def _padding(code: int) -> ops.Padding:
    if code not in _PADDINGS:
        raise Unsupported(f"padding {code}")
    return _PADDINGS[code]


def _positive(value: int, what: str) -> int:
    if value < 1:
        raise Unsupported(f"{what} {value}")
    return value


def _parse_conv(op, inputs, tensors) -> ops.Conv2D:
    o = _options(op, tflite.Conv2DOptions)
    if o is None:
        raise Unsupported("missing options")
    _expect_inputs(inputs, 2, 3)
    _check_bias_type(o)
    return ops.Conv2D(
        stride_h=_positive(o.StrideH(), "stride"), stride_w=_positive(o.StrideW(), "stride"),
        dilation_h=_positive(o.DilationHFactor(), "dilation"), dilation_w=_positive(o.DilationWFactor(), "dilation"),
        padding=_padding(o.Padding()), activation=_activation(o.FusedActivationFunction()),
    )


def _parse_depthwise(op, inputs, tensors) -> ops.DepthwiseConv2D:
    o = _options(op, tflite.DepthwiseConv2DOptions)
    if o is None:
        raise Unsupported("missing options")
    _expect_inputs(inputs, 2, 3)
    return ops.DepthwiseConv2D(
        stride_h=_positive(o.StrideH(), "stride"), stride_w=_positive(o.StrideW(), "stride"),
        dilation_h=_positive(o.DilationHFactor(), "dilation"), dilation_w=_positive(o.DilationWFactor(), "dilation"),
        depth_multiplier=_positive(o.DepthMultiplier(), "depth multiplier"),
        padding=_padding(o.Padding()), activation=_activation(o.FusedActivationFunction()),
    )


def _parse_fully_connected(op, inputs, tensors) -> ops.FullyConnected:
    o = _options(op, tflite.FullyConnectedOptions)
    _expect_inputs(inputs, 2, 3)
    if o is None:
        return ops.FullyConnected(activation=ops.Activation.NONE, keep_num_dims=False)
    if o.WeightsFormat() != tflite.FullyConnectedOptionsWeightsFormat.DEFAULT:
        raise Unsupported("shuffled weights format")
    _check_bias_type(o)
    return ops.FullyConnected(activation=_activation(o.FusedActivationFunction()), keep_num_dims=bool(o.KeepNumDims()))


def _check_bias_type(o) -> None:
    """quantized_bias_type: 0 (FLOAT32, the schema's default) leaves it unset; TFLM refuses a model
    naming no valid type, and tinygen's kernels take int32 biases only."""
    # INT64: the converter's 16x8 models (the bias tensor's own type is checked with the operator's).
    if o.QuantizedBiasType() not in (tflite.TensorType.FLOAT32, tflite.TensorType.INT32, tflite.TensorType.INT64):
        raise Unsupported(f"quantized bias type {o.QuantizedBiasType()}")


def _pool_fields(op) -> dict:
    o = _options(op, tflite.Pool2DOptions)
    if o is None:
        raise Unsupported("missing options")
    return dict(
        filter_h=_positive(o.FilterHeight(), "filter height"), filter_w=_positive(o.FilterWidth(), "filter width"),
        stride_h=_positive(o.StrideH(), "stride"), stride_w=_positive(o.StrideW(), "stride"),
        padding=_padding(o.Padding()), activation=_activation(o.FusedActivationFunction()),
    )


def _parse_average_pool(op, inputs, tensors) -> ops.AveragePool2D:
    _expect_inputs(inputs, 1, 1)
    return ops.AveragePool2D(**_pool_fields(op))


def _parse_max_pool(op, inputs, tensors) -> ops.MaxPool2D:
    _expect_inputs(inputs, 1, 1)
    return ops.MaxPool2D(**_pool_fields(op))


def _fused_only(cls, options_cls):
    def parse(op, inputs, tensors):
        _expect_inputs(inputs, 2, 2)
        o = _options(op, options_cls)
        return cls(activation=_activation(o.FusedActivationFunction()) if o else ops.Activation.NONE)
    return parse


def _parse_reshape(op, inputs, tensors) -> ops.Reshape:
    _expect_inputs(inputs, 1, 2)
    return ops.Reshape()


def _parse_softmax(op, inputs, tensors) -> ops.Softmax:
    _expect_inputs(inputs, 1, 1)
    o = _options(op, tflite.SoftmaxOptions)
    if o is None:
        raise Unsupported("missing options")  # TFLM would take beta 0 and abort
    return ops.Softmax(beta=float(o.Beta()))


def _parse_concatenation(op, inputs, tensors) -> ops.Concatenation:
    if len(inputs) < 1 or NO_TENSOR in inputs:
        raise Unsupported("needs at least one input")
    o = _options(op, tflite.ConcatenationOptions)
    rank = len(tensors[inputs[0]].shape)
    axis = o.Axis() if o else 0
    if not -rank <= axis < rank:
        raise Unsupported(f"axis {axis} of a rank-{rank} tensor")
    return ops.Concatenation(axis=axis % rank if rank else 0,
                             activation=_activation(o.FusedActivationFunction()) if o else ops.Activation.NONE)


def _constant_ints(tensors, index: int, what: str) -> np.ndarray:
    t = tensors[index]
    if t.data is None:
        raise Unsupported(f"{what} must be a constant tensor")
    if t.dtype not in (DType.INT32, DType.INT64):
        # Casting floats would warn (a second stderr line) and give meaningless integers.
        raise Unsupported(f"{what} are {t.dtype.value}, not integers")
    return np.asarray(t.data, dtype=np.int64)


def _parse_pad(op, inputs, tensors) -> ops.Pad:
    _expect_inputs(inputs, 2, 3)
    pads = _constant_ints(tensors, inputs[1], "paddings")
    rank = len(tensors[inputs[0]].shape)
    if pads.shape != (rank, 2) or (pads < 0).any():
        raise Unsupported(f"paddings of shape {list(pads.shape)} for a rank-{rank} input")
    if len(inputs) == 3 and inputs[2] != NO_TENSOR and tensors[inputs[2]].data is None:
        raise Unsupported("constant_values must be a constant tensor")
    return ops.Pad(paddings=tuple((int(a), int(b)) for a, b in pads))


def _parse_mean(op, inputs, tensors) -> ops.Mean:
    _expect_inputs(inputs, 2, 2)
    rank = len(tensors[inputs[0]].shape)
    axes = _constant_ints(tensors, inputs[1], "axes").reshape(-1)
    if any(not -rank <= a < rank for a in axes):
        raise Unsupported(f"axes {axes.tolist()} of a rank-{rank} tensor")
    o = _options(op, tflite.ReducerOptions)
    return ops.Mean(axes=tuple(sorted({int(a) % rank for a in axes})), keep_dims=bool(o.KeepDims()) if o else False)


def _no_options(cls, min_inputs: int = 1, max_inputs: int = 1):
    def parse(op, inputs, tensors):
        _expect_inputs(inputs, min_inputs, max_inputs)
        return cls()
    return parse


def _expect_inputs(inputs, low: int, high: int) -> None:
    if not low <= len(inputs) <= high:
        raise Unsupported(f"{len(inputs)} inputs")
    if NO_TENSOR in inputs[:low]:
        raise Unsupported("a required input is missing")


PARSERS: dict[str, Callable[..., ops.OpAttrs]] = {
    "CONV_2D": _parse_conv,
    "DEPTHWISE_CONV_2D": _parse_depthwise,
    "FULLY_CONNECTED": _parse_fully_connected,
    "AVERAGE_POOL_2D": _parse_average_pool,
    "MAX_POOL_2D": _parse_max_pool,
    "ADD": _fused_only(ops.Add, tflite.AddOptions),
    "MUL": _fused_only(ops.Mul, tflite.MulOptions),
    "RESHAPE": _parse_reshape,
    "SOFTMAX": _parse_softmax,
    "CONCATENATION": _parse_concatenation,
    "PAD": _parse_pad,
    "MEAN": _parse_mean,
    "LOGISTIC": _no_options(ops.Logistic),
    "RELU": _no_options(ops.Relu),
    "RELU6": _no_options(ops.Relu6),
    "HARD_SWISH": _no_options(ops.HardSwish),
    "QUANTIZE": _no_options(ops.Quantize),
    "DEQUANTIZE": _no_options(ops.Dequantize),
}


# --- data movement, resizing, shape-only aliases, reductions --------------------------------

def _int32_vector(tensors, index: int, what: str, length: int | None = None) -> tuple[int, ...]:
    """A constant 1-D int32 tensor's values. TFLM reads these buffers as int32 whatever their type."""
    t = tensors[index]
    if t.data is None:
        raise Unsupported(f"non-constant {what} tensor; TFLite Micro needs it constant")
    if t.dtype is not DType.INT32:
        raise Unsupported(f"{what} tensor is {t.dtype.value}; TFLite Micro reads it as int32")
    if len(t.shape) != 1 or (length is not None and t.shape[0] != length):
        raise Unsupported(f"{what} tensor of shape {list(t.shape)}" + (f", not [{length}]" if length is not None else ""))
    return tuple(int(v) for v in np.asarray(t.data).reshape(-1))


def _parse_transpose(op, inputs, tensors) -> ops.Transpose:
    _expect_inputs(inputs, 2, 2)
    rank = len(tensors[inputs[0]].shape)
    perm = _int32_vector(tensors, inputs[1], "perm", rank)
    if any(not 0 <= p < rank for p in perm):
        raise Unsupported(f"perm {list(perm)} out of bounds for rank {rank}")
    return ops.Transpose(perm=perm)


def _parse_resize_nearest(op, inputs, tensors) -> ops.ResizeNearestNeighbor:
    _expect_inputs(inputs, 2, 2)
    height, width = _int32_vector(tensors, inputs[1], "size", 2)
    o = _options(op, tflite.ResizeNearestNeighborOptions)
    return ops.ResizeNearestNeighbor(size=(height, width),
                                     align_corners=bool(o.AlignCorners()) if o else False,
                                     half_pixel_centers=bool(o.HalfPixelCenters()) if o else False)


def _constant_axis(tensors, index: int) -> int:
    """SPLIT's and SPLIT_V's axis: a constant TFLM reads as int32 (first element)."""
    t = tensors[index]
    if t.data is None:
        raise Unsupported("non-constant axis tensor; TFLite Micro needs it constant")
    if t.dtype is not DType.INT32 or t.num_elements < 1:
        raise Unsupported(f"axis tensor is {t.dtype.value} of shape {list(t.shape)}; TFLite Micro reads one int32")
    return int(np.asarray(t.data).reshape(-1)[0])


def _parse_slice(op, inputs, tensors) -> ops.Slice:
    _expect_inputs(inputs, 3, 3)
    rank = len(tensors[inputs[0]].shape)
    vectors = []
    for index, what in ((inputs[1], "begin"), (inputs[2], "size")):
        t = tensors[index]
        if t.data is None:
            raise Unsupported(f"non-constant {what} tensor")
        if t.dtype not in (DType.INT32, DType.INT64) or t.shape != (rank,):
            raise Unsupported(f"{what} tensor is {t.dtype.value} {list(t.shape)}; TFLite Micro needs int32 or int64 [{rank}]")
        vectors.append(tuple(int(v) for v in np.asarray(t.data).reshape(-1)))
    if tensors[inputs[1]].dtype is not tensors[inputs[2]].dtype:
        raise Unsupported("begin and size tensors of different types")
    return ops.Slice(begin=vectors[0], size=vectors[1])


def _parse_split(op, inputs, tensors) -> ops.Split:
    _expect_inputs(inputs, 2, 2)
    return ops.Split(axis=_constant_axis(tensors, inputs[0]))


def _parse_split_v(op, inputs, tensors) -> ops.SplitV:
    _expect_inputs(inputs, 3, 3)
    return ops.SplitV(axis=_constant_axis(tensors, inputs[2]))


def _parse_unpack(op, inputs, tensors) -> ops.Unpack:
    _expect_inputs(inputs, 1, 1)
    o = _options(op, tflite.UnpackOptions)
    return ops.Unpack(num=o.Num() if o else 0, axis=o.Axis() if o else 0)


def _parse_pack(op, inputs, tensors) -> ops.Pack:
    if len(inputs) < 1 or NO_TENSOR in inputs:
        raise Unsupported("needs at least one input")
    o = _options(op, tflite.PackOptions)
    return ops.Pack(values_count=o.ValuesCount() if o else 0, axis=o.Axis() if o else 0)


def _parse_strided_slice(op, inputs, tensors) -> ops.StridedSlice:
    _expect_inputs(inputs, 4, 4)
    rank = len(tensors[inputs[0]].shape)
    begin = _int32_vector(tensors, inputs[1], "begin", rank)
    end = _int32_vector(tensors, inputs[2], "end", rank)
    strides = _int32_vector(tensors, inputs[3], "strides", rank)
    o = _options(op, tflite.StridedSliceOptions)
    return ops.StridedSlice(begin=begin, end=end, strides=strides,
                            begin_mask=o.BeginMask() if o else 0, end_mask=o.EndMask() if o else 0,
                            shrink_axis_mask=o.ShrinkAxisMask() if o else 0)


def _block_size(options_cls, cls):
    def parse(op, inputs, tensors):
        _expect_inputs(inputs, 1, 1)
        o = _options(op, options_cls)
        return cls(block_size=o.BlockSize() if o else 0)
    return parse


def _parse_reverse(op, inputs, tensors) -> ops.ReverseV2:
    _expect_inputs(inputs, 2, 2)
    return ops.ReverseV2(axes=_int32_vector(tensors, inputs[1], "axis"))


def _parse_leaky_relu(op, inputs, tensors) -> ops.LeakyRelu:
    _expect_inputs(inputs, 1, 1)
    o = _options(op, tflite.LeakyReluOptions)
    return ops.LeakyRelu(alpha=float(o.Alpha()) if o else 0.0)


def _parse_pad_v2(op, inputs, tensors) -> ops.PadV2:
    _expect_inputs(inputs, 3, 3)
    return ops.PadV2(paddings=_parse_pad(op, inputs, tensors).paddings)


def _reducer(cls):
    def parse(op, inputs, tensors):
        mean = _parse_mean(op, inputs, tensors)
        return cls(axes=mean.axes, keep_dims=mean.keep_dims)
    return parse


def _arg_extreme(cls):
    def parse(op, inputs, tensors):
        _expect_inputs(inputs, 2, 2)
        axis = tensors[inputs[1]]
        if axis.dtype is not DType.INT32:
            raise Unsupported(f"axis tensor is {axis.dtype.value}; TFLite Micro supports int32 only")
        out_dtypes = {tensors[o].dtype for o in op.OutputsAsNumpy()} if not op.OutputsIsNone() else set()
        if out_dtypes != {DType.INT32}:
            raise Unsupported(f"{'/'.join(sorted(d.value for d in out_dtypes))} output; TFLite Micro supports int32 only")
        return cls(axis=_constant_axis(tensors, inputs[1]))
    return parse


def _parse_gather(op, inputs, tensors) -> ops.Gather:
    _expect_inputs(inputs, 2, 2)
    if tensors[inputs[1]].dtype is not DType.INT32:
        raise Unsupported(f"positions of type {tensors[inputs[1]].dtype.value}; TFLite Micro's gather takes int32")
    o = _options(op, tflite.GatherOptions)
    return ops.Gather(axis=o.Axis() if o else 0, batch_dims=o.BatchDims() if o else 0)


def _parse_resize_bilinear(op, inputs, tensors) -> ops.ResizeBilinear:
    _expect_inputs(inputs, 2, 2)
    height, width = _int32_vector(tensors, inputs[1], "size", 2)
    o = _options(op, tflite.ResizeBilinearOptions)
    align_corners = bool(o.AlignCorners()) if o else False
    half_pixel_centers = bool(o.HalfPixelCenters()) if o else False
    if align_corners and half_pixel_centers:
        raise Unsupported("half_pixel_centers with align_corners; TFLite Micro requires align_corners false then")
    return ops.ResizeBilinear(size=(height, width), align_corners=align_corners, half_pixel_centers=half_pixel_centers)


def _parse_mirror_pad(op, inputs, tensors) -> ops.MirrorPad:
    _expect_inputs(inputs, 2, 2)
    pads = _constant_ints(tensors, inputs[1], "paddings")
    rank = len(tensors[inputs[0]].shape)
    if pads.shape != (rank, 2) or (pads < 0).any():
        raise Unsupported(f"paddings of shape {list(pads.shape)} for a rank-{rank} input")
    o = _options(op, tflite.MirrorPadOptions)
    reflect = (o.Mode() if o else tflite.MirrorPadMode.REFLECT) == tflite.MirrorPadMode.REFLECT
    return ops.MirrorPad(paddings=tuple((int(a), int(b)) for a, b in pads), reflect=reflect)


def fold_at_import(attrs: ops.OpAttrs, inputs, outputs, tensors: list) -> bool:
    """Replace the operator's outputs by constants when their values are known at import."""
    folded = folded_outputs(attrs, inputs, outputs, tensors)
    if folded is None:
        if isinstance(attrs, (ops.Shape, ops.Fill)):
            raise Unsupported("its result is not known at import (non-constant inputs or types); "
                               "tinygen compiles it only as a constant")
        return False
    for index, value in folded.items():
        tensors[index] = as_constant(tensors[index], value)
    return True


def _parse_batch_to_space(op, inputs, tensors) -> ops.BatchToSpaceNd:
    _expect_inputs(inputs, 3, 3)
    spatial = len(tensors[inputs[0]].shape) - 2
    block = _int32_vector(tensors, inputs[1], "block_shape", spatial)
    crops = _constant_ints(tensors, inputs[2], "crops")
    if tensors[inputs[2]].dtype is not DType.INT32 or crops.shape != (spatial, 2):
        raise Unsupported(f"crops {tensors[inputs[2]].dtype.value} {list(crops.shape)}; TFLite Micro reads int32 [{spatial}, 2]")
    return ops.BatchToSpaceNd(block=block, crops=tuple((int(a), int(b)) for a, b in crops))


def _no_tflm_kernel(op, inputs, tensors):
    """Operators TFLM registers no kernel for: a model with one does not run there either."""
    raise Unsupported("TFLite Micro has no kernel for it")


def _float_only_in_tflm(op, inputs, tensors):
    """Operators whose TFLM kernel computes float32 only (tinygen does not compile float islands yet)."""
    raise Unsupported("TFLite Micro's kernel computes float32 only, and tinygen compiles no float operators yet")


PARSERS.update({
    "GELU": _no_tflm_kernel,
    "TRANSPOSE": _parse_transpose,
    "RESIZE_NEAREST_NEIGHBOR": _parse_resize_nearest,
    "SQUEEZE": _no_options(ops.Squeeze),
    "EXPAND_DIMS": _no_options(ops.ExpandDims, 2, 2),
    "LOG_SOFTMAX": _no_options(ops.LogSoftmax),
    "SLICE": _parse_slice,
    "SPLIT": _parse_split,
    "SPLIT_V": _parse_split_v,
    "UNPACK": _parse_unpack,
    "PACK": _parse_pack,
    "STRIDED_SLICE": _parse_strided_slice,
    "SUB": _fused_only(ops.Sub, tflite.SubOptions),
    "MAXIMUM": _no_options(ops.Maximum, 2, 2),
    "MINIMUM": _no_options(ops.Minimum, 2, 2),
    "DEPTH_TO_SPACE": _block_size(tflite.DepthToSpaceOptions, ops.DepthToSpace),
    "SPACE_TO_DEPTH": _block_size(tflite.SpaceToDepthOptions, ops.SpaceToDepth),
    "REVERSE_V2": _parse_reverse,
    "LEAKY_RELU": _parse_leaky_relu,
    "ABS": _no_options(ops.Abs),
    "TANH": _no_options(ops.Tanh),
    "PADV2": _parse_pad_v2,
    "BROADCAST_TO": _no_options(ops.BroadcastTo, 2, 2),
    "SUM": _reducer(ops.Sum),
    "REDUCE_MAX": _reducer(ops.ReduceMax),
    "REDUCE_MIN": _reducer(ops.ReduceMin),
    "PRELU": _no_options(ops.Prelu, 2, 2),
    "NEG": _float_only_in_tflm,
    "ARG_MAX": _arg_extreme(ops.ArgMax),
    "ARG_MIN": _arg_extreme(ops.ArgMin),
    "SQUARED_DIFFERENCE": _no_options(ops.SquaredDifference, 2, 2),
    "GATHER": _parse_gather,
    "RESIZE_BILINEAR": _parse_resize_bilinear,
    "MIRROR_PAD": _parse_mirror_pad,
    "SHAPE": _no_options(ops.Shape),
    "FILL": _no_options(ops.Fill, 2, 2),
    "BATCH_TO_SPACE_ND": _parse_batch_to_space,
})

def _parse_svdf(op, inputs, tensors) -> ops.Svdf:
    o = _options(op, tflite.SVDFOptions)
    if o is None:
        raise Unsupported("missing options")
    _expect_inputs(inputs, 5, 5)
    if inputs[3] == NO_TENSOR:
        # TFLM's int8 Prepare reads the bias's scale unconditionally (and crashes without one).
        raise Unsupported("no bias; TFLite Micro's int8 SVDF needs one")
    return ops.Svdf(rank=_positive(o.Rank(), "rank"), activation=_activation(o.FusedActivationFunction()))


# TFLite's LSTM input positions (lstm_shared.h): the ones TFLM's kernel requires and refuses.
LSTM_REQUIRED = (0, *range(1, 9), *range(12, 16), 18, 19)
LSTM_ABSENT = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection", 17: "projection",
               20: "layer norm", 21: "layer norm", 22: "layer norm", 23: "layer norm"}


def _parse_lstm(op, inputs, tensors) -> ops.UnidirectionalSequenceLstm:
    o = _options(op, tflite.UnidirectionalSequenceLSTMOptions)
    if o is None:
        raise Unsupported("missing options")
    if len(inputs) != 24:
        raise Unsupported(f"{len(inputs)} inputs; TFLite Micro's kernel takes 24")
    for i in LSTM_REQUIRED:
        if inputs[i] == NO_TENSOR:
            raise Unsupported(f"input {i} is missing (CIFG); TFLite Micro's kernel needs it")
    for i, what in LSTM_ABSENT.items():
        if inputs[i] != NO_TENSOR:
            raise Unsupported(f"{what} tensors (input {i}); TFLite Micro's kernel takes none")
    activation = o.FusedActivationFunction()
    if activation != tflite.ActivationFunctionType.TANH:
        raise Unsupported(f"cell gate activation {activation}; TFLite Micro's kernel takes TANH (or sigmoid)")
    return ops.UnidirectionalSequenceLstm(time_major=bool(o.TimeMajor()), cell_clip=float(o.CellClip()),
                                          cell_gate_sigmoid=False)


PARSERS["UNIDIRECTIONAL_SEQUENCE_LSTM"] = _parse_lstm


def _parse_var_handle(op, inputs, tensors) -> ops.VarHandle:
    if inputs:
        raise Unsupported(f"{len(inputs)} inputs")
    o = _options(op, tflite.VarHandleOptions)
    text = lambda b: b.decode("utf-8", "replace") if b else ""  # noqa: E731
    return ops.VarHandle(container=text(o.Container()) if o else "", shared_name=text(o.SharedName()) if o else "")


def _parse_read_variable(op, inputs, tensors) -> ops.ReadVariable:
    _expect_inputs(inputs, 1, 1)
    return ops.ReadVariable()


def _parse_assign_variable(op, inputs, tensors) -> ops.AssignVariable:
    _expect_inputs(inputs, 2, 2)
    return ops.AssignVariable()
PARSERS.update({"VAR_HANDLE": _parse_var_handle, "READ_VARIABLE": _parse_read_variable,
                 "ASSIGN_VARIABLE": _parse_assign_variable})


PARSERS["SVDF"] = _parse_svdf
# --- ELU, RSQRT, ADD_N, ZEROS_LIKE, comparisons, SELECT_V2, CUMSUM, GATHER_ND, ... -------------

def _parse_add_n(op, inputs, tensors) -> ops.AddN:
    if len(inputs) < 2 or NO_TENSOR in inputs:
        raise Unsupported(f"{len(inputs)} inputs; TFLite Micro needs at least 2")
    first = tensors[inputs[0]]
    for i in inputs[1:]:
        t = tensors[i]
        if t.shape != first.shape:
            raise Unsupported(f"inputs of shapes {list(first.shape)} and {list(t.shape)}; TFLite Micro needs equal shapes")
        if t.quant is not None and first.quant is not None and (
                np.float32(t.quant.scales[0]) != np.float32(first.quant.scales[0])
                or t.quant.zero_points[:1] != first.quant.zero_points[:1]):
            raise Unsupported("inputs with different scales or zero points; TFLite Micro requires them equal")
    return ops.AddN()


def _parse_zeros_like(op, inputs, tensors) -> ops.ZerosLike:
    _expect_inputs(inputs, 1, 1)
    dtype = tensors[inputs[0]].dtype
    if dtype not in (DType.INT8, DType.INT32, DType.FLOAT32):
        raise Unsupported(f"{dtype.value} input; tinygen supports int8, int32 and float32")
    outs = op.OutputsAsNumpy() if not op.OutputsIsNone() else []
    if len(outs) != 1 or tensors[int(outs[0])].dtype is not dtype:
        raise Unsupported("an output of another type than its input")
    return ops.ZerosLike()


def _comparison(cls):
    def parse(op, inputs, tensors):
        _expect_inputs(inputs, 2, 2)
        types = {tensors[i].dtype for i in inputs}
        if types != {DType.INT8}:
            raise Unsupported(f"{'/'.join(sorted(d.value for d in types))} inputs; tinygen compares int8 only")
        outs = op.OutputsAsNumpy() if not op.OutputsIsNone() else []
        if len(outs) != 1 or tensors[int(outs[0])].dtype is not DType.BOOL:
            raise Unsupported("an output that is not bool")
        return cls()
    return parse


def _parse_select_v2(op, inputs, tensors) -> ops.SelectV2:
    _expect_inputs(inputs, 3, 3)
    if tensors[inputs[0]].dtype is not DType.BOOL:
        raise Unsupported(f"condition of type {tensors[inputs[0]].dtype.value}; TFLite Micro needs bool")
    return ops.SelectV2()


def _parse_cumsum(op, inputs, tensors) -> ops.CumSum:
    _expect_inputs(inputs, 2, 2)
    axis = tensors[inputs[1]]
    if axis.dtype is not DType.INT32 or axis.num_elements != 1:
        raise Unsupported(f"axis tensor {axis.dtype.value} {list(axis.shape)}; TFLite Micro needs one int32")
    o = _options(op, tflite.CumsumOptions)
    return ops.CumSum(axis=_constant_axis(tensors, inputs[1]),
                      exclusive=bool(o.Exclusive()) if o else False, reverse=bool(o.Reverse()) if o else False)


def _parse_l2_normalization(op, inputs, tensors) -> ops.L2Normalization:
    _expect_inputs(inputs, 1, 1)
    o = _options(op, tflite.L2NormOptions)
    if o is not None and o.FusedActivationFunction() != tflite.ActivationFunctionType.NONE:
        raise Unsupported(f"fused activation {o.FusedActivationFunction()}; TFLite Micro requires none")
    return ops.L2Normalization()


def _parse_gather_nd(op, inputs, tensors) -> ops.GatherNd:
    _expect_inputs(inputs, 2, 2)
    if tensors[inputs[1]].dtype is not DType.INT32:
        raise Unsupported(f"indices of type {tensors[inputs[1]].dtype.value}; TFLite Micro's gather_nd takes int32")
    return ops.GatherNd()


def _parse_space_to_batch(op, inputs, tensors) -> ops.SpaceToBatchNd:
    _expect_inputs(inputs, 3, 3)
    rank = len(tensors[inputs[0]].shape)
    if not 3 <= rank <= 4:
        raise Unsupported(f"rank-{rank} input; TFLite Micro takes rank 3 or 4")
    spatial = rank - 2
    block = _int32_vector(tensors, inputs[1], "block_shape", spatial)
    pads = _constant_ints(tensors, inputs[2], "paddings")
    if tensors[inputs[2]].dtype is not DType.INT32 or pads.shape != (spatial, 2):
        raise Unsupported(f"paddings {tensors[inputs[2]].dtype.value} {list(pads.shape)}; TFLite Micro reads int32 [{spatial}, 2]")
    return ops.SpaceToBatchNd(block=block, paddings=tuple((int(a), int(b)) for a, b in pads))

PARSERS.update({
    "ELU": _no_options(ops.Elu),
    "RSQRT": _no_options(ops.Rsqrt),
    "ADD_N": _parse_add_n,
    "ZEROS_LIKE": _parse_zeros_like,
    "LESS": _comparison(ops.Less),
    "GREATER": _comparison(ops.Greater),
    "EQUAL": _comparison(ops.Equal),
    "NOT_EQUAL": _comparison(ops.NotEqual),
    "LESS_EQUAL": _comparison(ops.LessEqual),
    "GREATER_EQUAL": _comparison(ops.GreaterEqual),
    "SELECT_V2": _parse_select_v2,
    "CUMSUM": _parse_cumsum,
    "L2_NORMALIZATION": _parse_l2_normalization,
    "GATHER_ND": _parse_gather_nd,
    "SPACE_TO_BATCH_ND": _parse_space_to_batch,
})


def _parse_batch_matmul(op, inputs, tensors) -> ops.BatchMatMul:
    _expect_inputs(inputs, 2, 2)
    for i in inputs:
        if not 2 <= len(tensors[i].shape) <= 5:
            raise Unsupported(f"rank-{len(tensors[i].shape)} operand; TFLite Micro takes rank 2 to 5")
    o = _options(op, tflite.BatchMatMulOptions)
    return ops.BatchMatMul(adj_x=bool(o.AdjX()) if o else False, adj_y=bool(o.AdjY()) if o else False)
PARSERS["BATCH_MATMUL"] = _parse_batch_matmul


def _parse_transpose_conv(op, inputs, tensors) -> ops.TransposeConv:
    """Inputs: output shape, filter [out_c, h, w, in_c], input, optional bias."""
    _expect_inputs(inputs, 3, 4)
    o = _options(op, tflite.TransposeConvOptions)
    if o is None:
        raise Unsupported("missing options")
    _check_bias_type(o)
    flt = tensors[inputs[1]]
    if flt.dtype is not DType.INT8 or flt.quant is None:
        raise Unsupported(f"{flt.dtype.value} filter; tinygen takes int8 filters with int8 activations")
    if len(inputs) == 4 and inputs[3] != NO_TENSOR:
        bias = tensors[inputs[3]]
        if bias.dtype is not DType.INT32 or bias.data is None:
            raise Unsupported(f"{bias.dtype.value} bias; tinygen takes constant int32 biases with int8 activations")
    shape = _int32_vector(tensors, inputs[0], "output_shape", 4)
    outs = op.OutputsAsNumpy() if not op.OutputsIsNone() else []
    if len(outs) == 1 and tuple(tensors[int(outs[0])].shape) != shape:
        raise Unsupported(f"output_shape {list(shape)} differs from the output's {list(tensors[int(outs[0])].shape)}")
    return ops.TransposeConv(stride_h=_positive(o.StrideH(), "stride"), stride_w=_positive(o.StrideW(), "stride"),
                             padding=_padding(o.Padding()), activation=_activation(o.FusedActivationFunction()))
PARSERS["TRANSPOSE_CONV"] = _parse_transpose_conv


# --- float islands: float32 NEG, RSQRT, ADD, SUB, MUL between DEQUANTIZE and QUANTIZE -----------

def _all_float32(op, inputs, tensors) -> bool:
    outs = [int(o) for o in op.OutputsAsNumpy()] if not op.OutputsIsNone() else []
    operands = [i for i in inputs if i != NO_TENSOR] + outs
    return bool(operands) and all(tensors[i].dtype is DType.FLOAT32 for i in operands)


def _float_island(int8_parser, float_cls):
    """The int8 parser for int8 operands; the float32 twin when every operand is float32."""
    def parse(op, inputs, tensors):
        attrs = int8_parser(op, inputs, tensors) if int8_parser is not None else None
        if not _all_float32(op, inputs, tensors):
            if attrs is None:
                raise Unsupported("TFLite Micro's kernel computes float32 only")
            return attrs
        if attrs is None:
            return float_cls()
        return float_cls(activation=attrs.activation) if hasattr(attrs, "activation") else float_cls()
    return parse


def _exp_refused(op, inputs, tensors):
    raise Unsupported("TFLite Micro's EXP computes float32 only, and tinygen's float islands take NEG, RSQRT, "
                       "ADD, SUB and MUL (not EXP, whose bits are the C library's expf)")


PARSERS.update({
    "NEG": _float_island(None, ops.NegF32),
    "RSQRT": _float_island(PARSERS["RSQRT"], ops.RsqrtF32),
    "ADD": _float_island(PARSERS["ADD"], ops.AddF32),
    "SUB": _float_island(PARSERS["SUB"], ops.SubF32),
    "MUL": _float_island(PARSERS["MUL"], ops.MulF32),
    "EXP": _exp_refused,
})
