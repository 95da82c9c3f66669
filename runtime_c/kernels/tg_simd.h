/* tinygen runtime: the few 32-bit SIMD operations the optimised kernels are written in.
 *
 * On a core with the DSP extension (Cortex-M4, M7, M33...; __ARM_FEATURE_DSP) each is one
 * instruction (SXTB16, SXTAB16, SMLAD, SMLABB, SMLATT); elsewhere (Cortex-M3, RISC-V, the host) a few lines of C
 * computing exactly the same bits, so the host tests check the very arithmetic the board runs.
 *
 * A "pair" is a uint32_t holding two int16 halves. tg_pair_even() of four int8 bytes b0 b1 b2 b3
 * (memory order) is (b0, b2), tg_pair_odd() is (b1, b3): the order SXTB16 gives for free. Dot
 * products pair even with even and odd with odd, so every product is still counted once.
 */
#ifndef TINYGEN_TG_SIMD_H
#define TINYGEN_TG_SIMD_H

#include <stdint.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#include <arm_acle.h>
#define TG_SIMD_DSP 1
#else
#define TG_SIMD_DSP 0
#endif

/* Four int8 values from any address (Cortex-M4 and M7 load unaligned words in one LDR). */
static inline uint32_t tg_read_s8x4(const int8_t *p)
{
    uint32_t word;
    __builtin_memcpy(&word, p, sizeof word); /* no libc: the compiler's own, one load */
    return word;
}

#if TG_SIMD_DSP

/* The odd bytes: SXTB16 / SXTAB16 with the operand rotated by 8, one instruction. GCC 12 has no
 * intrinsic for the rotated forms and does not fold a separate rotate into them, hence the asm. */
static inline uint32_t tg_pair_even(uint32_t s8x4) { return (uint32_t)__sxtb16(s8x4); }
static inline uint32_t tg_pair_odd(uint32_t s8x4)
{
    uint32_t pair;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(pair) : "r"(s8x4));
    return pair;
}
/* (b0 + offset, b2 + offset), offset given as a pair (offset, offset). */
static inline uint32_t tg_pair_even_add(uint32_t offsets, uint32_t s8x4)
{
    return (uint32_t)__sxtab16(offsets, s8x4);
}
static inline uint32_t tg_pair_odd_add(uint32_t offsets, uint32_t s8x4)
{
    uint32_t pair;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(pair) : "r"(offsets), "r"(s8x4));
    return pair;
}
/* acc + a.lo * b.lo + a.hi * b.hi */
static inline int32_t tg_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return __smlad((int16x2_t)a, (int16x2_t)b, acc);
}
/* acc + a.lo * b.lo, and acc + a.hi * b.hi */
static inline int32_t tg_smlabb(uint32_t a, uint32_t b, int32_t acc) { return __smlabb((int32_t)a, (int32_t)b, acc); }
static inline int32_t tg_smlatt(uint32_t a, uint32_t b, int32_t acc) { return __smlatt((int32_t)a, (int32_t)b, acc); }

#else /* portable: the same bits in C */

static inline int32_t tg_pair_lo_(uint32_t pair) { return (int16_t)(uint16_t)(pair & 0xFFFFu); }
static inline int32_t tg_pair_hi_(uint32_t pair) { return (int16_t)(uint16_t)(pair >> 16); }
static inline uint32_t tg_pair_make_(int32_t lo, int32_t hi)
{
    return ((uint32_t)(uint16_t)lo) | ((uint32_t)(uint16_t)hi << 16);
}
static inline int32_t tg_byte_(uint32_t s8x4, int index) { return (int8_t)(uint8_t)(s8x4 >> (8 * index)); }

static inline uint32_t tg_pair_even(uint32_t s8x4) { return tg_pair_make_(tg_byte_(s8x4, 0), tg_byte_(s8x4, 2)); }
static inline uint32_t tg_pair_odd(uint32_t s8x4) { return tg_pair_make_(tg_byte_(s8x4, 1), tg_byte_(s8x4, 3)); }
static inline uint32_t tg_pair_even_add(uint32_t offsets, uint32_t s8x4)
{
    return tg_pair_make_(tg_pair_lo_(offsets) + tg_byte_(s8x4, 0), tg_pair_hi_(offsets) + tg_byte_(s8x4, 2));
}
static inline uint32_t tg_pair_odd_add(uint32_t offsets, uint32_t s8x4)
{
    return tg_pair_make_(tg_pair_lo_(offsets) + tg_byte_(s8x4, 1), tg_pair_hi_(offsets) + tg_byte_(s8x4, 3));
}
static inline int32_t tg_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    /* SMLAD wraps (it only sets the Q flag); so does this, without C's signed-overflow UB. */
    const uint32_t sum = (uint32_t)acc + (uint32_t)(tg_pair_lo_(a) * tg_pair_lo_(b))
                         + (uint32_t)(tg_pair_hi_(a) * tg_pair_hi_(b));
    return (int32_t)sum;
}
static inline int32_t tg_smlabb(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tg_pair_lo_(a) * tg_pair_lo_(b)));
}
static inline int32_t tg_smlatt(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(tg_pair_hi_(a) * tg_pair_hi_(b)));
}

#endif

/* (value, value) as a pair, for tg_pair_*_add. */
static inline uint32_t tg_pair_splat(int32_t value)
{
    return ((uint32_t)(uint16_t)value) | ((uint32_t)(uint16_t)value << 16);
}

#endif /* TINYGEN_TG_SIMD_H */
