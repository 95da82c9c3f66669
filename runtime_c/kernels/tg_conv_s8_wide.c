/* CONV_2D, int8, per-channel requantization, ungrouped: tg_conv_s8's wide variant (tinygen/tg_wide.h).
 *
 * Each output pixel's window is widened to an int16 column in scratch (im2col; taps in the padding
 * take the input's zero point, whose folded contribution is 0), then four output channels per inner
 * loop, loads and SMLADs only. For a 1x1 convolution the column is the pixel's channels.
 */
#include "tinygen/tg_kernels.h"
#include "tg_wide_dot.h"

/* The window of output pixel (oy, ox) as depth_padded int16 in column. */
static void im2col(const tg_conv_wide_params_t *params, const tg_dims_t *input_dims, const int8_t *in_batch,
                   const tg_dims_t *filter_dims, int32_t oy, int32_t ox, tg_s16_alias_t *column)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t dil_h = params->dilation.h, dil_w = params->dilation.w;
    const int32_t pad_value = -params->input_offset;
    const int32_t y0 = oy * params->stride.h - params->padding.h;
    const int32_t x0 = ox * params->stride.w - params->padding.w;
    int32_t fx_first, fx_end;
    tg_valid_taps(x0, dil_w, f_w, in_w, &fx_first, &fx_end);
    tg_s16_alias_t *dst = column;
    for (int32_t fy = 0; fy < f_h; ++fy) {
        const int32_t y = y0 + dil_h * fy;
        if (y < 0 || y >= in_h || fx_first >= fx_end) {
            dst = tg_fill_s16(dst, pad_value, f_w * c);
            continue;
        }
        dst = tg_fill_s16(dst, pad_value, fx_first * c);
        const int8_t *row = in_batch + y * in_w * c;
        if (dil_w == 1) {
            dst = tg_widen_s8(row + (x0 + fx_first) * c, dst, (fx_end - fx_first) * c);
        } else {
            for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                dst = tg_widen_s8(row + (x0 + dil_w * fx) * c, dst, c);
            }
        }
        dst = tg_fill_s16(dst, pad_value, (f_w - fx_end) * c);
    }
    tg_fill_s16(dst, 0, params->depth_padded - f_h * f_w * c);
}

void tg_conv_s8_wide(const tg_conv_wide_params_t *params, const int32_t *channels,
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
    const int32_t out_c = output_dims->c;
    const int32_t depth_padded = params->depth_padded, blocks = depth_padded >> 2;
    const int32_t block_words = TG_WIDE_ROWS * (depth_padded >> 1);
    const tg_u32_alias_t *column = (const tg_u32_alias_t *)scratch;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * input_dims->h * input_dims->w * input_dims->c;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                im2col(params, input_dims, in_batch, filter_dims, oy, ox, (tg_s16_alias_t *)scratch);
                const int32_t *w = filter;
                for (int32_t oc = 0; oc < out_c; oc += TG_WIDE_ROWS) {
                    const tg_acc4_t acc =
                        tg_wide_dot1x4(column, w, blocks, tg_wide_start(channels + oc * TG_WIDE_CHANNEL_WORDS, 0));
                    w += block_words;
                    const int32_t rows = out_c - oc < TG_WIDE_ROWS ? out_c - oc : TG_WIDE_ROWS;
                    output = tg_wide_outputs(acc, channels + oc * TG_WIDE_CHANNEL_WORDS, rows, epilogue, output);
                }
            }
        }
    }
}
