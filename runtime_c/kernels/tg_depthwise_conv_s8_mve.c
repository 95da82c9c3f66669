/* DEPTHWISE_CONV_2D, int8, depth multiplier 1: tg_depthwise_conv_s8's Helium variant (tinygen/tg_mve.h).
 *
 * Channels are independent, so the vector runs across them: four channels per int32x4, one VLDRB.S32
 * of the input and one of the weights, VMUL and VADD per tap (MVE has no vector-by-vector integer
 * VMLA). Windows inside the input start from 0 and the epilogue adds the folded bias; an undilated
 * 3x3 window over whole blocks of four channels is unrolled. A window that overlaps the padding
 * runs over its valid taps only, adding the input offset to x, and starts from the block's pad
 * correction (zero point * the channel's weight sum = bias - bias'), so the folded bias the
 * epilogue adds becomes the plain one. The last block of a channel count not a multiple of four
 * loads and stores its first lanes only (VCTP predication).
 */
#include "tinygen/tg_kernels.h"
#include "tg_dot_s8.h"
#include "tg_mve_ops.h"

/* acc + x[0..3] * w[0..3], four channels. */
static inline tg_v32_t tap(tg_v32_t acc, const int8_t *x, const int8_t *w)
{
    return tg_v32_mla(acc, tg_v32_load_s8(x), tg_v32_load_s8(w));
}

/* An undilated 3x3 window inside the input, four channels: x at its first tap, w at the block's nine taps. */
static inline tg_v32_t window_3x3(const int8_t *x, int32_t row_step, int32_t tap_step, const int8_t *w)
{
    const int8_t *r1 = x + row_step, *r2 = r1 + row_step;
    tg_v32_t acc = tg_v32_mla(tg_v32_dup(0), tg_v32_load_s8(x), tg_v32_load_s8(w));
    acc = tap(acc, x + tap_step, w + 4);
    acc = tap(acc, x + 2 * tap_step, w + 8);
    acc = tap(acc, r1, w + 12);
    acc = tap(acc, r1 + tap_step, w + 16);
    acc = tap(acc, r1 + 2 * tap_step, w + 20);
    acc = tap(acc, r2, w + 24);
    acc = tap(acc, r2 + tap_step, w + 28);
    return tap(acc, r2 + 2 * tap_step, w + 32);
}

void tg_depthwise_conv_s8_mve(const tg_depthwise_mve_params_t *params, const int32_t *channels,
                              const tg_dims_t *input_dims, const int8_t *input,
                              const tg_dims_t *filter_dims, const int8_t *filter,
                              const tg_dims_t *output_dims, int8_t *output)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_depthwise_mve_params_t p = *params;
    const tg_dims_t in = *input_dims, out = *output_dims;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w, taps = f_h * f_w, c_all = in.c;
    const tg_mve_epilogue_t e = {p.output_offset, p.activation.min, p.activation.max};
    const int32_t input_offset = -p.pad_value;
    const int32_t row_step = p.dilation.h * in.w * c_all, tap_step = p.dilation.w * c_all;
    const int fast_3x3 = f_h == 3 && f_w == 3 && p.dilation.h == 1 && p.dilation.w == 1 && (c_all & 3) == 0;
    int8_t *out_px = output;
    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_batch = input + b * in.h * in.w * c_all;
        for (int32_t oy = 0; oy < out.h; ++oy) {
            const int32_t y0 = oy * p.stride.h - p.padding.h;
            int32_t fy_first, fy_end;
            tg_valid_taps(y0, p.dilation.h, f_h, in.h, &fy_first, &fy_end);
            for (int32_t ox = 0; ox < out.w; ++ox, out_px += c_all) {
                const int32_t x0 = ox * p.stride.w - p.padding.w;
                int32_t fx_first, fx_end;
                tg_valid_taps(x0, p.dilation.w, f_w, in.w, &fx_first, &fx_end);
                const int whole = fy_first == 0 && fy_end == f_h && fx_first == 0 && fx_end == f_w;
                const int32_t *block_words = channels;
                const int8_t *w = filter;
                if (whole && fast_3x3) {
                    const int8_t *x = in_batch + (y0 * in.w + x0) * c_all;
                    for (int32_t c = 0; c < c_all; c += 4, x += 4, w += 36, block_words += TG_MVE_DW_BLOCK_WORDS) {
                        const tg_mve_block_t block = tg_mve_block(block_words);
                        tg_v32_store_s8(out_px + c, tg_mve_requantize(window_3x3(x, row_step, tap_step, w), &block, e));
                    }
                    continue;
                }
                /* The valid taps only; a window inside the input needs no offset nor correction. */
                const int any = fy_first < fy_end && fx_first < fx_end;
                const int8_t *first = any ? in_batch + ((y0 + p.dilation.h * fy_first) * in.w + x0 + p.dilation.w * fx_first) * c_all
                                          : in_batch;
                const int32_t offset = whole ? 0 : input_offset;
                for (int32_t c = 0; c < c_all; c += 4, w += 4 * taps, block_words += TG_MVE_DW_BLOCK_WORDS) {
                    const int32_t lanes = c_all - c < 4 ? c_all - c : 4;
                    tg_v32_t acc = whole ? tg_v32_dup(0) : tg_v32_load(block_words + TG_MVE_BLOCK_WORDS);
                    const int8_t *row = first + c;
                    for (int32_t fy = fy_first; fy < fy_end; ++fy, row += row_step) {
                        const int8_t *xt = row, *wt = w + 4 * (fy * f_w + fx_first);
                        for (int32_t fx = fx_first; fx < fx_end; ++fx, xt += tap_step, wt += 4) {
                            const tg_v32_t xv = tg_v32_add_n(tg_v32_load_s8_first(xt, lanes), offset);
                            acc = tg_v32_mla(acc, xv, tg_v32_load_s8(wt));
                        }
                    }
                    const tg_mve_block_t block = tg_mve_block(block_words);
                    tg_mve_store(out_px + c, tg_mve_requantize(acc, &block, e), lanes);
                }
            }
        }
    }
}
