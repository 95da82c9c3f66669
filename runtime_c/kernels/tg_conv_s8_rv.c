/* CONV_2D, int8, ungrouped: tg_conv_s8's register-blocked variant for cores without SIMD
 * (tinygen/tg_rv.h), also FULLY_CONNECTED's (a 1x1 convolution over the batches).
 *
 * Two output pixels whose windows lie inside the input (undilated) are computed together, TG_RV_ROWS
 * channels per inner loop: 2 input bytes and 8 weight bytes loaded for 16 multiply-adds, and each
 * filter row is one contiguous run in input and weights. Their accumulators start from the folded
 * bias, so the input offset is never added. Any other pixel is computed alone over its valid taps,
 * from the plain bias, with the offset added (the reference's arithmetic).
 */
#include "tinygen/tg_kernels.h"
#include "tg_rv_dot.h"

TG_RV_NO_EARLY_SCHEDULING

typedef struct {
    int32_t in_h, in_w, c;
    int32_t f_h, f_w;
    int32_t stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
    int32_t out_c, taps;  /* taps: f_h * f_w * c, one block's weight bytes per channel */
    int32_t input_offset;
    tg_rv_epilogue_t epilogue;
} geometry_t;

/* The taps of a window that lie in the input: filter rows [fy0, fy1), columns [fx0, fx1). */
typedef struct {
    int32_t fy0, fy1, fx0, fx1;
} taps_t;

static taps_t valid_taps(const geometry_t *g, int32_t y0, int32_t x0)
{
    taps_t t = {0, g->f_h, 0, g->f_w};
    if (y0 >= 0 && x0 >= 0 && y0 + g->f_h <= g->in_h && x0 + g->f_w <= g->in_w) {
        return t;  /* the common case, without tg_valid_taps' loops */
    }
    tg_valid_taps(y0, 1, g->f_h, g->in_h, &t.fy0, &t.fy1);
    tg_valid_taps(x0, 1, g->f_w, g->in_w, &t.fx0, &t.fx1);
    if (t.fx0 >= t.fx1) {
        t.fy1 = t.fy0;  /* wholly in the padding: no taps */
    }
    return t;
}

static int same_taps(taps_t a, taps_t b)
{
    return a.fy0 == b.fy0 && a.fy1 == b.fy1 && a.fx0 == b.fx0 && a.fx1 == b.fx1;
}

static int whole(const geometry_t *g, taps_t t)
{
    return t.fy0 == 0 && t.fy1 == g->f_h && t.fx0 == 0 && t.fx1 == g->f_w;
}

/* Two undilated windows with the same valid taps (x0, x1: their first valid input bytes).
 * offset: 0 for whole windows (their accumulators start from the folded bias,
 * word 0), the input offset for windows over the padding (from the plain bias, word 1). Inlined
 * with a constant offset 0 for the whole windows, so that loop has no addition. */
static inline __attribute__((always_inline)) void pair_window(const geometry_t *g, const int8_t *x0,
                                                              const int8_t *x1, taps_t t, int32_t offset,
                                                              const int8_t *filter, const int32_t *channels,
                                                              int8_t *out0, int8_t *out1)
{
    const int32_t c = g->c, run = (t.fx1 - t.fx0) * c, row_step = g->in_w * c;
    const int32_t skip = (g->f_w - (t.fx1 - t.fx0)) * c * TG_RV_ROWS;  /* weights of the invalid columns */
    const int32_t word = offset == 0 ? 0 : 1;
    for (int32_t oc = 0; oc < g->out_c; oc += TG_RV_ROWS) {
        const int32_t *channel = channels + oc * TG_RV_CHANNEL_WORDS;
        tg_rv_acc8_t acc = tg_rv_start(channel, word), bcc = acc;
        const int8_t *w = filter + oc * g->taps + (t.fy0 * g->f_w + t.fx0) * c * TG_RV_ROWS;
        const int8_t *p = x0, *q = x1;
        for (int32_t fy = t.fy0; fy < t.fy1; ++fy) {
            const int8_t *pk = p, *qk = q;
#pragma GCC unroll 4
            for (int32_t k = 0; k < run; ++k) {
                const int32_t u = pk[k] + offset, v = qk[k] + offset;
                TG_RV_MAC8X2(acc, bcc, u, v, w);
                w += TG_RV_ROWS;
            }
            w += skip;
            p += row_step;
            q += row_step;
        }
        const int32_t rows = g->out_c - oc < TG_RV_ROWS ? g->out_c - oc : TG_RV_ROWS;
        tg_rv_outputs2(acc, bcc, channel, rows, g->epilogue, out0 + oc, out1 + oc);
    }
}

static void pair_interior(const geometry_t *g, const int8_t *x0, const int8_t *x1, const int8_t *filter,
                          const int32_t *channels, int8_t *out0, int8_t *out1)
{
    const taps_t t = {0, g->f_h, 0, g->f_w};
    pair_window(g, x0, x1, t, 0, filter, channels, out0, out1);
}

static void pair_border(const geometry_t *g, const int8_t *x0, const int8_t *x1, taps_t t, const int8_t *filter,
                        const int32_t *channels, int8_t *out0, int8_t *out1)
{
    pair_window(g, x0, x1, t, g->input_offset, filter, channels, out0, out1);
}

/* One interior window, undilated, from the folded bias. */
static void single_interior(const geometry_t *g, const int8_t *x0, const int8_t *filter, const int32_t *channels,
                            int8_t *out)
{
    const int32_t run = g->f_w * g->c, row_step = g->in_w * g->c, f_h = g->f_h;
    for (int32_t oc = 0; oc < g->out_c; oc += TG_RV_ROWS) {
        const int32_t *channel = channels + oc * TG_RV_CHANNEL_WORDS;
        tg_rv_acc8_t acc = tg_rv_start(channel, 0);
        const int8_t *w = filter + oc * g->taps;
        const int8_t *p = x0;
        for (int32_t fy = 0; fy < f_h; ++fy) {
#pragma GCC unroll 4
            for (int32_t k = 0; k < run; ++k) {
                const int32_t u = p[k];
                TG_RV_MAC8(acc, u, w);
                w += TG_RV_ROWS;
            }
            p += row_step;
        }
        const int32_t rows = g->out_c - oc < TG_RV_ROWS ? g->out_c - oc : TG_RV_ROWS;
        tg_rv_outputs(acc, channel, rows, g->epilogue, out + oc);
    }
}

/* Any window (over the padding, or dilated): its valid taps, from the plain bias, offset added. */
static void single_any(const geometry_t *g, const int8_t *in_batch, int32_t y0, int32_t x0, const int8_t *filter,
                       const int32_t *channels, int8_t *out)
{
    int32_t fy_first, fy_end, fx_first, fx_end;
    tg_valid_taps(y0, g->dil_h, g->f_h, g->in_h, &fy_first, &fy_end);
    tg_valid_taps(x0, g->dil_w, g->f_w, g->in_w, &fx_first, &fx_end);
    const int32_t c = g->c, offset = g->input_offset;
    for (int32_t oc = 0; oc < g->out_c; oc += TG_RV_ROWS) {
        const int32_t *channel = channels + oc * TG_RV_CHANNEL_WORDS;
        tg_rv_acc8_t acc = tg_rv_start(channel, 1);
        const int8_t *block = filter + oc * g->taps;
        for (int32_t fy = fy_first; fy < fy_end && fx_first < fx_end; ++fy) {
            const int8_t *row = in_batch + (y0 + g->dil_h * fy) * g->in_w * c;
            for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                const int8_t *x = row + (x0 + g->dil_w * fx) * c;
                const int8_t *w = block + (fy * g->f_w + fx) * c * TG_RV_ROWS;
                for (int32_t k = 0; k < c; ++k) {
                    const int32_t u = x[k] + offset;
                    TG_RV_MAC8(acc, u, w);
                    w += TG_RV_ROWS;
                }
            }
        }
        const int32_t rows = g->out_c - oc < TG_RV_ROWS ? g->out_c - oc : TG_RV_ROWS;
        tg_rv_outputs(acc, channel, rows, g->epilogue, out + oc);
    }
}

static geometry_t geometry(const tg_conv_rv_params_t *params, const tg_dims_t *input_dims,
                           const tg_dims_t *filter_dims, const tg_dims_t *output_dims)
{
    const geometry_t g = {
        input_dims->h, input_dims->w, input_dims->c, filter_dims->h, filter_dims->w,
        params->stride.h, params->stride.w, params->padding.h, params->padding.w,
        params->dilation.h, params->dilation.w, output_dims->c,
        filter_dims->h * filter_dims->w * filter_dims->c, params->input_offset,
        {params->output_offset, params->activation.min, params->activation.max, params->folded_rounding},
    };
    return g;
}

void tg_conv_s8_rv(const tg_conv_rv_params_t *params, const int32_t *channels,
                   const tg_dims_t *input_dims, const int8_t *input,
                   const tg_dims_t *filter_dims, const int8_t *filter,
                   const tg_dims_t *output_dims, int8_t *output)
{
    const geometry_t g = geometry(params, input_dims, filter_dims, output_dims);
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = g.out_c;
    const int32_t pixels = out_h * out_w;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * g.in_h * g.in_w * g.c;
        int8_t *out = output + b * pixels * out_c;
        int32_t oy = 0, ox = 0;
        taps_t t = valid_taps(&g, -g.pad_h, -g.pad_w);  /* the current pixel's (undilated) */
        for (int32_t p = 0; p < pixels;) {
            const int32_t y0 = oy * g.stride_h - g.pad_h, x0 = ox * g.stride_w - g.pad_w;
            /* the next pixel in output order (maybe on the next row) */
            int32_t ny = oy, nx = ox + 1;
            if (nx == out_w) {
                nx = 0;
                ++ny;
            }
            const int32_t y1 = ny * g.stride_h - g.pad_h, x1 = nx * g.stride_w - g.pad_w;
            int32_t step = 1;
            if (g.dil_h != 1 || g.dil_w != 1) {
                single_any(&g, in_batch, y0, x0, filter, channels, out);
            } else {
                const int8_t *at0 = in_batch + ((y0 + t.fy0) * g.in_w + x0 + t.fx0) * g.c;
                const taps_t next = valid_taps(&g, y1, x1);
                if (p + 1 < pixels && same_taps(t, next)) {
                    const int8_t *at1 = in_batch + ((y1 + t.fy0) * g.in_w + x1 + t.fx0) * g.c;
                    if (whole(&g, t)) {
                        pair_interior(&g, at0, at1, filter, channels, out, out + out_c);
                    } else {
                        pair_border(&g, at0, at1, t, filter, channels, out, out + out_c);
                    }
                    step = 2;
                } else if (whole(&g, t)) {
                    single_interior(&g, at0, filter, channels, out);
                } else {
                    single_any(&g, in_batch, y0, x0, filter, channels, out);
                }
                t = next;
            }
            p += step;
            out += step * out_c;
            ox += step;
            while (ox >= out_w) {
                ox -= out_w;
                ++oy;
            }
            if (step == 2 && p < pixels && g.dil_h == 1 && g.dil_w == 1) {
                t = valid_taps(&g, oy * g.stride_h - g.pad_h, ox * g.stride_w - g.pad_w);
            }
        }
    }
}

/* A 1x1 convolution (stride 1, no padding) over its own input, as tg_conv_1x1_s8_inplace: each block
 * of two input pixels (one at the end) is copied to `pixels_copy` (2 * in_c bytes) before its output
 * pixels are written, at q * out_c <= q * in_c. */
void tg_conv_1x1_s8_inplace_rv(const tg_conv_rv_params_t *params, const int32_t *channels,
                               const tg_dims_t *input_dims, const int8_t *input,
                               const tg_dims_t *filter_dims, const int8_t *filter,
                               const tg_dims_t *output_dims, int8_t *output, int8_t *pixels_copy)
{
    const geometry_t g = geometry(params, input_dims, filter_dims, output_dims);
    const int32_t c = g.c, out_c = g.out_c;
    const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
    for (int32_t p = 0; p < pixels; p += 2) {
        const int32_t block = p + 1 < pixels ? 2 : 1;
        const int8_t *from = input + p * c;
        for (int32_t i = 0; i < block * c; ++i) {
            pixels_copy[i] = from[i];
        }
        int8_t *out = output + p * out_c;
        if (block == 2) {
            pair_interior(&g, pixels_copy, pixels_copy + c, filter, channels, out, out + out_c);
        } else {
            single_interior(&g, pixels_copy, filter, channels, out);
        }
    }
}
