/* DEPTHWISE_CONV_2D, int8, depth multiplier 1, run over its own input: the output may start at
 * the input's address (or lie anywhere else). The same bits as tg_depthwise_conv_s8.
 *
 * Why it is safe: with one output channel per input channel and the same channel count, output
 * element (pixel q, channel c) sits at q * C + c, an address that belongs to input channel c
 * (pixel q). Channel c of the input is copied whole into the scratch plane before channel c of
 * the output is written, so every write lands on input bytes already copied or on channel c's own
 * bytes, which are read from the copy. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

int32_t tg_depthwise_conv_s8_inplace_buffer_size(const tg_dims_t *input_dims)
{
    return input_dims->h * input_dims->w;
}

void tg_depthwise_conv_s8_inplace(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                                  const tg_dims_t *input_dims, const int8_t *input,
                                  const tg_dims_t *filter_dims, const int8_t *filter,
                                  const int32_t *bias,
                                  const tg_dims_t *output_dims, int8_t *output, int8_t *plane)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, channels = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * in_h * in_w * channels;
        int8_t *out_batch = output + b * out_h * out_w * channels;
        for (int32_t c = 0; c < channels; ++c) {
            for (int32_t i = 0; i < in_h * in_w; ++i) {
                plane[i] = in_batch[i * channels + c];
            }
            const int32_t q = requant->per_channel ? c : 0;
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t y0 = oy * params->stride.h - params->padding.h;
                for (int32_t ox = 0; ox < out_w; ++ox) {
                    const int32_t x0 = ox * params->stride.w - params->padding.w;
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
                            const int32_t f_val = filter[(fy * f_w + fx) * channels + c];
                            acc += f_val * ((int32_t)plane[y * in_w + x] + params->input_offset);
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[c];
                    }
                    acc = tg_requantize(acc, requant->multiplier[q], requant->shift[q]);
                    acc += params->output_offset;
                    out_batch[(oy * out_w + ox) * channels + c] =
                        (int8_t)tg_clamp(acc, params->activation.min, params->activation.max);
                }
            }
        }
    }
}
