"""Quantization arithmetic done at generation time, exactly as TFLite Micro does it.

TFLM computes multipliers in `double` from `float` scales, and activation bounds in `float`.
The order of float32 and float64 operations matters for bit-exactness, so each helper names the
TFLM function it mirrors and keeps its precision: numpy.float32 where TFLM uses float, Python
floats (IEEE double) where it uses double.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tinygen.errors import InvalidModelError
from tinygen.ir.ops import Activation

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1


@dataclass(frozen=True)
class FixedPointMultiplier:
    """real ≈ multiplier * 2^(shift - 31); shift > 0 is a left shift (TFLM's convention)."""

    multiplier: int
    shift: int


def round_half_away(value: float) -> float:
    """std::round / TfLiteRound: halves go away from zero (Python's round() goes to even)."""
    return math.copysign(math.floor(abs(value) + 0.5), value)


def round_half_away_f32(value: np.float32) -> np.float32:
    """std::round on a float: the same rule, staying in float32."""
    a = np.abs(value)
    r = np.floor(a + np.float32(0.5))
    # a + 0.5 can round up in float32 when a is just below x.5 and large: mirror roundf exactly.
    if r - a > np.float32(0.5):
        r = r - np.float32(1.0)
    return np.float32(np.copysign(r, value))


def quantize_multiplier_any_shift(real_multiplier: float) -> FixedPointMultiplier:
    """TFLM's QuantizeMultiplier(double) (the default, double-rounding build): a Q31 significand and
    a power-of-two exponent, the exponent unchecked (SOFTMAX legitimately gives 31, HARD_SWISH large
    ones). The project's one QuantizeMultiplier; quantize_multiplier() is it for int32 arithmetic."""
    if real_multiplier == 0.0:
        return FixedPointMultiplier(0, 0)
    if not math.isfinite(real_multiplier) or real_multiplier < 0:
        # e.g. a float32 scale ratio that overflowed: TFLM would convert infinity to an integer (undefined)
        raise InvalidModelError(f"scale ratio {real_multiplier!r} cannot be quantized")
    significand, shift = math.frexp(real_multiplier)
    q_fixed = int(round_half_away(significand * (1 << 31)))
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:  # flushed to zero, as TFLM does
        return FixedPointMultiplier(0, 0)
    return FixedPointMultiplier(q_fixed, shift)


def quantize_multiplier(real_multiplier: float) -> FixedPointMultiplier:
    """QuantizeMultiplier for the kernels' int32 requantization: a shift above 30 is refused."""
    m = quantize_multiplier_any_shift(real_multiplier)
    if m.shift > 30:
        # TFLM would overflow here (TFLITE_CHECK); refuse rather than emit wrong arithmetic.
        raise InvalidModelError(f"scale ratio {real_multiplier!r} is too large for int32 arithmetic")
    return m


def f32(value: float) -> np.float32:
    return np.float32(value)


def quantize_float_tflm(scale: float, zero_point: int, value: float) -> int:
    """kernel_util.cc Quantize(): zero_point + (int)roundf(f / scale), all in float32."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow to infinity is refused just below
        tmp = round_half_away_f32(np.float32(f32(value) / f32(scale)))
    if not (float(tmp) >= INT32_MIN and float(tmp) <= INT32_MAX):
        raise InvalidModelError(f"activation bound {value} overflows int32 at scale {scale}")
    return zero_point + int(tmp)


def dtype_range(bits: int = 8, signed: bool = True) -> tuple[int, int]:
    if signed:
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    return 0, (1 << bits) - 1


def activation_range(activation: Activation, scale: float, zero_point: int,
                     qmin: int = -128, qmax: int = 127) -> tuple[int, int]:
    """CalculateActivationRangeQuantized for a fused activation on an output tensor."""
    if activation is Activation.RELU:
        return max(qmin, quantize_float_tflm(scale, zero_point, 0.0)), qmax
    if activation is Activation.RELU6:
        return (max(qmin, quantize_float_tflm(scale, zero_point, 0.0)),
                min(qmax, quantize_float_tflm(scale, zero_point, 6.0)))
    if activation is Activation.RELU_N1_TO_1:
        return (max(qmin, quantize_float_tflm(scale, zero_point, -1.0)),
                min(qmax, quantize_float_tflm(scale, zero_point, 1.0)))
    return qmin, qmax


def conv_channel_multipliers(input_scale: float, filter_scales: tuple[float, ...],
                             output_scale: float, num_channels: int) -> list[FixedPointMultiplier]:
    """PopulateConvolutionQuantizationParams: per output channel, in double.

    A per-tensor filter scale is broadcast over all output channels, as TFLM does.
    """
    result = []
    for c in range(num_channels):
        filter_scale = filter_scales[c] if len(filter_scales) > 1 else filter_scales[0]
        effective = float(f32(input_scale)) * float(f32(filter_scale)) / float(f32(output_scale))
        result.append(quantize_multiplier(effective))
    return result


def conv_tensor_multiplier(input_scale: float, filter_scale: float, output_scale: float) -> FixedPointMultiplier:
    """GetQuantizedConvolutionMultipler: the product of scales in float, the ratio in double."""
    with np.errstate(over="ignore"):  # infinity is refused by quantize_multiplier
        product = float(np.float32(f32(input_scale) * f32(filter_scale)))
    return quantize_multiplier(product / float(f32(output_scale)))


# --- Python models of TFLM's integer primitives (used by tests and by constant folding). ---

def saturating_rounding_doubling_high_mul(a: int, b: int) -> int:
    """gemmlowp SaturatingRoundingDoublingHighMul on int32 values."""
    if a == b == INT32_MIN:
        return INT32_MAX
    ab = a * b
    nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
    total = ab + nudge
    # C++ integer division truncates toward zero.
    q = abs(total) // (1 << 31)
    return q if total >= 0 else -q


def rounding_divide_by_pot(x: int, exponent: int) -> int:
    """gemmlowp RoundingDivideByPOT: round half away from zero."""
    mask = (1 << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (1 if x < 0 else 0)
    return (x >> exponent) + (1 if remainder > threshold else 0)


def multiply_by_quantized_multiplier(x: int, m: FixedPointMultiplier) -> int:
    """TFLM's MultiplyByQuantizedMultiplier (double rounding, the default build)."""
    left = m.shift if m.shift > 0 else 0
    right = -m.shift if m.shift < 0 else 0
    shifted = x * (1 << left)
    shifted = max(INT32_MIN, min(INT32_MAX, shifted)) if left else shifted
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted, m.multiplier), right)
