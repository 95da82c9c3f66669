/* CONV_2D, int8, per-channel requantization, ungrouped: tg_conv_s8's optimised twin.
 *
 * Two output channels at a time share each load of the input (tg_dot2_s8). Where a filter row lies
 * wholly inside the input and is not dilated, its taps are one contiguous run of f_w * c bytes in
 * both input and filter, so the dot product runs over the row at once; elsewhere tap by tap,
 * skipping taps in the padding as the reference does. No scratch memory.
 */
#include "tinygen/tg_kernels.h"
#include "tg_dot_s8.h"

/* Accumulate the window at (y0, x0) for filter rows f0 and f1 (f1 may equal f0). */
static inline void window_dot2(const tg_conv_params_t *params, const tg_dims_t *input_dims, const int8_t *in_batch,
                               const tg_dims_t *filter_dims, const int8_t *f0, const int8_t *f1,
                               int32_t y0, int32_t x0, uint32_t offsets, int32_t *acc0, int32_t *acc1)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t row_len = f_w * c;
    const int32_t x_last = x0 + params->dilation.w * (f_w - 1);
    const int row_inside = x0 >= 0 && x_last < in_w && params->dilation.w == 1;
    for (int32_t fy = 0; fy < f_h; ++fy) {
        const int32_t y = y0 + params->dilation.h * fy;
        if (y < 0 || y >= in_h) {
            continue;
        }
        const int8_t *in_row = in_batch + y * in_w * c;
        if (row_inside) {
            tg_dot2_s8(in_row + x0 * c, f0 + fy * row_len, f1 + fy * row_len, row_len,
                       params->input_offset, offsets, acc0, acc1);
            continue;
        }
        for (int32_t fx = 0; fx < f_w; ++fx) {
            const int32_t x = x0 + params->dilation.w * fx;
            if (x < 0 || x >= in_w) {
                continue;
            }
            const int32_t tap = (fy * f_w + fx) * c;
            tg_dot2_s8(in_row + x * c, f0 + tap, f1 + tap, c, params->input_offset, offsets, acc0, acc1);
        }
    }
}

void tg_conv_s8_fast(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                     const tg_dims_t *input_dims, const int8_t *input,
                     const tg_dims_t *filter_dims, const int8_t *filter,
                     const int32_t *bias,
                     const tg_dims_t *output_dims, int8_t *output)
{
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t filter_len = filter_dims->h * filter_dims->w * filter_dims->c;
    const uint32_t offsets = tg_pair_splat(params->input_offset);

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * input_dims->h * input_dims->w * input_dims->c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                int32_t oc = 0;
                for (; oc + 1 < out_c; oc += 2) {
                    const int8_t *f0 = filter + oc * filter_len;
                    int32_t acc0 = 0, acc1 = 0;
                    window_dot2(params, input_dims, in_batch, filter_dims, f0, f0 + filter_len, y0, x0, offsets,
                                &acc0, &acc1);
                    output[0] = tg_dot_output_s8(acc0, bias, oc, requant, params->output_offset, params->activation);
                    output[1] = tg_dot_output_s8(acc1, bias, oc + 1, requant, params->output_offset,
                                                 params->activation);
                    output += 2;
                }
                if (oc < out_c) {  /* an odd channel count: the last one alone (twice the same row) */
                    const int8_t *f0 = filter + oc * filter_len;
                    int32_t acc0 = 0, unused = 0;
                    window_dot2(params, input_dims, in_batch, filter_dims, f0, f0, y0, x0, offsets, &acc0, &unused);
                    *output++ = tg_dot_output_s8(acc0, bias, oc, requant, params->output_offset, params->activation);
                }
            }
        }
    }
}
