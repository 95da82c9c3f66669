/* TRANSPOSE_CONV, int8: TFLM reference_integer_ops::TransposeConv. Filter [out_c, h, w, in_c]. */
#include "tinygen/tg_kernels.h"

void tg_transpose_conv_s8(const tg_transpose_conv_params_t *params, const tg_channel_requant_t *requant,
                          const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims,
                          const int8_t *filter, const int32_t *bias, const tg_dims_t *output_dims,
                          int32_t *scratch, int8_t *output)
{
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t count = output_dims->n * out_h * out_w * out_c;
    for (int32_t i = 0; i < count; ++i) {
        scratch[i] = 0;
    }
    for (int32_t b = 0; b < input_dims->n; ++b) {
        for (int32_t iy = 0; iy < in_h; ++iy) {
            for (int32_t ix = 0; ix < in_w; ++ix) {
                const int32_t oy0 = iy * params->stride_h - params->pad_h;
                const int32_t ox0 = ix * params->stride_w - params->pad_w;
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    const int32_t value = (int32_t)input[((b * in_h + iy) * in_w + ix) * in_c + ic] + params->input_offset;
                    for (int32_t fy = 0; fy < f_h; ++fy) {
                        const int32_t oy = oy0 + fy;
                        if (oy < 0 || oy >= out_h) {
                            continue;
                        }
                        for (int32_t fx = 0; fx < f_w; ++fx) {
                            const int32_t ox = ox0 + fx;
                            if (ox < 0 || ox >= out_w) {
                                continue;
                            }
                            int32_t *acc = scratch + ((b * out_h + oy) * out_w + ox) * out_c;
                            for (int32_t oc = 0; oc < out_c; ++oc) {
                                const int32_t w = filter[((oc * f_h + fy) * f_w + fx) * in_c + ic];
                                acc[oc] = tg_fx_add(acc[oc], value * w);
                            }
                        }
                    }
                }
            }
        }
    }
    for (int32_t i = 0; i < count; ++i) {
        const int32_t oc = i % out_c;
        int32_t acc = scratch[i];
        if (bias != 0) {
            acc = tg_fx_add(acc, bias[oc]);
        }
        const int32_t k = requant->per_channel ? oc : 0;
        acc = tg_requantize(acc, requant->multiplier[k], requant->shift[k]) + params->output_offset;
        output[i] = (int8_t)tg_clamp(acc, params->activation.min, params->activation.max);
    }
}
