/* Internal to runtime_c/kernels: what the register-blocked variants for cores without SIMD share
 * (tinygen/tg_rv.h): TG_RV_ROWS accumulators per pixel, kept in registers, and the epilogue. Sums
 * are uint32_t, so a sum that wraps is defined (the bits are the reference's modulo 2^32).
 */
#ifndef TINYGEN_TG_RV_DOT_H
#define TINYGEN_TG_RV_DOT_H

#include "tinygen/tg_rv.h"
#include "tg_dot_s8.h"

/* GCC's scheduling before register allocation hoists all eight weight loads of a step above the
 * multiplies, which needs eight more registers than rv32 has left beside 16 accumulators: it spills
 * four of them in the inner loop (55 instructions per 16 multiply-adds instead of 46, GCC 12 -O2).
 * The kernels' files turn that pass off, and the recognition of fill loops as memset calls (the padded
 * plane's zero points): the kernels call nothing. */
#if defined(__GNUC__) && !defined(__clang__)
#define TG_RV_NO_EARLY_SCHEDULING _Pragma("GCC optimize(\"no-schedule-insns\", \"no-tree-loop-distribute-patterns\")")
#else
#define TG_RV_NO_EARLY_SCHEDULING
#endif

/* The accumulators of one pixel for one block of TG_RV_ROWS channels (by value: they stay in registers). */
typedef struct {
    uint32_t a0, a1, a2, a3, a4, a5, a6, a7;
} tg_rv_acc8_t;

typedef struct {
    int32_t output_offset;
    int32_t min;
    int32_t max;
} tg_rv_epilogue_t;

/* The block's accumulators started from word `word` of each channel (0: folded bias, 1: plain bias). */
static inline tg_rv_acc8_t tg_rv_start(const int32_t *channel, int32_t word)
{
    const int32_t s = TG_RV_CHANNEL_WORDS;
    const tg_rv_acc8_t acc = {(uint32_t)channel[word], (uint32_t)channel[s + word], (uint32_t)channel[2 * s + word],
                              (uint32_t)channel[3 * s + word], (uint32_t)channel[4 * s + word],
                              (uint32_t)channel[5 * s + word], (uint32_t)channel[6 * s + word],
                              (uint32_t)channel[7 * s + word]};
    return acc;
}

/* acc.aj += x * w[j]: one weight byte per channel of the block. */
#define TG_RV_MAC8(acc, x, w)                                                                             \
    do {                                                                                                \
        (acc).a0 += (uint32_t)((x) * (int32_t)(w)[0]);                                                  \
        (acc).a1 += (uint32_t)((x) * (int32_t)(w)[1]);                                                  \
        (acc).a2 += (uint32_t)((x) * (int32_t)(w)[2]);                                                  \
        (acc).a3 += (uint32_t)((x) * (int32_t)(w)[3]);                                                  \
        (acc).a4 += (uint32_t)((x) * (int32_t)(w)[4]);                                                  \
        (acc).a5 += (uint32_t)((x) * (int32_t)(w)[5]);                                                  \
        (acc).a6 += (uint32_t)((x) * (int32_t)(w)[6]);                                                  \
        (acc).a7 += (uint32_t)((x) * (int32_t)(w)[7]);                                                  \
    } while (0)

/* The same for two pixels: each weight byte loaded once for both. */
#define TG_RV_MAC8X2(acc, bcc, x, y, w)                                                                   \
    do {                                                                                                \
        int32_t w_;                                                                                     \
        w_ = (w)[0]; (acc).a0 += (uint32_t)((x) * w_); (bcc).a0 += (uint32_t)((y) * w_);                \
        w_ = (w)[1]; (acc).a1 += (uint32_t)((x) * w_); (bcc).a1 += (uint32_t)((y) * w_);                \
        w_ = (w)[2]; (acc).a2 += (uint32_t)((x) * w_); (bcc).a2 += (uint32_t)((y) * w_);                \
        w_ = (w)[3]; (acc).a3 += (uint32_t)((x) * w_); (bcc).a3 += (uint32_t)((y) * w_);                \
        w_ = (w)[4]; (acc).a4 += (uint32_t)((x) * w_); (bcc).a4 += (uint32_t)((y) * w_);                \
        w_ = (w)[5]; (acc).a5 += (uint32_t)((x) * w_); (bcc).a5 += (uint32_t)((y) * w_);                \
        w_ = (w)[6]; (acc).a6 += (uint32_t)((x) * w_); (bcc).a6 += (uint32_t)((y) * w_);                \
        w_ = (w)[7]; (acc).a7 += (uint32_t)((x) * w_); (bcc).a7 += (uint32_t)((y) * w_);                \
    } while (0)

/* TFLM's MultiplyByQuantizedMultiplier with the channel's words prepared at generation time
 * (tinygen/tg_rv.h): x << left, then the rounding doubling high multiply as one MUL and one MULHSU
 * by 2 * multiplier (unsigned: the multiplier is below 2^31), floor((2 x m + 2^31) / 2^32) = the
 * high word plus the low word's top bit, then the rounding divide by 2^right (half away from zero)
 * with its mask and half-mask. The same bits as tg_dot_requantize for QuantizeMultiplier's range
 * (tests/test_variants_rv.py compares them at the edges). */
static inline int32_t tg_rv_requantize(uint32_t acc, const int32_t *channel)
{
    const uint32_t m2 = (uint32_t)channel[TG_RV_WORD_M2];
    const int32_t right = channel[TG_RV_WORD_RIGHT], mask = channel[TG_RV_WORD_MASK];
    const int32_t a = (int32_t)(acc << channel[TG_RV_WORD_LEFT]);
    const int64_t p = (int64_t)a * (int64_t)m2;
    const int32_t high = (int32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31);
    const int32_t threshold = channel[TG_RV_WORD_HALF] + (int32_t)((uint32_t)high >> 31);
    return (high >> right) + ((high & mask) > threshold ? 1 : 0);
}

/* Requantized, offset and clamped. channel: the channel's TG_RV_CHANNEL_WORDS words. */
static inline int8_t tg_rv_output(uint32_t acc, const int32_t *channel, tg_rv_epilogue_t e)
{
    const int32_t y = tg_rv_requantize(acc, channel) + e.output_offset;
    return (int8_t)tg_clamp(y, e.min, e.max);
}

/* The first `rows` (at most TG_RV_ROWS) channels of a block to output[0 .. rows). */
static inline void tg_rv_outputs(tg_rv_acc8_t acc, const int32_t *channel, int32_t rows, tg_rv_epilogue_t e,
                                 int8_t *output)
{
    const int32_t s = TG_RV_CHANNEL_WORDS;
    const uint32_t a[TG_RV_ROWS] = {acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7};
    for (int32_t j = 0; j < rows; ++j) {
        output[j] = tg_rv_output(a[j], channel + j * s, e);
    }
}

#endif /* TINYGEN_TG_RV_DOT_H */
