/* tinygen runtime: integer requantization primitives, bit-exact with TFLite Micro.
 *
 * TFLM's default build (without TFLITE_SINGLE_ROUNDING) requantizes with gemmlowp's double
 * rounding: SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT (half away from zero).
 * These are the only arithmetic kernels may use to leave the int32 accumulator domain.
 */
#ifndef TINYGEN_TG_FIXEDPOINT_H
#define TINYGEN_TG_FIXEDPOINT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

static inline int32_t tg_saturating_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    /* gemmlowp: (ab + nudge) / 2^31 truncated toward zero, nudge = 2^30 for ab >= 0, 1 - 2^30 below.
     * For ab < 0 that truncation is floor((ab + 1 - 2^30 + 2^31 - 1) / 2^31), so both cases are
     * floor((ab + 2^30) / 2^31): one arithmetic shift instead of a branch and a 64-bit division
     * (tests/test_fixedpoint.py checks the two forms agree). GCC shifts signed values arithmetically. */
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

static inline int32_t tg_rounding_divide_by_pot(int32_t x, int32_t exponent)
{
    const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    const int32_t remainder = x & mask;
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLM MultiplyByQuantizedMultiplier(int32_t x, int32_t multiplier, int shift). */
static inline int32_t tg_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left_shift = shift > 0 ? shift : 0;
    const int32_t right_shift = shift > 0 ? 0 : -shift;
    /* Unsigned shift: TFLM's x * (1 << left_shift) wraps on overflow; keep that without UB. */
    const int32_t shifted = (int32_t)((uint32_t)x << left_shift);
    return tg_rounding_divide_by_pot(tg_saturating_rounding_doubling_high_mul(shifted, multiplier),
                                     right_shift);
}

static inline int32_t tg_clamp(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_FIXEDPOINT_H */
