"""Operand type checks: which dtypes (int8, 16x8, int16, float islands, state) each parsed operator
computes on as tinygen's kernels and TFLite Micro's do; `check_operand_types` raises `Unsupported` with
the reason. Whole-model checks: static, quantized graph inputs and outputs; float models refused with a
pointer to `tinygen quantize`.
"""

from __future__ import annotations

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.frontend.unsupported import Unsupported
from tinygen.ir import ops
from tinygen.ir.graph import NO_TENSOR, DType


# Operators whose int8 operands are not "input 0 -> output 0": the tensors check_operand_types checks.
_OPERANDS_BY_OP = {
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


def _check_svdf_types(inputs, outputs, tensors) -> None:
    """TFLM's int8 SVDF: int8 input/weights_feature/output, int32 bias, and time weights and state
    of one type, int16 or int8 (the state's type is the time weights', which choose the kernel)."""
    inp, feature, time, bias, state = (tensors[i] for i in inputs)
    if len(outputs) != 1:
        raise Unsupported(f"{len(outputs)} outputs")
    out = tensors[outputs[0]]
    for t in (inp, out, state):
        if t.quant is None:
            raise Unsupported(f"{t.dtype.value} tensor '{t.name}' without quantization")
    if inp.dtype is not DType.INT8 or out.dtype is not DType.INT8:
        raise Unsupported(f"{inp.dtype.value} input, {out.dtype.value} output; supported: int8")
    if feature.dtype is not DType.INT8 or feature.data is None or feature.quant is None:
        raise Unsupported(f"{feature.dtype.value} feature weights; TFLite Micro takes constant int8")
    if time.dtype not in (DType.INT16, DType.INT8) or time.data is None or time.quant is None:
        raise Unsupported(f"{time.dtype.value} time weights; TFLite Micro takes constant int16 or int8")
    if not state.variable or state.dtype is not time.dtype:
        raise Unsupported(f"state '{state.name}' must be a variable {time.dtype.value} tensor like the time weights")
    if bias.dtype is not DType.INT32 or bias.data is None or bias.quant is None:
        raise Unsupported(f"{bias.dtype.value} bias; TFLite Micro takes a constant int32 bias")


def _check_lstm_types(inputs, outputs, tensors) -> None:
    """TFLM's integer LSTMs: 8x8->16 (int8 input, hidden state and output, int32 biases) and 16x8->16
    (int16 ones, int64 biases); int8 weights and an int16 cell state in both."""
    if len(outputs) != 1:
        raise Unsupported(f"{len(outputs)} outputs")
    inp, out, hidden, cell = tensors[inputs[0]], tensors[outputs[0]], tensors[inputs[18]], tensors[inputs[19]]
    act = inp.dtype
    if act not in (DType.INT8, DType.INT16):
        raise Unsupported(f"{act.value} input; supported: int8 or int16 activations")
    for t in (inp, out, hidden):
        if t.dtype is not act or t.quant is None:
            raise Unsupported(f"{t.dtype.value} tensor '{t.name}' with {act.value} activations")
    if not (hidden.variable and cell.variable):
        raise Unsupported("its hidden and cell states must be variable tensors")
    if cell.dtype is not DType.INT16 or cell.quant is None:
        raise Unsupported(f"{cell.dtype.value} cell state; TFLite Micro's integer LSTM keeps int16")
    for i in range(1, 9):
        w = tensors[inputs[i]]
        if w.dtype is not DType.INT8 or w.data is None or w.quant is None or w.quant.per_channel:
            raise Unsupported(f"weights '{w.name}': constant int8 quantized per tensor needed")
    bias_type = DType.INT32 if act is DType.INT8 else DType.INT64
    for i in range(12, 16):
        b = tensors[inputs[i]]
        if b.dtype is not bias_type or b.data is None:
            raise Unsupported(f"{b.dtype.value} bias '{b.name}'; the {act.value} LSTM takes constant {bias_type.value}")


# Operators with a 16x8 kernel in TFLM (int16 activations, int8 weights) that tinygen compiles.
_16X8_WEIGHTED = (ops.Conv2D, ops.DepthwiseConv2D, ops.FullyConnected)
_16X8_SAME_TYPE = (ops.AveragePool2D, ops.MaxPool2D, ops.Reshape, ops.Logistic, ops.Tanh, ops.Softmax)  # int16 in, int16 out
_16X8_SAME_TYPE += (ops.Transpose, ops.StridedSlice, ops.Concatenation, ops.Pad)  # int16 value copies (issue 10: ops-c)


def _check_16x8_types(attrs, inputs, outputs, tensors) -> None:
    """int16 input and output, constant int8 weights, an int64 or int32 bias (TFLM's two accumulators)."""
    if len(outputs) != 1:
        raise Unsupported(f"{len(outputs)} outputs")
    for i in (inputs[0], outputs[0]):
        if tensors[i].dtype is not DType.INT16 or tensors[i].quant is None:
            raise Unsupported(f"{tensors[i].dtype.value} tensor '{tensors[i].name}' in a 16x8 operator")
    weights = tensors[inputs[1]]
    if weights.dtype is not DType.INT8 or weights.quant is None or weights.data is None:
        raise Unsupported(f"{weights.dtype.value} weights; TFLite Micro's 16x8 kernels take constant int8")
    if len(inputs) > 2 and inputs[2] != NO_TENSOR:
        bias = tensors[inputs[2]]
        if bias.dtype not in (DType.INT64, DType.INT32) or bias.data is None:
            raise Unsupported(f"{bias.dtype.value} bias; TFLite Micro's 16x8 kernels take constant int64 or int32")


_RESOURCE_OPS = (ops.VarHandle, ops.ReadVariable, ops.AssignVariable)


def _check_resource_types(attrs, inputs, outputs, tensors) -> None:
    """Resource variables hold int8 or int16 values (copied as bytes, as TFLM's kernels copy them)."""
    expected_outputs = 0 if isinstance(attrs, ops.AssignVariable) else 1
    if len(outputs) != expected_outputs:
        raise Unsupported(f"{len(outputs)} outputs")
    values = {ops.ReadVariable: outputs[:1], ops.AssignVariable: inputs[1:2]}.get(type(attrs), [])
    for i in values:
        if tensors[i].dtype not in (DType.INT8, DType.INT16):
            raise Unsupported(f"{tensors[i].dtype.value} variable '{tensors[i].name}'; tinygen keeps int8 or int16 ones")


# Operators that keep a variable tensor as state (the only ones a variable tensor may feed).
_STATEFUL = (ops.Svdf, ops.UnidirectionalSequenceLstm)


def _check_variable_inputs(attrs: ops.OpAttrs, inputs, tensors) -> None:
    for i in inputs:
        if i != NO_TENSOR and tensors[i].variable and not isinstance(attrs, _STATEFUL):
            raise Unsupported(f"tensor {i} '{tensors[i].name}' is a variable tensor (state kept between "
                               f"invocations); tinygen keeps state for SVDF and LSTM only")


def check_operand_types(attrs: ops.OpAttrs, inputs, outputs, tensors) -> None:
    """Raise Unsupported unless the operator computes on int8 as tinygen's kernels do."""
    def dt(i: int) -> DType:
        return tensors[i].dtype

    def quantized_int8(i: int) -> bool:
        return dt(i) is DType.INT8 and tensors[i].quant is not None

    if isinstance(attrs, ops.FloatOp):  # a float island: every operand float32, checked by its parser
        if len(outputs) != 1:
            raise Unsupported(f"{len(outputs)} outputs")
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
            raise Unsupported("int16 operands need quantized int16 ones throughout")
        return
    if isinstance(attrs, _16X8_SAME_TYPE) and dt(inputs[0]) is DType.INT16:
        if len(outputs) != 1 or dt(outputs[0]) is not DType.INT16 or tensors[outputs[0]].quant is None \
                or tensors[inputs[0]].quant is None:
            raise Unsupported("int16 input needs a quantized int16 output")
        return

    if isinstance(attrs, ops.Quantize) and DType.INT16 in (dt(inputs[0]), dt(outputs[0])):  # ops-c
        if not all(dt(i) in (DType.INT8, DType.INT16) and tensors[i].quant is not None for i in (inputs[0], outputs[0])):
            raise Unsupported(f"{dt(inputs[0]).value} to {dt(outputs[0]).value}")
        return
    if isinstance(attrs, ops.Quantize):
        if not (dt(inputs[0]) in (DType.FLOAT32, DType.INT8) and quantized_int8(outputs[0])):
            raise Unsupported(f"{dt(inputs[0]).value} to {dt(outputs[0]).value}")
        return
    if isinstance(attrs, ops.Dequantize):
        if not (quantized_int8(inputs[0]) and dt(outputs[0]) is DType.FLOAT32):
            raise Unsupported(f"{dt(inputs[0]).value} to {dt(outputs[0]).value}")
        return
    operands = _OPERANDS_BY_OP.get(type(attrs))
    if operands is not None:
        if len(outputs) != 1 and not isinstance(attrs, _MULTI_OUTPUT):
            raise Unsupported(f"{len(outputs)} outputs")
        for i in operands(inputs, outputs):
            if not quantized_int8(i):
                raise Unsupported(f"{dt(i).value} tensor '{tensors[i].name}'")
        return
    if len(outputs) != 1:
        raise Unsupported(f"{len(outputs)} outputs")
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
            raise Unsupported("float32 computation; tinygen compiles int8-quantized models")
        if not quantized_int8(i):
            raise Unsupported(f"{dt(i).value} tensor '{tensors[i].name}'")
    if isinstance(attrs, (ops.Conv2D, ops.DepthwiseConv2D, ops.FullyConnected)):
        weights = tensors[inputs[1]]
        if weights.dtype is not DType.INT8 or weights.quant is None:
            raise Unsupported(f"{weights.dtype.value} weights")
        if weights.data is None:
            raise Unsupported("non-constant weights")
        if len(inputs) > 2 and inputs[2] != NO_TENSOR:
            bias = tensors[inputs[2]]
            if bias.dtype is not DType.INT32 or bias.data is None:
                raise Unsupported(f"{bias.dtype.value} bias")


def check_static_and_quantized(tensors, inputs, outputs, operators, source: str) -> None:
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


def refuse_float_model(tensors, source: str) -> None:
    """A float (or weights-only quantized) model computes nothing in integers: say how to quantize it."""
    if any(t.dtype in _QUANTIZED_ACTIVATION_TYPES and not t.is_constant for t in tensors):
        return
    if not any(t.dtype is DType.FLOAT32 and not t.is_constant for t in tensors):
        return
    raise UnsupportedModelError(
        f"{source} is a float32 model (no int8 or int16 activations); tinygen compiles integer-quantized models: "
        "make one from the Keras model or SavedModel with `tinygen quantize MODEL.keras|SAVED_MODEL_DIR "
        "--calib DATA.npy -o model.tflite`")


_OPERANDS_BY_OP.update({
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


_OPERANDS_BY_OP[ops.BatchMatMul] = lambda inputs, outputs: [inputs[0], inputs[1], *outputs]


_OPERANDS_BY_OP[ops.TransposeConv] = lambda inputs, outputs: [inputs[2], *outputs]
