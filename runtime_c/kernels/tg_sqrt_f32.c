/* sqrt of a float32, correctly rounded as IEEE-754 requires (what the FPU's or the C library's sqrtf
 * gives), computed on the bits: the 24-bit significand widened, an integer square root, round to
 * nearest (a square root is never exactly halfway between two floats). */
#include "tinygen/tg_kernels.h"

typedef union {
    float f;
    uint32_t u;
} tg_f32_bits_t;

float tg_sqrt_f32(float x)
{
    tg_f32_bits_t v = {x};
    const uint32_t sign = v.u >> 31;
    int32_t exponent = (int32_t)((v.u >> 23) & 0xFF);
    uint32_t mantissa = v.u & 0x7FFFFF;
    if (exponent == 0xFF) {                          /* NaN stays NaN, +inf stays, -inf is invalid */
        if (mantissa == 0 && sign) {
            v.u = 0xFFC00000u;
        }
        return v.f;
    }
    if (exponent == 0 && mantissa == 0) {            /* +-0 */
        return x;
    }
    if (sign) {                                      /* the default NaN, as x86 and ARM produce */
        v.u = 0xFFC00000u;
        return v.f;
    }
    if (exponent == 0) {                             /* subnormal: normalise */
        exponent = 1;
        while ((mantissa & 0x800000) == 0) {
            mantissa <<= 1;
            --exponent;
        }
    } else {
        mantissa |= 0x800000;
    }
    int32_t e = exponent - 127;                      /* x = mantissa * 2^(e - 23) */
    uint64_t m = mantissa;
    if (e & 1) {                                     /* make the exponent even */
        m <<= 1;
        e -= 1;
    }
    /* x = M * 2^(e - 46) with M = m << 23 in [2^46, 2^48): sqrt(x) = sqrt(M) * 2^(e/2 - 23), and
     * r = floor(sqrt(M)) has 24 bits. */
    const uint64_t big = m << 23;
    uint64_t r = 0;
    uint64_t rem = 0;
    for (int32_t i = 62; i >= 0; i -= 2) {           /* bitwise integer square root */
        rem = (rem << 2) | ((big >> i) & 3);
        const uint64_t trial = (r << 2) | 1;
        r <<= 1;
        if (rem >= trial) {
            rem -= trial;
            r |= 1;
        }
    }
    if (rem > r) {                                   /* above the halfway point (r + 1/2)^2 */
        ++r;
    }
    int32_t result_exponent = e / 2;                 /* r in [2^23, 2^24]: r * 2^(e/2 - 23) */
    if (r == ((uint64_t)1 << 24)) {
        r >>= 1;
        ++result_exponent;
    }
    v.u = ((uint32_t)(result_exponent + 127) << 23) | ((uint32_t)r & 0x7FFFFF);
    return v.f;
}
