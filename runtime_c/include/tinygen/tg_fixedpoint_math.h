/* tinygen runtime: gemmlowp fixed-point math (exp, 1/(1+x), logistic, reciprocal) and the int16
 * primitives of TFLM's HARD_SWISH, bit-exact with what TFLite Micro compiles.
 *
 * gemmlowp's FixedPoint<int32_t, IntegerBits> is a raw int32 with 31 - IntegerBits fractional bits.
 * Its template parameters become plain `integer_bits` arguments here; the functions are inline, so
 * the compiler folds them back into constants. Additions that gemmlowp performs as plain int32
 * adds go through tg_fx_add/tg_fx_sub (two's-complement wrap without C's signed-overflow UB); none
 * of them overflow for the inputs the kernels pass, but the wrap is what TFLM's build does if they
 * ever did.
 *
 * No libc, no floating point: usable on any freestanding target.
 */
#ifndef TINYGEN_TG_FIXEDPOINT_MATH_H
#define TINYGEN_TG_FIXEDPOINT_MATH_H

#include <stdint.h>

#include "tinygen/tg_fixedpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- int32 building blocks ------------------------------------------------------------------ */

static inline int32_t tg_fx_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline int32_t tg_fx_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

/* gemmlowp operator* on FixedPoint values: the integer bits of the operands add up. */
static inline int32_t tg_fx_mul(int32_t a, int32_t b)
{
    return tg_saturating_rounding_doubling_high_mul(a, b);
}

/* gemmlowp RoundingHalfSum(int32): (a + b) / 2, rounded half away from zero. */
static inline int32_t tg_fx_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2); /* C division truncates toward zero, as C++'s does */
}

/* gemmlowp SaturatingRoundingMultiplyByPOT<exponent>: a saturating left shift for exponent > 0,
 * a rounding right shift for exponent < 0. */
static inline int32_t tg_fx_saturating_rounding_mul_by_pot(int32_t x, int32_t exponent)
{
    if (exponent < 0) {
        return tg_rounding_divide_by_pot(x, -exponent);
    }
    if (exponent == 0) {
        return x;
    }
    const int32_t threshold = (int32_t)(((int64_t)1 << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

/* gemmlowp Rescale<dst_integer_bits>(FixedPoint<int32_t, src_integer_bits>). */
static inline int32_t tg_fx_rescale(int32_t x, int32_t src_integer_bits, int32_t dst_integer_bits)
{
    return tg_fx_saturating_rounding_mul_by_pot(x, src_integer_bits - dst_integer_bits);
}

/* FixedPoint<int32_t, integer_bits>::One(); with 0 integer bits 1.0 is not representable and
 * gemmlowp uses INT32_MAX. */
static inline int32_t tg_fx_one(int32_t integer_bits)
{
    return integer_bits == 0 ? INT32_MAX : (int32_t)((uint32_t)1 << (31 - integer_bits));
}

/* Number of leading zero bits of a 32-bit word (32 for zero); a loop, not a compiler builtin. */
static inline int32_t tg_count_leading_zeros_u32(uint32_t x)
{
    if (x == 0) {
        return 32;
    }
    int32_t n = 0;
    while ((x & 0x80000000u) == 0) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* TFLM MultiplyByQuantizedMultiplierGreaterThanOne (double-rounding build): no final rounding
 * shift, only the left shift before the high multiply. */
static inline int32_t tg_requantize_greater_than_one(int32_t x, int32_t multiplier, int32_t left_shift)
{
    return tg_saturating_rounding_doubling_high_mul((int32_t)((uint32_t)x << left_shift), multiplier);
}

/* ---- gemmlowp transcendental functions ---------------------------------------------------- */

/* exp(a) for a in [-1/4, 0), Q0.31 in and out: Taylor expansion around -1/8. */
static inline int32_t tg_fx_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) in Q0.31 */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 in Q0.31 */
    const int32_t x = tg_fx_add(a, (int32_t)1 << 28); /* a + 1/8 */
    const int32_t x2 = tg_fx_mul(x, x);
    const int32_t x3 = tg_fx_mul(x2, x);
    const int32_t x4 = tg_fx_mul(x2, x2);
    const int32_t x4_over_4 = tg_fx_saturating_rounding_mul_by_pot(x4, -2);
    const int32_t x4_over_24_plus_x3_over_6_plus_x2_over_2 = tg_fx_saturating_rounding_mul_by_pot(
        tg_fx_add(tg_fx_mul(tg_fx_add(x4_over_4, x3), constant_1_over_3), x2), -1);
    return tg_fx_add(constant_term,
                     tg_fx_mul(constant_term, tg_fx_add(x, x4_over_24_plus_x3_over_6_plus_x2_over_2)));
}

/* gemmlowp exp_on_negative_values: exp(a) for a <= 0 given in Q(integer_bits), result in Q0.31.
 * The fractional quarter goes through the polynomial, each whole bit of -a above it through a
 * multiplication by exp(-2^k) (the "barrel shifter"). */
static inline int32_t tg_fx_exp_on_negative_values(int32_t a, int32_t integer_bits)
{
    /* exp(-2^k) in Q0.31 for k = -2 .. 4 */
    static const int32_t kBarrelMultipliers[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
    };
    const int32_t fractional_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (fractional_bits - 2);
    const int32_t a_mod_quarter_minus_one_quarter = tg_fx_sub(a & (one_quarter - 1), one_quarter);
    int32_t result = tg_fx_exp_on_interval_between_negative_one_quarter_and_0_excl(
        tg_fx_rescale(a_mod_quarter_minus_one_quarter, integer_bits, 0));
    const int32_t remainder = tg_fx_sub(a_mod_quarter_minus_one_quarter, a);

    for (int32_t exponent = -2; exponent <= 4; ++exponent) {
        if (integer_bits > exponent) {
            const int32_t bit = (int32_t)((uint32_t)1 << (fractional_bits + exponent));
            if (remainder & bit) {
                result = tg_fx_mul(result, kBarrelMultipliers[exponent + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        /* Below -32, exp() is zero in Q0.31. */
        const int32_t clamp = -((int32_t)1 << (36 - integer_bits));
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = INT32_MAX; /* FixedPoint<int32_t, 0>::One() */
    }
    return result;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1 / (1 + a) for a in [0, 1), Q0.31 in and out, by
 * three Newton-Raphson steps in Q2.29 from the 48/17 - 32/17 * d initial guess. */
static inline int32_t tg_fx_one_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t constant_48_over_17 = 1515870810;      /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = tg_fx_one(2);
    const int32_t half_denominator = tg_fx_rounding_half_sum(a, tg_fx_one(0));
    int32_t x = tg_fx_add(constant_48_over_17, tg_fx_mul(half_denominator, constant_neg_32_over_17));
    for (int i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = tg_fx_mul(half_denominator, x);
        const int32_t one_minus_half_denominator_times_x = tg_fx_sub(one_q2, half_denominator_times_x);
        /* Q2 * Q2 is Q4; back to Q2 saturating. */
        x = tg_fx_add(x, tg_fx_rescale(tg_fx_mul(x, one_minus_half_denominator_times_x), 4, 2));
    }
    /* x / 2 exactly (Q2 reinterpreted as Q1), then to Q0 saturating. */
    return tg_fx_rescale(x, 1, 0);
}

/* gemmlowp logistic(FixedPoint<int32_t, integer_bits>): Q0.31 result. */
static inline int32_t tg_fx_logistic(int32_t a, int32_t integer_bits)
{
    if (a == 0) {
        return (int32_t)1 << 30; /* one half */
    }
    /* -a cannot overflow: callers never pass INT32_MIN (gemmlowp would wrap it as well). */
    const int32_t abs_input = a > 0 ? a : tg_fx_sub(0, a);
    const int32_t result_if_positive =
        tg_fx_one_over_one_plus_x_for_x_in_0_1(tg_fx_exp_on_negative_values(tg_fx_sub(0, abs_input), integer_bits));
    if (a > 0) {
        return result_if_positive;
    }
    return tg_fx_sub(tg_fx_one(0), result_if_positive);
}

/* TFLM GetReciprocal: 1/x for x in Q(x_integer_digits), as a Q0.31 value in [1/2, 1) and the
 * number of bits x has above 1.0 (the caller shifts by them). x must be positive. */
static inline int32_t tg_fx_get_reciprocal(int32_t x, int32_t x_integer_digits, int32_t *num_bits_over_unit)
{
    const int32_t headroom_plus_one = tg_count_leading_zeros_u32((uint32_t)x);
    *num_bits_over_unit = x_integer_digits - headroom_plus_one;
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    return tg_fx_one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one);
}

/* ---- int16 primitives (gemmlowp's int16 specialisations, as TFLM's HARD_SWISH uses them) ---- */

/* The int16 value with the low 16 bits of v: C++'s conversion to int16_t, spelt out portably. */
static inline int16_t tg_wrap_s16(int64_t v)
{
    const uint32_t low = (uint32_t)((uint64_t)v & 0xFFFFu);
    return (int16_t)(low >= 0x8000u ? (int32_t)low - 65536 : (int32_t)low);
}

/* gemmlowp SaturatingRoundingDoublingHighMul(int16_t, int16_t). */
static inline int16_t tg_saturating_rounding_doubling_high_mul_s16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    const int32_t ab = (int32_t)a * (int32_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* TFLM SaturatingDoublingHighMul(int16_t, int16_t): as above but truncating toward zero (SQDMULH). */
static inline int16_t tg_saturating_doubling_high_mul_s16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

/* gemmlowp RoundingDivideByPOT<int16_t>, exponent in [0, 31], including its int16 quirk: the mask
 * (1 << exponent) - 1 is converted to int16_t, so from exponent 16 on it is -1 and the result is
 * +1 for any x >= 0 and -1 for any x < 0 (not 0). TFLM's HARD_SWISH reaches that with extreme
 * scale ratios, so it is reproduced rather than "fixed". */
static inline int16_t tg_rounding_divide_by_pot_s16(int16_t x, int32_t exponent)
{
    const int16_t mask = tg_wrap_s16(((int64_t)1 << exponent) - 1);
    const int16_t remainder = (int16_t)(x & mask);
    const int16_t threshold = tg_wrap_s16((int32_t)(mask >> 1) + (x < 0 ? 1 : 0));
    return tg_wrap_s16((int32_t)(x >> exponent) + (remainder > threshold ? 1 : 0));
}

/* TFLM SaturatingLeftShift(int16_t, amount): value * 2^amount clamped to int16 (amount in [0, 30]). */
static inline int16_t tg_saturating_left_shift_s16(int16_t value, int32_t amount)
{
    const int64_t result = (int64_t)value * ((int64_t)1 << amount);
    return (int16_t)(result > INT16_MAX ? INT16_MAX : (result < INT16_MIN ? INT16_MIN : result));
}

/* ---- logarithm (LOG_SOFTMAX) ---------------------------------------------------------------- */

/* TFLM's int32 SaturatingAddNonGemmlowp / SaturatingSub: the exact sum clamped to int32. */
static inline int32_t tg_fx_saturate_s32(int64_t x)
{
    return (int32_t)(x > INT32_MAX ? INT32_MAX : (x < INT32_MIN ? INT32_MIN : x));
}

static inline int32_t tg_fx_saturating_add(int32_t a, int32_t b)
{
    return tg_fx_saturate_s32((int64_t)a + (int64_t)b);
}

static inline int32_t tg_fx_saturating_sub(int32_t a, int32_t b)
{
    return tg_fx_saturate_s32((int64_t)a - (int64_t)b);
}

/* TFLM log_x_for_x_greater_than_or_equal_to_1_impl<output_integer_bits, input_integer_bits>: log(x)
 * for x >= 1 given in Q(input_integer_bits), the result in Q(output_integer_bits). x is split as
 * 2^z * r with r near 1; log r comes from a rational approximation in Q0.31, accumulated with one
 * bit of headroom (Q(output_integer_bits + 1)) before the final rescale. */
static inline int32_t tg_fx_log_x_for_x_greater_than_or_equal_to_1(int32_t x, int32_t input_integer_bits,
                                                                    int32_t output_integer_bits)
{
    const int32_t accum_integer_bits = output_integer_bits + 1;
    const int32_t log_2 = 1488522236;          /* log(2) in Q0.31 */
    const int32_t sqrt_sqrt_half = 1805811301; /* 0.5^(1/4) */
    const int32_t sqrt_half = 1518500250;      /* 0.5^(1/2) */
    const int32_t one_quarter = 536870912;
    const int32_t alpha_n = 117049297;         /* 11/240 * 2^(1/4) */
    const int32_t alpha_d = 127690142;         /* 1/20 * 2^(1/4) */
    const int32_t alpha_i = 1057819769;        /* 2 / 2^(1/4) - 2^(1/4) */
    const int32_t alpha_f = 638450708;         /* 1/4 * 2^(1/4) */
    const int32_t shifted_quarter = tg_fx_rescale(one_quarter, 0, accum_integer_bits);

    /* x reinterpreted as Q0.31; the shifts are worked out from its leading zeros. */
    const int32_t z_a = x;
    const int32_t z_a_headroom_plus_1 = tg_count_leading_zeros_u32((uint32_t)z_a);
    const int32_t r_a_tmp = tg_fx_saturating_rounding_mul_by_pot(z_a, z_a_headroom_plus_1 - 1);
    const int32_t r_a_raw = tg_fx_saturating_rounding_mul_by_pot(tg_fx_mul(r_a_tmp, sqrt_half), 1);
    const int32_t z_a_pow_2_adj = tg_fx_saturating_add(
        tg_fx_saturating_rounding_mul_by_pot(input_integer_bits - z_a_headroom_plus_1, 31 - accum_integer_bits),
        shifted_quarter);

    /* z_b: z_a premultiplied by sqrt(0.5). */
    const int32_t z_b = tg_fx_mul(z_a, sqrt_half);
    const int32_t z_b_headroom = tg_count_leading_zeros_u32((uint32_t)z_b) - 1;
    const int32_t r_b_raw = tg_fx_saturating_rounding_mul_by_pot(z_a, z_b_headroom);
    const int32_t z_b_pow_2_adj = tg_fx_saturating_sub(
        tg_fx_saturating_rounding_mul_by_pot(input_integer_bits - z_b_headroom, 31 - accum_integer_bits),
        shifted_quarter);

    const int32_t r = r_a_raw < r_b_raw ? r_a_raw : r_b_raw;
    const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;

    const int32_t p = tg_fx_rounding_half_sum(r, sqrt_sqrt_half);
    int32_t q = tg_fx_sub(r, sqrt_sqrt_half);
    q = tg_fx_add(q, q);

    const int32_t common_sq = tg_fx_mul(q, q);
    const int32_t num = tg_fx_add(tg_fx_mul(q, r), tg_fx_mul(tg_fx_mul(q, common_sq), alpha_n));
    const int32_t denom_minus_one_0 = tg_fx_add(
        tg_fx_mul(p, tg_fx_add(tg_fx_add(alpha_i, q), tg_fx_mul(alpha_d, common_sq))), tg_fx_mul(alpha_f, q));
    const int32_t recip_denom = tg_fx_one_over_one_plus_x_for_x_in_0_1(denom_minus_one_0);

    const int32_t num_scaled = tg_fx_rescale(num, 0, accum_integer_bits);
    const int32_t sum = tg_fx_add(tg_fx_mul(z_pow_2_adj, log_2), tg_fx_mul(num_scaled, recip_denom));
    return tg_fx_rescale(sum, accum_integer_bits, output_integer_bits);
}

/* ---- tanh (TANH) -------------------------------------------------------------------------------- */

/* gemmlowp one_minus_x_over_one_plus_x_for_x_in_0_1: (1 - a) / (1 + a) for a in [0, 1), Q0.31 in
 * and out; the Newton-Raphson steps of tg_fx_one_over_one_plus_x_for_x_in_0_1, then x - 1. */
static inline int32_t tg_fx_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a)
{
    const int32_t constant_48_over_17 = 1515870810;      /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    const int32_t one_q2 = tg_fx_one(2);
    const int32_t half_denominator = tg_fx_rounding_half_sum(a, tg_fx_one(0));
    int32_t x = tg_fx_add(constant_48_over_17, tg_fx_mul(half_denominator, constant_neg_32_over_17));
    for (int i = 0; i < 3; ++i) {
        const int32_t half_denominator_times_x = tg_fx_mul(half_denominator, x);
        const int32_t one_minus_half_denominator_times_x = tg_fx_sub(one_q2, half_denominator_times_x);
        x = tg_fx_add(x, tg_fx_rescale(tg_fx_mul(x, one_minus_half_denominator_times_x), 4, 2));
    }
    return tg_fx_rescale(tg_fx_sub(x, one_q2), 2, 0);
}

/* gemmlowp tanh(FixedPoint<int32_t, integer_bits>): Q0.31 result. tanh(-|a|) is computed as
 * -(1 - e) / (1 + e) with e = exp(-2|a|): doubling |a| only relabels it as one more integer bit. */
static inline int32_t tg_fx_tanh(int32_t a, int32_t integer_bits)
{
    if (a == 0) {
        return 0;
    }
    const int32_t negative = a < 0 ? a : tg_fx_sub(0, a);
    const int32_t t = tg_fx_one_minus_x_over_one_plus_x_for_x_in_0_1(
        tg_fx_exp_on_negative_values(negative, integer_bits + 1));
    /* neg_tanh_on_negative_values gives t = -tanh(negative) */
    return a < 0 ? tg_fx_sub(0, t) : t;
}

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_FIXEDPOINT_MATH_H */
