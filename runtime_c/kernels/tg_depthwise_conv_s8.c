/* DEPTHWISE_CONV_2D, int8, per-channel requantization: TFLM reference_integer_ops::DepthwiseConvPerChannel. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

void tg_depthwise_conv_s8(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                          const tg_dims_t *input_dims, const int8_t *input,
                          const tg_dims_t *filter_dims, const int8_t *filter,
                          const int32_t *bias,
                          const tg_dims_t *output_dims, int8_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, in_c = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w, out_c = output_dims->c;
    const int32_t multiplier = params->depth_multiplier;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * in_h * in_w * in_c;
        for (int32_t oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            for (int32_t ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                for (int32_t ic = 0; ic < in_c; ++ic) {
                    for (int32_t m = 0; m < multiplier; ++m) {
                        const int32_t oc = ic * multiplier + m;
                        int32_t acc = 0;
                        for (int32_t fy = 0; fy < f_h; ++fy) {
                            const int32_t y = y0 + params->dilation.h * fy;
                            if (y < 0 || y >= in_h) {
                                continue;  /* zero padding: taps outside the image add nothing */
                            }
                            for (int32_t fx = 0; fx < f_w; ++fx) {
                                const int32_t x = x0 + params->dilation.w * fx;
                                if (x < 0 || x >= in_w) {
                                    continue;
                                }
                                const int32_t in_val = in_batch[(y * in_w + x) * in_c + ic];
                                const int32_t f_val = filter[(fy * f_w + fx) * out_c + oc];
                                acc += f_val * (in_val + params->input_offset);
                            }
                        }
                        if (bias != NULL) {
                            acc += bias[oc];
                        }
                        const int32_t q = requant->per_channel ? oc : 0;
                        acc = tg_requantize(acc, requant->multiplier[q], requant->shift[q]);
                        acc += params->output_offset;
                        output[((b * out_h + oy) * out_w + ox) * out_c + oc] =
                            (int8_t)tg_clamp(acc, params->activation.min, params->activation.max);
                    }
                }
            }
        }
    }
}
