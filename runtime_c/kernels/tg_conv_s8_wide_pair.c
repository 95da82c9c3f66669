/* CONV_2D, int8, per-channel requantization, ungrouped: tg_conv_s8_wide with two output pixels per
 * block (tinygen/tg_wide.h).
 *
 * The windows of two consecutive output pixels (raster order, across rows too) are widened into one
 * interleaved int16 column in scratch: per two k, pixel 0's word then pixel 1's, so one LDRD loads
 * both. Each weight word loaded then feeds both pixels: per four k 6 LDRD and 16 SMLAD for 32 MACs (asm, 25 instructions with the loop),
 * where the one-pixel kernel spends 10 LDRD. Needs an even input depth, so that every run of taps
 * starts and ends on a word. An odd last pixel is computed twice, its second copy not written.
 */
#include "tinygen/tg_kernels.h"
#include "tg_wide_dot.h"

/* src's count int8 (even) as int16 pairs into every other word of dst (the pixel's lane). */
static tg_u32_alias_t *widen_lane(const int8_t *src, tg_u32_alias_t *dst, int32_t count)
{
    for (int32_t blocks = count >> 2; blocks > 0; --blocks) {
        const uint32_t s8x4 = tg_read_s8x4(src);
        const uint32_t even = tg_pair_even(s8x4), odd = tg_pair_odd(s8x4); /* (b0, b2), (b1, b3) */
        dst[0] = tg_pack_lo(even, odd);                                    /* (b0, b1) */
        dst[2] = tg_pack_hi(even, odd);                                    /* (b2, b3) */
        dst += 4;
        src += 4;
    }
    if (count & 2) {
        dst[0] = (uint32_t)(uint16_t)src[0] | ((uint32_t)(uint16_t)src[1] << 16);
        dst += 2;
    }
    return dst;
}

static tg_u32_alias_t *fill_lane(tg_u32_alias_t *dst, uint32_t pair, int32_t words)
{
    for (; words > 0; --words) {
        *dst = pair;
        dst += 2;
    }
    return dst;
}

/* The window of output pixel (oy, ox) into the lane starting at lane (word 0 or 1 of column). */
static void im2col_lane(const tg_conv_wide_params_t *params, const tg_dims_t *input_dims, const int8_t *in_batch,
                        const tg_dims_t *filter_dims, int32_t oy, int32_t ox, tg_u32_alias_t *lane)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c, half_c = c >> 1;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t dil_h = params->dilation.h, dil_w = params->dilation.w;
    const uint32_t pad_pair = (uint32_t)(uint16_t)(-params->input_offset) * 0x10001u;
    const int32_t y0 = oy * params->stride.h - params->padding.h;
    const int32_t x0 = ox * params->stride.w - params->padding.w;
    int32_t fx_first, fx_end;
    tg_valid_taps(x0, dil_w, f_w, in_w, &fx_first, &fx_end);
    tg_u32_alias_t *dst = lane;
    for (int32_t fy = 0; fy < f_h; ++fy) {
        const int32_t y = y0 + dil_h * fy;
        if (y < 0 || y >= in_h || fx_first >= fx_end) {
            dst = fill_lane(dst, pad_pair, f_w * half_c);
            continue;
        }
        dst = fill_lane(dst, pad_pair, fx_first * half_c);
        const int8_t *row = in_batch + y * in_w * c;
        if (dil_w == 1) {
            dst = widen_lane(row + (x0 + fx_first) * c, dst, (fx_end - fx_first) * c);
        } else {
            for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                dst = widen_lane(row + (x0 + dil_w * fx) * c, dst, c);
            }
        }
        dst = fill_lane(dst, pad_pair, (f_w - fx_end) * half_c);
    }
    fill_lane(dst, 0, (params->depth_padded - f_h * f_w * c) >> 1);
}

/* Two column words (pixel 0's, pixel 1's), the pointer moved past them: one LDRD on the DSP path. */
static inline void load_lanes(const tg_u32_alias_t **x, uint32_t *first, uint32_t *second)
{
#if TG_SIMD_DSP
    const uint32_t (*words)[2] = (const uint32_t (*)[2])*x;
    __asm__("ldrd %0, %1, [%2], #8" : "=&r"(*first), "=&r"(*second), "+r"(*x) : "m"(*words));
#else
    *first = (*x)[0];
    *second = (*x)[1];
    *x += 2;
#endif
}

typedef struct {
    tg_acc4_t p0, p1;
} acc2x4_t;

/* Two k of both pixels against the block's four rows: 3 LDRD, 8 SMLAD. */
#define GROUP_2X4(x, w, a)                                                                             \
    do {                                                                                               \
        uint32_t x0_, x1_, w0_, w1_;                                                                   \
        load_lanes(&(x), &x0_, &x1_);                                                                  \
        tg_load_pair(&(w), &w0_, &w1_); /* rows 0 and 1 */                                             \
        a.p0.a0 = tg_smlad(x0_, w0_, a.p0.a0);                                                         \
        a.p1.a0 = tg_smlad(x1_, w0_, a.p1.a0);                                                         \
        a.p0.a1 = tg_smlad(x0_, w1_, a.p0.a1);                                                         \
        a.p1.a1 = tg_smlad(x1_, w1_, a.p1.a1);                                                         \
        tg_load_pair(&(w), &w0_, &w1_); /* rows 2 and 3 */                                             \
        a.p0.a2 = tg_smlad(x0_, w0_, a.p0.a2);                                                         \
        a.p1.a2 = tg_smlad(x1_, w0_, a.p1.a2);                                                         \
        a.p0.a3 = tg_smlad(x0_, w1_, a.p0.a3);                                                         \
        a.p1.a3 = tg_smlad(x1_, w1_, a.p1.a3);                                                         \
    } while (0)

#if TG_SIMD_DSP
/* GROUP_2X4 in asm. */
#define GROUP_2X4_ASM                                                                                  \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"                                                                \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    "smlad %[p0a0], %[x0], %[w0], %[p0a0]\n\t"                                                         \
    "smlad %[p1a0], %[x1], %[w0], %[p1a0]\n\t"                                                         \
    "smlad %[p0a1], %[x0], %[w1], %[p0a1]\n\t"                                                         \
    "smlad %[p1a1], %[x1], %[w1], %[p1a1]\n\t"                                                         \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    "smlad %[p0a2], %[x0], %[w0], %[p0a2]\n\t"                                                         \
    "smlad %[p1a2], %[x1], %[w0], %[p1a2]\n\t"                                                         \
    "smlad %[p0a3], %[x0], %[w1], %[p0a3]\n\t"                                                         \
    "smlad %[p1a3], %[x1], %[w1], %[p1a3]\n\t"
#endif

/* The interleaved column against one block of four interleaved rows, four k per iteration. On the
 * DSP path asm: eight accumulators, two pointers and four words take all fourteen registers GCC can
 * give, so the loop ends on the column's end kept in memory (25 instructions per 32 MACs, where
 * GCC 12 spilled an accumulator and the count from the C: 29). */
static inline acc2x4_t dot2x4(const tg_u32_alias_t *x, const int32_t *w, int32_t blocks, tg_acc4_t start)
{
#if TG_SIMD_DSP
    int32_t p0a0 = start.a0, p0a1 = start.a1, p0a2 = start.a2, p0a3 = start.a3;
    int32_t p1a0 = start.a0, p1a1 = start.a1, p1a2 = start.a2, p1a3 = start.a3;
    const tg_u32_alias_t *end = x + 4 * blocks;
    uint32_t x0, x1, w0, w1;
    __asm__("1:\n\t"
            GROUP_2X4_ASM
            GROUP_2X4_ASM
            "ldr %[w0], %[end]\n\t"
            "cmp %[x], %[w0]\n\t"
            "bne 1b\n\t"
            : [p0a0] "+r"(p0a0), [p0a1] "+r"(p0a1), [p0a2] "+r"(p0a2), [p0a3] "+r"(p0a3), [p1a0] "+r"(p1a0),
              [p1a1] "+r"(p1a1), [p1a2] "+r"(p1a2), [p1a3] "+r"(p1a3), [x] "+r"(x), [w] "+r"(w),
              [x0] "=&r"(x0), [x1] "=&r"(x1), [w0] "=&r"(w0), [w1] "=&r"(w1)
            : [end] "m"(end)
            : "memory", "cc");
    const acc2x4_t acc = {{p0a0, p0a1, p0a2, p0a3}, {p1a0, p1a1, p1a2, p1a3}};
    return acc;
#else
    acc2x4_t acc = {start, start};
    for (; blocks > 0; --blocks) {
        GROUP_2X4(x, w, acc);
        GROUP_2X4(x, w, acc);
    }
    return acc;
#endif
}

void tg_conv_s8_wide_pair(const tg_conv_wide_params_t *params, const int32_t *channels,
                          const tg_dims_t *input_dims, const int8_t *input,
                          const tg_dims_t *filter_dims, const int32_t *filter,
                          const tg_dims_t *output_dims, int8_t *output, void *scratch)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_conv_wide_params_t params_copy = *params;
    const tg_dims_t input_copy = *input_dims, filter_copy = *filter_dims, output_copy = *output_dims;
    params = &params_copy;
    input_dims = &input_copy;
    filter_dims = &filter_copy;
    output_dims = &output_copy;
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(params->output_offset, params->activation);
    const int32_t out_w = output_dims->w, out_c = output_dims->c;
    const int32_t pixels = output_dims->h * out_w;
    const int32_t blocks = params->depth_padded >> 2;
    const int32_t block_words = TG_WIDE_ROWS * (params->depth_padded >> 1);
    tg_u32_alias_t *column = (tg_u32_alias_t *)scratch;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * input_dims->h * input_dims->w * input_dims->c;
        int32_t oy = 0, ox = 0;
        for (int32_t p = 0; p < pixels; p += 2) {
            im2col_lane(params, input_dims, in_batch, filter_dims, oy, ox, column);
            const int32_t second = p + 1 < pixels;  /* else pixel p again, its outputs not written */
            if (second && ++ox == out_w) {
                ox = 0;
                ++oy;
            }
            im2col_lane(params, input_dims, in_batch, filter_dims, oy, ox, column + 1);
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
            int8_t *out0 = output, *out1 = output + out_c;
            const int32_t *w = filter;
            for (int32_t oc = 0; oc < out_c; oc += TG_WIDE_ROWS) {
                const int32_t *channel = channels + oc * TG_WIDE_CHANNEL_WORDS;
                const acc2x4_t acc = dot2x4(column, w, blocks, tg_wide_start(channel, 0));
                w += block_words;
                const int32_t rows = out_c - oc < TG_WIDE_ROWS ? out_c - oc : TG_WIDE_ROWS;
                /* One call site, so GCC inlines the epilogue (two kept it a call, the accumulators
                 * passed through the stack). */
                tg_acc4_t pixel_acc = acc.p0;
                int8_t *out = out0;
                for (int32_t pixel = 0; pixel <= second; ++pixel) {
                    int8_t *next = tg_wide_outputs(pixel_acc, channel, rows, epilogue, out);
                    if (pixel == 0) {
                        out0 = next;
                        out = out1;
                        pixel_acc = acc.p1;
                    } else {
                        out1 = next;
                    }
                }
            }
            output += (1 + second) * out_c;
        }
    }
}
