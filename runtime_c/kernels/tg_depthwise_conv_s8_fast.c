/* DEPTHWISE_CONV_2D, int8, per-channel requantization, depth multiplier 1: tg_depthwise_conv_s8's
 * optimised twin.
 *
 * Channels are independent, so the SIMD runs across them: at each tap one load brings four
 * channels of input and one four channels of weights; SXTAB16 / SXTB16 split them into pairs and
 * SMLABB / SMLATT add each channel's product to its own accumulator. Taps in the padding are
 * skipped, as the reference does; channels beyond a multiple of four are done one at a time.
 */
#include "tinygen/tg_kernels.h"
#include "tg_dot_s8.h"

/* One tap for four channels: acc[i] += w[i] * (x[i] + offset). */
static inline void tap4(const int8_t *x, const int8_t *w, uint32_t offsets, int32_t acc[4])
{
    const uint32_t xs = tg_read_s8x4(x), ws = tg_read_s8x4(w);
    const uint32_t x_even = tg_pair_even_add(offsets, xs);  /* channels 0 and 2 */
    const uint32_t x_odd = tg_pair_odd_add(offsets, xs);    /* channels 1 and 3 */
    const uint32_t w_even = tg_pair_even(ws), w_odd = tg_pair_odd(ws);
    acc[0] = tg_smlabb(w_even, x_even, acc[0]);
    acc[2] = tg_smlatt(w_even, x_even, acc[2]);
    acc[1] = tg_smlabb(w_odd, x_odd, acc[1]);
    acc[3] = tg_smlatt(w_odd, x_odd, acc[3]);
}

/* A whole 3x3 undilated window (MobileNet's and DS-CNN's): nine taps without loop overhead. */
static inline void window3x3_tap4(const int8_t *in, int32_t in_row_step, int32_t channels, const int8_t *w,
                                  uint32_t offsets, int32_t acc[4])
{
    const int32_t c2 = 2 * channels;
    for (int32_t row = 0; row < 3; ++row) {
        tap4(in, w, offsets, acc);
        tap4(in + channels, w + channels, offsets, acc);
        tap4(in + c2, w + c2, offsets, acc);
        in += in_row_step;
        w += 3 * channels;
    }
}

void tg_depthwise_conv_s8_fast(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                               const tg_dims_t *input_dims, const int8_t *input,
                               const tg_dims_t *filter_dims, const int8_t *filter,
                               const int32_t *bias,
                               const tg_dims_t *output_dims, int8_t *output)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_depthwise_params_t params_copy = *params;
    const tg_dims_t output_copy = *output_dims;
    params = &params_copy;
    output_dims = &output_copy;
    const tg_dot_epilogue_t epilogue = tg_dot_epilogue(bias, requant, params->output_offset, params->activation);
    const int32_t in_h = input_dims->h, in_w = input_dims->w, channels = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t dil_h = params->dilation.h, dil_w = params->dilation.w;
    const int32_t input_offset = params->input_offset;
    const uint32_t offsets = tg_pair_splat(input_offset);
    const int32_t in_row_step = dil_h * in_w * channels, in_tap_step = dil_w * channels;
    const int32_t f_row_step = f_w * channels;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * in_h * in_w * channels;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            int32_t fy_first, fy_end;
            tg_valid_taps(y0, dil_h, f_h, in_h, &fy_first, &fy_end);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                int32_t fx_first, fx_end;
                tg_valid_taps(x0, dil_w, f_w, in_w, &fx_first, &fx_end);
                /* the first valid tap, in the input and in the filter (none: a window wholly in the padding) */
                const int any = fy_first < fy_end && fx_first < fx_end;
                const int8_t *in_tap0 =
                    any ? in_batch + ((y0 + dil_h * fy_first) * in_w + x0 + dil_w * fx_first) * channels : in_batch;
                const int8_t *f_tap0 = any ? filter + (fy_first * f_w + fx_first) * channels : filter;
                const int whole_3x3 = f_h == 3 && f_w == 3 && dil_h == 1 && dil_w == 1 && fy_first == 0 &&
                                      fy_end == 3 && fx_first == 0 && fx_end == 3;
                int32_t c = 0;
                for (; c + 4 <= channels; c += 4) {
                    int32_t acc[4] = {0, 0, 0, 0};
                    if (whole_3x3) {
                        window3x3_tap4(in_tap0 + c, in_row_step, channels, f_tap0 + c, offsets, acc);
                    } else {
                        const int8_t *in_row = in_tap0 + c, *f_row = f_tap0 + c;
                        for (int32_t fy = fy_first; fy < fy_end; ++fy) {
                            const int8_t *in_px = in_row, *f_px = f_row;
                            for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                                tap4(in_px, f_px, offsets, acc);
                                in_px += in_tap_step;
                                f_px += channels;
                            }
                            in_row += in_row_step;
                            f_row += f_row_step;
                        }
                    }
                    output[0] = tg_dot_output_s8(acc[0], c, epilogue);
                    output[1] = tg_dot_output_s8(acc[1], c + 1, epilogue);
                    output[2] = tg_dot_output_s8(acc[2], c + 2, epilogue);
                    output[3] = tg_dot_output_s8(acc[3], c + 3, epilogue);
                    output += 4;
                }
                for (; c < channels; ++c) {
                    int32_t acc = 0;
                    const int8_t *in_row = in_tap0 + c, *f_row = f_tap0 + c;
                    for (int32_t fy = fy_first; fy < fy_end; ++fy) {
                        for (int32_t fx = 0; fx < fx_end - fx_first; ++fx) {
                            acc += (int32_t)f_row[fx * channels] * ((int32_t)in_row[fx * in_tap_step] + input_offset);
                        }
                        in_row += in_row_step;
                        f_row += f_row_step;
                    }
                    *output++ = tg_dot_output_s8(acc, c, epilogue);
                }
            }
        }
    }
}
