/* DEPTHWISE_CONV_2D in place on the DSP extension, over a ring of padded rows: a variant of
 * tg_depthwise_conv_s8_inplace (tinygen/tg_dsp.h) that trades scratch for speed against
 * tg_depthwise_conv_s8_inplace_dsp (a ring of lag + 1 pixels, border code, the outputs held back),
 * with tg_depthwise_conv_s8_wide's arithmetic: four channels per input load
 * (SXTB16 / SMLABB / SMLATT), the input offset folded into the bias, the SMMLAR + QADD epilogue
 * (tg_wide_dot.h).
 *
 * Four channels at a time (of a range a multiple of 4 wide: one core's share) walk the image row by
 * row. Their input rows are copied, as words of four channels, into a ring of f_h padded rows (the
 * scratch) whose padding holds the input's zero point, so a padding tap adds what the folded bias
 * leaves out and every window is whole: no border code, and a 3x3 window reads its three rows at
 * immediate offsets. params->lag is not read. (One channel at a time over int16 rows, two outputs
 * per SMLAD pair, cost KWS more: its rows are five pixels, and the per-row work did not pay;
 * measured, docs/kernel-variants.md.)
 *
 * Why it is safe over its input: output row oy (output (q, c) lies on input (q, c)) is written after
 * input rows up to oy + f_h - 1 - padding.h >= oy are in the ring (padding.h < f_h), and no window
 * reads the input itself. Other channels are not touched.
 */
#include "tinygen/tg_kernels.h"
#include "tg_depthwise_taps.h"

/* One group of four channels: the ring of padded rows and what every pixel needs. */
typedef struct {
    tg_u32_alias_t *ring;    /* f_h rows of `width` words; padded row y' (input row y' - padding.h) in slot y' % f_h */
    int32_t width;           /* in_w + f_w - 1 words: padding.w on the left, f_w - 1 - padding.w on the right */
    uint32_t pad;            /* the input's zero point in every byte */
    const int32_t *w_c;      /* the group's packed taps */
    const int32_t *channel;  /* its first channel's words */
} group_t;

static inline tg_u32_alias_t *slot_of(const group_t *g, int32_t padded_row, int32_t f_h)
{
    return g->ring + (padded_row % f_h) * g->width;
}

/* Input row y (the group's channels, from in_c: pixel 0 of the batch) into its padded slot, or
 * padding where y lies outside the image. Locals throughout: the ring's may_alias stores would make
 * GCC reload anything read through a pointer. Inlined: a call per row cost KWS 0.5 % of its cycles. */
static inline __attribute__((always_inline)) void fill_row(const group_t *g, const int8_t *in_c,
                                                           const tg_dims_t *in, int32_t f_h, int32_t pad_h,
                                                           int32_t pad_w, int32_t y)
{
    tg_u32_alias_t *row = slot_of(g, y + pad_h, f_h);
    tg_u32_alias_t *const end = row + g->width;
    const uint32_t pad = g->pad;
    const int32_t in_w = in->w, step = in->c;
    if (y >= 0 && y < in->h) {
        for (tg_u32_alias_t *const left_end = row + pad_w; row < left_end;) {
            *row++ = pad;
        }
        const int8_t *from = in_c + y * in_w * step;
        for (tg_u32_alias_t *const inside_end = row + in_w; row < inside_end; from += step) {
            *row++ = tg_read_s8x4(from);
        }
    }
    while (row < end) {
        *row++ = pad;
    }
}

#if TG_SIMD_DSP
/* A window row: the taps at + 4 and + 8 (weights at w + 8, + 16), then + 0 (at w), each pointer's
 * writeback moving the row one pixel on and w past the row's three taps. */
#define TG_DW_RING_ROW_ASM(R)                                                                          \
    TG_DW_TAP_AT_ASM("[%[" R "], #4]", "[%[w], #8]") TG_DW_TAP_AT_ASM("[%[" R "], #8]", "[%[w], #16]")     \
    TG_DW_TAP_AT_ASM("[%[" R "]], #4", "[%[w]], #24")
#endif

/* The 3x3 window of the pixel at r0, r1, r2 (its rows' first taps in the ring), each pointer moved
 * one pixel on; w: the group's nine taps. In asm on the DSP path (GCC 12 spills the C version's
 * twelve registers): per tap LDR, LDRD, two SXTB16, four SMLAxy. A row's taps run + 1, + 2, + 0: the
 * sums are the same in any order (int32 additions wrap alike; SMLAxy's Q flag is not read). */
static inline tg_acc4_t window3x3_rows(const int8_t **r0, const int8_t **r1, const int8_t **r2, const int32_t *w,
                                       tg_acc4_t acc)
{
#if TG_SIMD_DSP
    int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;
    uint32_t xe, xo, w0, w1;
    const int8_t *p0 = *r0, *p1 = *r1, *p2 = *r2;
    __asm__(TG_DW_RING_ROW_ASM("p0") TG_DW_RING_ROW_ASM("p1") TG_DW_RING_ROW_ASM("p2")
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w), [p0] "+r"(p0),
              [p1] "+r"(p1), [p2] "+r"(p2), [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1)
            :
            : "memory");
    *r0 = p0;
    *r1 = p1;
    *r2 = p2;
    const tg_acc4_t result = {a0, a1, a2, a3};
    return result;
#else
    const int8_t *rows[3] = {*r0, *r1, *r2};
    for (int32_t fy = 0; fy < 3; ++fy) {
        for (int32_t fx = 0; fx < 3; ++fx) {
            acc = tap4(rows[fy] + 4 * fx, w + 2 * (3 * fy + fx), acc);
        }
    }
    *r0 += 4;
    *r1 += 4;
    *r2 += 4;
    return acc;
#endif
}

/* Output row oy of an undilated 3x3 filter: count pixels from the ring's padded rows oy, oy + 1,
 * oy + 2, each pixel's word stored at out (then out_step words on). Out of line, so that the loop
 * keeps its registers apart from the row bookkeeping. On the DSP path the whole row is one asm loop
 * (GCC 12 kept the count, the output pointer and a channel word in memory and copied the three row
 * pointers around each window: ~19 instructions per window more, measured on KWS): per window the
 * four biases, the nine taps, the four outputs (SMMLAR with the sum as Ra: the generator normalizes
 * every multiplier to [2^30, 2^31), variants.normalized_channels), the store. */
#if TG_SIMD_DSP
/* The loop over a row's windows; CLAMP_ASM clamps a0's four bytes (or nothing). */
#define TG_DW_ROW_LOOP_ASM(CLAMP_ASM)                                                                  \
    "1:\n\t"                                                                                           \
    "ldr %[a0], [%[c]]\n\t"                                                                            \
    "ldr %[a1], [%[c], #20]\n\t"                                                                       \
    "ldr %[a2], [%[c], #40]\n\t"                                                                       \
    "ldr %[a3], [%[c], #60]\n\t"                                                                       \
    TG_DW_RING_ROW_ASM("p0") TG_DW_RING_ROW_ASM("p1") TG_DW_RING_ROW_ASM("p2")                         \
    "sub %[w], %[w], #72\n\t"                                                                          \
    TG_DW_WORD4_ASM("c") CLAMP_ASM                                                                     \
    "str %[a0], [%[out]]\n\t"                                                                          \
    "ldr %[xe], %[step]\n\t"                                                                           \
    "add %[out], %[out], %[xe]\n\t"                                                                    \
    "ldr %[xe], %[count]\n\t"                                                                          \
    "subs %[xe], %[xe], #1\n\t"                                                                        \
    "str %[xe], %[count]\n\t"                                                                          \
    "bne 1b\n\t"
#define TG_DW_ROW_OPERANDS                                                                             \
    : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [w] "+r"(w), [p0] "+r"(p0),         \
      [p1] "+r"(p1), [p2] "+r"(p2), [out] "+r"(out), [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0),    \
      [w1] "=&r"(w1), [count] "+m"(left)                                                               \
    : [c] "r"(channel), [step] "m"(step_bytes), [off] "m"(e.output_offset), [min4] "m"(e.min4),          \
      [max4] "m"(e.max4)                                                                               \
    : "memory", "cc"
#endif

static __attribute__((noinline)) void rows3x3(const group_t *g, int32_t oy, int32_t count, tg_wide_epilogue_t e,
                                             tg_u32_alias_t *out, int32_t out_step)
{
    const int8_t *r0 = (const int8_t *)(void *)slot_of(g, oy, 3);
    const int8_t *r1 = (const int8_t *)(void *)slot_of(g, oy + 1, 3);
    const int8_t *r2 = (const int8_t *)(void *)slot_of(g, oy + 2, 3);
    const int32_t *const w_c = g->w_c, *const channel = g->channel;
#if TG_SIMD_DSP
    if (count <= 0) {
        return;
    }
    const int32_t *w = w_c;
    const int8_t *p0 = r0, *p1 = r1, *p2 = r2;
    int32_t left = count, step_bytes = 4 * out_step;
    int32_t a0, a1, a2, a3;
    uint32_t xe, xo, w0, w1;
    if (e.clamps) {
        __asm__(TG_DW_ROW_LOOP_ASM(TG_DW_CLAMP_ASM) TG_DW_ROW_OPERANDS);
    } else {
        __asm__(TG_DW_ROW_LOOP_ASM("") TG_DW_ROW_OPERANDS);
    }
#else
    for (; count > 0; --count, out += out_step) {
        const tg_acc4_t acc = window3x3_rows(&r0, &r1, &r2, w_c, tg_wide_start(channel, 0));
        *out = tg_wide_word4(acc, channel, e);
    }
#endif
}

/* The same for any other filter, tap by tap. */
static void row_any(const group_t *g, int32_t oy, int32_t f_h, int32_t f_w, int32_t count, tg_wide_epilogue_t e,
                    tg_u32_alias_t *out, int32_t out_step)
{
    for (int32_t ox = 0; ox < count; ++ox, out += out_step) {
        tg_acc4_t acc = tg_wide_start(g->channel, 0);
        for (int32_t fy = 0; fy < f_h; ++fy) {
            const int8_t *row = (const int8_t *)(void *)(slot_of(g, oy + fy, f_h) + ox);
            for (int32_t fx = 0; fx < f_w; ++fx) {
                acc = tap4(row + 4 * fx, g->w_c + 2 * (fy * f_w + fx), acc);
            }
        }
        *out = tg_wide_word4(acc, g->channel, e);
    }
}

void tg_depthwise_conv_s8_inplace_dsp_rows(const tg_depthwise_inplace_dsp_params_t *params, const int32_t *channels,
                                           const tg_dims_t *input_dims, const int8_t *input,
                                           const tg_dims_t *filter_dims, const int32_t *filter,
                                           const tg_dims_t *output_dims, int8_t *output, void *ring)
{
    tg_depthwise_conv_s8_inplace_dsp_rows_channels(params, channels, input_dims, input, filter_dims, filter,
                                                   output_dims, output, ring, 0, input_dims->c);
}

void tg_depthwise_conv_s8_inplace_dsp_rows_channels(const tg_depthwise_inplace_dsp_params_t *params,
                                                    const int32_t *channels, const tg_dims_t *input_dims,
                                                    const int8_t *input_at_first, const tg_dims_t *filter_dims,
                                                    const int32_t *filter, const tg_dims_t *output_dims,
                                                    int8_t *output_at_first, void *ring,
                                                    int32_t first_channel, int32_t end_channel)
{
    /* the pointers name channel first_channel of pixel 0: step back to channel 0's */
    const int8_t *const input = input_at_first - first_channel;
    int8_t *const output = output_at_first - first_channel;
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_depthwise_inplace_dsp_params_t p = *params;
    const tg_dims_t in = *input_dims;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w, pad_h = p.padding.h, pad_w = p.padding.w;
    const tg_wide_epilogue_t e = tg_wide_epilogue(p.output_offset, p.activation);
    const int32_t c_all = in.c, pixels = in.h * in.w, out_step = c_all >> 2;
    group_t g = {(tg_u32_alias_t *)ring, in.w + f_w - 1, 0x01010101u * (uint8_t)(int8_t)-p.input_offset, 0, 0};

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * pixels * c_all;
        int8_t *out_batch = output + b * pixels * c_all;
        for (int32_t c = first_channel; c < end_channel; c += 4) {
            g.channel = channels + c * TG_WIDE_CHANNEL_WORDS;
            g.w_c = filter + (c >> 2) * 2 * f_h * f_w;
            const int8_t *in_c = in_batch + c;
            tg_u32_alias_t *out_c = (tg_u32_alias_t *)(void *)(out_batch + c);
            for (int32_t y = -pad_h; y < f_h - 1 - pad_h; ++y) {  /* the first window's rows but its last */
                fill_row(&g, in_c, &in, f_h, pad_h, pad_w, y);
            }
            for (int32_t oy = 0; oy < in.h; ++oy, out_c += in.w * out_step) {
                fill_row(&g, in_c, &in, f_h, pad_h, pad_w, oy + f_h - 1 - pad_h);  /* the window's last row */
                if (f_h == 3 && f_w == 3) {
                    rows3x3(&g, oy, in.w, e, out_c, out_step);
                } else {
                    row_any(&g, oy, f_h, f_w, in.w, e, out_c, out_step);
                }
            }
        }
    }
}
