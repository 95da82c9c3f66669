/* The body of both CONV_2D 16x8 kernels (TFLM reference_integer_ops::ConvPerChannel on int16: no
 * zero points). TG_ACC_T / TG_REQUANTIZE as in tg_fc_s16_body.h. Private to tg_conv_s16*.c. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

static inline void tg_conv_s16_body(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                                    const tg_dims_t *input_dims, const int16_t *input,
                                    const tg_dims_t *filter_dims, const int8_t *filter, const TG_ACC_T *bias,
                                    const tg_dims_t *output_dims, int16_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w, f_c = filter_dims->c;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t filters_per_group = out_c / (in_c / f_c);
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int16_t *in_batch = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int32_t group = oc / filters_per_group;
                    const int8_t *f_oc = filter + oc * f_h * f_w * f_c;
                    TG_ACC_T acc = 0;
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
                            const int16_t *in_px = in_batch + (y * in_w + x) * in_c + group * f_c;
                            const int8_t *f_px = f_oc + (fy * f_w + fx) * f_c;
                            for (int32_t ic = 0; ic < f_c; ++ic) {
                                const int32_t product = (int32_t)f_px[ic] * (int32_t)in_px[ic];
                                acc = (TG_ACC_T)((uint64_t)acc + (uint64_t)(int64_t)product);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc = (TG_ACC_T)((uint64_t)acc + (uint64_t)(int64_t)bias[oc]);
                    }
                    const int32_t q = requant->per_channel ? oc : 0;
                    const int32_t y = TG_REQUANTIZE(acc, requant->multiplier[q], requant->shift[q]);
                    *output++ = (int16_t)tg_clamp(y, params->activation.min, params->activation.max);
                }
            }
        }
    }
}
