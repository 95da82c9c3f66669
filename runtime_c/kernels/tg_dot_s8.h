/* Internal to runtime_c/kernels: the dot products of the optimised CONV_2D and FULLY_CONNECTED
 * kernels, and their shared epilogue.
 *
 * sum_k w[k] * (x[k] + offset) over int8 x and w, four k at a time with SMLAD (see tg_simd.h):
 * one load and two SXTAB16 give x + offset for four k, shared by every filter row of the call;
 * each filter row costs one load, two SXTB16 and two SMLAD per four k. The tail (count % 4) is
 * plain C. Products are summed in another order than the reference kernels do; int32 sums wrap
 * the same in any order, so the result is the same bits.
 */
#ifndef TINYGEN_TG_DOT_S8_H
#define TINYGEN_TG_DOT_S8_H

#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_types.h"
#include "tg_simd.h"

/* acc0 += w0 . (x + offset), acc1 += w1 . (x + offset); offsets is tg_pair_splat(offset). */
static inline void tg_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t count,
                              int32_t offset, uint32_t offsets, int32_t *acc0, int32_t *acc1)
{
    int32_t a0 = *acc0, a1 = *acc1;
    for (int32_t blocks = count >> 2; blocks > 0; --blocks) {
        const uint32_t xs = tg_read_s8x4(x);
        const uint32_t x_even = tg_pair_even_add(offsets, xs), x_odd = tg_pair_odd_add(offsets, xs);
        const uint32_t ws0 = tg_read_s8x4(w0), ws1 = tg_read_s8x4(w1);
        a0 = tg_smlad(tg_pair_even(ws0), x_even, a0);
        a0 = tg_smlad(tg_pair_odd(ws0), x_odd, a0);
        a1 = tg_smlad(tg_pair_even(ws1), x_even, a1);
        a1 = tg_smlad(tg_pair_odd(ws1), x_odd, a1);
        x += 4;
        w0 += 4;
        w1 += 4;
    }
    for (int32_t k = 0; k < (count & 3); ++k) {
        const int32_t xv = (int32_t)x[k] + offset;
        a0 += (int32_t)w0[k] * xv;
        a1 += (int32_t)w1[k] * xv;
    }
    *acc0 = a0;
    *acc1 = a1;
}

/* acc += w . (x + offset) */
static inline int32_t tg_dot1_s8(const int8_t *x, const int8_t *w, int32_t count, int32_t offset, uint32_t offsets,
                                 int32_t acc)
{
    for (int32_t blocks = count >> 2; blocks > 0; --blocks) {
        const uint32_t xs = tg_read_s8x4(x), ws = tg_read_s8x4(w);
        acc = tg_smlad(tg_pair_even(ws), tg_pair_even_add(offsets, xs), acc);
        acc = tg_smlad(tg_pair_odd(ws), tg_pair_odd_add(offsets, xs), acc);
        x += 4;
        w += 4;
    }
    for (int32_t k = 0; k < (count & 3); ++k) {
        acc += (int32_t)w[k] * ((int32_t)x[k] + offset);
    }
    return acc;
}

/* The reference kernels' epilogue: bias, per-channel requantization, output offset, clamp. */
static inline int8_t tg_dot_output_s8(int32_t acc, const int32_t *bias, int32_t channel,
                                      const tg_channel_requant_t *requant, int32_t output_offset, tg_range_t activation)
{
    if (bias != NULL) {
        acc += bias[channel];
    }
    const int32_t q = requant->per_channel ? channel : 0;
    acc = tg_requantize(acc, requant->multiplier[q], requant->shift[q]) + output_offset;
    return (int8_t)tg_clamp(acc, activation.min, activation.max);
}

#endif /* TINYGEN_TG_DOT_S8_H */
