"""16x8 lowerings (int16 activations, int8 weights), TFLite's EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8.

The int8 lowerings check shapes and compute the multipliers (they depend only on scales); these
turn their call into the int16 kernel's: the output clamp over int16, and the accumulator TFLM
picks from the bias's type (int64, the converter's, or int32, with the int32 rounding).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir.graph import NO_TENSOR, DType, Graph, Operator
from tinygen.ir.quant import activation_range, quantize_multiplier, round_half_away_f32
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import activation_reads, quantized, require_shape
from tinygen.kernels.cvalues import ConstArray, CStruct, Range, Requant, TensorRef

INT16_MIN, INT16_MAX = -32768, 32767


def is_16x8(graph: Graph, op: Operator) -> bool:
    return graph.tensor(op.inputs[0]).dtype is DType.INT16


def _bias_suffix(graph: Graph, op: Operator) -> str:
    """TFLM accumulates in int32 where the bias is int32, else in int64 (no bias: int64 here, since
    the reader refuses a quantized_bias_type of int32 without a bias... TFLM's default)."""
    if len(op.inputs) > 2 and op.inputs[2] != NO_TENSOR and graph.tensor(op.inputs[2]).dtype is DType.INT32:
        return "_b32"
    return ""


def _with_int16_clamp(graph: Graph, op: Operator, call: KernelCall, function: str) -> KernelCall:
    out_scale, out_zp = quantized(op, graph.tensor(op.outputs[0]))
    activation = op.attrs.activation
    args = []
    for arg in call.args:
        value = arg.value
        if arg.name == "params":
            value = dataclasses.replace(value, activation=Range(*activation_range(
                activation, out_scale, out_zp, INT16_MIN, INT16_MAX)))
        args.append(KernelArg(arg.name, value))
    return dataclasses.replace(call, function=function, args=tuple(args))


def fully_connected_16x8(graph: Graph, op: Operator, call: KernelCall) -> KernelCall:
    return _with_int16_clamp(graph, op, call, "tg_fully_connected_s16" + _bias_suffix(graph, op))


def conv_16x8(graph: Graph, op: Operator, call: KernelCall) -> KernelCall:
    """CONV_2D and DEPTHWISE_CONV_2D (whose TFLM kernel reads the bias as int64 only)."""
    if op.kind == "DEPTHWISE_CONV_2D" and _bias_suffix(graph, op):
        raise UnsupportedModelError(f"operator #{op.index} {op.kind}: int32 bias in a 16x8 depthwise convolution; "
                                    "TFLite Micro's kernel reads an int64 one")
    for t in (graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])):
        if quantized(op, t)[1] != 0:
            # TFLM's int16 convolution reads no zero points (ConvPerChannel on int16 has no offsets).
            raise UnsupportedModelError(f"operator #{op.index} {op.kind}: int16 tensor '{t.name}' has zero point "
                                        f"{t.quant.zero_point}; TFLite Micro's 16x8 kernels take 0")
    suffix = "" if op.kind == "DEPTHWISE_CONV_2D" else _bias_suffix(graph, op)
    return _with_int16_clamp(graph, op, call, call.function.replace("_s8", "_s16") + suffix)


def pool_16x8(graph: Graph, op: Operator, call: KernelCall) -> KernelCall:
    return _with_int16_clamp(graph, op, call, call.function.replace("_s8", "_s16"))


def _checked_log2(x: float) -> tuple[int, bool]:
    """TFLite's CheckedLog2, in float as it computes: the rounded log2 and whether x is a power of two."""
    f32 = np.float32
    log2 = f32(np.log(f32(x))) * (f32(1.0) / f32(np.log(f32(2.0))))
    rounded = f32(np.copysign(np.floor(np.abs(log2) + f32(0.5)), log2))
    return int(rounded), bool(abs(log2 - rounded) < f32(1e-3))


def nonlinear_16(graph: Graph, op: Operator, function: str, pot_shifts: tuple[int, ...]) -> KernelCall:
    """LOGISTIC / TANH on int16 (TFLM's int16 Prepare): a power-of-two input scale whose shift TFLM
    takes (pot_shifts) needs no multiplier; any other gets one that brings it to 1/(3 * 4096)."""
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if out.dtype is not DType.INT16:
        raise UnsupportedModelError(f"operator #{op.index} {op.kind}: int16 input, {out.dtype.value} output")
    require_shape(op, out, tuple(inp.shape))
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    if in_zp != 0 or out_zp != 0:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: int16 zero points {in_zp}, {out_zp}; "
                                "TFLite Micro requires 0")
    out_log2, out_pot = _checked_log2(out_scale)
    if not out_pot or out_log2 != -15:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: output scale {out_scale}; TFLite Micro requires 2^-15")
    log2, pot = _checked_log2(in_scale)
    left_shift = 12 + log2
    multiplier = 0
    if not (pot and left_shift in pot_shifts):
        real = float(np.float32(in_scale)) * 4096.0 * 3.0
        left_shift = 0
        while real <= 32767.0 / 2.0 and left_shift <= 30:
            left_shift += 1
            real *= 2.0
        multiplier = int(real)
    return KernelCall(
        op_index=op.index, op_kind=op.kind, function=function,
        args=(KernelArg("input_multiplier", multiplier), KernelArg("input_left_shift", left_shift),
              KernelArg("size", inp.num_elements), KernelArg("input", TensorRef(inp.index)),
              KernelArg("output", TensorRef(out.index))),
        reads=activation_reads(inp), writes=(out.index,),
    )


def logistic_16(graph: Graph, op: Operator) -> KernelCall:
    return nonlinear_16(graph, op, "tg_logistic_s16", (0,))


def tanh_16(graph: Graph, op: Operator) -> KernelCall:
    return nonlinear_16(graph, op, "tg_tanh_s16", (0, 1))


# AddFunc shifts int16 inputs left by 15 bits (int8: 20) before rescaling them to a common scale.
ADD_LEFT_SHIFT_INT16 = 15
BROADCAST_RANK_INT16 = {"ADD": 4, "MUL": 4, "SUB": 5}  # TFLM's int16 broadcast kernels (4-D, SUB's 5-D)


def binary_16x8(graph: Graph, op: Operator, call: KernelCall) -> KernelCall:
    """ADD, SUB and MUL on int16: TFLM's int8 arithmetic, ADD with the int16 left shift (its
    multipliers follow from it), MUL with zero points 0 (TFLM refuses others)."""
    from tinygen.kernels.elementwise import quantize_multiplier_smaller_than_one_exp

    in1, in2, out = (graph.tensor(i) for i in (*op.inputs[:2], op.outputs[0]))
    for t in (in1, in2, out):
        if t.dtype is not DType.INT16:
            raise UnsupportedModelError(f"operator #{op.index} {op.kind}: {t.dtype.value} tensor '{t.name}' "
                                        "with int16 ones")
    max_rank = BROADCAST_RANK_INT16[op.kind]
    if max(len(in1.shape), len(in2.shape)) > max_rank and in1.shape != in2.shape:
        raise UnsupportedModelError(f"operator #{op.index} {op.kind}: int16 broadcast over more than "
                                    f"{max_rank} dimensions; TFLite Micro's kernel takes {max_rank}")
    call = _with_int16_clamp(graph, op, call, call.function.replace("_s8", "_s16"))
    if op.kind == "MUL":
        if any(quantized(op, t)[1] for t in (in1, in2, out)):
            raise InvalidModelError(f"operator #{op.index} MUL: int16 zero points must be 0 (TFLite Micro requires it)")
        return call
    s1, s2, so = (float(np.float32(quantized(op, t)[0])) for t in (in1, in2, out))
    twice_max = 2.0 * max(s1, s2)
    what = f"operator #{op.index} {op.kind}, output '{out.name}'"
    m1, m2, mo = (quantize_multiplier_smaller_than_one_exp(r, what) for r in (
        s1 / twice_max, s2 / twice_max, twice_max / ((1 << ADD_LEFT_SHIFT_INT16) * so)))
    args = []
    for arg in call.args:
        value = arg.value
        if arg.name == "params":
            value = dataclasses.replace(value, left_shift=ADD_LEFT_SHIFT_INT16, input1=Requant(m1.multiplier, m1.shift),
                                        input2=Requant(m2.multiplier, m2.shift), output=Requant(mo.multiplier, mo.shift))
        args.append(KernelArg(arg.name, value))
    return dataclasses.replace(call, args=tuple(args))


# --- SOFTMAX ----------------------------------------------------------------------------------

INT16_RANGE = 65535  # int16 max - min, as TFLM's softmax Prepare names it
LUT_STEPS = 512


def lut_populate_int16(input_scale: np.float32, input_zero_point: int, output_scale: np.float32,
                       output_zero_point: int, transform) -> np.ndarray:
    """TFLite's LUTPopulate<int16_t>, every operation in float32 as it computes: 513 samples of
    `transform`, each biased by half the error interpolation makes at its segment's midpoint."""
    f = np.float32
    input_min = f(input_scale * f(-32768 - input_zero_point))
    input_max = f(input_scale * f(32767 - input_zero_point))
    output_min = f(output_scale * f(-32768 - output_zero_point))
    output_max = f(output_scale * f(32767 - output_zero_point))
    step = f((input_max - input_min) / f(LUT_STEPS))
    half_step = f(step / f(2))
    inv = f(f(65536) / f(output_max - output_min))
    rnd = round_half_away_f32
    lut = np.zeros(LUT_STEPS + 1, dtype=np.int16)
    for i in range(LUT_STEPS):
        x = f(input_min + f(f(i) * step))
        val = transform(x)
        val_mid = transform(f(x + half_step))
        val_next = transform(f(input_min + f(f(i + 1) * step)))
        sample = rnd(f(val * inv))
        interp = rnd(f(f(f(val_next * inv) + rnd(f(val * inv))) / f(2)))
        bias = rnd(f(f(interp - rnd(f(val_mid * inv))) / f(2)))
        lut[i] = int(min(max(f(sample - bias), f(-32768)), f(32767)))
    lut[LUT_STEPS] = int(min(max(rnd(f(transform(input_max) * inv)), f(-32768)), f(32767)))
    return lut


def _expf(x: np.float32) -> np.float32:
    """std::exp on a float: the float nearest e^x (glibc's expf rounds correctly but for rare ties)."""
    return np.float32(math.exp(float(x)))


def _one_over_one_plus_x(x: np.float32) -> np.float32:
    return np.float32(np.float32(1) / np.float32(np.float32(1) + x))


def softmax_luts() -> tuple[np.ndarray, np.ndarray]:
    f = np.float32
    exp_lut = lut_populate_int16(f(f(10) / f(INT16_RANGE)), 32767, f(f(2) / f(INT16_RANGE)), 0, _expf)
    reciprocal_lut = lut_populate_int16(f(f(1) / f(INT16_RANGE)), -32768, f(f(2) / f(INT16_RANGE)), 0,
                                        _one_over_one_plus_x)
    return exp_lut, reciprocal_lut


@dataclass(frozen=True)
class SoftmaxS16Params(CStruct):
    C_TYPE: ClassVar[str] = "tg_softmax_s16_params_t"
    outer_size: int
    depth: int
    input: Requant
    exp_lut: ConstArray
    one_over_one_plus_x_lut: ConstArray


def softmax_16(graph: Graph, op: Operator) -> KernelCall:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    if out.dtype is not DType.INT16:
        raise UnsupportedModelError(f"operator #{op.index} SOFTMAX: int16 input, {out.dtype.value} output")
    require_shape(op, out, tuple(inp.shape))
    in_scale, in_zp = quantized(op, inp)
    out_scale, out_zp = quantized(op, out)
    if in_zp != 0 or out_zp != 0:
        raise InvalidModelError(f"operator #{op.index} SOFTMAX: int16 zero points {in_zp}, {out_zp}; TFLite Micro requires 0")
    if not abs(float(np.float32(out_scale)) - 1.0 / 32768) <= 0.001 / 32768:
        raise InvalidModelError(f"operator #{op.index} SOFTMAX: output scale {out_scale}; TFLite Micro requires 1/32768")
    rescale = float(np.float32(in_scale)) * float(np.float32(op.attrs.beta)) / (10.0 / 65535.0)
    m = quantize_multiplier(rescale)
    depth = inp.shape[-1] if inp.shape else 1
    exp_lut, reciprocal_lut = softmax_luts()
    params = SoftmaxS16Params(inp.num_elements // depth, depth, Requant(m.multiplier, m.shift),
                              ConstArray("int16_t", exp_lut), ConstArray("int16_t", reciprocal_lut))
    return KernelCall(
        op_index=op.index, op_kind=op.kind, function="tg_softmax_s16",
        args=(KernelArg("params", params), KernelArg("input", TensorRef(inp.index)),
              KernelArg("output", TensorRef(out.index))),
        reads=activation_reads(inp), writes=(out.index,),
    )
