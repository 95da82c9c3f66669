"""Read a .tflite flatbuffer into an ir.Graph with the maintained `tflite` reader package.

Everything the model says is checked before anything downstream runs: the file identifier, the
single subgraph, static shapes, int8 activations, constant sizes. Operators tinygen cannot
compile are collected and reported together in one error, each with its index and type.
"""

from __future__ import annotations

import hashlib
import math
import re
import struct
from collections.abc import Callable
from pathlib import Path

import flatbuffers
import numpy as np
import tflite

from tinygen.errors import InvalidModelError, ModelFormatError, TinygenError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import NO_TENSOR, DType, Graph, Operator, Quantization, Tensor
from tinygen.passes.fold_constants import as_constant, folded_outputs
from tinygen.passes.validate import validate_graph

_TFLITE_TYPES = {
    tflite.TensorType.INT8: DType.INT8,
    tflite.TensorType.UINT8: DType.UINT8,
    tflite.TensorType.INT16: DType.INT16,
    tflite.TensorType.INT32: DType.INT32,
    tflite.TensorType.INT64: DType.INT64,
    tflite.TensorType.FLOAT32: DType.FLOAT32,
    tflite.TensorType.BOOL: DType.BOOL,
    # A resource variable's handle: TFLM keeps an int32 id in it (the variable's bytes are elsewhere).
    tflite.TensorType.RESOURCE: DType.INT32,
}

_PADDINGS = {tflite.Padding.SAME: ops.Padding.SAME, tflite.Padding.VALID: ops.Padding.VALID}

_ACTIVATIONS = {
    tflite.ActivationFunctionType.NONE: ops.Activation.NONE,
    tflite.ActivationFunctionType.RELU: ops.Activation.RELU,
    tflite.ActivationFunctionType.RELU_N1_TO_1: ops.Activation.RELU_N1_TO_1,
    tflite.ActivationFunctionType.RELU6: ops.Activation.RELU6,
}

# The flatbuffers runtime raises these on offsets that point outside the file.
_FLATBUFFER_ERRORS = (IndexError, struct.error, ValueError, TypeError, AttributeError,
                      UnicodeDecodeError, OverflowError, MemoryError, RecursionError)

MAX_TENSOR_ELEMENTS = 1 << 28
# The arena planner is quadratic in the number of buffers: 4096 operators take it a few seconds.
# Microcontroller models have a few hundred; a file with far more would keep the planner busy for
# minutes or hours.
MAX_OPERATORS = 4096


class _Unsupported(Exception):
    """One operator tinygen cannot compile; collected, then reported together."""


def read_tflite(path: Path | str) -> Graph:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    name = model_name_for(path)
    return parse_tflite(data, name=name, source=str(path))


def parse_tflite(data: bytes, name: str = "model", source: str = "<bytes>") -> Graph:
    if len(data) < 8 or not tflite.Model.ModelBufferHasIdentifier(data, 0):
        raise ModelFormatError(f"{source} is not a TFLite model (no 'TFL3' file identifier)")
    try:
        return _Importer(data, name, source).graph()
    except TinygenError:
        raise
    except _FLATBUFFER_ERRORS as exc:
        raise ModelFormatError(
            f"{source} is truncated or corrupt ({type(exc).__name__} while reading the flatbuffer)"
        ) from None


def model_name_for(path: Path) -> str:
    """A C identifier from the file name: 'kws_dscnn_int8.tflite' -> 'kws_dscnn_int8'."""
    ident = re.sub(r"[^0-9A-Za-z_]", "_", path.stem).strip("_") or "model"
    if ident[0].isdigit():
        ident = "m_" + ident
    return ident.lower()


class _Importer:
    def __init__(self, data: bytes, name: str, source: str) -> None:
        self.data = data
        self.name = name
        self.source = source
        self.model = tflite.Model.GetRootAsModel(data, 0)

    def graph(self) -> Graph:
        model = self.model
        if model.BuffersLength() and model.Buffers(0).DataLength():
            raise InvalidModelError(f"{self.source}: buffer 0 holds data; TFLite reserves it as the empty buffer")
        if model.SubgraphsLength() != 1:
            raise UnsupportedModelError(
                f"{self.source} has {model.SubgraphsLength()} subgraphs; tinygen compiles models with one"
            )
        sub = model.Subgraphs(0)
        if sub.OperatorsLength() > MAX_OPERATORS:
            raise UnsupportedModelError(
                f"{self.source} has {sub.OperatorsLength()} operators; tinygen compiles at most {MAX_OPERATORS}")
        # A list: operators folded at import replace their outputs with constants.
        tensors = [self._tensor(sub, i) for i in range(sub.TensorsLength())]
        inputs = self._indices(sub.InputsAsNumpy(), len(tensors), "graph input")
        outputs = self._indices(sub.OutputsAsNumpy(), len(tensors), "graph output")
        if not inputs or not outputs:
            raise InvalidModelError(f"{self.source} has no inputs or no outputs")
        _refuse_float_model(tensors, self.source)

        operators: list[Operator] = []
        problems: list[str] = []
        for i in range(sub.OperatorsLength()):
            op = sub.Operators(i)
            op_name = self._op_name(op)
            op_inputs = self._indices(op.InputsAsNumpy(), len(tensors), f"operator {i} input", allow_absent=True)
            op_outputs = self._indices(op.OutputsAsNumpy(), len(tensors), f"operator {i} output")
            try:
                parser = _PARSERS.get(op_name)
                if parser is None:
                    raise _Unsupported(op_name)
                attrs = parser(op, op_inputs, tensors)
                if _fold(attrs, op_inputs, op_outputs, tensors):
                    continue
                _check_types(attrs, op_inputs, op_outputs, tensors)
            except _Unsupported as why:
                detail = str(why)
                problems.append(f"#{i} {op_name}" + (f" ({detail})" if detail != op_name else ""))
                continue
            except InvalidModelError as why:
                raise InvalidModelError(f"operator #{i} {op_name}: {why}") from None
            operators.append(Operator(index=i, attrs=attrs, inputs=op_inputs, outputs=op_outputs))

        if problems:
            raise UnsupportedModelError(
                f"{self.source}: {len(problems)} unsupported operator(s): " + ", ".join(problems)
            )
        _check_static_and_quantized(tensors, inputs, outputs, operators, self.source)
        return validate_graph(Graph(
            name=self.name,
            sha256=hashlib.sha256(self.data).hexdigest(),
            tensors=tuple(tensors),
            operators=tuple(operators),
            inputs=inputs,
            outputs=outputs,
        ))

    def _indices(self, array, count: int, what: str, allow_absent: bool = False) -> tuple[int, ...]:
        if isinstance(array, int):  # the tflite package returns 0 for an absent vector
            return ()
        result = tuple(int(v) for v in array)
        for v in result:
            if v == NO_TENSOR and allow_absent:
                continue
            if not 0 <= v < count:
                raise InvalidModelError(f"{what} refers to tensor {v}, but the model has {count} tensors")
        return result

    def _op_name(self, op) -> str:
        index = op.OpcodeIndex()
        if not 0 <= index < self.model.OperatorCodesLength():
            raise InvalidModelError(f"an operator uses opcode {index}, which the model does not define")
        code = self.model.OperatorCodes(index)
        builtin = max(_raw_builtin_code(code), code.DeprecatedBuiltinCode())
        if builtin == tflite.BuiltinOperator.CUSTOM:
            custom = code.CustomCode()
            return f"CUSTOM:{custom.decode('utf-8', 'replace') if custom else '?'}"
        return tflite.utils.BUILTIN_OPCODE2NAME.get(builtin, f"BUILTIN_{builtin}")

    def _tensor(self, sub, index: int) -> Tensor:
        t = sub.Tensors(index)
        name = (t.Name() or b"").decode("utf-8", "replace") or f"tensor_{index}"
        shape = tuple(int(d) for d in t.ShapeAsNumpy()) if not t.ShapeIsNone() else ()
        signature = tuple(int(d) for d in t.ShapeSignatureAsNumpy()) if not t.ShapeSignatureIsNone() else shape
        # A -1 batch dimension in the signature is the converter's default; the stored shape fixes it.
        dynamic = any(d < 0 for d in shape) or len(signature) != len(shape) or any(
            d < 0 and (axis > 0 or shape[axis] != 1) for axis, d in enumerate(signature))
        if dynamic:
            raise UnsupportedModelError(
                f"tensor {index} '{name}' has a dynamic shape {list(signature)}; tinygen needs static shapes"
            )
        if any(d > MAX_TENSOR_ELEMENTS for d in shape) or math.prod(shape) > MAX_TENSOR_ELEMENTS:
            raise InvalidModelError(f"tensor {index} '{name}' has an impossible shape {list(shape)}")
        if t.Sparsity() is not None:
            # Its buffer holds a compressed encoding, not the dense values of its shape.
            raise UnsupportedModelError(f"tensor {index} '{name}' is sparse; tinygen compiles dense tensors")
        dtype = _TFLITE_TYPES.get(t.Type())
        if dtype is None:
            raise UnsupportedModelError(f"tensor {index} '{name}' has TFLite type {t.Type()}, which tinygen does not support")
        quant = self._quantization(t, index, name, shape)
        if t.IsVariable():
            # State kept between invocations (tinygen/plan/state.py); TFLM resets it to the zero
            # point (int8) or 0 and never reads the buffer, so neither does tinygen.
            return Tensor(index=index, name=name, shape=shape, dtype=dtype, quant=quant, variable=True)
        data = self._constant(t, index, name, shape, dtype)
        return Tensor(index=index, name=name, shape=shape, dtype=dtype, quant=quant, data=data)

    def _quantization(self, t, index: int, name: str, shape: tuple[int, ...]) -> Quantization | None:
        q = t.Quantization()
        if q is None or q.ScaleIsNone() or q.ScaleLength() == 0:
            return None
        scales = tuple(float(s) for s in q.ScaleAsNumpy())
        # No zero points at all is not "all zero": TFLM reads past the missing vector.
        zero_points = tuple(int(z) for z in q.ZeroPointAsNumpy()) if not q.ZeroPointIsNone() else ()
        axis = int(q.QuantizedDimension())
        if len(zero_points) != len(scales):
            raise InvalidModelError(
                f"tensor {index} '{name}' has {len(scales)} scales but {len(zero_points)} zero points"
            )
        for s in scales:
            if not math.isfinite(s) or s <= 0:
                raise InvalidModelError(f"tensor {index} '{name}' has an invalid quantization scale {s}")
        # TFLM checks quantized_dimension only where a kernel reads it (a filter's channels; see
        # validate._check_filter_channels): a bias may name any, e.g. its filter's channel axis 3.
        return Quantization(scales=scales, zero_points=zero_points, axis=axis)

    def _constant(self, t, index: int, name: str, shape: tuple[int, ...], dtype: DType) -> np.ndarray | None:
        buffer_index = t.Buffer()
        # Buffer 0 is the empty one every model must have; TFLM crashes on a model without it.
        if not 0 <= buffer_index < self.model.BuffersLength():
            raise InvalidModelError(f"tensor {index} '{name}' refers to buffer {buffer_index}, which does not exist")
        if buffer_index == 0:
            return None
        buf = self.model.Buffers(buffer_index)
        if buf.Offset() > 1:
            # Models over 2 GB keep buffers after the flatbuffer (Buffer.offset). TFLite Micro never
            # reads them there (checked: it computes with other weights), so no result could match it.
            raise UnsupportedModelError(
                f"tensor {index} '{name}' keeps its data outside the flatbuffer (buffer offset {buf.Offset()}), "
                "which TFLite Micro does not read")
        if buf.DataLength() == 0:
            return None
        raw = buf.DataAsNumpy()
        expected = math.prod(shape) * dtype.itemsize
        if raw.size != expected:
            raise InvalidModelError(
                f"tensor {index} '{name}' holds {raw.size} bytes, but its shape {list(shape)} of {dtype.value} needs {expected}"
            )
        array = np.frombuffer(raw.tobytes(), dtype=dtype.numpy.newbyteorder("<")).astype(dtype.numpy).reshape(shape)
        array.setflags(write=False)
        return array


def _raw_builtin_code(code) -> int:
    """The builtin_code field as stored. The tflite package's BuiltinCode() answers the deprecated
    field instead whenever builtin_code < 127, but TFLM takes max(builtin_code, deprecated): a model
    whose two fields disagree would otherwise be compiled as another operator than TFLM runs."""
    table = code._tab  # the generated reader's table: field 3 (vtable offset 10) is builtin_code
    offset = table.Offset(10)
    return table.Get(flatbuffers.number_types.Int32Flags, offset + table.Pos) if offset else 0


# --- operator parsers: flatbuffer options -> attrs dataclass --------------------------------

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
        raise _Unsupported(f"fused activation {name}")
    return act


def _padding(code: int) -> ops.Padding:
    if code not in _PADDINGS:
        raise _Unsupported(f"padding {code}")
    return _PADDINGS[code]


def _positive(value: int, what: str) -> int:
    if value < 1:
        raise _Unsupported(f"{what} {value}")
    return value


def _parse_conv(op, inputs, tensors) -> ops.Conv2D:
    o = _options(op, tflite.Conv2DOptions)
    if o is None:
        raise _Unsupported("missing options")
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
        raise _Unsupported("missing options")
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
        raise _Unsupported("shuffled weights format")
    _check_bias_type(o)
    return ops.FullyConnected(activation=_activation(o.FusedActivationFunction()), keep_num_dims=bool(o.KeepNumDims()))


def _check_bias_type(o) -> None:
    """quantized_bias_type: 0 (FLOAT32, the schema's default) leaves it unset; TFLM refuses a model
    naming no valid type, and tinygen's kernels take int32 biases only."""
    # INT64: the converter's 16x8 models (the bias tensor's own type is checked with the operator's).
    if o.QuantizedBiasType() not in (tflite.TensorType.FLOAT32, tflite.TensorType.INT32, tflite.TensorType.INT64):
        raise _Unsupported(f"quantized bias type {o.QuantizedBiasType()}")


def _pool_fields(op) -> dict:
    o = _options(op, tflite.Pool2DOptions)
    if o is None:
        raise _Unsupported("missing options")
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
        raise _Unsupported("missing options")  # TFLM would take beta 0 and abort
    return ops.Softmax(beta=float(o.Beta()))


def _parse_concatenation(op, inputs, tensors) -> ops.Concatenation:
    if len(inputs) < 1 or NO_TENSOR in inputs:
        raise _Unsupported("needs at least one input")
    o = _options(op, tflite.ConcatenationOptions)
    rank = len(tensors[inputs[0]].shape)
    axis = o.Axis() if o else 0
    if not -rank <= axis < rank:
        raise _Unsupported(f"axis {axis} of a rank-{rank} tensor")
    return ops.Concatenation(axis=axis % rank if rank else 0,
                             activation=_activation(o.FusedActivationFunction()) if o else ops.Activation.NONE)


def _constant_ints(tensors, index: int, what: str) -> np.ndarray:
    t = tensors[index]
    if t.data is None:
        raise _Unsupported(f"{what} must be a constant tensor")
    if t.dtype not in (DType.INT32, DType.INT64):
        # Casting floats would warn (a second stderr line) and give meaningless integers.
        raise _Unsupported(f"{what} are {t.dtype.value}, not integers")
    return np.asarray(t.data, dtype=np.int64)


def _parse_pad(op, inputs, tensors) -> ops.Pad:
    _expect_inputs(inputs, 2, 3)
    pads = _constant_ints(tensors, inputs[1], "paddings")
    rank = len(tensors[inputs[0]].shape)
    if pads.shape != (rank, 2) or (pads < 0).any():
        raise _Unsupported(f"paddings of shape {list(pads.shape)} for a rank-{rank} input")
    if len(inputs) == 3 and inputs[2] != NO_TENSOR and tensors[inputs[2]].data is None:
        raise _Unsupported("constant_values must be a constant tensor")
    return ops.Pad(paddings=tuple((int(a), int(b)) for a, b in pads))


def _parse_mean(op, inputs, tensors) -> ops.Mean:
    _expect_inputs(inputs, 2, 2)
    rank = len(tensors[inputs[0]].shape)
    axes = _constant_ints(tensors, inputs[1], "axes").reshape(-1)
    if any(not -rank <= a < rank for a in axes):
        raise _Unsupported(f"axes {axes.tolist()} of a rank-{rank} tensor")
    o = _options(op, tflite.ReducerOptions)
    return ops.Mean(axes=tuple(sorted({int(a) % rank for a in axes})), keep_dims=bool(o.KeepDims()) if o else False)


def _no_options(cls, min_inputs: int = 1, max_inputs: int = 1):
    def parse(op, inputs, tensors):
        _expect_inputs(inputs, min_inputs, max_inputs)
        return cls()
    return parse


def _expect_inputs(inputs, low: int, high: int) -> None:
    if not low <= len(inputs) <= high:
        raise _Unsupported(f"{len(inputs)} inputs")
    if NO_TENSOR in inputs[:low]:
        raise _Unsupported("a required input is missing")


_PARSERS: dict[str, Callable[..., ops.OpAttrs]] = {
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


# --- issue 10 operators (ops engineer): data movement, resizing, shape-only aliases --------

def _int32_vector(tensors, index: int, what: str, length: int | None = None) -> tuple[int, ...]:
    """A constant 1-D int32 tensor's values. TFLM reads these buffers as int32 whatever their type."""
    t = tensors[index]
    if t.data is None:
        raise _Unsupported(f"non-constant {what} tensor; TFLite Micro needs it constant")
    if t.dtype is not DType.INT32:
        raise _Unsupported(f"{what} tensor is {t.dtype.value}; TFLite Micro reads it as int32")
    if len(t.shape) != 1 or (length is not None and t.shape[0] != length):
        raise _Unsupported(f"{what} tensor of shape {list(t.shape)}" + (f", not [{length}]" if length is not None else ""))
    return tuple(int(v) for v in np.asarray(t.data).reshape(-1))


def _parse_transpose(op, inputs, tensors) -> ops.Transpose:
    _expect_inputs(inputs, 2, 2)
    rank = len(tensors[inputs[0]].shape)
    perm = _int32_vector(tensors, inputs[1], "perm", rank)
    if any(not 0 <= p < rank for p in perm):
        raise _Unsupported(f"perm {list(perm)} out of bounds for rank {rank}")
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
        raise _Unsupported("non-constant axis tensor; TFLite Micro needs it constant")
    if t.dtype is not DType.INT32 or t.num_elements < 1:
        raise _Unsupported(f"axis tensor is {t.dtype.value} of shape {list(t.shape)}; TFLite Micro reads one int32")
    return int(np.asarray(t.data).reshape(-1)[0])


def _parse_slice(op, inputs, tensors) -> ops.Slice:
    _expect_inputs(inputs, 3, 3)
    rank = len(tensors[inputs[0]].shape)
    vectors = []
    for index, what in ((inputs[1], "begin"), (inputs[2], "size")):
        t = tensors[index]
        if t.data is None:
            raise _Unsupported(f"non-constant {what} tensor")
        if t.dtype not in (DType.INT32, DType.INT64) or t.shape != (rank,):
            raise _Unsupported(f"{what} tensor is {t.dtype.value} {list(t.shape)}; TFLite Micro needs int32 or int64 [{rank}]")
        vectors.append(tuple(int(v) for v in np.asarray(t.data).reshape(-1)))
    if tensors[inputs[1]].dtype is not tensors[inputs[2]].dtype:
        raise _Unsupported("begin and size tensors of different types")
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
        raise _Unsupported("needs at least one input")
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
            raise _Unsupported(f"axis tensor is {axis.dtype.value}; TFLite Micro supports int32 only")
        out_dtypes = {tensors[o].dtype for o in op.OutputsAsNumpy()} if not op.OutputsIsNone() else set()
        if out_dtypes != {DType.INT32}:
            raise _Unsupported(f"{'/'.join(sorted(d.value for d in out_dtypes))} output; TFLite Micro supports int32 only")
        return cls(axis=_constant_axis(tensors, inputs[1]))
    return parse


def _parse_gather(op, inputs, tensors) -> ops.Gather:
    _expect_inputs(inputs, 2, 2)
    if tensors[inputs[1]].dtype is not DType.INT32:
        raise _Unsupported(f"positions of type {tensors[inputs[1]].dtype.value}; TFLite Micro's gather takes int32")
    o = _options(op, tflite.GatherOptions)
    return ops.Gather(axis=o.Axis() if o else 0, batch_dims=o.BatchDims() if o else 0)


def _parse_resize_bilinear(op, inputs, tensors) -> ops.ResizeBilinear:
    _expect_inputs(inputs, 2, 2)
    height, width = _int32_vector(tensors, inputs[1], "size", 2)
    o = _options(op, tflite.ResizeBilinearOptions)
    align_corners = bool(o.AlignCorners()) if o else False
    half_pixel_centers = bool(o.HalfPixelCenters()) if o else False
    if align_corners and half_pixel_centers:
        raise _Unsupported("half_pixel_centers with align_corners; TFLite Micro requires align_corners false then")
    return ops.ResizeBilinear(size=(height, width), align_corners=align_corners, half_pixel_centers=half_pixel_centers)


def _parse_mirror_pad(op, inputs, tensors) -> ops.MirrorPad:
    _expect_inputs(inputs, 2, 2)
    pads = _constant_ints(tensors, inputs[1], "paddings")
    rank = len(tensors[inputs[0]].shape)
    if pads.shape != (rank, 2) or (pads < 0).any():
        raise _Unsupported(f"paddings of shape {list(pads.shape)} for a rank-{rank} input")
    o = _options(op, tflite.MirrorPadOptions)
    reflect = (o.Mode() if o else tflite.MirrorPadMode.REFLECT) == tflite.MirrorPadMode.REFLECT
    return ops.MirrorPad(paddings=tuple((int(a), int(b)) for a, b in pads), reflect=reflect)


def _fold(attrs: ops.OpAttrs, inputs, outputs, tensors: list) -> bool:
    """Replace the operator's outputs by constants when their values are known at import."""
    folded = folded_outputs(attrs, inputs, outputs, tensors)
    if folded is None:
        if isinstance(attrs, (ops.Shape, ops.Fill)):
            raise _Unsupported("its result is not known at import (non-constant inputs or types); "
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
        raise _Unsupported(f"crops {tensors[inputs[2]].dtype.value} {list(crops.shape)}; TFLite Micro reads int32 [{spatial}, 2]")
    return ops.BatchToSpaceNd(block=block, crops=tuple((int(a), int(b)) for a, b in crops))


# Operators whose int8 operands are not "input 0 -> output 0": the tensors _check_types checks.
_ISSUE10_OPERANDS = {
    ops.Split: lambda inputs, outputs: [inputs[1], *outputs],
    ops.SplitV: lambda inputs, outputs: [inputs[0], *outputs],
    ops.Unpack: lambda inputs, outputs: [inputs[0], *outputs],
    ops.Pack: lambda inputs, outputs: [*inputs, *outputs],
    ops.Sub: lambda inputs, outputs: [inputs[0], inputs[1], *outputs],
    ops.Maximum: lambda inputs, outputs: [inputs[0], inputs[1], *outputs],
    ops.Minimum: lambda inputs, outputs: [inputs[0], inputs[1], *outputs],
    ops.Prelu: lambda inputs, outputs: [inputs[0], inputs[1], *outputs],
    ops.SquaredDifference: lambda inputs, outputs: [inputs[0], inputs[1], *outputs],
    ops.Gather: lambda inputs, outputs: [inputs[0], *outputs],  # positions: int32, checked by the parser
    ops.ArgMax: lambda inputs, outputs: [inputs[0]],  # the int32 output is checked by the parser
    ops.ArgMin: lambda inputs, outputs: [inputs[0]],
}
_MULTI_OUTPUT = (ops.Split, ops.SplitV, ops.Unpack)


def _no_tflm_kernel(op, inputs, tensors):
    """Operators TFLM registers no kernel for: a model with one does not run there either."""
    raise _Unsupported("TFLite Micro has no kernel for it")


def _float_only_in_tflm(op, inputs, tensors):
    """Operators whose TFLM kernel computes float32 only (tinygen does not compile float islands yet)."""
    raise _Unsupported("TFLite Micro's kernel computes float32 only, and tinygen compiles no float operators yet")


_PARSERS.update({
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
        raise _Unsupported("missing options")
    _expect_inputs(inputs, 5, 5)
    if inputs[3] == NO_TENSOR:
        # TFLM's int8 Prepare reads the bias's scale unconditionally (and crashes without one).
        raise _Unsupported("no bias; TFLite Micro's int8 SVDF needs one")
    return ops.Svdf(rank=_positive(o.Rank(), "rank"), activation=_activation(o.FusedActivationFunction()))


def _check_svdf_types(inputs, outputs, tensors) -> None:
    """TFLM's int8 SVDF: int8 input/weights_feature/output, int32 bias, and time weights and state
    of one type, int16 or int8 (the state's type is the time weights', which choose the kernel)."""
    inp, feature, time, bias, state = (tensors[i] for i in inputs)
    if len(outputs) != 1:
        raise _Unsupported(f"{len(outputs)} outputs")
    out = tensors[outputs[0]]
    for t in (inp, out, state):
        if t.quant is None:
            raise _Unsupported(f"{t.dtype.value} tensor '{t.name}' without quantization")
    if inp.dtype is not DType.INT8 or out.dtype is not DType.INT8:
        raise _Unsupported(f"{inp.dtype.value} input, {out.dtype.value} output; supported: int8")
    if feature.dtype is not DType.INT8 or feature.data is None or feature.quant is None:
        raise _Unsupported(f"{feature.dtype.value} feature weights; TFLite Micro takes constant int8")
    if time.dtype not in (DType.INT16, DType.INT8) or time.data is None or time.quant is None:
        raise _Unsupported(f"{time.dtype.value} time weights; TFLite Micro takes constant int16 or int8")
    if not state.variable or state.dtype is not time.dtype:
        raise _Unsupported(f"state '{state.name}' must be a variable {time.dtype.value} tensor like the time weights")
    if bias.dtype is not DType.INT32 or bias.data is None or bias.quant is None:
        raise _Unsupported(f"{bias.dtype.value} bias; TFLite Micro takes a constant int32 bias")


# TFLite's LSTM input positions (lstm_shared.h): the ones TFLM's kernel requires and refuses.
LSTM_REQUIRED = (0, *range(1, 9), *range(12, 16), 18, 19)
LSTM_ABSENT = {9: "peephole", 10: "peephole", 11: "peephole", 16: "projection", 17: "projection",
               20: "layer norm", 21: "layer norm", 22: "layer norm", 23: "layer norm"}


def _parse_lstm(op, inputs, tensors) -> ops.UnidirectionalSequenceLstm:
    o = _options(op, tflite.UnidirectionalSequenceLSTMOptions)
    if o is None:
        raise _Unsupported("missing options")
    if len(inputs) != 24:
        raise _Unsupported(f"{len(inputs)} inputs; TFLite Micro's kernel takes 24")
    for i in LSTM_REQUIRED:
        if inputs[i] == NO_TENSOR:
            raise _Unsupported(f"input {i} is missing (CIFG); TFLite Micro's kernel needs it")
    for i, what in LSTM_ABSENT.items():
        if inputs[i] != NO_TENSOR:
            raise _Unsupported(f"{what} tensors (input {i}); TFLite Micro's kernel takes none")
    activation = o.FusedActivationFunction()
    if activation != tflite.ActivationFunctionType.TANH:
        raise _Unsupported(f"cell gate activation {activation}; TFLite Micro's kernel takes TANH (or sigmoid)")
    return ops.UnidirectionalSequenceLstm(time_major=bool(o.TimeMajor()), cell_clip=float(o.CellClip()),
                                          cell_gate_sigmoid=False)


def _check_lstm_types(inputs, outputs, tensors) -> None:
    """TFLM's integer LSTMs: 8x8->16 (int8 input, hidden state and output, int32 biases) and 16x8->16
    (int16 ones, int64 biases); int8 weights and an int16 cell state in both."""
    if len(outputs) != 1:
        raise _Unsupported(f"{len(outputs)} outputs")
    inp, out, hidden, cell = tensors[inputs[0]], tensors[outputs[0]], tensors[inputs[18]], tensors[inputs[19]]
    act = inp.dtype
    if act not in (DType.INT8, DType.INT16):
        raise _Unsupported(f"{act.value} input; supported: int8 or int16 activations")
    for t in (inp, out, hidden):
        if t.dtype is not act or t.quant is None:
            raise _Unsupported(f"{t.dtype.value} tensor '{t.name}' with {act.value} activations")
    if not (hidden.variable and cell.variable):
        raise _Unsupported("its hidden and cell states must be variable tensors")
    if cell.dtype is not DType.INT16 or cell.quant is None:
        raise _Unsupported(f"{cell.dtype.value} cell state; TFLite Micro's integer LSTM keeps int16")
    for i in range(1, 9):
        w = tensors[inputs[i]]
        if w.dtype is not DType.INT8 or w.data is None or w.quant is None or w.quant.per_channel:
            raise _Unsupported(f"weights '{w.name}': constant int8 quantized per tensor needed")
    bias_type = DType.INT32 if act is DType.INT8 else DType.INT64
    for i in range(12, 16):
        b = tensors[inputs[i]]
        if b.dtype is not bias_type or b.data is None:
            raise _Unsupported(f"{b.dtype.value} bias '{b.name}'; the {act.value} LSTM takes constant {bias_type.value}")


_PARSERS["UNIDIRECTIONAL_SEQUENCE_LSTM"] = _parse_lstm


# Operators with a 16x8 kernel in TFLM (int16 activations, int8 weights) that tinygen compiles.
_16X8_WEIGHTED = (ops.Conv2D, ops.DepthwiseConv2D, ops.FullyConnected)
_16X8_SAME_TYPE = (ops.AveragePool2D, ops.MaxPool2D, ops.Reshape, ops.Logistic, ops.Tanh, ops.Softmax)  # int16 in, int16 out
_16X8_SAME_TYPE += (ops.Transpose, ops.StridedSlice, ops.Concatenation, ops.Pad)  # int16 value copies (issue 10: ops-c)


def _check_16x8_types(attrs, inputs, outputs, tensors) -> None:
    """int16 input and output, constant int8 weights, an int64 or int32 bias (TFLM's two accumulators)."""
    if len(outputs) != 1:
        raise _Unsupported(f"{len(outputs)} outputs")
    for i in (inputs[0], outputs[0]):
        if tensors[i].dtype is not DType.INT16 or tensors[i].quant is None:
            raise _Unsupported(f"{tensors[i].dtype.value} tensor '{tensors[i].name}' in a 16x8 operator")
    weights = tensors[inputs[1]]
    if weights.dtype is not DType.INT8 or weights.quant is None or weights.data is None:
        raise _Unsupported(f"{weights.dtype.value} weights; TFLite Micro's 16x8 kernels take constant int8")
    if len(inputs) > 2 and inputs[2] != NO_TENSOR:
        bias = tensors[inputs[2]]
        if bias.dtype not in (DType.INT64, DType.INT32) or bias.data is None:
            raise _Unsupported(f"{bias.dtype.value} bias; TFLite Micro's 16x8 kernels take constant int64 or int32")


def _parse_var_handle(op, inputs, tensors) -> ops.VarHandle:
    if inputs:
        raise _Unsupported(f"{len(inputs)} inputs")
    o = _options(op, tflite.VarHandleOptions)
    text = lambda b: b.decode("utf-8", "replace") if b else ""  # noqa: E731
    return ops.VarHandle(container=text(o.Container()) if o else "", shared_name=text(o.SharedName()) if o else "")


def _parse_read_variable(op, inputs, tensors) -> ops.ReadVariable:
    _expect_inputs(inputs, 1, 1)
    return ops.ReadVariable()


def _parse_assign_variable(op, inputs, tensors) -> ops.AssignVariable:
    _expect_inputs(inputs, 2, 2)
    return ops.AssignVariable()


_RESOURCE_OPS = (ops.VarHandle, ops.ReadVariable, ops.AssignVariable)
_PARSERS.update({"VAR_HANDLE": _parse_var_handle, "READ_VARIABLE": _parse_read_variable,
                 "ASSIGN_VARIABLE": _parse_assign_variable})


def _check_resource_types(attrs, inputs, outputs, tensors) -> None:
    """Resource variables hold int8 or int16 values (copied as bytes, as TFLM's kernels copy them)."""
    expected_outputs = 0 if isinstance(attrs, ops.AssignVariable) else 1
    if len(outputs) != expected_outputs:
        raise _Unsupported(f"{len(outputs)} outputs")
    values = {ops.ReadVariable: outputs[:1], ops.AssignVariable: inputs[1:2]}.get(type(attrs), [])
    for i in values:
        if tensors[i].dtype not in (DType.INT8, DType.INT16):
            raise _Unsupported(f"{tensors[i].dtype.value} variable '{tensors[i].name}'; tinygen keeps int8 or int16 ones")


# Operators that keep a variable tensor as state (the only ones a variable tensor may feed).
_STATEFUL = (ops.Svdf, ops.UnidirectionalSequenceLstm)


def _check_variable_inputs(attrs: ops.OpAttrs, inputs, tensors) -> None:
    for i in inputs:
        if i != NO_TENSOR and tensors[i].variable and not isinstance(attrs, _STATEFUL):
            raise _Unsupported(f"tensor {i} '{tensors[i].name}' is a variable tensor (state kept between "
                               f"invocations); tinygen keeps state for SVDF and LSTM only")


_PARSERS["SVDF"] = _parse_svdf


# --- type checks: which dtypes each operator accepts ----------------------------------------

def _check_types(attrs: ops.OpAttrs, inputs, outputs, tensors) -> None:
    """Raise _Unsupported unless the operator computes on int8 as tinygen's kernels do."""
    def dt(i: int) -> DType:
        return tensors[i].dtype

    def quantized_int8(i: int) -> bool:
        return dt(i) is DType.INT8 and tensors[i].quant is not None

    if isinstance(attrs, ops.FloatOp):  # a float island: every operand float32, checked by its parser
        if len(outputs) != 1:
            raise _Unsupported(f"{len(outputs)} outputs")
        return
    _check_variable_inputs(attrs, inputs, tensors)
    if isinstance(attrs, _RESOURCE_OPS):
        _check_resource_types(attrs, inputs, outputs, tensors)
        return
    if isinstance(attrs, ops.Svdf):
        _check_svdf_types(inputs, outputs, tensors)
        return
    if isinstance(attrs, ops.UnidirectionalSequenceLstm):
        _check_lstm_types(inputs, outputs, tensors)
        return
    if isinstance(attrs, _16X8_WEIGHTED) and dt(inputs[0]) is DType.INT16:
        _check_16x8_types(attrs, inputs, outputs, tensors)
        return
    if isinstance(attrs, (ops.Add, ops.Mul, ops.Sub)) and dt(inputs[0]) is DType.INT16:
        if len(outputs) != 1 or any(dt(i) is not DType.INT16 or tensors[i].quant is None
                                    for i in (inputs[0], inputs[1], outputs[0])):
            raise _Unsupported("int16 operands need quantized int16 ones throughout")
        return
    if isinstance(attrs, _16X8_SAME_TYPE) and dt(inputs[0]) is DType.INT16:
        if len(outputs) != 1 or dt(outputs[0]) is not DType.INT16 or tensors[outputs[0]].quant is None \
                or tensors[inputs[0]].quant is None:
            raise _Unsupported("int16 input needs a quantized int16 output")
        return

    if isinstance(attrs, ops.Quantize) and DType.INT16 in (dt(inputs[0]), dt(outputs[0])):  # ops-c
        if not all(dt(i) in (DType.INT8, DType.INT16) and tensors[i].quant is not None for i in (inputs[0], outputs[0])):
            raise _Unsupported(f"{dt(inputs[0]).value} to {dt(outputs[0]).value}")
        return
    if isinstance(attrs, ops.Quantize):
        if not (dt(inputs[0]) in (DType.FLOAT32, DType.INT8) and quantized_int8(outputs[0])):
            raise _Unsupported(f"{dt(inputs[0]).value} to {dt(outputs[0]).value}")
        return
    if isinstance(attrs, ops.Dequantize):
        if not (quantized_int8(inputs[0]) and dt(outputs[0]) is DType.FLOAT32):
            raise _Unsupported(f"{dt(inputs[0]).value} to {dt(outputs[0]).value}")
        return
    operands = _ISSUE10_OPERANDS.get(type(attrs))
    if operands is not None:
        if len(outputs) != 1 and not isinstance(attrs, _MULTI_OUTPUT):
            raise _Unsupported(f"{len(outputs)} outputs")
        for i in operands(inputs, outputs):
            if not quantized_int8(i):
                raise _Unsupported(f"{dt(i).value} tensor '{tensors[i].name}'")
        return
    if len(outputs) != 1:
        raise _Unsupported(f"{len(outputs)} outputs")
    data_inputs = [inputs[0]]
    if isinstance(attrs, (ops.Add, ops.Mul)):
        data_inputs = [inputs[0], inputs[1]]
    elif isinstance(attrs, ops.Concatenation):
        data_inputs = list(inputs)
    checked = data_inputs + [outputs[0]]
    if isinstance(attrs, ops.Softmax) and dt(outputs[0]) is DType.INT16 and tensors[outputs[0]].quant is not None:
        checked = data_inputs  # int8 -> int16 softmax is a TFLM kernel of its own (tg_softmax_s8_s16)
    for i in checked:
        if dt(i) is DType.FLOAT32:
            raise _Unsupported("float32 computation; tinygen compiles int8-quantized models")
        if not quantized_int8(i):
            raise _Unsupported(f"{dt(i).value} tensor '{tensors[i].name}'")
    if isinstance(attrs, (ops.Conv2D, ops.DepthwiseConv2D, ops.FullyConnected)):
        weights = tensors[inputs[1]]
        if weights.dtype is not DType.INT8 or weights.quant is None:
            raise _Unsupported(f"{weights.dtype.value} weights")
        if weights.data is None:
            raise _Unsupported("non-constant weights")
        if len(inputs) > 2 and inputs[2] != NO_TENSOR:
            bias = tensors[inputs[2]]
            if bias.dtype is not DType.INT32 or bias.data is None:
                raise _Unsupported(f"{bias.dtype.value} bias")


def _check_static_and_quantized(tensors, inputs, outputs, operators, source: str) -> None:
    if not operators:
        raise UnsupportedModelError(f"{source} has no operators")
    for i in inputs:
        if tensors[i].is_constant:
            raise InvalidModelError(f"graph input {i} '{tensors[i].name}' is a constant")
    for i in (*inputs, *outputs):
        if tensors[i].variable:
            raise UnsupportedModelError(f"graph input or output {i} '{tensors[i].name}' is a variable tensor (state)")


# The integer activation types tinygen computes on; a model with none of them is a float model.
_QUANTIZED_ACTIVATION_TYPES = (DType.INT8, DType.INT16, DType.UINT8)


def _refuse_float_model(tensors, source: str) -> None:
    """A float (or weights-only quantized) model computes nothing in integers: say how to quantize it."""
    if any(t.dtype in _QUANTIZED_ACTIVATION_TYPES and not t.is_constant for t in tensors):
        return
    if not any(t.dtype is DType.FLOAT32 and not t.is_constant for t in tensors):
        return
    raise UnsupportedModelError(
        f"{source} is a float32 model (no int8 or int16 activations); tinygen compiles integer-quantized models: "
        "make one from the Keras model or SavedModel with `tinygen quantize MODEL.keras|SAVED_MODEL_DIR "
        "--calib DATA.npy -o model.tflite`")
# --- issue 10, second set (ops-a): ELU, RSQRT, ADD_N, ZEROS_LIKE, comparisons, SELECT_V2, CUMSUM, ... --

def _parse_add_n(op, inputs, tensors) -> ops.AddN:
    if len(inputs) < 2 or NO_TENSOR in inputs:
        raise _Unsupported(f"{len(inputs)} inputs; TFLite Micro needs at least 2")
    first = tensors[inputs[0]]
    for i in inputs[1:]:
        t = tensors[i]
        if t.shape != first.shape:
            raise _Unsupported(f"inputs of shapes {list(first.shape)} and {list(t.shape)}; TFLite Micro needs equal shapes")
        if t.quant is not None and first.quant is not None and (
                np.float32(t.quant.scales[0]) != np.float32(first.quant.scales[0])
                or t.quant.zero_points[:1] != first.quant.zero_points[:1]):
            raise _Unsupported("inputs with different scales or zero points; TFLite Micro requires them equal")
    return ops.AddN()


def _parse_zeros_like(op, inputs, tensors) -> ops.ZerosLike:
    _expect_inputs(inputs, 1, 1)
    dtype = tensors[inputs[0]].dtype
    if dtype not in (DType.INT8, DType.INT32, DType.FLOAT32):
        raise _Unsupported(f"{dtype.value} input; tinygen supports int8, int32 and float32")
    outs = op.OutputsAsNumpy() if not op.OutputsIsNone() else []
    if len(outs) != 1 or tensors[int(outs[0])].dtype is not dtype:
        raise _Unsupported("an output of another type than its input")
    return ops.ZerosLike()


def _comparison(cls):
    def parse(op, inputs, tensors):
        _expect_inputs(inputs, 2, 2)
        types = {tensors[i].dtype for i in inputs}
        if types != {DType.INT8}:
            raise _Unsupported(f"{'/'.join(sorted(d.value for d in types))} inputs; tinygen compares int8 only")
        outs = op.OutputsAsNumpy() if not op.OutputsIsNone() else []
        if len(outs) != 1 or tensors[int(outs[0])].dtype is not DType.BOOL:
            raise _Unsupported("an output that is not bool")
        return cls()
    return parse


def _parse_select_v2(op, inputs, tensors) -> ops.SelectV2:
    _expect_inputs(inputs, 3, 3)
    if tensors[inputs[0]].dtype is not DType.BOOL:
        raise _Unsupported(f"condition of type {tensors[inputs[0]].dtype.value}; TFLite Micro needs bool")
    return ops.SelectV2()


def _parse_cumsum(op, inputs, tensors) -> ops.CumSum:
    _expect_inputs(inputs, 2, 2)
    axis = tensors[inputs[1]]
    if axis.dtype is not DType.INT32 or axis.num_elements != 1:
        raise _Unsupported(f"axis tensor {axis.dtype.value} {list(axis.shape)}; TFLite Micro needs one int32")
    o = _options(op, tflite.CumsumOptions)
    return ops.CumSum(axis=_constant_axis(tensors, inputs[1]),
                      exclusive=bool(o.Exclusive()) if o else False, reverse=bool(o.Reverse()) if o else False)


def _parse_l2_normalization(op, inputs, tensors) -> ops.L2Normalization:
    _expect_inputs(inputs, 1, 1)
    o = _options(op, tflite.L2NormOptions)
    if o is not None and o.FusedActivationFunction() != tflite.ActivationFunctionType.NONE:
        raise _Unsupported(f"fused activation {o.FusedActivationFunction()}; TFLite Micro requires none")
    return ops.L2Normalization()


def _parse_gather_nd(op, inputs, tensors) -> ops.GatherNd:
    _expect_inputs(inputs, 2, 2)
    if tensors[inputs[1]].dtype is not DType.INT32:
        raise _Unsupported(f"indices of type {tensors[inputs[1]].dtype.value}; TFLite Micro's gather_nd takes int32")
    return ops.GatherNd()


def _parse_space_to_batch(op, inputs, tensors) -> ops.SpaceToBatchNd:
    _expect_inputs(inputs, 3, 3)
    rank = len(tensors[inputs[0]].shape)
    if not 3 <= rank <= 4:
        raise _Unsupported(f"rank-{rank} input; TFLite Micro takes rank 3 or 4")
    spatial = rank - 2
    block = _int32_vector(tensors, inputs[1], "block_shape", spatial)
    pads = _constant_ints(tensors, inputs[2], "paddings")
    if tensors[inputs[2]].dtype is not DType.INT32 or pads.shape != (spatial, 2):
        raise _Unsupported(f"paddings {tensors[inputs[2]].dtype.value} {list(pads.shape)}; TFLite Micro reads int32 [{spatial}, 2]")
    return ops.SpaceToBatchNd(block=block, paddings=tuple((int(a), int(b)) for a, b in pads))


_ISSUE10_OPERANDS.update({
    ops.AddN: lambda inputs, outputs: [*inputs, *outputs],
    ops.ZerosLike: lambda inputs, outputs: [],  # any of its types, checked by the parser
    ops.Less: lambda inputs, outputs: [inputs[0], inputs[1]],  # the bool output: checked by the parser
    ops.Greater: lambda inputs, outputs: [inputs[0], inputs[1]],
    ops.Equal: lambda inputs, outputs: [inputs[0], inputs[1]],
    ops.NotEqual: lambda inputs, outputs: [inputs[0], inputs[1]],
    ops.LessEqual: lambda inputs, outputs: [inputs[0], inputs[1]],
    ops.GreaterEqual: lambda inputs, outputs: [inputs[0], inputs[1]],
    ops.SelectV2: lambda inputs, outputs: [inputs[1], inputs[2], *outputs],  # the bool condition: the parser
    ops.CumSum: lambda inputs, outputs: [inputs[0], *outputs],
    ops.GatherNd: lambda inputs, outputs: [inputs[0], *outputs],
    ops.SpaceToBatchNd: lambda inputs, outputs: [inputs[0], *outputs],
})

_PARSERS.update({
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
            raise _Unsupported(f"rank-{len(tensors[i].shape)} operand; TFLite Micro takes rank 2 to 5")
    o = _options(op, tflite.BatchMatMulOptions)
    return ops.BatchMatMul(adj_x=bool(o.AdjX()) if o else False, adj_y=bool(o.AdjY()) if o else False)


_ISSUE10_OPERANDS[ops.BatchMatMul] = lambda inputs, outputs: [inputs[0], inputs[1], *outputs]
_PARSERS["BATCH_MATMUL"] = _parse_batch_matmul


def _parse_transpose_conv(op, inputs, tensors) -> ops.TransposeConv:
    """Inputs: output shape, filter [out_c, h, w, in_c], input, optional bias."""
    _expect_inputs(inputs, 3, 4)
    o = _options(op, tflite.TransposeConvOptions)
    if o is None:
        raise _Unsupported("missing options")
    _check_bias_type(o)
    flt = tensors[inputs[1]]
    if flt.dtype is not DType.INT8 or flt.quant is None:
        raise _Unsupported(f"{flt.dtype.value} filter; tinygen takes int8 filters with int8 activations")
    if len(inputs) == 4 and inputs[3] != NO_TENSOR:
        bias = tensors[inputs[3]]
        if bias.dtype is not DType.INT32 or bias.data is None:
            raise _Unsupported(f"{bias.dtype.value} bias; tinygen takes constant int32 biases with int8 activations")
    shape = _int32_vector(tensors, inputs[0], "output_shape", 4)
    outs = op.OutputsAsNumpy() if not op.OutputsIsNone() else []
    if len(outs) == 1 and tuple(tensors[int(outs[0])].shape) != shape:
        raise _Unsupported(f"output_shape {list(shape)} differs from the output's {list(tensors[int(outs[0])].shape)}")
    return ops.TransposeConv(stride_h=_positive(o.StrideH(), "stride"), stride_w=_positive(o.StrideW(), "stride"),
                             padding=_padding(o.Padding()), activation=_activation(o.FusedActivationFunction()))


_ISSUE10_OPERANDS[ops.TransposeConv] = lambda inputs, outputs: [inputs[2], *outputs]
_PARSERS["TRANSPOSE_CONV"] = _parse_transpose_conv


# --- float islands (ops-a): float32 NEG, RSQRT, ADD, SUB, MUL between DEQUANTIZE and QUANTIZE ------

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
                raise _Unsupported("TFLite Micro's kernel computes float32 only")
            return attrs
        if attrs is None:
            return float_cls()
        return float_cls(activation=attrs.activation) if hasattr(attrs, "activation") else float_cls()
    return parse


def _exp_refused(op, inputs, tensors):
    raise _Unsupported("TFLite Micro's EXP computes float32 only, and tinygen's float islands take NEG, RSQRT, "
                       "ADD, SUB and MUL (not EXP, whose bits are the C library's expf)")


_PARSERS.update({
    "NEG": _float_island(None, ops.NegF32),
    "RSQRT": _float_island(_PARSERS["RSQRT"], ops.RsqrtF32),
    "ADD": _float_island(_PARSERS["ADD"], ops.AddF32),
    "SUB": _float_island(_PARSERS["SUB"], ops.SubF32),
    "MUL": _float_island(_PARSERS["MUL"], ops.MulF32),
    "EXP": _exp_refused,
})
