"""Prepare-time parameters of TFLM's SOFTMAX, LOGISTIC and HARD_SWISH int8 kernels, computed
exactly as TFLite Micro computes them, and the operand checks the three lowerings share.

Each function names the TFLM code it mirrors and keeps its precision: numpy.float32 where TFLM
computes in float, Python floats (IEEE double) where it computes in double. TFLM aborts the
process (TFLITE_CHECK) or hits undefined behaviour for a few extreme scales; those raise
InvalidModelError / UnsupportedModelError here instead, with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir.quant import quantize_multiplier_any_shift, round_half_away

INT16_MAX = 2**15 - 1


def calculate_input_radius(input_integer_bits: int, input_left_shift: int, total_signed_bits: int = 31) -> int:
    """CalculateInputRadius: floor((2^ib - 1) * 2^(total - ib) / 2^left_shift), in double.

    Every factor is a power of two or a small integer, so the double arithmetic is exact and an
    integer shift gives the same floor.
    """
    if input_left_shift < 0:
        # TFLM evaluates 1LL << input_left_shift: undefined for a negative shift.
        raise ValueError("negative input_left_shift")
    return (((1 << input_integer_bits) - 1) << (total_signed_bits - input_integer_bits)) >> input_left_shift


# --- SOFTMAX: softmax_common.cc CalculateSoftmaxParams ---------------------------------------

SOFTMAX_SCALED_DIFF_INTEGER_BITS = 5
SOFTMAX_INT8_OUTPUT_SCALE = float(np.float32(1.0) / np.float32(256.0))
SOFTMAX_INT16_OUTPUT_SCALE = float(np.float32(1.0) / np.float32(65536.0))


@dataclass(frozen=True)
class SoftmaxScaling:
    input_multiplier: int
    input_left_shift: int
    diff_min: int


def softmax_scaling(beta: float, input_scale: float) -> SoftmaxScaling:
    """PreprocessSoftmaxScaling(beta, input_scale, 5) then diff_min = -CalculateInputRadius(5, shift).

    beta and input_scale are float32 values widened to double; the product and the cap at
    2^31 - 1 are in double.
    """
    beta_d, scale_d = float(np.float32(beta)), float(np.float32(input_scale))
    real = min(beta_d * scale_d * float(1 << (31 - SOFTMAX_SCALED_DIFF_INTEGER_BITS)), (1 << 31) - 1.0)
    if not real > 1.0:
        # QuantizeMultiplierGreaterThanOne: TFLITE_CHECK_GT(multiplier, 1.) aborts TFLM.
        raise InvalidModelError(
            f"beta * input scale = {beta_d * scale_d!r} is below 2^-26; TFLite Micro aborts on such a SOFTMAX")
    m = quantize_multiplier_any_shift(real)
    return SoftmaxScaling(m.multiplier, m.shift,
                          -calculate_input_radius(SOFTMAX_SCALED_DIFF_INTEGER_BITS, m.shift))


# --- LOGISTIC: logistic_common.cc CalculateArithmeticOpDataLogistic (int8) --------------------

LOGISTIC_INPUT_INTEGER_BITS = 4


@dataclass(frozen=True)
class LogisticScaling:
    input_multiplier: int
    input_left_shift: int
    input_range_radius: int


def logistic_scaling(input_scale: float) -> LogisticScaling:
    """input_scale * 2^27 in double, split by frexp (not QuantizeMultiplier: no 2^31 fix-up,
    unnecessary because a float32 significand times 2^31 is an exact integer below 2^31)."""
    real = float(np.float32(input_scale)) * float(1 << (31 - LOGISTIC_INPUT_INTEGER_BITS))
    significand, left_shift = math.frexp(real)
    multiplier = int(round_half_away(significand * (1 << 31)))
    if left_shift < 0:
        raise UnsupportedModelError(
            f"LOGISTIC input scale {input_scale!r} is below 2^-28: TFLite Micro's radius computation "
            "is undefined there")
    if left_shift > 62:
        # CalculateInputRadius evaluates 1LL << input_left_shift: undefined from 63 on (and TFLM's
        # outputs there are indeed garbage: found by fuzzing against TFLM).
        raise UnsupportedModelError(
            f"LOGISTIC input scale {input_scale!r} is 2^35 or more: TFLite Micro's radius computation "
            "is undefined there")
    assert multiplier < 1 << 31
    radius = calculate_input_radius(LOGISTIC_INPUT_INTEGER_BITS, left_shift)
    return LogisticScaling(multiplier, left_shift, radius)


# --- HARD_SWISH: hard_swish_common.cc HardSwishPrepare ----------------------------------------


@dataclass(frozen=True)
class HardSwishScaling:
    reluish_multiplier: int  # Q15
    reluish_exponent: int
    output_multiplier: int   # Q15
    output_exponent: int


def downscale_int32_to_int16_multiplier(multiplier: int) -> int:
    """DownScaleInt32ToInt16Multiplier: round the Q31 multiplier to Q15, saturating at 32767."""
    rounding = 1 << 15
    if multiplier >= (2**31 - 1) - rounding:
        return INT16_MAX
    return (multiplier + rounding) >> 16


def hard_swish_scaling(input_scale: float, output_scale: float) -> HardSwishScaling:
    """The ratios are float32 divisions (input_scale / 128 first, also in float), widened to
    double for QuantizeMultiplier."""
    in_s, out_s = np.float32(input_scale), np.float32(output_scale)
    hires_input_scale = np.float32(np.float32(1.0) / np.float32(128.0)) * in_s
    reluish_scale = np.float32(3.0) / np.float32(32768.0)
    with np.errstate(over="ignore"):  # an overflow to infinity is refused by quantize_multiplier_any_shift
        output_ratio, reluish_ratio = hires_input_scale / out_s, hires_input_scale / reluish_scale
    output = quantize_multiplier_any_shift(float(np.float32(output_ratio)))
    reluish = quantize_multiplier_any_shift(float(np.float32(reluish_ratio)))
    if output.shift > 0:
        # TF_LITE_ENSURE(output_multiplier_exponent <= 0): TFLM refuses the model at Prepare.
        raise InvalidModelError(
            f"HARD_SWISH input scale {input_scale!r} is >= 128x its output scale {output_scale!r}; "
            "TFLite Micro refuses it")
    if reluish.shift > 31:
        # SaturatingLeftShift would evaluate 1 << 31 or more: undefined in TFLM.
        raise UnsupportedModelError(f"HARD_SWISH input scale {input_scale!r} is too large (above ~2.5e7)")
    return HardSwishScaling(
        reluish_multiplier=downscale_int32_to_int16_multiplier(reluish.multiplier),
        reluish_exponent=reluish.shift,
        output_multiplier=downscale_int32_to_int16_multiplier(output.multiplier),
        output_exponent=output.shift,
    )


# --- operands shared by the three lowerings ----------------------------------------------------
