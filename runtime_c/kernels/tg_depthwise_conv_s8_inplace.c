/* DEPTHWISE_CONV_2D, int8, depth multiplier 1, run over its own input: the output may start at
 * the input's address (or lie anywhere else). The same bits as tg_depthwise_conv_s8.
 *
 * Why it is safe: with one output channel per input channel and the same channel count, output
 * element (pixel q, channel c) sits at q * C + c, an address that belongs to input channel c
 * (pixel q). Channel c of the input is copied whole into the scratch plane before channel c of
 * the output is written, so every write lands on input bytes already copied or on channel c's own
 * bytes, which are read from the copy. Channels are independent: a range of them
 * (tg_depthwise_conv_s8_inplace_channels) reads and writes only its own, so cores may each take
 * one at once, each with its own plane. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

int32_t tg_depthwise_conv_s8_inplace_buffer_size(const tg_dims_t *input_dims)
{
    return input_dims->h * input_dims->w;
}

/* The first output index whose window starts inside the image, and the end of those whose window
 * ends inside it: between them no tap needs a bounds check. */
static void interior(int32_t out_size, int32_t stride, int32_t padding, int32_t span, int32_t in_size,
                     int32_t *first, int32_t *end)
{
    int32_t lo = 0;
    while (lo < out_size && lo * stride - padding < 0) {
        ++lo;
    }
    int32_t hi = lo;
    while (hi < out_size && hi * stride - padding + span <= in_size) {
        ++hi;
    }
    *first = lo;
    *end = hi;
}

/* The filter taps [first, end) that land inside [0, size) for a window starting at `start`. */
static void valid_taps(int32_t start, int32_t dilation, int32_t taps, int32_t size, int32_t *first, int32_t *end)
{
    int32_t lo = start < 0 ? (-start + dilation - 1) / dilation : 0;
    int32_t hi = size - start <= 0 ? 0 : (size - start + dilation - 1) / dilation;
    hi = hi < taps ? hi : taps;
    *first = lo < taps ? lo : taps;
    *end = hi > *first ? hi : *first;
}

void tg_depthwise_conv_s8_inplace(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                                  const tg_dims_t *input_dims, const int8_t *input,
                                  const tg_dims_t *filter_dims, const int8_t *filter,
                                  const int32_t *bias,
                                  const tg_dims_t *output_dims, int8_t *output, int8_t *plane)
{
    tg_depthwise_conv_s8_inplace_channels(params, requant, input_dims, input, filter_dims, filter, bias, output_dims,
                                          output, plane, 0, input_dims->c);
}

void tg_depthwise_conv_s8_inplace_channels(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                                           const tg_dims_t *input_dims, const int8_t *input_at_first,
                                           const tg_dims_t *filter_dims, const int8_t *filter,
                                           const int32_t *bias,
                                           const tg_dims_t *output_dims, int8_t *output_at_first, int8_t *plane,
                                           int32_t first_channel, int32_t end_channel)
{
    /* the pointers name channel first_channel of pixel 0: step back to channel 0's */
    const int8_t *const input = input_at_first - first_channel;
    int8_t *const output = output_at_first - first_channel;
    const int32_t in_h = input_dims->h, in_w = input_dims->w, channels = input_dims->c;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t out_h = output_dims->h, out_w = output_dims->w;
    const int32_t dil_h = params->dilation.h, dil_w = params->dilation.w;
    const int32_t input_offset = params->input_offset;
    int32_t oy_first, oy_end, ox_first, ox_end;
    interior(out_h, params->stride.h, params->padding.h, (f_h - 1) * dil_h + 1, in_h, &oy_first, &oy_end);
    interior(out_w, params->stride.w, params->padding.w, (f_w - 1) * dil_w + 1, in_w, &ox_first, &ox_end);

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * in_h * in_w * channels;
        int8_t *out_batch = output + b * out_h * out_w * channels;
        for (int32_t c = first_channel; c < end_channel; ++c) {
            for (int32_t i = 0; i < in_h * in_w; ++i) {
                plane[i] = in_batch[i * channels + c];
            }
            const int32_t q = requant->per_channel ? c : 0;
            const int32_t multiplier = requant->multiplier[q], shift = requant->shift[q];
            const int8_t *f_c = filter + c;
            /* The channel's taps in locals (3x3 undilated: unrolled), and the input offset folded
             * out of the interior sum: sum f * (x + offset) = sum f * x + offset * sum f, exactly. */
            const int unrolled = f_h == 3 && f_w == 3 && dil_h == 1 && dil_w == 1;
            int32_t t[9] = {0, 0, 0, 0, 0, 0, 0, 0, 0};
            int32_t tap_sum = 0;
            for (int32_t i = 0; i < f_h * f_w; ++i) {
                tap_sum += f_c[i * channels];
                if (unrolled) {
                    t[i] = f_c[i * channels];
                }
            }
            const int32_t offset_sum = tap_sum * input_offset;
            for (int32_t oy = 0; oy < out_h; ++oy) {
                const int32_t y0 = oy * params->stride.h - params->padding.h;
                const int inside_y = oy >= oy_first && oy < oy_end;
                for (int32_t ox = 0; ox < out_w; ++ox) {
                    const int32_t x0 = ox * params->stride.w - params->padding.w;
                    int32_t acc = 0;
                    if (inside_y && ox >= ox_first && ox < ox_end && unrolled) {
                        const int8_t *r0 = plane + y0 * in_w + x0, *r1 = r0 + in_w, *r2 = r1 + in_w;
                        acc = offset_sum + t[0] * r0[0] + t[1] * r0[1] + t[2] * r0[2] + t[3] * r1[0] + t[4] * r1[1] +
                              t[5] * r1[2] + t[6] * r2[0] + t[7] * r2[1] + t[8] * r2[2];
                    } else {
                        /* only the taps inside the image; the others are zero padding */
                        int32_t fy_first, fy_end, fx_first, fx_end;
                        valid_taps(y0, dil_h, f_h, in_h, &fy_first, &fy_end);
                        valid_taps(x0, dil_w, f_w, in_w, &fx_first, &fx_end);
                        for (int32_t fy = fy_first; fy < fy_end; ++fy) {
                            const int8_t *row = plane + (y0 + dil_h * fy) * in_w + x0;
                            const int8_t *f_row = f_c + fy * f_w * channels;
                            for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                                acc += (int32_t)f_row[fx * channels] * ((int32_t)row[dil_w * fx] + input_offset);
                            }
                        }
                    }
                    if (bias != NULL) {
                        acc += bias[c];
                    }
                    acc = tg_requantize(acc, multiplier, shift);
                    acc += params->output_offset;
                    out_batch[(oy * out_w + ox) * channels + c] =
                        (int8_t)tg_clamp(acc, params->activation.min, params->activation.max);
                }
            }
        }
    }
}
