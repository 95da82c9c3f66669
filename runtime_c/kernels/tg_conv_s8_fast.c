/* CONV_2D, int8, per-channel requantization, ungrouped: tg_conv_s8's optimised twin.
 *
 * Where two neighbouring windows of an output row lie wholly inside the input (horizontally) and
 * are not dilated, they are computed together, two output channels at a time (tg_dot2x2_s8): each
 * filter row is then one contiguous run of f_w * c bytes in input and filter. Elsewhere one window
 * at a time (tg_dot2_s8): row by row over the taps inside the input (contiguous too), or tap by tap
 * when dilated. Taps in the padding are skipped, as the reference does. No scratch memory.
 */
#include "tinygen/tg_kernels.h"
#include "tg_dot_s8.h"

/* The filter taps of the window at (y0, x0) that lie in the input: rows [fy_first, fy_end), columns
 * [fx_first, fx_end). */
typedef struct {
    int32_t y0, x0;
    int32_t fy_first, fy_end, fx_first, fx_end;
} window_t;

/* Accumulate a window for filter rows f0 and f1 (f1 may equal f0). Undilated, the valid taps of a
 * filter row are one contiguous run in input and filter alike. */
static inline void window_dot2(const tg_conv_params_t *params, const tg_dims_t *input_dims, const int8_t *in_batch,
                               const tg_dims_t *filter_dims, const int8_t *f0, const int8_t *f1,
                               const window_t *window, uint32_t offsets, int32_t *acc0, int32_t *acc1)
{
    const int32_t in_w = input_dims->w, c = input_dims->c;
    const int32_t f_w = filter_dims->w, dil_w = params->dilation.w;
    const int32_t y0 = window->y0, x0 = window->x0, fx_first = window->fx_first, fx_end = window->fx_end;
    for (int32_t fy = window->fy_first; fy < window->fy_end; ++fy) {
        const int8_t *in_row = in_batch + (y0 + params->dilation.h * fy) * in_w * c;
        const int32_t tap = (fy * f_w + fx_first) * c;
        if (dil_w == 1) {
            tg_dot2_s8(in_row + (x0 + fx_first) * c, f0 + tap, f1 + tap, (fx_end - fx_first) * c,
                       params->input_offset, offsets, acc0, acc1);
            continue;
        }
        for (int32_t fx = fx_first; fx < fx_end; ++fx) {
            const int32_t at = (fy * f_w + fx) * c;
            tg_dot2_s8(in_row + (x0 + dil_w * fx) * c, f0 + at, f1 + at, c, params->input_offset, offsets, acc0, acc1);
        }
    }
}

/* Two windows side by side in one output row, the given one and the one x_step columns right of it,
 * both wholly inside the input horizontally and undilated: each filter row is one contiguous run in
 * both. */
static inline void window_pair_dot2x2(const tg_conv_params_t *params, const tg_dims_t *input_dims,
                                      const int8_t *in_batch, const tg_dims_t *filter_dims, const int8_t *f0,
                                      const int8_t *f1, const window_t *window, int32_t x_step, uint32_t offsets,
                                      int32_t acc[4])
{
    const int32_t in_w = input_dims->w, c = input_dims->c;
    const int32_t row_len = filter_dims->w * c;
    for (int32_t fy = window->fy_first; fy < window->fy_end; ++fy) {
        const int32_t y = window->y0 + params->dilation.h * fy;
        const int8_t *in = in_batch + (y * in_w + window->x0) * c;
        tg_dot2x2_s8(in, in + x_step * c, f0 + fy * row_len, f1 + fy * row_len, row_len, params->input_offset,
                     offsets, acc);
    }
}

void tg_conv_s8_fast(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                     const tg_dims_t *input_dims, const int8_t *input,
                     const tg_dims_t *filter_dims, const int8_t *filter,
                     const int32_t *bias,
                     const tg_dims_t *output_dims, int8_t *output)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_conv_params_t params_copy = *params;
    const tg_dims_t input_copy = *input_dims, filter_copy = *filter_dims, output_copy = *output_dims;
    params = &params_copy;
    input_dims = &input_copy;
    filter_dims = &filter_copy;
    output_dims = &output_copy;
    const tg_dot_epilogue_t epilogue = tg_dot_epilogue(bias, requant, params->output_offset, params->activation);
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t filter_len = filter_dims->h * filter_dims->w * filter_dims->c;
    const int32_t stride_w = params->stride.w;
    const int32_t pair_span = stride_w + filter_dims->w;  /* input columns two windows side by side cover */
    const uint32_t offsets = tg_pair_splat(params->input_offset);

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * input_dims->h * input_dims->w * input_dims->c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            int32_t fy_first, fy_end;
            tg_valid_taps(y0, params->dilation.h, filter_dims->h, input_dims->h, &fy_first, &fy_end);
            int32_t ox = 0;
            while (ox < out_w) {
                const int32_t x0 = ox * stride_w - params->padding.w;
                window_t window = {y0, x0, fy_first, fy_end, 0, 0};
                tg_valid_taps(x0, params->dilation.w, filter_dims->w, input_dims->w, &window.fx_first, &window.fx_end);
                if (window.fx_first >= window.fx_end) {
                    window.fy_end = window.fy_first;  /* wholly in the padding: no taps */
                }
                if (ox + 1 < out_w && params->dilation.w == 1 && x0 >= 0 && x0 + pair_span <= input_dims->w) {
                    /* two output pixels at once; an odd last channel pairs its filter row with itself */
                    for (int32_t oc = 0; oc < out_c; oc += 2) {
                        const int8_t *f0 = filter + oc * filter_len;
                        const int8_t *f1 = oc + 1 < out_c ? f0 + filter_len : f0;
                        int32_t acc[4] = {0, 0, 0, 0};
                        window_pair_dot2x2(params, input_dims, in_batch, filter_dims, f0, f1, &window, stride_w,
                                           offsets, acc);
                        output[oc] = tg_dot_output_s8(acc[0], oc, epilogue);
                        output[out_c + oc] = tg_dot_output_s8(acc[2], oc, epilogue);
                        if (oc + 1 < out_c) {
                            output[oc + 1] = tg_dot_output_s8(acc[1], oc + 1, epilogue);
                            output[out_c + oc + 1] = tg_dot_output_s8(acc[3], oc + 1, epilogue);
                        }
                    }
                    output += 2 * out_c;
                    ox += 2;
                    continue;
                }
                int32_t oc = 0;
                for (; oc + 1 < out_c; oc += 2) {
                    const int8_t *f0 = filter + oc * filter_len;
                    int32_t acc0 = 0, acc1 = 0;
                    window_dot2(params, input_dims, in_batch, filter_dims, f0, f0 + filter_len, &window, offsets,
                                &acc0, &acc1);
                    output[0] = tg_dot_output_s8(acc0, oc, epilogue);
                    output[1] = tg_dot_output_s8(acc1, oc + 1, epilogue);
                    output += 2;
                }
                if (oc < out_c) {  /* an odd channel count: the last one alone (twice the same row) */
                    const int8_t *f0 = filter + oc * filter_len;
                    int32_t acc0 = 0, unused = 0;
                    window_dot2(params, input_dims, in_batch, filter_dims, f0, f0, &window, offsets, &acc0, &unused);
                    *output++ = tg_dot_output_s8(acc0, oc, epilogue);
                }
                ++ox;
            }
        }
    }
}
