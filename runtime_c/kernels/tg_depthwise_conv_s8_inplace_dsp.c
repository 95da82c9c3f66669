/* DEPTHWISE_CONV_2D in place on the DSP extension: tg_depthwise_conv_s8_inplace's variant
 * (tinygen/tg_dsp.h), with tg_depthwise_conv_s8_wide's arithmetic: four channels per input load
 * (SXTB16 / SMLABB / SMLATT), the input offset folded into the bias inside the image and added
 * (SXTAB16) over the valid taps at its borders, the SMMLAR + QADD epilogue (tg_wide_dot.h).
 *
 * Why it is safe over its input: output element (pixel q, channel c) sits on input element
 * (q, c). Four channels at a time (of a range a multiple of 4 wide: one core's share) walk the whole image; their outputs go to a ring of lag + 1
 * pixels, and pixel q's are stored once pixel q + lag's are computed, and no later window reads input pixel q (stride 1:
 * window q' starts at row oy' - padding.h, column ox' - padding.w, so it holds input pixel q only
 * if q' <= q + padding.h * in_w + padding.w = q + lag). Other channels are not touched.
 */
#include "tinygen/tg_kernels.h"
#include "tg_depthwise_taps.h"

/* Four channels' window at (y0, x0) that overlaps the padding: the plain bias, w * (x + offset)
 * over the valid taps. */
static inline tg_acc4_t border_window(const int8_t *in_c, const tg_dims_t *in, int32_t f_h, int32_t f_w,
                                      int32_t y0, int32_t x0, const int32_t *w_c, uint32_t offsets, tg_acc4_t acc)
{
    int32_t fy_first, fy_end, fx_first, fx_end;
    tg_valid_taps(y0, 1, f_h, in->h, &fy_first, &fy_end);
    tg_valid_taps(x0, 1, f_w, in->w, &fx_first, &fx_end);
    for (int32_t fy = fy_first; fy < fy_end; ++fy) {
        const int8_t *row = in_c + ((y0 + fy) * in->w + x0) * in->c;
        for (int32_t fx = fx_first; fx < fx_end; ++fx) {
            acc = tap4_offset(row + fx * in->c, w_c + 2 * (fy * f_w + fx), offsets, acc);
        }
    }
    return acc;
}

/* Four channels' window at x inside the image: the folded bias, w * x over every tap. */
static inline tg_acc4_t inside_window(const int8_t *x, int32_t c_all, int32_t row_step, int32_t f_h, int32_t f_w,
                                      const int32_t *w_c, tg_acc4_t acc)
{
    if (f_h == 3 && f_w == 3) {
        return window3x3(x, c_all, row_step, w_c, acc);
    }
    for (int32_t fy = 0; fy < f_h; ++fy, x += row_step) {
        for (int32_t fx = 0; fx < f_w; ++fx) {
            acc = tap4(x + fx * c_all, w_c + 2 * (fy * f_w + fx), acc);
        }
    }
    return acc;
}

/* The first output index whose window starts inside the image, and the end of those whose window
 * ends inside it (stride 1). */
static void interior(int32_t size, int32_t padding, int32_t taps, int32_t *first, int32_t *end)
{
    *first = padding < size ? padding : size;
    *end = size - taps + 1 + padding > *first ? size - taps + 1 + padding : *first;
}

void tg_depthwise_conv_s8_inplace_dsp(const tg_depthwise_inplace_dsp_params_t *params, const int32_t *channels,
                                      const tg_dims_t *input_dims, const int8_t *input,
                                      const tg_dims_t *filter_dims, const int32_t *filter,
                                      const tg_dims_t *output_dims, int8_t *output, void *ring)
{
    tg_depthwise_conv_s8_inplace_dsp_channels(params, channels, input_dims, input, filter_dims, filter, output_dims,
                                              output, ring, 0, input_dims->c);
}

void tg_depthwise_conv_s8_inplace_dsp_channels(const tg_depthwise_inplace_dsp_params_t *params,
                                               const int32_t *channels, const tg_dims_t *input_dims,
                                               const int8_t *input_at_first, const tg_dims_t *filter_dims,
                                               const int32_t *filter, const tg_dims_t *output_dims,
                                               int8_t *output_at_first, void *ring,
                                               int32_t first_channel, int32_t end_channel)
{
    /* the pointers name channel first_channel of pixel 0: step back to channel 0's */
    const int8_t *const input = input_at_first - first_channel;
    int8_t *const output = output_at_first - first_channel;
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_depthwise_inplace_dsp_params_t p = *params;
    const tg_dims_t in = *input_dims;
    const int32_t batches = output_dims->n;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(p.output_offset, p.activation);
    const int32_t c_all = in.c, pixels = in.h * in.w, slots = p.lag + 1;
    const int32_t group_words = 2 * f_h * f_w;
    const uint32_t offsets = tg_pair_splat(p.input_offset);
    const int32_t row_step = in.w * c_all;
    tg_u32_alias_t *const ring_words = (tg_u32_alias_t *)ring;
    int32_t oy_first, oy_end, ox_first, ox_end;
    interior(in.h, p.padding.h, f_h, &oy_first, &oy_end);
    interior(in.w, p.padding.w, f_w, &ox_first, &ox_end);

    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + b * pixels * c_all;
        int8_t *out_batch = output + b * pixels * c_all;
        for (int32_t c = first_channel; c < end_channel; c += 4) {  /* four channels over the image, the ring behind */
            const int32_t *channel = channels + c * TG_WIDE_CHANNEL_WORDS;
            const int32_t *w_c = filter + (c >> 2) * group_words;
            const int8_t *in_c = in_batch + c;
            tg_u32_alias_t *out_c = (tg_u32_alias_t *)(void *)(out_batch + c);
            const int32_t out_step = c_all >> 2;  /* words from one pixel's four channels to the next's */
            int32_t q = 0, slot = 0;
            for (int32_t oy = 0; oy < in.h; ++oy) {
                const int32_t y0 = oy - p.padding.h;
                const int inside_y = oy >= oy_first && oy < oy_end;
                for (int32_t ox = 0; ox < in.w; ++ox, ++q) {
                    const int32_t x0 = ox - p.padding.w;
                    tg_acc4_t acc;
                    if (inside_y && ox >= ox_first && ox < ox_end) {
                        acc = inside_window(in_c + (y0 * in.w + x0) * c_all, c_all, row_step, f_h, f_w, w_c,
                                            tg_wide_start(channel, 0));
                    } else if (inside_y && f_h == 3 && f_w == 3 && p.padding.w == 1 && in.w >= 2 &&
                               (ox == 0 || ox == in.w - 1)) {
                        /* the left or right border (padding 1): the window's two columns inside */
                        const int32_t left = ox == 0;
                        acc = window3x2_offset(in_c + (y0 * in.w + (left ? 0 : ox - 1)) * c_all, c_all, row_step,
                                               w_c + (left ? 2 : 0), offsets, tg_wide_start(channel, 4));
                    } else {
                        acc = border_window(in_c, &in, f_h, f_w, y0, x0, w_c, offsets, tg_wide_start(channel, 4));
                    }
                    tg_wide_outputs(acc, channel, 4, epilogue, (int8_t *)(void *)(ring_words + slot));
                    slot = slot + 1 == slots ? 0 : slot + 1;
                    if (q >= p.lag) {  /* pixel q - lag is read no more: its slot is the next one */
                        out_c[(q - p.lag) * out_step] = ring_words[slot];
                    }
                }
            }
            for (int32_t r = pixels - p.lag < 0 ? 0 : pixels - p.lag; r < pixels; ++r) {
                out_c[r * out_step] = ring_words[r % slots];
            }
        }
    }
}
