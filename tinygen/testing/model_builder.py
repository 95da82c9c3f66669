"""Build small .tflite models directly, for tests: one or a few operators with chosen parameters.

Written on the object API of the schema module that the tflite-micro wheel ships, so any shape,
stride, dilation or quantization can be produced exactly, without the TensorFlow converter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import flatbuffers
import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

_TENSOR_TYPES = {
    np.dtype(np.int8): schema.TensorType.INT8,
    np.dtype(np.uint8): schema.TensorType.UINT8,
    np.dtype(np.int16): schema.TensorType.INT16,
    np.dtype(np.int32): schema.TensorType.INT32,
    np.dtype(np.int64): schema.TensorType.INT64,
    np.dtype(np.float32): schema.TensorType.FLOAT32,
}

# Options class and BuiltinOptions union tag for each operator the builder can emit options for.
OPTIONS = {
    "CONV_2D": (schema.Conv2DOptionsT, schema.BuiltinOptions.Conv2DOptions),
    "DEPTHWISE_CONV_2D": (schema.DepthwiseConv2DOptionsT, schema.BuiltinOptions.DepthwiseConv2DOptions),
    "FULLY_CONNECTED": (schema.FullyConnectedOptionsT, schema.BuiltinOptions.FullyConnectedOptions),
    "AVERAGE_POOL_2D": (schema.Pool2DOptionsT, schema.BuiltinOptions.Pool2DOptions),
    "MAX_POOL_2D": (schema.Pool2DOptionsT, schema.BuiltinOptions.Pool2DOptions),
    "ADD": (schema.AddOptionsT, schema.BuiltinOptions.AddOptions),
    "MUL": (schema.MulOptionsT, schema.BuiltinOptions.MulOptions),
    "RESHAPE": (schema.ReshapeOptionsT, schema.BuiltinOptions.ReshapeOptions),
    "SOFTMAX": (schema.SoftmaxOptionsT, schema.BuiltinOptions.SoftmaxOptions),
    "CONCATENATION": (schema.ConcatenationOptionsT, schema.BuiltinOptions.ConcatenationOptions),
    "PAD": (schema.PadOptionsT, schema.BuiltinOptions.PadOptions),
    "MEAN": (schema.ReducerOptionsT, schema.BuiltinOptions.ReducerOptions),
    "HARD_SWISH": (schema.HardSwishOptionsT, schema.BuiltinOptions.HardSwishOptions),
    "QUANTIZE": (schema.QuantizeOptionsT, schema.BuiltinOptions.QuantizeOptions),
    "DEQUANTIZE": (schema.DequantizeOptionsT, schema.BuiltinOptions.DequantizeOptions),
}
# Issue 10's operators (ops engineer).
OPTIONS.update({
    "TRANSPOSE": (schema.TransposeOptionsT, schema.BuiltinOptions.TransposeOptions),
    "RESIZE_NEAREST_NEIGHBOR": (schema.ResizeNearestNeighborOptionsT, schema.BuiltinOptions.ResizeNearestNeighborOptions),
    "SQUEEZE": (schema.SqueezeOptionsT, schema.BuiltinOptions.SqueezeOptions),
    "EXPAND_DIMS": (schema.ExpandDimsOptionsT, schema.BuiltinOptions.ExpandDimsOptions),
    "LOG_SOFTMAX": (schema.LogSoftmaxOptionsT, schema.BuiltinOptions.LogSoftmaxOptions),
    "SLICE": (schema.SliceOptionsT, schema.BuiltinOptions.SliceOptions),
    "SPLIT": (schema.SplitOptionsT, schema.BuiltinOptions.SplitOptions),
    "SPLIT_V": (schema.SplitVOptionsT, schema.BuiltinOptions.SplitVOptions),
    "UNPACK": (schema.UnpackOptionsT, schema.BuiltinOptions.UnpackOptions),
    "PACK": (schema.PackOptionsT, schema.BuiltinOptions.PackOptions),
    "STRIDED_SLICE": (schema.StridedSliceOptionsT, schema.BuiltinOptions.StridedSliceOptions),
    "SUB": (schema.SubOptionsT, schema.BuiltinOptions.SubOptions),
    "MAXIMUM": (schema.MaximumMinimumOptionsT, schema.BuiltinOptions.MaximumMinimumOptions),
    "MINIMUM": (schema.MaximumMinimumOptionsT, schema.BuiltinOptions.MaximumMinimumOptions),
    "DEPTH_TO_SPACE": (schema.DepthToSpaceOptionsT, schema.BuiltinOptions.DepthToSpaceOptions),
    "SPACE_TO_DEPTH": (schema.SpaceToDepthOptionsT, schema.BuiltinOptions.SpaceToDepthOptions),
    "REVERSE_V2": (schema.ReverseV2OptionsT, schema.BuiltinOptions.ReverseV2Options),
    "LEAKY_RELU": (schema.LeakyReluOptionsT, schema.BuiltinOptions.LeakyReluOptions),
    "ABS": (schema.AbsOptionsT, schema.BuiltinOptions.AbsOptions),
    "PADV2": (schema.PadV2OptionsT, schema.BuiltinOptions.PadV2Options),
    "BROADCAST_TO": (schema.BroadcastToOptionsT, schema.BuiltinOptions.BroadcastToOptions),
    "SUM": (schema.ReducerOptionsT, schema.BuiltinOptions.ReducerOptions),
    "REDUCE_MAX": (schema.ReducerOptionsT, schema.BuiltinOptions.ReducerOptions),
    "REDUCE_MIN": (schema.ReducerOptionsT, schema.BuiltinOptions.ReducerOptions),
    "NEG": (schema.NegOptionsT, schema.BuiltinOptions.NegOptions),
    "ARG_MAX": (schema.ArgMaxOptionsT, schema.BuiltinOptions.ArgMaxOptions),
    "ARG_MIN": (schema.ArgMinOptionsT, schema.BuiltinOptions.ArgMinOptions),
    "SQUARED_DIFFERENCE": (schema.SquaredDifferenceOptionsT, schema.BuiltinOptions.SquaredDifferenceOptions),
    "GATHER": (schema.GatherOptionsT, schema.BuiltinOptions.GatherOptions),
    "RESIZE_BILINEAR": (schema.ResizeBilinearOptionsT, schema.BuiltinOptions.ResizeBilinearOptions),
    "MIRROR_PAD": (schema.MirrorPadOptionsT, schema.BuiltinOptions.MirrorPadOptions),
    "SHAPE": (schema.ShapeOptionsT, schema.BuiltinOptions.ShapeOptions),
    "FILL": (schema.FillOptionsT, schema.BuiltinOptions.FillOptions),
    "BATCH_TO_SPACE_ND": (schema.BatchToSpaceNDOptionsT, schema.BuiltinOptions.BatchToSpaceNDOptions),
})

# Recurrent operators (issue 10: ops-b).
OPTIONS["SVDF"] = (schema.SVDFOptionsT, schema.BuiltinOptions.SVDFOptions)
OPTIONS["VAR_HANDLE"] = (schema.VarHandleOptionsT, schema.BuiltinOptions.VarHandleOptions)
OPTIONS["READ_VARIABLE"] = (schema.ReadVariableOptionsT, schema.BuiltinOptions.ReadVariableOptions)
OPTIONS["ASSIGN_VARIABLE"] = (schema.AssignVariableOptionsT, schema.BuiltinOptions.AssignVariableOptions)
OPTIONS["UNIDIRECTIONAL_SEQUENCE_LSTM"] = (schema.UnidirectionalSequenceLSTMOptionsT,
                                           schema.BuiltinOptions.UnidirectionalSequenceLSTMOptions)

ACTIVATIONS = {
    "NONE": schema.ActivationFunctionType.NONE,
    "RELU": schema.ActivationFunctionType.RELU,
    "RELU_N1_TO_1": schema.ActivationFunctionType.RELU_N1_TO_1,
    "RELU6": schema.ActivationFunctionType.RELU6,
    "TANH": schema.ActivationFunctionType.TANH,
}
PADDINGS = {"SAME": schema.Padding.SAME, "VALID": schema.Padding.VALID}


@dataclass
class ModelBuilder:
    """Tensors and operators appended in order; build() returns the .tflite bytes."""

    tensors: list = field(default_factory=list)
    buffers: list = field(default_factory=lambda: [schema.BufferT()])  # buffer 0: the empty one
    operators: list = field(default_factory=list)
    opcodes: list[int] = field(default_factory=list)

    def tensor(self, shape, dtype=np.int8, scale=None, zero_point=0, data=None, name=None,
               quant_axis: int = 0, shape_signature=None) -> int:
        """Add a tensor; scale may be a float or a sequence (per channel along quant_axis);
        shape_signature with -1 entries marks dynamic dimensions."""
        t = schema.TensorT()
        t.shape = np.array(shape, dtype=np.int32)
        if shape_signature is not None:
            t.shapeSignature = np.array(shape_signature, dtype=np.int32)
        t.type = _TENSOR_TYPES[np.dtype(dtype)]
        t.name = name or f"t{len(self.tensors)}"
        if scale is not None:
            q = schema.QuantizationParametersT()
            scales = np.atleast_1d(np.asarray(scale, dtype=np.float32))
            q.scale = scales
            q.zeroPoint = np.broadcast_to(np.asarray(zero_point, dtype=np.int64), scales.shape).copy()
            q.quantizedDimension = quant_axis
            t.quantization = q
        if data is not None:
            array = np.asarray(data, dtype=dtype)
            assert array.shape == tuple(shape), (array.shape, shape)
            buf = schema.BufferT()
            buf.data = np.frombuffer(array.astype(np.dtype(dtype).newbyteorder("<")).tobytes(), dtype=np.uint8)
            self.buffers.append(buf)
            t.buffer = len(self.buffers) - 1
        else:
            t.buffer = 0
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, name: str, inputs: list[int], outputs: list[int], **options) -> None:
        code = getattr(schema.BuiltinOperator, name)
        if code not in self.opcodes:
            self.opcodes.append(code)
        o = schema.OperatorT()
        o.opcodeIndex = self.opcodes.index(code)
        o.inputs = np.array(inputs, dtype=np.int32)
        o.outputs = np.array(outputs, dtype=np.int32)
        if name in OPTIONS:
            cls, tag = OPTIONS[name]
            opts = cls()
            for key, value in options.items():
                if key == "fusedActivationFunction" and isinstance(value, str):
                    value = ACTIVATIONS[value]
                if key == "padding" and isinstance(value, str):
                    value = PADDINGS[value]
                if not hasattr(opts, key):
                    raise AttributeError(f"{cls.__name__} has no field {key}")
                setattr(opts, key, value)
            o.builtinOptionsType = tag
            o.builtinOptions = opts
        elif options:
            raise ValueError(f"no options known for {name}")
        self.operators.append(o)

    def build(self, inputs: list[int], outputs: list[int]) -> bytes:
        sub = schema.SubGraphT()
        sub.tensors = self.tensors
        sub.operators = self.operators
        sub.inputs = np.array(inputs, dtype=np.int32)
        sub.outputs = np.array(outputs, dtype=np.int32)
        model = schema.ModelT()
        model.version = 3
        model.subgraphs = [sub]
        model.buffers = self.buffers
        codes = []
        for code in self.opcodes:
            oc = schema.OperatorCodeT()
            oc.builtinCode = code
            oc.deprecatedBuiltinCode = min(code, 127)
            oc.version = 1
            codes.append(oc)
        model.operatorCodes = codes
        builder = flatbuffers.Builder(1024)
        builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
        return bytes(builder.Output())


# --- quantization choices that keep test outputs mostly inside the int8 range ---------------

def random_scale(rng: np.random.Generator, low: float = 0.005, high: float = 0.1) -> float:
    return float(np.float32(np.exp(rng.uniform(np.log(low), np.log(high)))))


def accumulator_output_scale(rng: np.random.Generator, input_scale: float, weight_scale: float, depth: int) -> float:
    """An output scale at which a dot product of `depth` random int8 terms mostly fits in int8.

    Random int8 inputs and weights give an accumulator with standard deviation about
    sqrt(depth) * 74 * 73; spreading +-3 sigma over 256 steps, jittered so scales vary.
    """
    sigma = np.sqrt(max(depth, 1)) * 74.0 * 73.0 * input_scale * weight_scale
    return float(np.float32(6.0 * sigma / 256.0 * rng.uniform(0.5, 2.0)))


def random_int8(rng: np.random.Generator, shape, low: int = -127, high: int = 127) -> np.ndarray:
    return rng.integers(low, high, size=shape, endpoint=True).astype(np.int8)


def random_bias(rng: np.random.Generator, count: int, magnitude: int = 20000) -> np.ndarray:
    return rng.integers(-magnitude, magnitude, size=count, endpoint=True).astype(np.int32)


# Issue 10's second set (ops-a): options, and bool tensors (the comparisons' outputs).
_TENSOR_TYPES[np.dtype(np.bool_)] = schema.TensorType.BOOL
OPTIONS.update({
    "ADD_N": (schema.AddNOptionsT, schema.BuiltinOptions.AddNOptions),
    "ZEROS_LIKE": (schema.ZerosLikeOptionsT, schema.BuiltinOptions.ZerosLikeOptions),
    "LESS": (schema.LessOptionsT, schema.BuiltinOptions.LessOptions),
    "GREATER": (schema.GreaterOptionsT, schema.BuiltinOptions.GreaterOptions),
    "EQUAL": (schema.EqualOptionsT, schema.BuiltinOptions.EqualOptions),
    "NOT_EQUAL": (schema.NotEqualOptionsT, schema.BuiltinOptions.NotEqualOptions),
    "LESS_EQUAL": (schema.LessEqualOptionsT, schema.BuiltinOptions.LessEqualOptions),
    "GREATER_EQUAL": (schema.GreaterEqualOptionsT, schema.BuiltinOptions.GreaterEqualOptions),
    "SELECT_V2": (schema.SelectV2OptionsT, schema.BuiltinOptions.SelectV2Options),
    "CUMSUM": (schema.CumsumOptionsT, schema.BuiltinOptions.CumsumOptions),
    "L2_NORMALIZATION": (schema.L2NormOptionsT, schema.BuiltinOptions.L2NormOptions),
    "GATHER_ND": (schema.GatherNdOptionsT, schema.BuiltinOptions.GatherNdOptions),
    "SPACE_TO_BATCH_ND": (schema.SpaceToBatchNDOptionsT, schema.BuiltinOptions.SpaceToBatchNDOptions),
})
OPTIONS["BATCH_MATMUL"] = (schema.BatchMatMulOptionsT, schema.BuiltinOptions.BatchMatMulOptions)
OPTIONS["TRANSPOSE_CONV"] = (schema.TransposeConvOptionsT, schema.BuiltinOptions.TransposeConvOptions)


def merge_models(*models: bytes) -> bytes:
    """Several single-subgraph .tflite models side by side in one graph (ops-c, issue 10's
    all-operators model): tensors, buffers and operator codes renumbered, tensor names prefixed
    m<i>_, the inputs and outputs of each model concatenated in the order given."""
    merged = schema.ModelT()
    merged.version = 3
    merged.buffers = [schema.BufferT()]
    merged.operatorCodes = []
    sub = schema.SubGraphT()
    sub.tensors, sub.operators, inputs, outputs = [], [], [], []
    codes: dict[tuple, int] = {}
    for number, data in enumerate(models):
        model = schema.ModelT.InitFromPackedBuf(data, 0)
        assert len(model.subgraphs) == 1, "merge_models takes single-subgraph models"
        graph = model.subgraphs[0]
        buffer_map = {0: 0}
        for index, buf in enumerate(model.buffers):
            if index:
                merged.buffers.append(buf)
                buffer_map[index] = len(merged.buffers) - 1
        code_map = {}
        for index, oc in enumerate(model.operatorCodes):
            key = (oc.builtinCode, oc.version, oc.customCode)
            if key not in codes:
                codes[key] = len(merged.operatorCodes)
                merged.operatorCodes.append(oc)
            code_map[index] = codes[key]
        base = len(sub.tensors)
        for t in graph.tensors:
            t.buffer = buffer_map.get(t.buffer, 0)
            name = t.name.decode() if isinstance(t.name, bytes) else t.name
            t.name = f"m{number}_{name}"
            sub.tensors.append(t)

        def shift(indices):
            return np.array([i if i < 0 else i + base for i in indices], dtype=np.int32)

        for op in graph.operators:
            op.opcodeIndex = code_map[op.opcodeIndex]
            op.inputs = shift(op.inputs)
            op.outputs = shift(op.outputs)
            if op.intermediates is not None:
                op.intermediates = shift(op.intermediates)
            sub.operators.append(op)
        inputs += list(shift(graph.inputs))
        outputs += list(shift(graph.outputs))
    sub.inputs = np.array(inputs, dtype=np.int32)
    sub.outputs = np.array(outputs, dtype=np.int32)
    merged.subgraphs = [sub]
    builder = flatbuffers.Builder(1024)
    builder.Finish(merged.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())
