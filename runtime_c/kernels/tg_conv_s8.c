/* CONV_2D, int8, per-channel requantization: TFLM reference_integer_ops::ConvPerChannel. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

void tg_conv_s8(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                const tg_dims_t *input_dims, const int8_t *input,
                const tg_dims_t *filter_dims, const int8_t *filter,
                const int32_t *bias,
                const tg_dims_t *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w, f_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t groups = in_c / f_c;
    const int32_t filters_per_group = out_c / groups;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + (int32_t)b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int32_t group = oc / filters_per_group;
                    const int8_t *f_oc = filter + oc * f_h * f_w * f_c;
                    int32_t acc = 0;
                    for (int32_t fy = 0; fy < f_h; ++fy) {
                        const int32_t y = y0 + params->dilation.h * fy;
                        if (y < 0 || y >= in_h) {
                            continue;
                        }
                        for (int32_t fx = 0; fx < f_w; ++fx) {
                            const int32_t x = x0 + params->dilation.w * fx;
                            if (x < 0 || x >= in_w) {
                                continue;
                            }
                            const int8_t *in_px = in_batch + (y * in_w + x) * in_c + group * f_c;
                            const int8_t *f_px = f_oc + (fy * f_w + fx) * f_c;
                            for (int32_t ic = 0; ic < f_c; ++ic) {
                                acc += (int32_t)f_px[ic] * ((int32_t)in_px[ic] + params->input_offset);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    const int32_t q = requant->per_channel ? oc : 0;
                    acc = tg_requantize(acc, requant->multiplier[q], requant->shift[q]);
                    acc += params->output_offset;
                    *output++ = (int8_t)tg_clamp(acc, params->activation.min, params->activation.max);
                }
            }
        }
    }
}
