/* DEPTHWISE_CONV_2D, int8, depth multiplier 1: tg_depthwise_conv_s8's variants for cores without SIMD
 * (tinygen/tg_rv.h).
 *
 * Out of place: output pixels in raster order (tg_depthwise_conv_s8's overlap contract holds), a 3x3
 * window inside the input unrolled 4 channels at a time (a byte load of input and weight, MUL, ADD per
 * MAC, from the folded bias); windows over the padding and other filters take their valid taps (found
 * once per window) 4 channels at a time, the channels after the last whole block one by one, from the
 * plain bias, offset added.
 * In place: channel by channel over a copy of the channel's plane (the channel's words stay put), padded
 * with the input's zero point where it fits on the stack, 3x3 windows from three row pointers with
 * constant offsets, two at a time with stride 1.
 */
#include "tinygen/tg_kernels.h"
#include "tg_rv_dot.h"

TG_RV_NO_EARLY_SCHEDULING

typedef struct {
    int32_t in_h, in_w;
    int32_t c;       /* the input's channel stride: its channel count, or 1 for a copied plane */
    int32_t out_c;   /* the output's channel count */
    int32_t f_h, f_w;
    int32_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int32_t out_h, out_w;
    int32_t input_offset;
    tg_rv_epilogue_t epilogue;
} geometry_t;

/* Any window of channel `ch` (its first input byte at in_ch): valid taps, plain bias, offset added. */
__attribute__((noinline)) static uint32_t window_any(const geometry_t *g, const int8_t *in_ch, int32_t y0, int32_t x0, const int8_t *w,
                           uint32_t acc)
{
    int32_t fy_first, fy_end, fx_first, fx_end;
    tg_valid_taps(y0, g->dil_h, g->f_h, g->in_h, &fy_first, &fy_end);
    tg_valid_taps(x0, g->dil_w, g->f_w, g->in_w, &fx_first, &fx_end);
    for (int32_t fy = fy_first; fy < fy_end; ++fy) {
        const int8_t *row = in_ch + (y0 + g->dil_h * fy) * g->in_w * g->c;
        for (int32_t fx = fx_first; fx < fx_end; ++fx) {
            const int32_t x = row[(x0 + g->dil_w * fx) * g->c] + g->input_offset;
            acc += (uint32_t)(x * (int32_t)w[fy * g->f_w + fx]);
        }
    }
    return acc;
}

static int interior(const geometry_t *g, int32_t y0, int32_t x0, int32_t width)
{
    return g->dil_h == 1 && g->dil_w == 1 && y0 >= 0 && x0 >= 0 && y0 + g->f_h <= g->in_h && x0 + width <= g->in_w;
}

/* The output columns [first, end) whose window (span input columns from x * stride - padding)
 * lies inside [0, size), as an interval. */
static void inside(int32_t out_size, int32_t stride, int32_t padding, int32_t span, int32_t size, int32_t *first,
                   int32_t *end)
{
    int32_t lo = 0;
    while (lo < out_size && lo * stride - padding < 0) {
        ++lo;
    }
    int32_t hi = lo;
    while (hi < out_size && hi * stride - padding + span <= size) {
        ++hi;
    }
    *first = lo;
    *end = hi;
}

/* One channel of an undilated 3x3 filter, row by row: the border columns by window_any, the
 * interior ones unrolled from three row pointers, two at a time with stride 1 (four input columns
 * for two windows). `c` is the input's channel stride; inlined with c = 1 for a copied plane, where
 * every load has a constant offset. */
static inline __attribute__((always_inline)) void channel_3x3(const geometry_t *g, const int8_t *in_ch, int32_t c,
                                                              const int8_t *w, const int32_t *channel,
                                                              int8_t *out_ch)
{
    const int32_t row = g->in_w * c, sw = g->stride_w, step = sw * c, oc = g->out_c;
    const uint32_t folded = (uint32_t)channel[TG_RV_WORD_FOLDED], plain = (uint32_t)channel[TG_RV_WORD_PLAIN];
    const tg_rv_epilogue_t e = g->epilogue;
    int32_t oy_first, oy_end, ox_first, ox_end;
    inside(g->out_h, g->stride_h, g->pad_h, 3, g->in_h, &oy_first, &oy_end);
    inside(g->out_w, sw, g->pad_w, 3, g->in_w, &ox_first, &ox_end);
    for (int32_t oy = 0; oy < g->out_h; ++oy) {
        const int32_t y0 = oy * g->stride_h - g->pad_h;
        int8_t *out = out_ch + oy * g->out_w * oc;
        const int interior_row = oy >= oy_first && oy < oy_end;
        int32_t ox = 0;
        for (; ox < (interior_row ? ox_first : g->out_w); ++ox) {
            *out = tg_rv_output(window_any(g, in_ch, y0, ox * sw - g->pad_w, w, plain), channel, e);
            out += oc;
        }
        if (!interior_row) {
            continue;
        }
        const int8_t *r0 = in_ch + y0 * row + (ox * sw - g->pad_w) * c;
        const int8_t *r1 = r0 + row, *r2 = r1 + row;
        if (sw == 1) {
            for (; ox + 2 <= ox_end; ox += 2) {
                const int32_t k0 = w[0], k1 = w[1], k2 = w[2];
                int32_t x0 = r0[0], x1 = r0[c], x2 = r0[2 * c], x3 = r0[3 * c];
                uint32_t a = folded + (uint32_t)(x0 * k0 + x1 * k1 + x2 * k2);
                uint32_t b = folded + (uint32_t)(x1 * k0 + x2 * k1 + x3 * k2);
                const int32_t k3 = w[3], k4 = w[4], k5 = w[5];
                x0 = r1[0];
                x1 = r1[c];
                x2 = r1[2 * c];
                x3 = r1[3 * c];
                a += (uint32_t)(x0 * k3 + x1 * k4 + x2 * k5);
                b += (uint32_t)(x1 * k3 + x2 * k4 + x3 * k5);
                const int32_t k6 = w[6], k7 = w[7], k8 = w[8];
                x0 = r2[0];
                x1 = r2[c];
                x2 = r2[2 * c];
                x3 = r2[3 * c];
                a += (uint32_t)(x0 * k6 + x1 * k7 + x2 * k8);
                b += (uint32_t)(x1 * k6 + x2 * k7 + x3 * k8);
                out[0] = tg_rv_output(a, channel, e);
                out[oc] = tg_rv_output(b, channel, e);
                out += 2 * oc;
                r0 += 2 * c;
                r1 += 2 * c;
                r2 += 2 * c;
            }
        }
        for (; ox < ox_end; ++ox) {
            uint32_t a = folded + (uint32_t)(r0[0] * w[0] + r0[c] * w[1] + r0[2 * c] * w[2]);
            a += (uint32_t)(r1[0] * w[3] + r1[c] * w[4] + r1[2 * c] * w[5]);
            a += (uint32_t)(r2[0] * w[6] + r2[c] * w[7] + r2[2 * c] * w[8]);
            *out = tg_rv_output(a, channel, e);
            out += oc;
            r0 += step;
            r1 += step;
            r2 += step;
        }
        for (; ox < g->out_w; ++ox) {
            *out = tg_rv_output(window_any(g, in_ch, y0, ox * sw - g->pad_w, w, plain), channel, e);
            out += oc;
        }
    }
}

/* One channel, any filter: interior windows from the folded bias, the others as window_any. */
static void channel_any(const geometry_t *g, const int8_t *in_ch, const int8_t *w, const int32_t *channel,
                        int8_t *out_ch)
{
    const int32_t c = g->c;
    for (int32_t oy = 0; oy < g->out_h; ++oy) {
        const int32_t y0 = oy * g->stride_h - g->pad_h;
        int8_t *out = out_ch + oy * g->out_w * g->out_c;
        for (int32_t ox = 0; ox < g->out_w; ++ox) {
            const int32_t x0 = ox * g->stride_w - g->pad_w;
            uint32_t a;
            if (interior(g, y0, x0, g->f_w)) {
                a = (uint32_t)channel[TG_RV_WORD_FOLDED];
                const int8_t *p = in_ch + (y0 * g->in_w + x0) * c;
                const int8_t *k = w;
                for (int32_t fy = 0; fy < g->f_h; ++fy) {
                    for (int32_t fx = 0; fx < g->f_w; ++fx) {
                        a += (uint32_t)(p[fx * c] * (int32_t)*k++);
                    }
                    p += g->in_w * c;
                }
            } else {
                a = window_any(g, in_ch, y0, x0, w, (uint32_t)channel[TG_RV_WORD_PLAIN]);
            }
            out[0] = tg_rv_output(a, channel, g->epilogue);
            out += g->out_c;
        }
    }
}

static geometry_t geometry(const tg_conv_rv_params_t *params, const tg_dims_t *input_dims,
                           const tg_dims_t *filter_dims, const tg_dims_t *output_dims, int32_t input_step)
{
    const geometry_t g = {
        input_dims->h, input_dims->w, input_step, output_dims->c, filter_dims->h, filter_dims->w,
        params->stride.h, params->stride.w, params->padding.h, params->padding.w,
        params->dilation.h, params->dilation.w, output_dims->h, output_dims->w, params->input_offset,
        {params->output_offset, params->activation.min, params->activation.max, params->folded_rounding},
    };
    return g;
}

static void channel(const geometry_t *g, const int8_t *in_ch, const int8_t *filter, const int32_t *channels,
                    int32_t ch, int8_t *out_ch)
{
    const int8_t *w = filter + ch * g->f_h * g->f_w;
    const int32_t *words = channels + ch * TG_RV_CHANNEL_WORDS;
    if (g->f_h != 3 || g->f_w != 3 || g->dil_h != 1 || g->dil_w != 1) {
        channel_any(g, in_ch, w, words, out_ch);
    } else if (g->c == 1) {
        channel_3x3(g, in_ch, 1, w, words, out_ch);  /* a copied plane: constant offsets */
    } else {
        channel_3x3(g, in_ch, g->c, w, words, out_ch);
    }
}

/* --- the out-of-place form: output pixels in raster order, 4 channels at a time ------------------ */

/* acc += x[j] * w[j] for the 4 channels of a block. */
#define TG_RV_DW_TAP4(a, xp, w)                                                                            \
    do {                                                                                                 \
        (a).a0 += (uint32_t)((xp)[0] * (int32_t)(w)[0]);                                                 \
        (a).a1 += (uint32_t)((xp)[1] * (int32_t)(w)[1]);                                                 \
        (a).a2 += (uint32_t)((xp)[2] * (int32_t)(w)[2]);                                                 \
        (a).a3 += (uint32_t)((xp)[3] * (int32_t)(w)[3]);                                                 \
    } while (0)

/* One channel's window over the padding (or any window): filter laid out per block of 4 channels,
 * tap by tap, one byte per channel (`lane` its channel in the block). */
__attribute__((noinline)) static uint32_t raster_any(const geometry_t *g, const int8_t *in_ch, int32_t y0,
                                                      int32_t x0, const int8_t *block, int32_t lane, uint32_t acc)
{
    int32_t fy_first, fy_end, fx_first, fx_end;
    tg_valid_taps(y0, g->dil_h, g->f_h, g->in_h, &fy_first, &fy_end);
    tg_valid_taps(x0, g->dil_w, g->f_w, g->in_w, &fx_first, &fx_end);
    for (int32_t fy = fy_first; fy < fy_end; ++fy) {
        const int8_t *row = in_ch + (y0 + g->dil_h * fy) * g->in_w * g->c;
        for (int32_t fx = fx_first; fx < fx_end; ++fx) {
            const int32_t x = row[(x0 + g->dil_w * fx) * g->c] + g->input_offset;
            acc += (uint32_t)(x * (int32_t)block[(fy * g->f_w + fx) * 4 + lane]);
        }
    }
    return acc;
}

/* acc += (x[j] + offset) * w[j] for the 4 channels of a block: a tap of a window over the padding. */
#define TG_RV_DW_TAP4_OFFSET(a, xp, w, offset)                                                             \
    do {                                                                                                 \
        (a).a0 += (uint32_t)(((xp)[0] + (offset)) * (int32_t)(w)[0]);                                   \
        (a).a1 += (uint32_t)(((xp)[1] + (offset)) * (int32_t)(w)[1]);                                   \
        (a).a2 += (uint32_t)(((xp)[2] + (offset)) * (int32_t)(w)[2]);                                   \
        (a).a3 += (uint32_t)(((xp)[3] + (offset)) * (int32_t)(w)[3]);                                   \
    } while (0)

/* A window over the padding (or of any other filter), the channels of whole blocks 4 at a time: its
 * valid taps found once for all blocks, each block from the plain bias with the offset added. */
__attribute__((noinline)) static void blocks_any(const geometry_t *g, const int8_t *in_batch, int32_t y0,
                                                  int32_t x0, const int8_t *filter, const int32_t *channels,
                                                  int32_t full, int8_t *out)
{
    int32_t fy_first, fy_end, fx_first, fx_end;
    tg_valid_taps(y0, g->dil_h, g->f_h, g->in_h, &fy_first, &fy_end);
    tg_valid_taps(x0, g->dil_w, g->f_w, g->in_w, &fx_first, &fx_end);
    if (fx_first >= fx_end) {
        fy_end = fy_first;  /* wholly in the padding: no taps, and no address computed from them */
    }
    const int32_t c = g->c, taps = g->f_h * g->f_w, offset = g->input_offset;
    const int32_t row_step = g->dil_h * g->in_w * c, column_step = g->dil_w * c;
    const int32_t first_tap = fy_first * g->f_w + fx_first;
    const int8_t *first = in_batch + (fy_first < fy_end ? ((y0 + g->dil_h * fy_first) * g->in_w
                                                           + x0 + g->dil_w * fx_first) * c : 0);
    const tg_rv_epilogue_t e = g->epilogue;
    for (int32_t ch = 0; ch < full; ch += 4) {
        const int32_t *words = channels + ch * TG_RV_CHANNEL_WORDS;
        tg_rv_acc8_t a = tg_rv_start(words, TG_RV_WORD_PLAIN);  /* a0..a3 used */
        const int8_t *row = first + ch, *w_row = filter + ch * taps + first_tap * 4;
        for (int32_t fy = fy_first; fy < fy_end; ++fy) {
            const int8_t *x = row, *w = w_row;
            for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                TG_RV_DW_TAP4_OFFSET(a, x, w, offset);
                x += column_step;
                w += 4;
            }
            row += row_step;
            w_row += g->f_w * 4;
        }
        out[ch] = tg_rv_output(a.a0, words, e);
        out[ch + 1] = tg_rv_output(a.a1, words + TG_RV_CHANNEL_WORDS, e);
        out[ch + 2] = tg_rv_output(a.a2, words + 2 * TG_RV_CHANNEL_WORDS, e);
        out[ch + 3] = tg_rv_output(a.a3, words + 3 * TG_RV_CHANNEL_WORDS, e);
    }
}

void tg_depthwise_conv_s8_rv(const tg_conv_rv_params_t *params, const int32_t *channels,
                             const tg_dims_t *input_dims, const int8_t *input,
                             const tg_dims_t *filter_dims, const int8_t *filter,
                             const tg_dims_t *output_dims, int8_t *output)
{
    const geometry_t g = geometry(params, input_dims, filter_dims, output_dims, input_dims->c);
    const int32_t c = g.c, row = g.in_w * c, taps = g.f_h * g.f_w;
    const int32_t full = c & ~3;  /* channels in whole blocks of 4 */
    const int unrolled = g.f_h == 3 && g.f_w == 3 && g.dil_h == 1 && g.dil_w == 1;
    const tg_rv_epilogue_t e = g.epilogue;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * g.in_h * row;
        int8_t *out = output + b * g.out_h * g.out_w * c;
        for (int32_t oy = 0; oy < g.out_h; ++oy) {
            const int32_t y0 = oy * g.stride_h - g.pad_h;
            for (int32_t ox = 0; ox < g.out_w; ++ox) {
                const int32_t x0 = ox * g.stride_w - g.pad_w;
                int32_t ch = 0;
                if (unrolled && interior(&g, y0, x0, 3)) {
                    const int8_t *x = in_batch + y0 * row + x0 * c;
                    const int8_t *w = filter;
                    const int32_t *words = channels;
                    for (; ch < full; ch += 4) {
                        tg_rv_acc8_t a = tg_rv_start(words, TG_RV_WORD_FOLDED);  /* a0..a3 used */
                        const int8_t *r0 = x + ch, *r1 = r0 + row, *r2 = r1 + row;
                        TG_RV_DW_TAP4(a, r0, w);
                        TG_RV_DW_TAP4(a, r0 + c, w + 4);
                        TG_RV_DW_TAP4(a, r0 + 2 * c, w + 8);
                        TG_RV_DW_TAP4(a, r1, w + 12);
                        TG_RV_DW_TAP4(a, r1 + c, w + 16);
                        TG_RV_DW_TAP4(a, r1 + 2 * c, w + 20);
                        TG_RV_DW_TAP4(a, r2, w + 24);
                        TG_RV_DW_TAP4(a, r2 + c, w + 28);
                        TG_RV_DW_TAP4(a, r2 + 2 * c, w + 32);
                        out[ch] = tg_rv_output(a.a0, words, e);
                        out[ch + 1] = tg_rv_output(a.a1, words + TG_RV_CHANNEL_WORDS, e);
                        out[ch + 2] = tg_rv_output(a.a2, words + 2 * TG_RV_CHANNEL_WORDS, e);
                        out[ch + 3] = tg_rv_output(a.a3, words + 3 * TG_RV_CHANNEL_WORDS, e);
                        w += 36;
                        words += 4 * TG_RV_CHANNEL_WORDS;
                    }
                } else {
                    blocks_any(&g, in_batch, y0, x0, filter, channels, full, out);
                    ch = full;
                }
                for (; ch < c; ++ch) {  /* the channels after the last whole block */
                    const int32_t *words = channels + ch * TG_RV_CHANNEL_WORDS;
                    const uint32_t acc = raster_any(&g, in_batch + ch, y0, x0, filter + (ch >> 2) * taps * 4,
                                                    ch & 3, (uint32_t)words[TG_RV_WORD_PLAIN]);
                    out[ch] = tg_rv_output(acc, words, e);
                }
                out += c;
            }
        }
    }
}

/* A channel's plane with its padding, filled with the input's zero point, goes on the kernel's stack up
 * to this many bytes (TG_RV_DW_PADDED_PLANE in tinygen/kernels/variants_rv.py). A padding tap then
 * holds the zero point, whose contribution to the folded bias is -input_offset * w, exactly what the
 * reference's skipping it leaves out: every window lies inside and takes the unrolled path. */
#define TG_RV_DW_PADDED_PLANE 256

/* The same over its own input, as tg_depthwise_conv_s8_inplace: channel ch of the input is copied
 * into `plane` (in_h * in_w bytes), or into the padded plane on the stack where it fits, before
 * channel ch of the output is written over it (output element (q, ch) lies on input element (q, ch),
 * whose channel is already copied or is ch). */
void tg_depthwise_conv_s8_inplace_rv(const tg_conv_rv_params_t *params, const int32_t *channels,
                                     const tg_dims_t *input_dims, const int8_t *input,
                                     const tg_dims_t *filter_dims, const int8_t *filter,
                                     const tg_dims_t *output_dims, int8_t *output, int8_t *plane)
{
    tg_depthwise_conv_s8_inplace_rv_channels(params, channels, input_dims, input, filter_dims, filter, output_dims,
                                             output, plane, 0, output_dims->c);
}

void tg_depthwise_conv_s8_inplace_rv_channels(const tg_conv_rv_params_t *params, const int32_t *channels,
                                              const tg_dims_t *input_dims, const int8_t *input_at_first,
                                              const tg_dims_t *filter_dims, const int8_t *filter,
                                              const tg_dims_t *output_dims, int8_t *output_at_first, int8_t *plane,
                                              int32_t first_channel, int32_t end_channel)
{
    /* the pointers name channel first_channel of pixel 0: step back to channel 0's */
    const int8_t *const input = input_at_first - first_channel;
    int8_t *const output = output_at_first - first_channel;
    const geometry_t g = geometry(params, input_dims, filter_dims, output_dims, 1);
    const int32_t in_c = input_dims->c, plane_size = g.in_h * g.in_w;
    const int32_t padded_h = tg_padded_extent(g.out_h, g.stride_h, g.pad_h, g.dil_h, g.f_h, g.in_h);
    const int32_t padded_w = tg_padded_extent(g.out_w, g.stride_w, g.pad_w, g.dil_w, g.f_w, g.in_w);
    int8_t padded[TG_RV_DW_PADDED_PLANE];
    const int on_stack = g.out_h > 0 && g.out_w > 0 && padded_h * padded_w <= TG_RV_DW_PADDED_PLANE;
    geometry_t inner = g;  /* the padded plane's: no padding left */
    if (on_stack) {
        const int8_t zero_point = (int8_t)(-g.input_offset);
        for (int32_t i = 0; i < padded_h * padded_w; ++i) {
            padded[i] = zero_point;  /* the padding's; the copies below overwrite only the input's part */
        }
        inner.in_h = padded_h;
        inner.in_w = padded_w;
        inner.pad_h = 0;
        inner.pad_w = 0;
    }
    int8_t *const copy = on_stack ? padded + g.pad_h * padded_w + g.pad_w : plane;
    const int32_t copy_row = on_stack ? padded_w : g.in_w;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * plane_size * in_c;
        int8_t *out_batch = output + b * g.out_h * g.out_w * g.out_c;
        for (int32_t ch = first_channel; ch < end_channel; ++ch) {
            const int8_t *from = in_batch + ch;
            for (int32_t y = 0; y < g.in_h; ++y) {
                int8_t *to = copy + y * copy_row;
                for (int32_t x = 0; x < g.in_w; ++x) {
                    to[x] = *from;
                    from += in_c;
                }
            }
            channel(on_stack ? &inner : &g, on_stack ? padded : plane, filter, channels, ch, out_batch + ch);
        }
    }
}
