/* DEPTHWISE_CONV_2D 16x8: TFLM reference_integer_ops::DepthwiseConvPerChannel on int16 (no zero
 * points: params->input_offset and output_offset are not read), int64 bias and accumulator. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

void tg_depthwise_conv_s16(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                           const tg_dims_t *input_dims, const int16_t *input,
                           const tg_dims_t *filter_dims, const int8_t *filter, const int64_t *bias,
                           const tg_dims_t *output_dims, int16_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int16_t *in_batch = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t oc = 0; oc < out_c; ++oc) {
                    const int32_t ic = oc / params->depth_multiplier;
                    int64_t acc = 0;
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
                            acc += (int64_t)filter[(fy * f_w + fx) * out_c + oc] *
                                   (int64_t)in_batch[(y * in_w + x) * in_c + ic];
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[oc];
                    }
                    const int32_t q = requant->per_channel ? oc : 0;
                    const int32_t y = tg_requantize_s64(acc, requant->multiplier[q], requant->shift[q]);
                    output[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                        (int16_t)tg_clamp(y, params->activation.min, params->activation.max);
                }
            }
        }
    }
}
