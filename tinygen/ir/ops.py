"""One frozen attrs dataclass per supported operator type.

Attributes that TFLite stores as constant input tensors (PAD's paddings, MEAN's axes, RESHAPE's
shape) are resolved by the importer into plain tuples here, so later stages never read buffers.
`OP_NAME` is the TFLite builtin operator name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import ClassVar


class Padding(enum.Enum):
    SAME = "SAME"
    VALID = "VALID"


class Activation(enum.Enum):
    """Fused activation functions TFLM applies as an output clamp."""

    NONE = "NONE"
    RELU = "RELU"
    RELU_N1_TO_1 = "RELU_N1_TO_1"
    RELU6 = "RELU6"


@dataclass(frozen=True)
class OpAttrs:
    OP_NAME: ClassVar[str] = ""


@dataclass(frozen=True)
class Conv2D(OpAttrs):
    OP_NAME: ClassVar[str] = "CONV_2D"
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    padding: Padding
    activation: Activation


@dataclass(frozen=True)
class DepthwiseConv2D(OpAttrs):
    OP_NAME: ClassVar[str] = "DEPTHWISE_CONV_2D"
    stride_h: int
    stride_w: int
    dilation_h: int
    dilation_w: int
    depth_multiplier: int
    padding: Padding
    activation: Activation


@dataclass(frozen=True)
class FullyConnected(OpAttrs):
    OP_NAME: ClassVar[str] = "FULLY_CONNECTED"
    activation: Activation
    keep_num_dims: bool


@dataclass(frozen=True)
class AveragePool2D(OpAttrs):
    OP_NAME: ClassVar[str] = "AVERAGE_POOL_2D"
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    padding: Padding
    activation: Activation


@dataclass(frozen=True)
class MaxPool2D(OpAttrs):
    OP_NAME: ClassVar[str] = "MAX_POOL_2D"
    filter_h: int
    filter_w: int
    stride_h: int
    stride_w: int
    padding: Padding
    activation: Activation


@dataclass(frozen=True)
class Add(OpAttrs):
    OP_NAME: ClassVar[str] = "ADD"
    activation: Activation


@dataclass(frozen=True)
class Mul(OpAttrs):
    OP_NAME: ClassVar[str] = "MUL"
    activation: Activation


@dataclass(frozen=True)
class Reshape(OpAttrs):
    OP_NAME: ClassVar[str] = "RESHAPE"


@dataclass(frozen=True)
class Softmax(OpAttrs):
    OP_NAME: ClassVar[str] = "SOFTMAX"
    beta: float


@dataclass(frozen=True)
class Concatenation(OpAttrs):
    OP_NAME: ClassVar[str] = "CONCATENATION"
    axis: int  # normalised to be non-negative
    activation: Activation


@dataclass(frozen=True)
class Pad(OpAttrs):
    OP_NAME: ClassVar[str] = "PAD"
    # (before, after) for each dimension of the input, from the constant paddings tensor.
    paddings: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Mean(OpAttrs):
    OP_NAME: ClassVar[str] = "MEAN"
    axes: tuple[int, ...]  # normalised, sorted, unique
    keep_dims: bool


@dataclass(frozen=True)
class Logistic(OpAttrs):
    OP_NAME: ClassVar[str] = "LOGISTIC"


@dataclass(frozen=True)
class Relu(OpAttrs):
    OP_NAME: ClassVar[str] = "RELU"


@dataclass(frozen=True)
class Relu6(OpAttrs):
    OP_NAME: ClassVar[str] = "RELU6"


@dataclass(frozen=True)
class HardSwish(OpAttrs):
    OP_NAME: ClassVar[str] = "HARD_SWISH"


@dataclass(frozen=True)
class Quantize(OpAttrs):
    OP_NAME: ClassVar[str] = "QUANTIZE"


@dataclass(frozen=True)
class Dequantize(OpAttrs):
    OP_NAME: ClassVar[str] = "DEQUANTIZE"


SUPPORTED_OPS: tuple[type[OpAttrs], ...] = (
    Conv2D,
    DepthwiseConv2D,
    FullyConnected,
    AveragePool2D,
    MaxPool2D,
    Add,
    Mul,
    Reshape,
    Softmax,
    Concatenation,
    Pad,
    Mean,
    Logistic,
    Relu,
    Relu6,
    HardSwish,
    Quantize,
    Dequantize,
)


# --- issue 10: data movement and resizing (ops engineer); shape-only ops alias their input -----

@dataclass(frozen=True)
class Transpose(OpAttrs):
    OP_NAME: ClassVar[str] = "TRANSPOSE"
    perm: tuple[int, ...]  # output dim i is input dim perm[i], from the constant perm tensor


@dataclass(frozen=True)
class ResizeNearestNeighbor(OpAttrs):
    OP_NAME: ClassVar[str] = "RESIZE_NEAREST_NEIGHBOR"
    size: tuple[int, int]  # (height, width) from the constant size tensor
    align_corners: bool
    half_pixel_centers: bool


@dataclass(frozen=True)
class Squeeze(OpAttrs):
    OP_NAME: ClassVar[str] = "SQUEEZE"


@dataclass(frozen=True)
class ExpandDims(OpAttrs):
    OP_NAME: ClassVar[str] = "EXPAND_DIMS"


@dataclass(frozen=True)
class LogSoftmax(OpAttrs):
    OP_NAME: ClassVar[str] = "LOG_SOFTMAX"


@dataclass(frozen=True)
class Slice(OpAttrs):
    OP_NAME: ClassVar[str] = "SLICE"
    begin: tuple[int, ...]  # per input dim, from the constant begin tensor
    size: tuple[int, ...]   # per input dim; -1 (to the end) kept as TFLM reads it


@dataclass(frozen=True)
class Split(OpAttrs):
    OP_NAME: ClassVar[str] = "SPLIT"
    axis: int  # as stored: may be negative (TFLM adds the rank)


@dataclass(frozen=True)
class SplitV(OpAttrs):
    OP_NAME: ClassVar[str] = "SPLIT_V"
    axis: int  # as stored: may be negative


@dataclass(frozen=True)
class Unpack(OpAttrs):
    OP_NAME: ClassVar[str] = "UNPACK"
    num: int
    axis: int  # as stored: may be negative


@dataclass(frozen=True)
class Pack(OpAttrs):
    OP_NAME: ClassVar[str] = "PACK"
    values_count: int
    axis: int  # as stored: may be negative (TFLM adds the output's rank)


@dataclass(frozen=True)
class StridedSlice(OpAttrs):
    OP_NAME: ClassVar[str] = "STRIDED_SLICE"
    begin: tuple[int, ...]    # from the constant tensors, one entry per input dim
    end: tuple[int, ...]
    strides: tuple[int, ...]
    begin_mask: int
    end_mask: int
    shrink_axis_mask: int
    # ellipsis_mask, new_axis_mask and offset are not kept: TFLM's kernel sets them to 0 / false.


@dataclass(frozen=True)
class Sub(OpAttrs):
    OP_NAME: ClassVar[str] = "SUB"
    activation: Activation


@dataclass(frozen=True)
class Maximum(OpAttrs):
    OP_NAME: ClassVar[str] = "MAXIMUM"


@dataclass(frozen=True)
class Minimum(OpAttrs):
    OP_NAME: ClassVar[str] = "MINIMUM"


@dataclass(frozen=True)
class DepthToSpace(OpAttrs):
    OP_NAME: ClassVar[str] = "DEPTH_TO_SPACE"
    block_size: int


@dataclass(frozen=True)
class SpaceToDepth(OpAttrs):
    OP_NAME: ClassVar[str] = "SPACE_TO_DEPTH"
    block_size: int


@dataclass(frozen=True)
class ReverseV2(OpAttrs):
    OP_NAME: ClassVar[str] = "REVERSE_V2"
    axes: tuple[int, ...]  # as stored in the constant axis tensor


@dataclass(frozen=True)
class LeakyRelu(OpAttrs):
    OP_NAME: ClassVar[str] = "LEAKY_RELU"
    alpha: float  # float32 value from the options


@dataclass(frozen=True)
class Abs(OpAttrs):
    OP_NAME: ClassVar[str] = "ABS"


@dataclass(frozen=True)
class Tanh(OpAttrs):
    OP_NAME: ClassVar[str] = "TANH"


@dataclass(frozen=True)
class PadV2(Pad):
    """PAD with a constant_values input: TFLM registers the same kernel for both."""
    OP_NAME: ClassVar[str] = "PADV2"


@dataclass(frozen=True)
class BroadcastTo(OpAttrs):
    OP_NAME: ClassVar[str] = "BROADCAST_TO"


@dataclass(frozen=True)
class Sum(Mean):
    """SUM: MEAN's attributes and TFLM's shared QuantizedMeanOrSum, without the 1/count."""
    OP_NAME: ClassVar[str] = "SUM"


@dataclass(frozen=True)
class ReduceMax(Mean):
    OP_NAME: ClassVar[str] = "REDUCE_MAX"


@dataclass(frozen=True)
class ReduceMin(Mean):
    OP_NAME: ClassVar[str] = "REDUCE_MIN"


@dataclass(frozen=True)
class Prelu(OpAttrs):
    OP_NAME: ClassVar[str] = "PRELU"


@dataclass(frozen=True)
class ArgMax(OpAttrs):
    OP_NAME: ClassVar[str] = "ARG_MAX"
    axis: int  # as stored (may be negative)


@dataclass(frozen=True)
class ArgMin(OpAttrs):
    OP_NAME: ClassVar[str] = "ARG_MIN"
    axis: int


@dataclass(frozen=True)
class SquaredDifference(OpAttrs):
    OP_NAME: ClassVar[str] = "SQUARED_DIFFERENCE"


@dataclass(frozen=True)
class Gather(OpAttrs):
    OP_NAME: ClassVar[str] = "GATHER"
    axis: int        # as stored (may be negative)
    batch_dims: int  # as stored (may be negative)


@dataclass(frozen=True)
class ResizeBilinear(OpAttrs):
    OP_NAME: ClassVar[str] = "RESIZE_BILINEAR"
    size: tuple[int, int]  # (height, width) from the constant size tensor
    align_corners: bool
    half_pixel_centers: bool


@dataclass(frozen=True)
class MirrorPad(OpAttrs):
    OP_NAME: ClassVar[str] = "MIRROR_PAD"
    paddings: tuple[tuple[int, int], ...]
    reflect: bool  # REFLECT (the edge not repeated) or SYMMETRIC (repeated)


@dataclass(frozen=True)
class Shape(OpAttrs):
    """Only ever folded into a constant at import (passes/fold_constants.py): never lowered."""
    OP_NAME: ClassVar[str] = "SHAPE"


@dataclass(frozen=True)
class Fill(OpAttrs):
    """Folded into a constant at import when its dims and value are constants."""
    OP_NAME: ClassVar[str] = "FILL"


@dataclass(frozen=True)
class BatchToSpaceNd(OpAttrs):
    OP_NAME: ClassVar[str] = "BATCH_TO_SPACE_ND"
    block: tuple[int, ...]                # from the constant block_shape tensor
    crops: tuple[tuple[int, int], ...]    # from the constant crops tensor


# --- issue 10, second set (ops-a): LUT activations, ADD_N, comparisons and SELECT_V2, ... -------

@dataclass(frozen=True)
class Elu(OpAttrs):
    OP_NAME: ClassVar[str] = "ELU"


@dataclass(frozen=True)
class Rsqrt(OpAttrs):
    OP_NAME: ClassVar[str] = "RSQRT"


@dataclass(frozen=True)
class AddN(OpAttrs):
    OP_NAME: ClassVar[str] = "ADD_N"


@dataclass(frozen=True)
class ZerosLike(OpAttrs):
    OP_NAME: ClassVar[str] = "ZEROS_LIKE"


@dataclass(frozen=True)
class Comparison(OpAttrs):
    """LESS, GREATER, ...: two int8 inputs rescaled to a common scale (TFLM's WithScaling), a bool output."""
    PREDICATE: ClassVar[str] = ""  # the C comparison operator


@dataclass(frozen=True)
class Less(Comparison):
    OP_NAME: ClassVar[str] = "LESS"
    PREDICATE: ClassVar[str] = "<"


@dataclass(frozen=True)
class Greater(Comparison):
    OP_NAME: ClassVar[str] = "GREATER"
    PREDICATE: ClassVar[str] = ">"


@dataclass(frozen=True)
class Equal(Comparison):
    OP_NAME: ClassVar[str] = "EQUAL"
    PREDICATE: ClassVar[str] = "=="


@dataclass(frozen=True)
class NotEqual(Comparison):
    OP_NAME: ClassVar[str] = "NOT_EQUAL"
    PREDICATE: ClassVar[str] = "!="


@dataclass(frozen=True)
class LessEqual(Comparison):
    OP_NAME: ClassVar[str] = "LESS_EQUAL"
    PREDICATE: ClassVar[str] = "<="


@dataclass(frozen=True)
class GreaterEqual(Comparison):
    OP_NAME: ClassVar[str] = "GREATER_EQUAL"
    PREDICATE: ClassVar[str] = ">="


@dataclass(frozen=True)
class SelectV2(OpAttrs):
    OP_NAME: ClassVar[str] = "SELECT_V2"


@dataclass(frozen=True)
class CumSum(OpAttrs):
    OP_NAME: ClassVar[str] = "CUMSUM"
    axis: int  # from the constant axis tensor, as stored (may be negative)
    exclusive: bool
    reverse: bool


@dataclass(frozen=True)
class L2Normalization(OpAttrs):
    OP_NAME: ClassVar[str] = "L2_NORMALIZATION"


@dataclass(frozen=True)
class GatherNd(OpAttrs):
    OP_NAME: ClassVar[str] = "GATHER_ND"


@dataclass(frozen=True)
class SpaceToBatchNd(OpAttrs):
    OP_NAME: ClassVar[str] = "SPACE_TO_BATCH_ND"
    block: tuple[int, ...]                 # from the constant block_shape tensor
    paddings: tuple[tuple[int, int], ...]  # from the constant paddings tensor


@dataclass(frozen=True)
class BatchMatMul(OpAttrs):
    OP_NAME: ClassVar[str] = "BATCH_MATMUL"
    adj_x: bool  # the lhs's last two dimensions are swapped
    adj_y: bool  # the rhs's


@dataclass(frozen=True)
class TransposeConv(OpAttrs):
    OP_NAME: ClassVar[str] = "TRANSPOSE_CONV"
    stride_h: int
    stride_w: int
    padding: Padding
    activation: Activation


# Float islands: float32 operators between a DEQUANTIZE and a QUANTIZE inside an int8 model.
@dataclass(frozen=True)
class FloatOp(OpAttrs):
    """A float32 operator; its kernel computes what TFLM's float reference kernel computes, bit for bit."""


@dataclass(frozen=True)
class NegF32(FloatOp):
    OP_NAME: ClassVar[str] = "NEG"


@dataclass(frozen=True)
class RsqrtF32(FloatOp):
    OP_NAME: ClassVar[str] = "RSQRT"


@dataclass(frozen=True)
class AddF32(FloatOp):
    OP_NAME: ClassVar[str] = "ADD"
    activation: Activation


@dataclass(frozen=True)
class SubF32(FloatOp):
    OP_NAME: ClassVar[str] = "SUB"
    activation: Activation


@dataclass(frozen=True)
class MulF32(FloatOp):
    OP_NAME: ClassVar[str] = "MUL"
    activation: Activation
# --- recurrent operators (issue 10, items 2-3: ops-b) ---------------------------------------

@dataclass(frozen=True)
class Svdf(OpAttrs):
    """Inputs: input [batch, input_size], weights_feature [filters, input_size], weights_time
    [filters, memory], bias [units], activation state (a variable tensor [batch, memory * filters])."""
    OP_NAME: ClassVar[str] = "SVDF"
    rank: int
    activation: Activation  # TFLM's integer kernel ignores it (only the int8 range clamps)


@dataclass(frozen=True)
class UnidirectionalSequenceLstm(OpAttrs):
    """TFLite's 24 inputs (input, 8 weights, 3 absent peepholes, 4 biases, 2 absent projections, the
    hidden and cell state variables, 4 absent layer norms); no CIFG, peephole, projection or layer norm."""
    OP_NAME: ClassVar[str] = "UNIDIRECTIONAL_SEQUENCE_LSTM"
    time_major: bool
    cell_clip: float       # 0: none
    cell_gate_sigmoid: bool  # the cell gate's activation: TANH (False) or SIGMOID


@dataclass(frozen=True)
class VarHandle(OpAttrs):
    """A resource variable's handle (state kept between invocations, tinygen/plan/state.py)."""
    OP_NAME: ClassVar[str] = "VAR_HANDLE"
    container: str
    shared_name: str


@dataclass(frozen=True)
class ReadVariable(OpAttrs):
    OP_NAME: ClassVar[str] = "READ_VARIABLE"


@dataclass(frozen=True)
class AssignVariable(OpAttrs):
    OP_NAME: ClassVar[str] = "ASSIGN_VARIABLE"
