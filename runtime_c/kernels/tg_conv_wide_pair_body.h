/* Internal to runtime_c/kernels: the two-pixel wide conv's driver, shared by its weight layouts
 * (tg_conv_s8_wide_pair: int16 pairs; tg_conv_s8_wide_pair_packed: int8 row pairs packed per int16
 * half). The windows of two consecutive output pixels (raster order, across rows too) are widened
 * into one interleaved int16 column in scratch: per two k, pixel 0's word then pixel 1's, so one LDRD
 * loads both. With an even input depth every run of taps starts and ends on a word and is widened
 * four bytes at a time; with an odd one (a stem's one or three channels) each window row takes an even
 * number of values (a zero weight pads it), so a row inside the image is widened four bytes at a time
 * too, and a row over the padding value by value. An odd last pixel is computed twice, its second copy
 * written over the first.
 */
#ifndef TINYGEN_TG_CONV_WIDE_PAIR_BODY_H
#define TINYGEN_TG_CONV_WIDE_PAIR_BODY_H

#include "tinygen/tg_kernels.h"
#include "tg_wide_dot.h"

/* The channel words of one block of rows. */
#define TG_WIDE_BLOCK_WORDS (TG_WIDE_ROWS * TG_WIDE_CHANNEL_WORDS)

/* src's count int8 (even) as int16 pairs into every other word of dst (the pixel's lane). Eight
 * values per step (two loads, four SXTB16, four PKH, four stores); inlined: as a call per window row
 * it cost IC ~25 estimated cycles a row (~0.27 M). */
static inline __attribute__((always_inline)) tg_u32_alias_t *widen_lane(const int8_t *src, tg_u32_alias_t *dst,
                                                                        int32_t count)
{
    int32_t blocks = count >> 2;
    for (; blocks >= 2; blocks -= 2) {
        const uint32_t a = tg_read_s8x4(src), b = tg_read_s8x4(src + 4);
        const uint32_t a_even = tg_pair_even(a), a_odd = tg_pair_odd(a);
        const uint32_t b_even = tg_pair_even(b), b_odd = tg_pair_odd(b);
        dst[0] = tg_pack_lo(a_even, a_odd);
        dst[2] = tg_pack_hi(a_even, a_odd);
        dst[4] = tg_pack_lo(b_even, b_odd);
        dst[6] = tg_pack_hi(b_even, b_odd);
        dst += 8;
        src += 8;
    }
    if (blocks) {
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

#if TG_SIMD_DSP
/* Eight values loaded as the words a, b into four int16 pairs, in order: (a0, a1) in packed, (a2, a3)
 * in a, (b0, b1) in a_odd, (b2, b3) in b; then their four stores, every other word of dst (the lane). */
#define TG_WIDEN8_PACK_ASM                                                                             \
    "sxtb16 %[a_odd], %[a], ror #8\n\t"                                                                \
    "sxtb16 %[a], %[a]\n\t"                                                                            \
    "sxtb16 %[b_odd], %[b], ror #8\n\t"                                                                \
    "sxtb16 %[b], %[b]\n\t"                                                                            \
    "pkhbt %[packed], %[a], %[a_odd], lsl #16\n\t"                                                     \
    "pkhtb %[a], %[a_odd], %[a], asr #16\n\t"                                                          \
    "pkhbt %[a_odd], %[b], %[b_odd], lsl #16\n\t"                                                      \
    "pkhtb %[b], %[b_odd], %[b], asr #16\n\t"
#define TG_WIDEN8_STORE_ASM                                                                            \
    "str %[packed], [%[dst]]\n\t"                                                                      \
    "str %[a], [%[dst], #8]\n\t"                                                                       \
    "str %[a_odd], [%[dst], #16]\n\t"                                                                  \
    "str %[b], [%[dst], #24]\n\t"

/* widen_lane for a count that is a multiple of 8 (at least 8), as one asm loop: per eight values two
 * loads, four SXTB16, four PKH and the four stores in a row (pipelined: ~20 estimated cycles, where
 * GCC's schedule of widen_lane's C, its stores between the packs, takes ~24). */
static inline __attribute__((always_inline)) tg_u32_alias_t *widen_row8(const int8_t *src, tg_u32_alias_t *dst,
                                                                        int32_t count)
{
    const int8_t *const end = src + count;
    uint32_t a, b, a_odd, b_odd, packed;
    __asm__("1:\n\t"
            "ldr %[a], [%[src]], #4\n\t"
            "ldr %[b], [%[src]], #4\n\t"
            TG_WIDEN8_PACK_ASM
            TG_WIDEN8_STORE_ASM
            "add %[dst], %[dst], #32\n\t"
            "cmp %[src], %[end]\n\t"
            "bne 1b\n\t"
            : [src] "+r"(src), [dst] "+r"(dst), [a] "=&r"(a), [b] "=&r"(b), [a_odd] "=&r"(a_odd),
              [b_odd] "=&r"(b_odd), [packed] "=&r"(packed)
            : [end] "r"(end)
            : "memory", "cc");
    return dst;
}
#endif

static tg_u32_alias_t *fill_lane(tg_u32_alias_t *dst, uint32_t pair, int32_t words)
{
    for (; words > 0; --words) {
        *dst = pair;
        dst += 2;
    }
    return dst;
}

/* Values k, k + 1, ... of a lane, for an odd input depth: value k is the half k % 2 of the lane's word
 * k / 2 (every other word of the column), halfword 2k - k % 2. Each returns the next k. */
static int32_t put_values(tg_s16_alias_t *halves, int32_t k, const int8_t *src, int32_t count)
{
    for (; count > 0; --count, ++k) {
        halves[2 * k - (k & 1)] = *src++;
    }
    return k;
}

static int32_t put_fill(tg_s16_alias_t *halves, int32_t k, int16_t value, int32_t count)
{
    for (; count > 0; --count, ++k) {
        halves[2 * k - (k & 1)] = value;
    }
    return k;
}

/* An odd input depth (a stem's one or three channels) with dilation.w 1: each window row's f_w * c
 * values take an even number of the lane's values, tg_pair_row_values (the generator pads the weights
 * of each window row with a zero where f_w * c is odd), so every row starts on a lane word. */
static inline int32_t tg_pair_row_values(int32_t f_w, int32_t c)
{
    return (f_w * c + 1) & ~1;
}

/* im2col_lane for an odd input depth. A window row inside the image is widened word by word, reading
 * its f_w * c bytes and, where that is odd, the next one (which meets the padded zero weight; not
 * where it would be past the input's end: value by value there); a row that meets the padding is
 * written value by value; dilation.w > 1 (rows not padded) value by value throughout. */
static void im2col_lane_odd(const tg_conv_wide_params_t *params, const tg_dims_t *input_dims, const int8_t *in_batch,
                            const int8_t *in_end, const tg_dims_t *filter_dims, int32_t oy, int32_t ox,
                            tg_u32_alias_t *lane)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t dil_h = params->dilation.h, dil_w = params->dilation.w;
    const int32_t y0 = oy * params->stride.h - params->padding.h;
    const int32_t x0 = ox * params->stride.w - params->padding.w;
    const int16_t pad = (int16_t)(-params->input_offset);
    const int32_t taps_c = f_w * c, row_values = dil_w == 1 ? tg_pair_row_values(f_w, c) : taps_c;
    tg_s16_alias_t *halves = (tg_s16_alias_t *)lane;
    int32_t fx_first, fx_end;
    tg_valid_taps(x0, dil_w, f_w, in_w, &fx_first, &fx_end);
    int32_t k = 0;
    for (int32_t fy = 0; fy < f_h; ++fy) {
        const int32_t y = y0 + dil_h * fy;
        const int8_t *row = in_batch + (y < 0 || y >= in_h ? 0 : y * in_w * c);
        if (y < 0 || y >= in_h || fx_first >= fx_end) {
            k = put_fill(halves, k, pad, taps_c);
        } else if (dil_w == 1 && fx_first == 0 && fx_end == f_w && in_end - (row + x0 * c) >= row_values) {
            widen_lane(row + x0 * c, lane + k, row_values);  /* k is even: the row starts on a lane word */
            k += row_values;
            continue;
        } else {
            k = put_fill(halves, k, pad, fx_first * c);
            if (dil_w == 1) {
                k = put_values(halves, k, row + (x0 + fx_first) * c, (fx_end - fx_first) * c);
            } else {
                for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                    k = put_values(halves, k, row + (x0 + dil_w * fx) * c, c);
                }
            }
            k = put_fill(halves, k, pad, (f_w - fx_end) * c);
        }
        k = put_fill(halves, k, 0, row_values - taps_c);  /* the padded zero weight's value */
    }
    put_fill(halves, k, 0, params->depth_padded - k);
}

/* The window of output pixel (oy, ox) where it lies wholly inside the input, with dilation.w 1: f_h
 * runs of contiguous values (each window row, padded to an even count for an odd depth), each widened
 * four bytes at a time, without the border walk's bookkeeping (~100 instructions a pixel on VWW's
 * stem). Returns 0, writing nothing, for any other pixel. */
static inline int im2col_lane_inside(const tg_conv_wide_params_t *params, const tg_dims_t *input_dims,
                                     const int8_t *in_batch, const int8_t *in_end, const tg_dims_t *filter_dims,
                                     int32_t oy, int32_t ox, tg_u32_alias_t *lane)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w, dil_h = params->dilation.h;
    const int32_t y0 = oy * params->stride.h - params->padding.h;
    const int32_t x0 = ox * params->stride.w - params->padding.w;
    if (params->dilation.w != 1 || y0 < 0 || x0 < 0 || y0 + dil_h * (f_h - 1) >= in_h || x0 + f_w > in_w) {
        return 0;
    }
    const int32_t row_values = (c & 1) ? tg_pair_row_values(f_w, c) : f_w * c;
    const int32_t step = dil_h * in_w * c;
    const int8_t *src = in_batch + (y0 * in_w + x0) * c;
    if (in_end - (src + (f_h - 1) * step) < row_values) {  /* an odd row's extra byte past the input */
        return 0;
    }
    tg_u32_alias_t *dst = lane;
    for (int32_t fy = 0; fy < f_h; ++fy, src += step) {
        dst = widen_lane(src, dst, row_values);
    }
    fill_lane(dst, 0, (params->depth_padded - f_h * row_values) >> 1);
    return 1;
}

#if TG_SIMD_DSP
/* The windows wholly inside the input whose rows widen eight values a step (IC's and VWW's: rows of
 * 8k values, or 8k + 2, a stem's 3x3 of three channels padded to ten), taken apart from im2col_lane:
 * its geometry worked out once per call (lane_walk), the copy a small function of its own
 * (im2col_walk), so a pixel costs neither im2col_lane's frame nor its reading of the params (~100
 * estimated cycles a pixel, ~a third of VWW's stem windows). */
typedef struct {
    const int8_t *in_batch, *in_end;
    int32_t stride_h, stride_w, pad_h, pad_w;
    int32_t y0_max, x0_max;    /* a window wholly inside starts at y0 in [0, y0_max], x0 in [0, x0_max] */
    int32_t row_bytes, c, f_h, step, row_values, fill_words;
    int32_t eights;            /* the values a row widens eight a step; 0: no window here */
} lane_walk_t;

static inline lane_walk_t lane_walk(const tg_conv_wide_params_t *params, const tg_dims_t *input_dims,
                                    const tg_dims_t *filter_dims, const int8_t *in_end)
{
    const int32_t c = input_dims->c, f_h = filter_dims->h, f_w = filter_dims->w, dil_h = params->dilation.h;
    const int32_t row_values = (c & 1) ? tg_pair_row_values(f_w, c) : f_w * c;
    const int32_t y0_max = input_dims->h - dil_h * (f_h - 1) - 1, x0_max = input_dims->w - f_w;
    const int walks = params->dilation.w == 1 && y0_max >= 0 && x0_max >= 0 &&
                      ((row_values & 7) == 0 || ((row_values & 7) == 2 && row_values > 8));
    const lane_walk_t walk = {
        NULL, in_end, params->stride.h, params->stride.w, params->padding.h, params->padding.w, y0_max, x0_max,
        input_dims->w * c, c, f_h, dil_h * input_dims->w * c, row_values,
        (params->depth_padded - f_h * row_values) >> 1, walks ? row_values & ~7 : 0};
    return walk;
}

/* rows window rows of ten values (nine and the next byte, which meets a zero weight), step bytes
 * apart, into the lane: per row four loads, four SXTB16, five packs and five stores in a row (~26
 * estimated cycles, where the eight-value step and a pair in C took ~50). */
static inline __attribute__((always_inline)) tg_u32_alias_t *widen_rows10(const int8_t *src, tg_u32_alias_t *dst,
                                                                          int32_t step, int32_t rows)
{
    uint32_t a, b, c, d, a_odd, b_odd, packed;
    __asm__("1:\n\t"
            "ldr %[a], [%[src]]\n\t"
            "ldr %[b], [%[src], #4]\n\t"
            "ldrsb %[c], [%[src], #8]\n\t"
            "ldrsb %[d], [%[src], #9]\n\t"
            TG_WIDEN8_PACK_ASM
            "pkhbt %[c], %[c], %[d], lsl #16\n\t"
            TG_WIDEN8_STORE_ASM
            "str %[c], [%[dst], #32]\n\t"
            "add %[src], %[src], %[step]\n\t"
            "add %[dst], %[dst], #40\n\t"
            "subs %[rows], %[rows], #1\n\t"
            "bne 1b\n\t"
            : [src] "+r"(src), [dst] "+r"(dst), [rows] "+r"(rows), [a] "=&r"(a), [b] "=&r"(b), [c] "=&r"(c),
              [d] "=&r"(d), [a_odd] "=&r"(a_odd), [b_odd] "=&r"(b_odd), [packed] "=&r"(packed)
            : [step] "r"(step)
            : "memory", "cc");
    return dst;
}

/* The window of output pixel (oy, ox) where the walk takes it (1), else nothing written (0). */
static __attribute__((noinline)) int im2col_walk(const lane_walk_t *walk, int32_t oy, int32_t ox,
                                                 tg_u32_alias_t *lane)
{
    const int32_t y0 = oy * walk->stride_h - walk->pad_h, x0 = ox * walk->stride_w - walk->pad_w;
    if ((uint32_t)y0 > (uint32_t)walk->y0_max || (uint32_t)x0 > (uint32_t)walk->x0_max) {
        return 0;
    }
    const int32_t step = walk->step, eights = walk->eights, row_values = walk->row_values;
    const int8_t *src = walk->in_batch + y0 * walk->row_bytes + x0 * walk->c;
    if (walk->in_end - (src + (walk->f_h - 1) * step) < row_values) {  /* an odd row's extra byte past the input */
        return 0;
    }
    tg_u32_alias_t *dst = lane;
    if (row_values == 10) {  /* a stem's 3x3 over three channels: every row in one asm loop */
        dst = widen_rows10(src, dst, step, walk->f_h);
    } else {
        for (int32_t fy = walk->f_h; fy > 0; --fy, src += step) {
            dst = widen_row8(src, dst, eights);
            if (row_values != eights) {  /* 8k + 2: the last pair */
                *dst = tg_pack_lo((uint32_t)(int32_t)src[eights], (uint32_t)(int32_t)src[eights + 1]);
                dst += 2;
            }
        }
    }
    fill_lane(dst, 0, walk->fill_words);
    return 1;
}
#endif

/* The window of output pixel (oy, ox) into the lane starting at lane (word 0 or 1 of column). */
static void im2col_lane(const tg_conv_wide_params_t *params, const tg_dims_t *input_dims, const int8_t *in_batch,
                        const int8_t *in_end, const tg_dims_t *filter_dims, int32_t oy, int32_t ox,
                        tg_u32_alias_t *lane)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c, half_c = c >> 1;
    if (im2col_lane_inside(params, input_dims, in_batch, in_end, filter_dims, oy, ox, lane)) {
        return;
    }
    if (c & 1) {
        im2col_lane_odd(params, input_dims, in_batch, in_end, filter_dims, oy, ox, lane);
        return;
    }
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

/* Two k of both pixels against a block's two packed words (the packed pair conv, the pair FC): p.a0,
 * p.a2 the S sums of pairs (0, 1) and (2, 3), p.a1, p.a3 their E sums (rows 0 and 2). */
#define TG_PAIR_PACKED_GROUP(x, w, a)                                                                  \
    do {                                                                                               \
        uint32_t x0_, x1_, w0_, w1_;                                                                   \
        load_lanes(&(x), &x0_, &x1_);                                                                  \
        tg_load_pair(&(w), &w0_, &w1_); /* pairs (0, 1) and (2, 3) */                                  \
        a.p0.a0 = tg_smlad(x0_, w0_, a.p0.a0);                                                         \
        a.p1.a0 = tg_smlad(x1_, w0_, a.p1.a0);                                                         \
        w0_ = tg_pair_even(w0_);                                                                       \
        a.p0.a1 = tg_smlad(x0_, w0_, a.p0.a1);                                                         \
        a.p1.a1 = tg_smlad(x1_, w0_, a.p1.a1);                                                         \
        a.p0.a2 = tg_smlad(x0_, w1_, a.p0.a2);                                                         \
        a.p1.a2 = tg_smlad(x1_, w1_, a.p1.a2);                                                         \
        w1_ = tg_pair_even(w1_);                                                                       \
        a.p0.a3 = tg_smlad(x0_, w1_, a.p0.a3);                                                         \
        a.p1.a3 = tg_smlad(x1_, w1_, a.p1.a3);                                                         \
    } while (0)

#if TG_SIMD_DSP
/* TG_PAIR_PACKED_GROUP in asm: the loads, then TG_PAIR_PACKED_MACS_ASM. */
#define TG_PAIR_PACKED_GROUP_ASM                                                                       \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"                                                                \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    TG_PAIR_PACKED_MACS_ASM
/* A group's arithmetic, its column words in x0, x1 and weight words in w0, w1. */
#define TG_PAIR_PACKED_MACS_ASM                                                                        \
    "smlad %[p0a0], %[x0], %[w0], %[p0a0]\n\t"                                                         \
    "smlad %[p1a0], %[x1], %[w0], %[p1a0]\n\t"                                                         \
    "sxtb16 %[w0], %[w0]\n\t"                                                                          \
    "smlad %[p0a1], %[x0], %[w0], %[p0a1]\n\t"                                                         \
    "smlad %[p1a1], %[x1], %[w0], %[p1a1]\n\t"                                                         \
    "smlad %[p0a2], %[x0], %[w1], %[p0a2]\n\t"                                                         \
    "smlad %[p1a2], %[x1], %[w1], %[p1a2]\n\t"                                                         \
    "sxtb16 %[w1], %[w1]\n\t"                                                                          \
    "smlad %[p0a3], %[x0], %[w1], %[p0a3]\n\t"                                                         \
    "smlad %[p1a3], %[x1], %[w1], %[p1a3]\n\t"
#endif

/* A full block's outputs of both pixels (or rows) as two words (pixel 0's, pixel 1's), in one asm:
 * the eight sums, the channel pointer, the output offset and three temporaries take thirteen
 * registers, and each channel's multiplier, shift and rounding are loaded once for both pixels. The
 * high multiply is one SMMLAR with the sum as Ra: tg_wide_high_mul's mask is all ones, because the
 * generator gives every channel a multiplier in [2^30, 2^31) (variants_dsp.normalized_channels: a
 * dead channel gets zero weights and biases and 2^30). (Folding the offset into the rounding word
 * would save an ADD per output, but 9 of VWW's 13 1x1 layers have right shifts above 23, where
 * offset * 2^e leaves int32.) */
#if TG_SIMD_DSP
/* Both pixels' sums of channel AT / 20 through the rounding doubling high multiply (SMMLAR), the
 * channel's multiplier, rounding and shift loaded into D, R and H in one run of loads. */
#define TG_PAIR_SHIFT_ASM(X0, X1, H)                                                                   \
    "asr %[" X0 "], %[" X0 "], %[" H "]\n\t"                                                           \
    "asr %[" X1 "], %[" X1 "], %[" H "]\n\t"
#define TG_PAIR_HIGH_MUL_ASM(X0, X1, AT, C, D, R, H)                                                   \
    "ldr %[" D "], [%[" C "], #" AT "+4]\n\t"                                                          \
    "ldr %[" R "], [%[" C "], #" AT "+12]\n\t"                                                         \
    "ldr %[" H "], [%[" C "], #" AT "+8]\n\t"                                                          \
    "smmlar %[" X0 "], %[" X0 "], %[" D "], %[" X0 "]\n\t"                                             \
    "smmlar %[" X1 "], %[" X1 "], %[" D "], %[" X1 "]\n\t"
/* Channel J's outputs of both pixels (sums X0, X1): rounding doubling high multiply, rounding, shift,
 * offset, saturation. */
#define TG_PAIR_OUTPUTS_ASM(X0, X1, AT) TG_PAIR_OUTPUTS_IN_ASM(X0, X1, AT, "c", "d", "r", "h", "off")
/* The same with the channel pointer, the temporaries and the offset named (see below). */
#define TG_PAIR_OUTPUTS_IN_ASM(X0, X1, AT, C, D, R, H, OFF)                                            \
    TG_PAIR_HIGH_MUL_ASM(X0, X1, AT, C, D, R, H)                                                       \
    "add %[" D "], %[" R "], %[" X0 "], asr #31\n\t"                                                   \
    "qadd %[" X0 "], %[" X0 "], %[" D "]\n\t"                                                          \
    "add %[" D "], %[" R "], %[" X1 "], asr #31\n\t"                                                   \
    "qadd %[" X1 "], %[" X1 "], %[" D "]\n\t"                                                          \
    TG_PAIR_SHIFT_ASM(X0, X1, H)                                                                       \
    "add %[" X0 "], %[" X0 "], %[" OFF "]\n\t"                                                         \
    "add %[" X1 "], %[" X1 "], %[" OFF "]\n\t"                                                         \
    "ssat %[" X0 "], #8, %[" X0 "]\n\t"                                                                \
    "ssat %[" X1 "], #8, %[" X1 "]\n\t"

/* The same outputs where the output offset is -128 and the activation int8's whole range
 * (tg_wide_epilogue_t.unsigned_bytes): each output + 128 as USAT's unsigned byte, the sign bits of the
 * packed word flipped after (TG_PAIR_FLIP_ASM): 12 estimated cycles per channel where the form above
 * takes 16. Identical outputs: SSAT(y - 128) is USAT(y) - 128, and a negative sum, which the form above
 * rounds with - 1 and this one without, gives y <= 0 either way (the rounding word is 2^(e - 1)), so
 * -128. */
#define TG_PAIR_OUTPUTS_U8_ASM(X0, X1, AT) TG_PAIR_OUTPUTS_U8_IN_ASM(X0, X1, AT, "c", "d", "r", "h")
/* The same with the channel pointer and the three temporaries named (an asm whose registers hold
 * other things before its epilogue: the pair FC's block loop). */
#define TG_PAIR_OUTPUTS_U8_IN_ASM(X0, X1, AT, C, D, R, H)                                              \
    TG_PAIR_HIGH_MUL_ASM(X0, X1, AT, C, D, R, H)                                                       \
    "qadd %[" X0 "], %[" X0 "], %[" R "]\n\t"                                                          \
    "qadd %[" X1 "], %[" X1 "], %[" R "]\n\t"                                                          \
    TG_PAIR_SHIFT_ASM(X0, X1, H)                                                                       \
    "usat %[" X0 "], #8, %[" X0 "]\n\t"                                                                \
    "usat %[" X1 "], #8, %[" X1 "]\n\t"
#define TG_PAIR_FLIP_ASM(Y) "eor %[" Y "], %[" Y "], #0x80808080\n\t"

/* The packed layout's rows 1 and 3 of both pixels: the channel's bias + (S - E) >> 8 (packed_rows). */
#define TG_PAIR_ODD_ROWS_ASM(S0, E0, S1, E1, AT_BIAS) TG_PAIR_ODD_ROWS_IN_ASM(S0, E0, S1, E1, AT_BIAS, "c", "h")
#define TG_PAIR_ODD_ROWS_IN_ASM(S0, E0, S1, E1, AT_BIAS, C, H)                                         \
    "ldr %[" H "], [%[" C "], #" AT_BIAS "]\n\t"                                                       \
    "sub %[" S0 "], %[" S0 "], %[" E0 "]\n\t"                                                          \
    "add %[" S0 "], %[" H "], %[" S0 "], asr #8\n\t"                                                   \
    "sub %[" S1 "], %[" S1 "], %[" E1 "]\n\t"                                                          \
    "add %[" S1 "], %[" H "], %[" S1 "], asr #8\n\t"

#define TG_PAIR_PACK_ASM(Y0, Y1, Y2, Y3)                                                               \
    "bfi %[" Y0 "], %[" Y1 "], #8, #8\n\t"                                                             \
    "bfi %[" Y0 "], %[" Y2 "], #16, #8\n\t"                                                            \
    "bfi %[" Y0 "], %[" Y3 "], #24, #8\n\t"

#define TG_PAIR_WORDS4_OUTPUTS                                                                         \
    : [p0a0] "+r"(p0a0), [p0a1] "+r"(p0a1), [p0a2] "+r"(p0a2), [p0a3] "+r"(p0a3), [p1a0] "+r"(p1a0),     \
      [p1a1] "+r"(p1a1), [p1a2] "+r"(p1a2), [p1a3] "+r"(p1a3), [d] "=&r"(d), [r] "=&r"(r), [h] "=&r"(h)
#define TG_PAIR_WORDS4_CHANNELS "m"(*(const int32_t(*)[4 * TG_WIDE_CHANNEL_WORDS])channel)
#define TG_PAIR_WORDS4_OPERANDS                                                                        \
    TG_PAIR_WORDS4_OUTPUTS : [c] "r"(channel), [off] "r"(output_offset), TG_PAIR_WORDS4_CHANNELS
/* The USAT form's: no offset. */
#define TG_PAIR_WORDS4_U8_OPERANDS TG_PAIR_WORDS4_OUTPUTS : [c] "r"(channel), TG_PAIR_WORDS4_CHANNELS

/* From four rows' sums per pixel (the int16 pair); unsigned_bytes: the epilogue's (a constant where
 * inlined into a loop of its own, so one asm is left). */
static inline __attribute__((always_inline)) void tg_pair_words4(acc2x4_t acc, const int32_t *channel,
                                                                  int32_t output_offset, int32_t unsigned_bytes,
                                                                  uint32_t *first, uint32_t *second)
{
    int32_t p0a0 = acc.p0.a0, p0a1 = acc.p0.a1, p0a2 = acc.p0.a2, p0a3 = acc.p0.a3;
    int32_t p1a0 = acc.p1.a0, p1a1 = acc.p1.a1, p1a2 = acc.p1.a2, p1a3 = acc.p1.a3;
    uint32_t d, r, h;
    if (unsigned_bytes) {
        __asm__(TG_PAIR_OUTPUTS_U8_ASM("p0a0", "p1a0", "0") TG_PAIR_OUTPUTS_U8_ASM("p0a1", "p1a1", "20")
                TG_PAIR_OUTPUTS_U8_ASM("p0a2", "p1a2", "40") TG_PAIR_OUTPUTS_U8_ASM("p0a3", "p1a3", "60")
                TG_PAIR_PACK_ASM("p0a0", "p0a1", "p0a2", "p0a3") TG_PAIR_PACK_ASM("p1a0", "p1a1", "p1a2", "p1a3")
                TG_PAIR_FLIP_ASM("p0a0") TG_PAIR_FLIP_ASM("p1a0")
                TG_PAIR_WORDS4_U8_OPERANDS);
    } else {
        __asm__(TG_PAIR_OUTPUTS_ASM("p0a0", "p1a0", "0") TG_PAIR_OUTPUTS_ASM("p0a1", "p1a1", "20")
                TG_PAIR_OUTPUTS_ASM("p0a2", "p1a2", "40") TG_PAIR_OUTPUTS_ASM("p0a3", "p1a3", "60")
                TG_PAIR_PACK_ASM("p0a0", "p0a1", "p0a2", "p0a3") TG_PAIR_PACK_ASM("p1a0", "p1a1", "p1a2", "p1a3")
                TG_PAIR_WORDS4_OPERANDS);
    }
    *first = (uint32_t)p0a0;
    *second = (uint32_t)p1a0;
}

/* From the packed layout's sums per pixel (S01, E0, S23, E2): rows 0..3 end in a1, a0, a3, a2. */
static inline __attribute__((always_inline)) void tg_pair_words4_packed(acc2x4_t acc, const int32_t *channel,
                                                                         int32_t output_offset,
                                                                         int32_t unsigned_bytes, uint32_t *first,
                                                                         uint32_t *second)
{
    int32_t p0a0 = acc.p0.a0, p0a1 = acc.p0.a1, p0a2 = acc.p0.a2, p0a3 = acc.p0.a3;
    int32_t p1a0 = acc.p1.a0, p1a1 = acc.p1.a1, p1a2 = acc.p1.a2, p1a3 = acc.p1.a3;
    uint32_t d, r, h;
    if (unsigned_bytes) {
        __asm__(TG_PAIR_ODD_ROWS_ASM("p0a0", "p0a1", "p1a0", "p1a1", "20")
                TG_PAIR_ODD_ROWS_ASM("p0a2", "p0a3", "p1a2", "p1a3", "60")
                TG_PAIR_OUTPUTS_U8_ASM("p0a1", "p1a1", "0") TG_PAIR_OUTPUTS_U8_ASM("p0a0", "p1a0", "20")
                TG_PAIR_OUTPUTS_U8_ASM("p0a3", "p1a3", "40") TG_PAIR_OUTPUTS_U8_ASM("p0a2", "p1a2", "60")
                TG_PAIR_PACK_ASM("p0a1", "p0a0", "p0a3", "p0a2") TG_PAIR_PACK_ASM("p1a1", "p1a0", "p1a3", "p1a2")
                TG_PAIR_FLIP_ASM("p0a1") TG_PAIR_FLIP_ASM("p1a1")
                TG_PAIR_WORDS4_U8_OPERANDS);
    } else {
        __asm__(TG_PAIR_ODD_ROWS_ASM("p0a0", "p0a1", "p1a0", "p1a1", "20")
                TG_PAIR_ODD_ROWS_ASM("p0a2", "p0a3", "p1a2", "p1a3", "60")
                TG_PAIR_OUTPUTS_ASM("p0a1", "p1a1", "0") TG_PAIR_OUTPUTS_ASM("p0a0", "p1a0", "20")
                TG_PAIR_OUTPUTS_ASM("p0a3", "p1a3", "40") TG_PAIR_OUTPUTS_ASM("p0a2", "p1a2", "60")
                TG_PAIR_PACK_ASM("p0a1", "p0a0", "p0a3", "p0a2") TG_PAIR_PACK_ASM("p1a1", "p1a0", "p1a3", "p1a2")
                TG_PAIR_WORDS4_OPERANDS);
    }
    *first = (uint32_t)p0a1;
    *second = (uint32_t)p1a1;
}

static inline uint32_t tg_pair_clamp4(uint32_t word, tg_wide_epilogue_t e)
{
    return tg_clamp_s8x4(word, e.min4, e.max4);
}
#else
static inline uint32_t tg_pair_word4(tg_acc4_t rows, const int32_t *channel, int32_t output_offset)
{
    const int32_t y[4] = {rows.a0, rows.a1, rows.a2, rows.a3};
    uint32_t word = 0;
    for (int32_t j = 0; j < 4; ++j) {
        word |= (uint32_t)(uint8_t)tg_wide_output_s8(y[j], channel + j * TG_WIDE_CHANNEL_WORDS, output_offset)
                << (8 * j);
    }
    return word;
}

static inline void tg_pair_words4(acc2x4_t acc, const int32_t *channel, int32_t output_offset,
                                  int32_t unsigned_bytes, uint32_t *first, uint32_t *second)
{
    (void)unsigned_bytes; /* the same outputs either way */
    *first = tg_pair_word4(acc.p0, channel, output_offset);
    *second = tg_pair_word4(acc.p1, channel, output_offset);
}

static inline void tg_pair_words4_packed(acc2x4_t acc, const int32_t *channel, int32_t output_offset,
                                         int32_t unsigned_bytes, uint32_t *first, uint32_t *second)
{
    (void)unsigned_bytes; /* the same outputs either way */
    *first = tg_pair_word4(packed_rows(acc.p0, channel), channel, output_offset);
    *second = tg_pair_word4(packed_rows(acc.p1, channel), channel, output_offset);
}

static inline uint32_t tg_pair_clamp4(uint32_t word, tg_wide_epilogue_t e)
{
    uint32_t out = 0;
    for (int32_t i = 0; i < 4; ++i) {
        out |= (uint32_t)(uint8_t)tg_clamp((int8_t)(word >> (8 * i)), e.min, e.max) << (8 * i);
    }
    return out;
}
#endif

/* The dot NAME: the interleaved column against one block of rows from the block's start values
 * (GROUP_ASM, two k, on the DSP path; GROUP(x, w, acc) in C). The asm's eight accumulators, two
 * pointers and four words (x0, x1, w0, w1) take all fourteen registers GCC can give, so the loop ends
 * on the column's end kept in memory. The loop runs four, eight or sixteen k per iteration, the most
 * the depth divides into (its end test, an LDR, CMP and taken BNE, costs 6 estimated cycles: on IC's
 * 16-deep 3x3 layers, 144 k, once per 16 k instead of per 4). */
/* NAME from one start per channel, both pixels alike (NAME_from: each pixel's own, a chunk's sums). */
#define TG_PAIR_DOT_BROADCAST(NAME)                                                                    \
    static inline __attribute__((always_inline)) acc2x4_t NAME(const tg_u32_alias_t *x, const int32_t *w,       \
                                                               int32_t blocks, tg_acc4_t start)            \
    {                                                                                                  \
        const acc2x4_t both = {start, start};                                                          \
        return NAME##_from(x, w, blocks, both);                                                        \
    }
#if TG_SIMD_DSP
#define TG_PAIR_DOT_LOOP(NAME, GROUPS_ASM)                                                              \
    static inline __attribute__((always_inline)) acc2x4_t NAME(const tg_u32_alias_t *x, const int32_t *w,       \
                                                               int32_t blocks, acc2x4_t start)             \
    {                                                                                                  \
        int32_t p0a0 = start.p0.a0, p0a1 = start.p0.a1, p0a2 = start.p0.a2, p0a3 = start.p0.a3;        \
        int32_t p1a0 = start.p1.a0, p1a1 = start.p1.a1, p1a2 = start.p1.a2, p1a3 = start.p1.a3;        \
        const tg_u32_alias_t *end = x + 4 * blocks;                                                    \
        uint32_t x0, x1, w0, w1;                                                                       \
        __asm__("1:\n\t" GROUPS_ASM                                                                    \
                "ldr %[w0], %[end]\n\t"                                                               \
                "cmp %[x], %[w0]\n\t"                                                                 \
                "bne 1b\n\t"                                                                          \
                : [p0a0] "+r"(p0a0), [p0a1] "+r"(p0a1), [p0a2] "+r"(p0a2), [p0a3] "+r"(p0a3),           \
                  [p1a0] "+r"(p1a0), [p1a1] "+r"(p1a1), [p1a2] "+r"(p1a2), [p1a3] "+r"(p1a3),           \
                  [x] "+r"(x), [w] "+r"(w), [x0] "=&r"(x0), [x1] "=&r"(x1), [w0] "=&r"(w0), [w1] "=&r"(w1) \
                : [end] "m"(end)                                                                       \
                : "memory", "cc");                                                                     \
        const acc2x4_t acc = {{p0a0, p0a1, p0a2, p0a3}, {p1a0, p1a1, p1a2, p1a3}};                     \
        return acc;                                                                                    \
    }
#define TG_PAIR_DOT(NAME, GROUP_ASM, GROUP)                                                            \
    TG_PAIR_DOT_LOOP(NAME##_by1, GROUP_ASM GROUP_ASM)                                                  \
    TG_PAIR_DOT_LOOP(NAME##_by2, GROUP_ASM GROUP_ASM GROUP_ASM GROUP_ASM)                              \
    TG_PAIR_DOT_LOOP(NAME##_by4, GROUP_ASM GROUP_ASM GROUP_ASM GROUP_ASM GROUP_ASM GROUP_ASM GROUP_ASM GROUP_ASM) \
    static inline __attribute__((always_inline)) acc2x4_t NAME##_from(const tg_u32_alias_t *x, const int32_t *w, \
                                                                      int32_t blocks, acc2x4_t start)      \
    {                                                                                                  \
        if ((blocks & 3) == 0) {                                                                       \
            return NAME##_by4(x, w, blocks, start);                                                    \
        }                                                                                              \
        if ((blocks & 1) == 0) {                                                                       \
            return NAME##_by2(x, w, blocks, start);                                                    \
        }                                                                                              \
        return NAME##_by1(x, w, blocks, start);                                                        \
    }                                                                                                  \
    TG_PAIR_DOT_BROADCAST(NAME)
#else
#define TG_PAIR_DOT(NAME, GROUP_ASM, GROUP)                                                              \
    static inline acc2x4_t NAME##_from(const tg_u32_alias_t *x, const int32_t *w, int32_t blocks, acc2x4_t start) \
    {                                                                                                  \
        acc2x4_t acc = start;                                                                          \
        for (; blocks > 0; --blocks) {                                                                 \
            GROUP(x, w, acc);                                                                          \
            GROUP(x, w, acc);                                                                          \
        }                                                                                              \
        return acc;                                                                                    \
    }                                                                                                  \
    TG_PAIR_DOT_BROADCAST(NAME)
#endif

/* A full block's outputs of both pixels as two words (tg_pair_words4, tg_pair_words4_packed). */
typedef void (*tg_pair_words4_t)(acc2x4_t acc, const int32_t *channel, int32_t output_offset, int32_t unsigned_bytes,
                                 uint32_t *first, uint32_t *second);
/* The column against one block of rows (blocks of four k), from the block's start values. */
typedef acc2x4_t (*tg_pair_dot_t)(const tg_u32_alias_t *x, const int32_t *w, int32_t blocks, tg_acc4_t start);
/* Every block of rows (count, block_words apart from w) against the column, each into its sums. */
typedef void (*tg_pair_dots_into_t)(const tg_u32_alias_t *x, const int32_t *w, int32_t blocks, int32_t block_words,
                                    acc2x4_t *sums, int32_t count);

/* One block of rows' outputs of both pixels (rows of them: four, or the last block's fewer), at *out0
 * and *out1, each moved on. With a single pixel, out1 is out0: its copy goes over its own outputs. */
static inline __attribute__((always_inline)) void tg_pair_block_outputs(
    acc2x4_t acc, const int32_t *channel, int32_t rows, int32_t second, tg_wide_epilogue_t epilogue,
    int8_t **out0, int8_t **out1, tg_acc4_t (*sums)(tg_acc4_t acc, const int32_t *channel),
    tg_pair_words4_t words4)
{
    if (rows == TG_WIDE_ROWS) {
        uint32_t first, next;
        /* the signed form whatever the epilogue: with both asm inlined under a test, GCC -Os and -O3
         * find no registers for them in the rows driver */
        words4(acc, channel, epilogue.output_offset, 0, &first, &next);
        if (epilogue.clamps) {
            first = tg_pair_clamp4(first, epilogue);
            next = tg_pair_clamp4(next, epilogue);
        }
        __builtin_memcpy(*out0, &first, sizeof first);
        __builtin_memcpy(*out1, &next, sizeof next);
        *out0 += TG_WIDE_ROWS;
        *out1 += TG_WIDE_ROWS;
        return;
    }
    *out0 = tg_wide_outputs(sums(acc.p0, channel), channel, rows, epilogue, *out0);
    if (second) {
        *out1 = tg_wide_outputs(sums(acc.p1, channel), channel, rows, epilogue, *out1);
    }
}

/* The driver; inlined into each kernel with its own dot, start, sums (the accumulators as the four
 * channels' sums) and words4 (a full block's outputs of both pixels), so the calls through the
 * pointers become direct and inline. words_per_4k: the weight words of a block of rows per four k
 * (8 for int16 pairs, 4 for packed int8). */
static inline __attribute__((always_inline)) void tg_conv_wide_pair_run(
    const tg_conv_wide_params_t *params, const int32_t *channels, const tg_dims_t *input_dims, const int8_t *input,
    const tg_dims_t *filter_dims, const int32_t *filter, const tg_dims_t *output_dims, int8_t *output, void *scratch,
    tg_pair_dot_t dot, tg_acc4_t (*start)(const int32_t *channel), tg_acc4_t (*sums)(tg_acc4_t acc, const int32_t *channel),
    tg_pair_words4_t words4,
    int32_t words_per_4k)
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
    const int32_t block_words = words_per_4k * blocks;
    tg_u32_alias_t *column = (tg_u32_alias_t *)scratch;

    const int8_t *const in_end = input + output_dims->n * input_dims->h * input_dims->w * input_dims->c;
#if TG_SIMD_DSP
    lane_walk_t walk = lane_walk(params, input_dims, filter_dims, in_end);
#define TG_PAIR_WINDOW(OY, OX, LANE)                                                                   \
    if (!walk.eights || !im2col_walk(&walk, OY, OX, LANE)) {                                           \
        im2col_lane(params, input_dims, in_batch, in_end, filter_dims, OY, OX, LANE);                  \
    }
#else
#define TG_PAIR_WINDOW(OY, OX, LANE) im2col_lane(params, input_dims, in_batch, in_end, filter_dims, OY, OX, LANE)
#endif
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * input_dims->h * input_dims->w * input_dims->c;
#if TG_SIMD_DSP
        walk.in_batch = in_batch;
#endif
        int32_t oy = 0, ox = 0;
        for (int32_t p = 0; p < pixels; p += 2) {
            TG_PAIR_WINDOW(oy, ox, column);
            const int32_t second = p + 1 < pixels;  /* else pixel p again, its outputs not written */
            if (second && ++ox == out_w) {
                ox = 0;
                ++oy;
            }
            TG_PAIR_WINDOW(oy, ox, column + 1);
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
            /* without a second pixel, pixel p's copy goes over its own outputs: the same bytes. The full
             * blocks in a loop of their own, one per activation (no test per block for either). */
            const int32_t next_pixel = second ? out_c : 0;
            int8_t *out0 = output, *const full_end = output + (out_c & ~(TG_WIDE_ROWS - 1));
            const int32_t *w = filter, *channel = channels;
            if (epilogue.clamps) {
                for (; out0 < full_end; out0 += TG_WIDE_ROWS, w += block_words, channel += TG_WIDE_BLOCK_WORDS) {
                    uint32_t first, next;
                    words4(dot(column, w, blocks, start(channel)), channel, epilogue.output_offset, 0, &first, &next);
                    first = tg_pair_clamp4(first, epilogue);
                    next = tg_pair_clamp4(next, epilogue);
                    __builtin_memcpy(out0, &first, sizeof first);
                    __builtin_memcpy(out0 + next_pixel, &next, sizeof next);
                }
            } else if (epilogue.unsigned_bytes) {
                for (; out0 < full_end; out0 += TG_WIDE_ROWS, w += block_words, channel += TG_WIDE_BLOCK_WORDS) {
                    uint32_t first, next;
                    words4(dot(column, w, blocks, start(channel)), channel, epilogue.output_offset, 1, &first, &next);
                    __builtin_memcpy(out0, &first, sizeof first);
                    __builtin_memcpy(out0 + next_pixel, &next, sizeof next);
                }
            } else {
                for (; out0 < full_end; out0 += TG_WIDE_ROWS, w += block_words, channel += TG_WIDE_BLOCK_WORDS) {
                    uint32_t first, next;
                    words4(dot(column, w, blocks, start(channel)), channel, epilogue.output_offset, 0, &first, &next);
                    __builtin_memcpy(out0, &first, sizeof first);
                    __builtin_memcpy(out0 + next_pixel, &next, sizeof next);
                }
            }
            if (out_c & (TG_WIDE_ROWS - 1)) {
                /* One call site, so GCC inlines the epilogue (two kept it a call, the accumulators passed
                 * through the stack). */
                int8_t *out1 = out0 + next_pixel;
                tg_pair_block_outputs(dot(column, w, blocks, start(channel)), channel, out_c & (TG_WIDE_ROWS - 1),
                                      second, epilogue, &out0, &out1, sums, words4);
            }
            output += (1 + second) * out_c;
        }
    }
}
#undef TG_PAIR_WINDOW

/* The driver a window row at a time (the _rows entries), where two whole columns would pass 1 KiB
 * (IC's 3x3 layers over 32 channels: 1,152 B): per pixel pair, each window row is taken as a window
 * of one row (im2col_lane with f_h 1, the padding moved down by the row) into a column of 4 x f_w x c
 * bytes, and every block of rows accumulates that row into its sums, kept in `partial` (2 x out_c
 * int32) between rows; the outputs follow the last row. The weights of a block are the window's rows
 * in turn, so row fy's start at fy x f_w x c / 4 groups of four k. Needs f_w x c a multiple of 4 and
 * no padding of the depth (depth_padded = f_h x f_w x c: the generator's condition). */
static inline __attribute__((always_inline)) void tg_conv_wide_pair_rows_run(
    const tg_conv_wide_params_t *params, const int32_t *channels, const tg_dims_t *input_dims, const int8_t *input,
    const tg_dims_t *filter_dims, const int32_t *filter, const tg_dims_t *output_dims, int8_t *output,
    tg_u32_alias_t *column, acc2x4_t *partial, tg_pair_dots_into_t dots, tg_acc4_t (*start)(const int32_t *channel),
    tg_acc4_t (*sums)(tg_acc4_t acc, const int32_t *channel),
    tg_pair_words4_t words4,
    int32_t words_per_4k)
{
    const tg_conv_wide_params_t params_copy = *params;
    const tg_dims_t input_copy = *input_dims, filter_copy = *filter_dims, output_copy = *output_dims;
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(params_copy.output_offset, params_copy.activation);
    const int32_t out_w = output_copy.w, out_c = output_copy.c, pixels = output_copy.h * out_w;
    const int32_t f_h = filter_copy.h, row_k = filter_copy.w * input_copy.c;
    const int32_t row_blocks = row_k >> 2, row_words = words_per_4k * row_blocks;
    const int32_t block_words = words_per_4k * (params_copy.depth_padded >> 2);
    tg_conv_wide_params_t row_params = params_copy;  /* a window of one row: its padding moves per row */
    row_params.depth_padded = row_k;
    tg_dims_t row_filter = filter_copy;
    row_filter.h = 1;
    const int32_t in_pixels = input_copy.h * input_copy.w * input_copy.c;
    const int8_t *const in_end = input + output_copy.n * in_pixels;
#if TG_SIMD_DSP
    lane_walk_t walk = lane_walk(&row_params, &input_copy, &row_filter, in_end);
#define TG_ROW_WINDOW(OY, OX, LANE)                                                                    \
    if (!walk.eights || !im2col_walk(&walk, OY, OX, LANE)) {                                           \
        im2col_lane(&row_params, &input_copy, in_batch, in_end, &row_filter, OY, OX, LANE);            \
    }
#else
#define TG_ROW_WINDOW(OY, OX, LANE) im2col_lane(&row_params, &input_copy, in_batch, in_end, &row_filter, OY, OX, LANE)
#endif
    for (int32_t b = 0; b < output_copy.n; ++b) {
        const int8_t *in_batch = input + b * in_pixels;
#if TG_SIMD_DSP
        walk.in_batch = in_batch;
#endif
        int32_t oy = 0, ox = 0;
        for (int32_t p = 0; p < pixels; p += 2) {
            const int32_t second = p + 1 < pixels;  /* else pixel p again, its outputs not written */
            const int32_t oy1 = second && ox + 1 == out_w ? oy + 1 : oy, ox1 = second ? (ox + 1) % out_w : ox;
            int8_t *out0 = output, *out1 = second ? output + out_c : output;
            for (int32_t fy = 0; fy < f_h; ++fy) {
                row_params.padding.h = params_copy.padding.h - fy * params_copy.dilation.h;
#if TG_SIMD_DSP
                walk.pad_h = row_params.padding.h;
#endif
                TG_ROW_WINDOW(oy, ox, column);
                TG_ROW_WINDOW(oy1, ox1, column + 1);
                if (fy == 0) {
                    for (int32_t oc = 0, block = 0; oc < out_c; oc += TG_WIDE_ROWS, ++block) {
                        partial[block].p0 = partial[block].p1 = start(channels + oc * TG_WIDE_CHANNEL_WORDS);
                    }
                }
                /* every block's sums through memory: one call per window row */
                dots(column, filter + fy * row_words, row_blocks, block_words, partial, (out_c + 3) >> 2);
            }
            for (int32_t oc = 0, block = 0; oc < out_c; oc += TG_WIDE_ROWS, ++block) {
                const int32_t rows = out_c - oc < TG_WIDE_ROWS ? out_c - oc : TG_WIDE_ROWS;
                tg_pair_block_outputs(partial[block], channels + oc * TG_WIDE_CHANNEL_WORDS, rows, second, epilogue,
                                      &out0, &out1, sums, words4);
            }
            oy = oy1;
            ox = ox1;
            if (++ox == out_w) {
                ox = 0;
                ++oy;
            }
            output += (1 + second) * out_c;
        }
    }
}
#undef TG_ROW_WINDOW

/* The kernel NAME from its dot, start and sums: the driver over the arena's scratch, or, where the
 * generator passes none (two columns of at most TG_CONV_S8_WIDE_PAIR_STACK_COLUMN bytes), over columns on
 * this kernel's stack: no arena bytes, and the stack bound counts them. NAME_stack1k: the same over 1 KiB
 * of columns on its stack (TG_CONV_S8_WIDE_PAIR_STACK_COLUMN_1K), its scratch argument unused. */
#define TG_CONV_WIDE_PAIR_KERNEL(NAME, DOT, START, SUMS, WORDS4, WORDS_PER_4K)                            \
    static __attribute__((noinline)) void NAME##_run(                                                  \
        const tg_conv_wide_params_t *params, const int32_t *channels, const tg_dims_t *input_dims,     \
        const int8_t *input, const tg_dims_t *filter_dims, const int32_t *filter,                      \
        const tg_dims_t *output_dims, int8_t *output, void *column)                                    \
    {                                                                                                  \
        tg_conv_wide_pair_run(params, channels, input_dims, input, filter_dims, filter, output_dims,   \
                              output, column, DOT, START, SUMS, WORDS4, WORDS_PER_4K);                \
    }                                                                                                  \
    static __attribute__((noinline)) void NAME##_on_stack(                                             \
        const tg_conv_wide_params_t *params, const int32_t *channels, const tg_dims_t *input_dims,     \
        const int8_t *input, const tg_dims_t *filter_dims, const int32_t *filter,                      \
        const tg_dims_t *output_dims, int8_t *output)                                                  \
    {                                                                                                  \
        uint32_t column[TG_CONV_S8_WIDE_PAIR_STACK_COLUMN / 4];                                        \
        NAME##_run(params, channels, input_dims, input, filter_dims, filter, output_dims, output, column); \
    }                                                                                                  \
    void NAME(const tg_conv_wide_params_t *params, const int32_t *channels, const tg_dims_t *input_dims, \
              const int8_t *input, const tg_dims_t *filter_dims, const int32_t *filter,                \
              const tg_dims_t *output_dims, int8_t *output, void *scratch)                             \
    {                                                                                                  \
        if (scratch != NULL) {                                                                         \
            NAME##_run(params, channels, input_dims, input, filter_dims, filter, output_dims, output, scratch); \
        } else {                                                                                       \
            NAME##_on_stack(params, channels, input_dims, input, filter_dims, filter, output_dims, output); \
        }                                                                                              \
    }                                                                                                  \
    void NAME##_stack1k(const tg_conv_wide_params_t *params, const int32_t *channels,                  \
                        const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims, \
                        const int32_t *filter, const tg_dims_t *output_dims, int8_t *output, void *scratch) \
    {                                                                                                  \
        uint32_t column[TG_CONV_S8_WIDE_PAIR_STACK_COLUMN_1K / 4];                                     \
        (void)scratch;                                                                                 \
        NAME##_run(params, channels, input_dims, input, filter_dims, filter, output_dims, output, column); \
    }                                                                                                  \
    /* One block's row, out of line (inlined into a loop, GCC finds no fourteen registers for its asm: \
     * the rows driver at -O3, the loop over blocks with the Cortex-M7's double-precision FPU). */      \
    static __attribute__((noinline)) void NAME##_row_block(const tg_u32_alias_t *x, const int32_t *w,    \
                                                           int32_t blocks, acc2x4_t *sums)             \
    {                                                                                                  \
        *sums = DOT##_from(x, w, blocks, *sums);                                                       \
    }                                                                                                  \
    static __attribute__((noinline)) void NAME##_row_dot(const tg_u32_alias_t *x, const int32_t *w,      \
                                                         int32_t blocks, int32_t block_words,          \
                                                         acc2x4_t *sums, int32_t count)                \
    {                                                                                                  \
        for (; count > 0; --count, ++sums, w += block_words) {                                         \
            NAME##_row_block(x, w, blocks, sums);                                                      \
        }                                                                                              \
    }                                                                                                  \
    static __attribute__((noinline)) void NAME##_rows_run(                                             \
        const tg_conv_wide_params_t *params, const int32_t *channels, const tg_dims_t *input_dims,     \
        const int8_t *input, const tg_dims_t *filter_dims, const int32_t *filter,                      \
        const tg_dims_t *output_dims, int8_t *output, tg_u32_alias_t *column, acc2x4_t *partial)       \
    {                                                                                                  \
        tg_conv_wide_pair_rows_run(params, channels, input_dims, input, filter_dims, filter, output_dims, \
                                   output, column, partial, NAME##_row_dot, START, SUMS, WORDS4, WORDS_PER_4K); \
    }                                                                                                  \
    void NAME##_rows(const tg_conv_wide_params_t *params, const int32_t *channels,                     \
                     const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims,   \
                     const int32_t *filter, const tg_dims_t *output_dims, int8_t *output, void *scratch) \
    {                                                                                                  \
        uint32_t column[TG_CONV_S8_WIDE_PAIR_ROWS_COLUMN / 4];                                         \
        acc2x4_t partial[TG_CONV_S8_WIDE_PAIR_ROWS_CHANNELS / TG_WIDE_ROWS];                           \
        (void)scratch;                                                                                 \
        NAME##_rows_run(params, channels, input_dims, input, filter_dims, filter, output_dims, output,  \
                        (tg_u32_alias_t *)column, partial);                                            \
    }

#endif
