/* Internal to runtime_c/kernels: what the wide variants (tinygen/tg_wide.h) share. Inputs are widened
 * to int16 in scratch once, then every inner loop is loads and SMLADs only: the weights were widened,
 * packed and interleaved at generation time, and the input offset folded into the bias.
 *
 * Aliasing: the scratch lies in the arena (a uint8_t array) and is written as int16 and read as
 * uint32 words, so it is accessed through may_alias types only. Wrapping: SMLAD wraps modulo 2^32,
 * and the portable tg_smlad (tg_simd.h) computes in uint32_t, so no sum overflows a signed type.
 */
#ifndef TINYGEN_TG_WIDE_DOT_H
#define TINYGEN_TG_WIDE_DOT_H

#include "tinygen/tg_wide.h"
#include "tg_dot_s8.h"

typedef int16_t tg_s16_alias_t __attribute__((may_alias));
typedef uint32_t tg_u32_alias_t __attribute__((may_alias));

/* (lo half of a, lo half of b) and (hi half of a, hi half of b): PKHBT and PKHTB on the DSP (in asm:
 * GCC 12 spells the C as UXTH + ORR and AND + ORR, two instructions each). */
#if TG_SIMD_DSP
static inline uint32_t tg_pack_lo(uint32_t a, uint32_t b)
{
    uint32_t packed;
    __asm__("pkhbt %0, %1, %2, lsl #16" : "=r"(packed) : "r"(a), "r"(b));
    return packed;
}
static inline uint32_t tg_pack_hi(uint32_t a, uint32_t b)
{
    uint32_t packed;
    __asm__("pkhtb %0, %2, %1, asr #16" : "=r"(packed) : "r"(a), "r"(b));
    return packed;
}
#else
static inline uint32_t tg_pack_lo(uint32_t a, uint32_t b) { return (a & 0xFFFFu) | (b << 16); }
static inline uint32_t tg_pack_hi(uint32_t a, uint32_t b) { return (b & 0xFFFF0000u) | (a >> 16); }
#endif

/* dst[i] = src[i] as int16, i in [0, count); dst is 2-byte aligned (4-byte aligned after at most one
 * element, then four at a time: one load, two SXTB16, two packs, two stores). */
static inline tg_s16_alias_t *tg_widen_s8(const int8_t *src, tg_s16_alias_t *dst, int32_t count)
{
    if (((uintptr_t)dst & 2u) != 0 && count > 0) {
        *dst++ = *src++;
        --count;
    }
    tg_u32_alias_t *words = (tg_u32_alias_t *)(void *)dst;
    for (int32_t blocks = count >> 2; blocks > 0; --blocks) {
        const uint32_t s8x4 = tg_read_s8x4(src);
        const uint32_t even = tg_pair_even(s8x4), odd = tg_pair_odd(s8x4);  /* (b0, b2), (b1, b3) */
        words[0] = tg_pack_lo(even, odd);                                   /* (b0, b1) */
        words[1] = tg_pack_hi(even, odd);                                   /* (b2, b3) */
        words += 2;
        src += 4;
    }
    dst = (tg_s16_alias_t *)(void *)words;
    for (int32_t k = 0; k < (count & 3); ++k) {
        *dst++ = src[k];
    }
    return dst;
}

static inline tg_s16_alias_t *tg_fill_s16(tg_s16_alias_t *dst, int32_t value, int32_t count)
{
    for (int32_t k = 0; k < count; ++k) {
        *dst++ = (int16_t)value;
    }
    return dst;
}

/* Two packed weight words, the pointer moved past them: one LDRD with writeback on the DSP path
 * (the weights are int32_t arrays, so word aligned as LDRD needs). GCC does not merge the two loads
 * of the C version itself. */
static inline void tg_load_pair(const int32_t **w, uint32_t *first, uint32_t *second)
{
#if TG_SIMD_DSP
    /* The two words as a memory input (not a "memory" clobber, which would force every array the
     * caller keeps in registers, such as its accumulators, back to memory around each load). */
    const int32_t (*words)[2] = (const int32_t (*)[2])*w;
    __asm__("ldrd %0, %1, [%2], #8" : "=&r"(*first), "=&r"(*second), "+r"(*w) : "m"(*words));
#else
    *first = (uint32_t)(*w)[0];
    *second = (uint32_t)(*w)[1];
    *w += 2;
#endif
}

/* Four accumulators, passed and returned by value so they stay in registers (an array whose
 * address is taken goes back to the stack around every call GCC does not fully unroll). */
typedef struct {
    int32_t a0, a1, a2, a3;
} tg_acc4_t;

/* Four k of one int16 column against TG_WIDE_ROWS interleaved rows: 5 LDRD, 8 SMLAD. */
#define TG_WIDE_BLOCK_1X4(x, w, a0, a1, a2, a3)                                                          \
    do {                                                                                               \
        const uint32_t xa_ = (x)[0], xb_ = (x)[1]; /* k0 k1, k2 k3 */                                   \
        uint32_t w0_, w1_;                                                                             \
        (x) += 2;                                                                                      \
        tg_load_pair(&(w), &w0_, &w1_); /* rows 0 and 1 at k0 k1 */                                    \
        a0 = tg_smlad(xa_, w0_, a0);                                                                   \
        a1 = tg_smlad(xa_, w1_, a1);                                                                   \
        tg_load_pair(&(w), &w0_, &w1_); /* rows 2 and 3 at k0 k1 */                                    \
        a2 = tg_smlad(xa_, w0_, a2);                                                                   \
        a3 = tg_smlad(xa_, w1_, a3);                                                                   \
        tg_load_pair(&(w), &w0_, &w1_); /* rows 0 and 1 at k2 k3 */                                    \
        a0 = tg_smlad(xb_, w0_, a0);                                                                   \
        a1 = tg_smlad(xb_, w1_, a1);                                                                   \
        tg_load_pair(&(w), &w0_, &w1_); /* rows 2 and 3 at k2 k3 */                                    \
        a2 = tg_smlad(xb_, w0_, a2);                                                                   \
        a3 = tg_smlad(xb_, w1_, a3);                                                                   \
    } while (0)

/* One int16 column by TG_WIDE_ROWS interleaved rows, four k per block: acc.aj += x . w_j. One block
 * per iteration: 16 instructions per 16 MACs on the Cortex-M4 with GCC 12 -O2 (5 LDRD, 8 SMLAD, 3 loop). */
static inline tg_acc4_t tg_wide_dot1x4(const tg_u32_alias_t *x, const int32_t *w, int32_t blocks, tg_acc4_t acc)
{
    int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;
    for (; blocks > 0; --blocks) {
        TG_WIDE_BLOCK_1X4(x, w, a0, a1, a2, a3);
    }
    const tg_acc4_t result = {a0, a1, a2, a3};
    return result;
}

/* The same, two blocks per iteration: 29 instructions per 32 MACs, plus a few to enter. The fully
 * connected variant uses it (AD: -6 %); in the convolution it cost VWW and KWS more than it saved
 * IC, even chosen by depth at run time (measured, docs/kernel-variants.md). */
static inline tg_acc4_t tg_wide_dot1x4_unrolled(const tg_u32_alias_t *x, const int32_t *w, int32_t blocks,
                                                tg_acc4_t acc)
{
    int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;
    if (blocks & 1) {
        TG_WIDE_BLOCK_1X4(x, w, a0, a1, a2, a3);
    }
    for (int32_t pairs = blocks >> 1; pairs > 0; --pairs) {
        TG_WIDE_BLOCK_1X4(x, w, a0, a1, a2, a3);
        TG_WIDE_BLOCK_1X4(x, w, a0, a1, a2, a3);
    }
    const tg_acc4_t result = {a0, a1, a2, a3};
    return result;
}

/* x + y, saturated to int32 (QADD on the DSP extension). */
static inline int32_t tg_qadd(int32_t x, int32_t y)
{
#if TG_SIMD_DSP
    return __qadd(x, y);
#else
    const int64_t sum = (int64_t)x + y;
    return sum > INT32_MAX ? INT32_MAX : sum < INT32_MIN ? INT32_MIN : (int32_t)sum;
#endif
}

/* gemmlowp's rounding doubling high multiply (x * m + 2^30) >> 31 for any int32 x and a multiplier m in
 * [0, 2^31 - 1], given as doubled = 2m modulo 2^32 (channel word 1). It is (x * 2m + 2^31) >> 32. Where
 * 2m < 2^31 that is SMMLAR's (Ra * 2^32 + Rn * Rm + 2^31) >> 32 with Ra = 0; where 2m >= 2^31, Rm
 * holds 2m - 2^32, and Ra = x puts the missing x * 2^32 back. Ra is x masked by doubled's sign bit:
 * two instructions (AND with a shifted operand, SMMLAR) where SMLAL and its constants take five; the
 * 64-bit sum 2xm + 2^31 never overflows, so it is exact. */
static inline int32_t tg_wide_high_mul(int32_t x, int32_t doubled)
{
#if TG_SIMD_DSP
    int32_t high;
    __asm__("and %0, %1, %2, asr #31\n\t"
            "smmlar %0, %1, %2, %0"
            : "=&r"(high)
            : "r"(x), "r"(doubled));
    return high;
#else
    return (int32_t)(((int64_t)x * (int64_t)(uint32_t)doubled + ((int64_t)1 << 31)) >> 32);
#endif
}

/* gemmlowp's MultiplyByQuantizedMultiplier, double rounding, for a multiplier in [0, 2^31 - 1] (given
 * doubled, as above) and a right shift e in [1, 23], as the output of a kernel whose result is then
 * offset and clamped to int8. Rounding half away from zero, h / 2^e is (h + 2^(e - 1) - [h < 0]) >> e,
 * exactly, unless the sum passes INT32_MAX; QADD saturates it there and the result is 2^(31 - e) - 1
 * instead of 2^(31 - e): both at least 2^8 - 1 for e <= 23, so both clamp to the same int8 output (the
 * output offset is at least -128 and the clamp's maximum at most 127). tests/test_variants.py checks
 * this against the reference arithmetic at the edges. */
static inline int32_t tg_wide_requantize(int32_t x, int32_t doubled, int32_t right_shift, int32_t rounding)
{
    const int32_t high = tg_wide_high_mul(x, doubled);
    return tg_qadd(high, rounding + (high >> 31)) >> right_shift;
}

typedef struct {
    int32_t output_offset;
    int32_t min;
    int32_t max;
    uint32_t min4, max4;  /* min and max in every byte (tg_clamp_s8x4) */
    int32_t clamps;       /* the activation is not the whole int8 range */
    /* The output offset is -128 and the activation int8's whole range (ReLU-like outputs): each output
     * is its shifted sum saturated as an unsigned byte, less 128, and a negative sum needs no rounding
     * correction (the asm epilogues' USAT form, tg_conv_wide_pair_body.h, tg_channel_pair.h). */
    int32_t unsigned_bytes;
} tg_wide_epilogue_t;

/* Made once per call, so that the blocks' epilogues find the splats ready. */
static inline tg_wide_epilogue_t tg_wide_epilogue(int32_t output_offset, tg_range_t activation)
{
    const tg_wide_epilogue_t e = {output_offset, activation.min, activation.max,
                                  0x01010101u * (uint8_t)activation.min, 0x01010101u * (uint8_t)activation.max,
                                  activation.min != -128 || activation.max != 127,
                                  output_offset == -128 && activation.min == -128 && activation.max == 127};
    return e;
}

/* The accumulator (started from the channel's bias), requantized, offset and clamped. */
static inline int8_t tg_wide_output(int32_t acc, const int32_t *channel, tg_wide_epilogue_t e)
{
    const int32_t y = tg_wide_requantize(acc, channel[1], channel[2], channel[3]) + e.output_offset;
    return (int8_t)tg_clamp(y, e.min, e.max);
}

/* The accumulators of one row block, each started from its channel's word `word` (0: the folded
 * bias, 4: the plain bias). */
static inline tg_acc4_t tg_wide_start(const int32_t *channel, int32_t word)
{
    const tg_acc4_t acc = {channel[word], channel[TG_WIDE_CHANNEL_WORDS + word],
                           channel[2 * TG_WIDE_CHANNEL_WORDS + word], channel[3 * TG_WIDE_CHANNEL_WORDS + word]};
    return acc;
}

/* Row pairs packed per int16 half (256 * odd row + even row: the packed FC, the packed pair conv):
 * a0 = bias0 + 256 * dot1 + dot0 and a1 = bias0 + dot0 (a2, a3 the same for rows 2, 3), so
 * a0 - a1 is 256 * dot1 modulo 2^32, and dot1 within 24 bits (checked at generation) comes back exact. */
static inline tg_acc4_t packed_start(const int32_t *channel)
{
    const tg_acc4_t acc = {channel[0], channel[0], channel[2 * TG_WIDE_CHANNEL_WORDS],
                           channel[2 * TG_WIDE_CHANNEL_WORDS]};
    return acc;
}

static inline tg_acc4_t packed_rows(tg_acc4_t acc, const int32_t *channel)
{
    const int32_t dot1 = (int32_t)((uint32_t)acc.a0 - (uint32_t)acc.a1) >> 8;
    const int32_t dot3 = (int32_t)((uint32_t)acc.a2 - (uint32_t)acc.a3) >> 8;
    const tg_acc4_t rows = {acc.a1, (int32_t)((uint32_t)channel[TG_WIDE_CHANNEL_WORDS] + (uint32_t)dot1), acc.a3,
                            (int32_t)((uint32_t)channel[3 * TG_WIDE_CHANNEL_WORDS] + (uint32_t)dot3)};
    return rows;
}

/* y saturated to int8: SSAT on the DSP extension; the clamp to [-128, 127] elsewhere. */
static inline int8_t tg_saturate_s8(int32_t y)
{
#if TG_SIMD_DSP
    return (int8_t)__ssat(y, 8);
#else
    return (int8_t)tg_clamp(y, -128, 127);
#endif
}

/* The same as tg_wide_output where the activation is the whole int8 range (no clamp but int8's). */
static inline int8_t tg_wide_output_s8(int32_t acc, const int32_t *channel, int32_t output_offset)
{
    return tg_saturate_s8(tg_wide_requantize(acc, channel[1], channel[2], channel[3]) + output_offset);
}

#if TG_SIMD_DSP
/* Four int8 values (each in [-128, 127]) as one word, y0 in the low byte: three BFI. */
static inline uint32_t tg_pack_s8x4(int32_t y0, int32_t y1, int32_t y2, int32_t y3)
{
    uint32_t word = (uint32_t)y0;
    __asm__("bfi %0, %1, #8, #8" : "+r"(word) : "r"(y1));
    __asm__("bfi %0, %1, #16, #8" : "+r"(word) : "r"(y2));
    __asm__("bfi %0, %1, #24, #8" : "+r"(word) : "r"(y3));
    return word;
}

/* Each signed byte of y clamped to [low, high] (each a byte splat): SSUB8 sets a byte's GE flag where
 * the first operand is at least the second (as int8, exactly), SEL picks by the flags. Two
 * instructions per bound. */
static inline uint32_t tg_clamp_s8x4(uint32_t y, uint32_t low, uint32_t high)
{
    uint32_t scratch;
    __asm__("ssub8 %[t], %[y], %[lo]\n\t"
            "sel %[y], %[y], %[lo]\n\t"
            "ssub8 %[t], %[hi], %[y]\n\t"
            "sel %[y], %[y], %[hi]"
            : [y] "+r"(y), [t] "=&r"(scratch)
            : [lo] "r"(low), [hi] "r"(high));
    return y;
}

/* A full block's four outputs as one word (output 0 in the low byte): saturated by SSAT, packed,
 * clamped four at a time. tg_wide_output_s8's expression spelled out, not called: its int8_t result
 * costs an SXTB per output before the BFI (measured). Always inlined: as a call GCC would weigh
 * differently, its callers' loops (the wide depthwise's, VWW) cost 2 % more (measured). */
static inline __attribute__((always_inline)) uint32_t tg_wide_word4(tg_acc4_t acc, const int32_t *channel,
                                                                    tg_wide_epilogue_t e)
{
    const int32_t step = TG_WIDE_CHANNEL_WORDS;
    const int32_t y0 = __ssat(tg_wide_requantize(acc.a0, channel[1], channel[2], channel[3]) + e.output_offset, 8);
    const int32_t y1 = __ssat(tg_wide_requantize(acc.a1, channel[step + 1], channel[step + 2], channel[step + 3])
                              + e.output_offset, 8);
    const int32_t y2 = __ssat(tg_wide_requantize(acc.a2, channel[2 * step + 1], channel[2 * step + 2],
                                                 channel[2 * step + 3]) + e.output_offset, 8);
    const int32_t y3 = __ssat(tg_wide_requantize(acc.a3, channel[3 * step + 1], channel[3 * step + 2],
                                                 channel[3 * step + 3]) + e.output_offset, 8);
    uint32_t word = tg_pack_s8x4(y0, y1, y2, y3);
    if (e.clamps) {
        word = tg_clamp_s8x4(word, e.min4, e.max4);
    }
    return word;
}

/* The same stored by one STR (the cores with the DSP extension load and store unaligned words). */
static inline int8_t *tg_wide_outputs4_dsp(tg_acc4_t acc, const int32_t *channel, tg_wide_epilogue_t e,
                                           int8_t *output)
{
    const uint32_t word = tg_wide_word4(acc, channel, e);
    __builtin_memcpy(output, &word, sizeof word);
    return output + TG_WIDE_ROWS;
}
#else
static inline uint32_t tg_wide_word4(tg_acc4_t acc, const int32_t *channel, tg_wide_epilogue_t e)
{
    const int32_t step = TG_WIDE_CHANNEL_WORDS;
    return (uint32_t)(uint8_t)tg_wide_output(acc.a0, channel, e) |
           (uint32_t)(uint8_t)tg_wide_output(acc.a1, channel + step, e) << 8 |
           (uint32_t)(uint8_t)tg_wide_output(acc.a2, channel + 2 * step, e) << 16 |
           (uint32_t)(uint8_t)tg_wide_output(acc.a3, channel + 3 * step, e) << 24;
}
#endif

/* The outputs of one row block: `rows` (at most TG_WIDE_ROWS) channels from channel's data on. */
static inline int8_t *tg_wide_outputs(tg_acc4_t acc, const int32_t *channel, int32_t rows, tg_wide_epilogue_t e,
                                      int8_t *output)
{
    const int32_t step = TG_WIDE_CHANNEL_WORDS;
#if TG_SIMD_DSP
    if (rows == TG_WIDE_ROWS) {
        return tg_wide_outputs4_dsp(acc, channel, e, output);
    }
#endif
    if (rows == TG_WIDE_ROWS && !e.clamps) {  /* no activation clamp: SSAT alone */
        output[0] = tg_wide_output_s8(acc.a0, channel, e.output_offset);
        output[1] = tg_wide_output_s8(acc.a1, channel + step, e.output_offset);
        output[2] = tg_wide_output_s8(acc.a2, channel + 2 * step, e.output_offset);
        output[3] = tg_wide_output_s8(acc.a3, channel + 3 * step, e.output_offset);
        return output + TG_WIDE_ROWS;
    }
    if (rows == TG_WIDE_ROWS) {
        output[0] = tg_wide_output(acc.a0, channel, e);
        output[1] = tg_wide_output(acc.a1, channel + step, e);
        output[2] = tg_wide_output(acc.a2, channel + 2 * step, e);
        output[3] = tg_wide_output(acc.a3, channel + 3 * step, e);
        return output + TG_WIDE_ROWS;
    }
    output[0] = tg_wide_output(acc.a0, channel, e);
    if (rows > 1) {
        output[1] = tg_wide_output(acc.a1, channel + step, e);
    }
    if (rows > 2) {
        output[2] = tg_wide_output(acc.a2, channel + 2 * step, e);
    }
    return output + rows;
}

#endif /* TINYGEN_TG_WIDE_DOT_H */
