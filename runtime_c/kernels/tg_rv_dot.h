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
    int32_t folded_rounding;  /* tg_conv_rv_params_t's */
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

/* A channel's epilogue words, loaded once (an output byte stored through int8_t may alias them, so
 * read through the pointer they would be loaded again after every store). */
typedef struct {
    uint32_t m2;
    int32_t left, right, mask, half;
} tg_rv_requant_t;

static inline tg_rv_requant_t tg_rv_requant(const int32_t *channel)
{
    const tg_rv_requant_t q = {(uint32_t)channel[TG_RV_WORD_M2], channel[TG_RV_WORD_LEFT], channel[TG_RV_WORD_RIGHT],
                               channel[TG_RV_WORD_MASK], channel[TG_RV_WORD_HALF]};
    return q;
}

/* TFLM's MultiplyByQuantizedMultiplier with the channel's words prepared at generation time
 * (tinygen/tg_rv.h): x << left, then the rounding doubling high multiply as one MUL and one MULHSU
 * by 2 * multiplier (unsigned: the multiplier is below 2^31), floor((2 x m + 2^31) / 2^32) = the
 * high word plus the low word's top bit, then the rounding divide by 2^right (half away from zero)
 * with its mask and half-mask. The same bits as tg_dot_requantize for QuantizeMultiplier's range
 * (tests/test_variants_rv.py compares them at the edges). */
static inline int32_t tg_rv_requantize_words(uint32_t acc, tg_rv_requant_t q)
{
    const int32_t a = (int32_t)(acc << q.left);
    const int64_t p = (int64_t)a * (int64_t)q.m2;
    const int32_t high = (int32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31);
    const int32_t threshold = q.half + (int32_t)((uint32_t)high >> 31);
    return (high >> q.right) + ((high & q.mask) > threshold ? 1 : 0);
}

static inline int32_t tg_rv_requantize(uint32_t acc, const int32_t *channel)
{
    return tg_rv_requantize_words(acc, tg_rv_requant(channel));
}

/* The short epilogue, output offset included, where the generator proved it exact (folded_rounding):
 * left = 0 and right = e >= 1, so RoundingDivideByPOT(high, e) = floor((high + 2^(e-1) - [high < 0])
 * / 2^e) (half away from zero), and adding output_offset * 2^e before the shift adds output_offset
 * after it; `rounding` (word 7) holds both terms, and |high| + 1 + |rounding| < 2^31. */
static inline int32_t tg_rv_requantize_folded(uint32_t acc, tg_rv_requant_t q, int32_t rounding)
{
    const int64_t p = (int64_t)(int32_t)acc * (int64_t)q.m2;
    const int32_t high = (int32_t)(p >> 32) + (int32_t)((uint32_t)p >> 31);
    return (high - (int32_t)((uint32_t)high >> 31) + rounding) >> q.right;
}

/* Requantized and offset by the form the layer takes. */
static inline int32_t tg_rv_offset_output(uint32_t acc, tg_rv_requant_t q, const int32_t *channel,
                                          tg_rv_epilogue_t e)
{
    if (e.folded_rounding) {
        return tg_rv_requantize_folded(acc, q, channel[TG_RV_WORD_ROUNDING]);
    }
    return tg_rv_requantize_words(acc, q) + e.output_offset;
}

/* Requantized, offset and clamped. channel: the channel's TG_RV_CHANNEL_WORDS words. */
static inline int8_t tg_rv_output(uint32_t acc, const int32_t *channel, tg_rv_epilogue_t e)
{
    const int32_t y = tg_rv_offset_output(acc, tg_rv_requant(channel), channel, e);
    return (int8_t)tg_clamp(y, e.min, e.max);
}

/* The first `rows` channels of a block for two pixels, each channel's words loaded once for both; the
 * epilogue's form chosen once per block. */
static inline __attribute__((always_inline)) void tg_rv_outputs2(tg_rv_acc8_t acc, tg_rv_acc8_t bcc,
                                                                 const int32_t *channel, int32_t rows,
                                                                 tg_rv_epilogue_t e, int8_t *out0, int8_t *out1)
{
    const int32_t s = TG_RV_CHANNEL_WORDS;
    const uint32_t a[TG_RV_ROWS] = {acc.a0, acc.a1, acc.a2, acc.a3, acc.a4, acc.a5, acc.a6, acc.a7};
    const uint32_t b[TG_RV_ROWS] = {bcc.a0, bcc.a1, bcc.a2, bcc.a3, bcc.a4, bcc.a5, bcc.a6, bcc.a7};
    if (e.folded_rounding) {
        for (int32_t j = 0; j < rows; ++j) {
            const int32_t *words = channel + j * s;
            const tg_rv_requant_t q = tg_rv_requant(words);
            const int32_t rounding = words[TG_RV_WORD_ROUNDING];
            const int32_t y0 = tg_clamp(tg_rv_requantize_folded(a[j], q, rounding), e.min, e.max);
            const int32_t y1 = tg_clamp(tg_rv_requantize_folded(b[j], q, rounding), e.min, e.max);
            out0[j] = (int8_t)y0;  /* both stores after the loads of the words */
            out1[j] = (int8_t)y1;
        }
        return;
    }
    for (int32_t j = 0; j < rows; ++j) {
        const tg_rv_requant_t q = tg_rv_requant(channel + j * s);
        const int32_t y0 = tg_clamp(tg_rv_requantize_words(a[j], q) + e.output_offset, e.min, e.max);
        const int32_t y1 = tg_clamp(tg_rv_requantize_words(b[j], q) + e.output_offset, e.min, e.max);
        out0[j] = (int8_t)y0;
        out1[j] = (int8_t)y1;
    }
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
