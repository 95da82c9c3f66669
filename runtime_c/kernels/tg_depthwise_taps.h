/* Internal to runtime_c/kernels: the depthwise wide kernels' taps, four channels at a time (SXTB16
 * splits four input bytes into (c0, c2) and (c1, c3); the weights were packed in that order at
 * generation time, tinygen/kernels/variants.py depthwise_wide_weights). Shared by
 * tg_depthwise_conv_s8_wide and tg_depthwise_conv_s8_inplace_dsp. */
#ifndef TINYGEN_TG_DEPTHWISE_TAPS_H
#define TINYGEN_TG_DEPTHWISE_TAPS_H

#include "tg_wide_dot.h"

/* acc.ai += w[i] * x[i] for four channels at x; w points at the tap's two packed words. */
static inline tg_acc4_t tap4(const int8_t *x, const int32_t *w, tg_acc4_t acc)
{
    const uint32_t xs = tg_read_s8x4(x);
    const uint32_t x_even = tg_pair_even(xs), x_odd = tg_pair_odd(xs);
    uint32_t w_even, w_odd;
    tg_load_pair(&w, &w_even, &w_odd);
    acc.a0 = tg_smlabb(w_even, x_even, acc.a0);
    acc.a2 = tg_smlatt(w_even, x_even, acc.a2);
    acc.a1 = tg_smlabb(w_odd, x_odd, acc.a1);
    acc.a3 = tg_smlatt(w_odd, x_odd, acc.a3);
    return acc;
}

/* The same with the input offset added to x (offsets = tg_pair_splat(offset)). */
static inline tg_acc4_t tap4_offset(const int8_t *x, const int32_t *w, uint32_t offsets, tg_acc4_t acc)
{
    const uint32_t xs = tg_read_s8x4(x);
    const uint32_t x_even = tg_pair_even_add(offsets, xs), x_odd = tg_pair_odd_add(offsets, xs);
    uint32_t w_even, w_odd;
    tg_load_pair(&w, &w_even, &w_odd);
    acc.a0 = tg_smlabb(w_even, x_even, acc.a0);
    acc.a2 = tg_smlatt(w_even, x_even, acc.a2);
    acc.a1 = tg_smlabb(w_odd, x_odd, acc.a1);
    acc.a3 = tg_smlatt(w_odd, x_odd, acc.a3);
    return acc;
}

/* Channel c's weight at tap t in the packed layout (taps per channel group: taps). */
static inline int32_t packed_weight(const int32_t *filter, int32_t taps, int32_t t, int32_t c)
{
    const uint32_t word = (uint32_t)filter[((c >> 2) * taps + t) * 2 + (c & 1)];
    return (int16_t)(uint16_t)((c & 2) ? word >> 16 : word & 0xFFFFu);
}

/* A whole undilated 3x3 window for four channels; w walks the group's nine taps. */
static inline tg_acc4_t window3x3(const int8_t *x, int32_t tap_step, int32_t row_step, const int32_t *w,
                                  tg_acc4_t acc)
{
    acc = tap4(x, w, acc);
    acc = tap4(x + tap_step, w + 2, acc);
    acc = tap4(x + 2 * tap_step, w + 4, acc);
    x += row_step;
    acc = tap4(x, w + 6, acc);
    acc = tap4(x + tap_step, w + 8, acc);
    acc = tap4(x + 2 * tap_step, w + 10, acc);
    x += row_step;
    acc = tap4(x, w + 12, acc);
    acc = tap4(x + tap_step, w + 14, acc);
    acc = tap4(x + 2 * tap_step, w + 16, acc);
    return acc;
}

#endif /* TINYGEN_TG_DEPTHWISE_TAPS_H */
