/* Internal to runtime_c/kernels: the dot products of the optimised CONV_2D and FULLY_CONNECTED
 * kernels, and what they share with the optimised DEPTHWISE_CONV_2D (valid tap ranges, epilogue).
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

/* Two inputs by two filter rows: acc_ij += w_j . (x_i + offset). Each load of x serves two rows and
 * each load of w two inputs. The inner loop is 31 instructions per 16 MACs on the Cortex-M4 with
 * GCC 12 -O2 (20 of them the work, the rest loop and register spills), against 15 per 8 above. */
static inline void tg_dot2x2_s8(const int8_t *x0, const int8_t *x1, const int8_t *w0, const int8_t *w1,
                                int32_t count, int32_t offset, uint32_t offsets, int32_t acc[4])
{
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    for (int32_t blocks = count >> 2; blocks > 0; --blocks) {
        const uint32_t xs0 = tg_read_s8x4(x0), xs1 = tg_read_s8x4(x1);
        const uint32_t x0_even = tg_pair_even_add(offsets, xs0), x0_odd = tg_pair_odd_add(offsets, xs0);
        const uint32_t x1_even = tg_pair_even_add(offsets, xs1), x1_odd = tg_pair_odd_add(offsets, xs1);
        const uint32_t ws0 = tg_read_s8x4(w0);
        const uint32_t w0_even = tg_pair_even(ws0), w0_odd = tg_pair_odd(ws0);
        a00 = tg_smlad(w0_even, x0_even, a00);
        a00 = tg_smlad(w0_odd, x0_odd, a00);
        a10 = tg_smlad(w0_even, x1_even, a10);
        a10 = tg_smlad(w0_odd, x1_odd, a10);
        const uint32_t ws1 = tg_read_s8x4(w1);
        const uint32_t w1_even = tg_pair_even(ws1), w1_odd = tg_pair_odd(ws1);
        a01 = tg_smlad(w1_even, x0_even, a01);
        a01 = tg_smlad(w1_odd, x0_odd, a01);
        a11 = tg_smlad(w1_even, x1_even, a11);
        a11 = tg_smlad(w1_odd, x1_odd, a11);
        x0 += 4;
        x1 += 4;
        w0 += 4;
        w1 += 4;
    }
    for (int32_t k = 0; k < (count & 3); ++k) {
        const int32_t xv0 = (int32_t)x0[k] + offset, xv1 = (int32_t)x1[k] + offset;
        a00 += (int32_t)w0[k] * xv0;
        a01 += (int32_t)w1[k] * xv0;
        a10 += (int32_t)w0[k] * xv1;
        a11 += (int32_t)w1[k] * xv1;
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
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

/* A padded plane's extent along one axis: the padding before, then up to the last input pixel any
 * window reads, at least the input's own (the depthwise kernels that copy each channel's plane). */
static inline int32_t tg_padded_extent(int32_t out_size, int32_t stride, int32_t padding, int32_t dilation,
                                       int32_t taps, int32_t size)
{
    const int32_t end = (out_size - 1) * stride - padding + dilation * (taps - 1) + 1;
    return padding + (end > size ? end : size);
}

/* The filter taps f in [0, taps) whose input coordinate origin + dilation * f lies in [0, size):
 * [first, end), empty when the window lies wholly in the padding. */
static inline void tg_valid_taps(int32_t origin, int32_t dilation, int32_t taps, int32_t size, int32_t *first,
                              int32_t *end)
{
    int32_t f = 0;
    while (f < taps && origin + dilation * f < 0) {
        ++f;
    }
    int32_t e = taps;
    while (e > f && origin + dilation * (e - 1) >= size) {
        --e;
    }
    *first = f;
    *end = e;
}

/* The reference kernels' epilogue (bias, per-channel requantization, output offset, clamp), with its
 * parameters copied out of the caller's structs once per call: the kernels store outputs through
 * int8_t pointers, which may alias anything, so fields read through a pointer would be loaded
 * again after every output byte. */
typedef struct {
    const int32_t *bias;        /* may be NULL */
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t channel_step;       /* 1: per-channel requantization; 0: one multiplier for all */
    int32_t output_offset;
    int32_t min;
    int32_t max;
} tg_dot_epilogue_t;

static inline tg_dot_epilogue_t tg_dot_epilogue(const int32_t *bias, const tg_channel_requant_t *requant,
                                                int32_t output_offset, tg_range_t activation)
{
    const tg_dot_epilogue_t e = {bias, requant->multiplier, requant->shift, requant->per_channel ? 1 : 0,
                                 output_offset, activation.min, activation.max};
    return e;
}

/* tg_requantize for what QuantizeMultiplier gives, which the kernel choice checks: multiplier in
 * [0, 2^31 - 1] (never INT32_MIN, so the doubling high multiply cannot saturate) and shift in
 * [-31, 30] (so the rounding divide's mask fits 32 bits). The same bits, fewer instructions;
 * tests/test_fixedpoint.py compares the two. */
static inline int32_t tg_dot_requantize(int32_t x, int32_t multiplier, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int32_t a = (int32_t)((uint32_t)x << left);
    const int32_t high = (int32_t)(((int64_t)a * multiplier + ((int64_t)1 << 30)) >> 31);
    const int32_t mask = (int32_t)((UINT32_C(1) << right) - 1u);
    const int32_t threshold = (mask >> 1) + (high < 0 ? 1 : 0);
    return (high >> right) + ((high & mask) > threshold ? 1 : 0);
}

static inline int8_t tg_dot_output_s8(int32_t acc, int32_t channel, tg_dot_epilogue_t e)
{
    if (e.bias != NULL) {
        acc += e.bias[channel];
    }
    const int32_t q = channel * e.channel_step;
    acc = tg_dot_requantize(acc, e.multiplier[q], e.shift[q]) + e.output_offset;
    return (int8_t)tg_clamp(acc, e.min, e.max);
}

#endif /* TINYGEN_TG_DOT_S8_H */
