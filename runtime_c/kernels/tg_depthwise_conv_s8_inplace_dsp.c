/* DEPTHWISE_CONV_2D in place on the DSP extension: tg_depthwise_conv_s8_inplace's variant
 * (tinygen/tg_dsp.h), with tg_depthwise_conv_s8_wide's arithmetic: four channels per input load
 * (SXTB16 / SMLABB / SMLATT), the input offset folded into the bias inside the image and added
 * (SXTAB16) over the valid taps at its borders, the SMLAL + QADD epilogue.
 *
 * Why it is safe over its input: output element (pixel q, channel c) sits on input element
 * (q, c). A group's outputs are computed pixel by pixel into a ring of lag + 1 pixels; pixel q's
 * are stored once pixel q + lag's are computed, and no later window reads input pixel q (stride 1:
 * window q' starts at row oy' - padding.h, column ox' - padding.w, so it holds input pixel q only
 * if q' <= q + padding.h * in_w + padding.w = q + lag). Other groups' channels are not touched.
 */
#include "tinygen/tg_kernels.h"
#include "tg_depthwise_taps.h"

/* count bytes (a multiple of 4, both ends word aligned) from the ring to the output. */
static inline void store_pixel(const int8_t *from, int8_t *to, int32_t count)
{
    const tg_u32_alias_t *src = (const tg_u32_alias_t *)(const void *)from;
    tg_u32_alias_t *dst = (tg_u32_alias_t *)(void *)to;
    for (int32_t i = 0; i < count >> 2; ++i) {
        dst[i] = src[i];
    }
}

void tg_depthwise_conv_s8_inplace_dsp(const tg_depthwise_inplace_dsp_params_t *params, const int32_t *channels,
                                      const tg_dims_t *input_dims, const int8_t *input,
                                      const tg_dims_t *filter_dims, const int32_t *filter,
                                      const tg_dims_t *output_dims, int8_t *output, void *ring)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_depthwise_inplace_dsp_params_t p = *params;
    const tg_dims_t in = *input_dims;
    const int32_t batches = output_dims->n;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const tg_wide_epilogue_t epilogue = {p.output_offset, p.activation.min, p.activation.max};
    const int32_t c_all = in.c, pixels = in.h * in.w, slots = p.lag + 1;
    const int32_t group_words = 2 * f_h * f_w;
    const uint32_t offsets = tg_pair_splat(p.input_offset);
    const int32_t row_step = in.w * c_all;
    const int whole_3x3 = f_h == 3 && f_w == 3;
    int8_t *const ring_bytes = (int8_t *)ring;

    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in_batch = input + b * pixels * c_all;
        int8_t *out_batch = output + b * pixels * c_all;
        for (int32_t g0 = 0; g0 < c_all; g0 += p.group) {
            const int32_t g_end = c_all - g0 < p.group ? c_all : g0 + p.group;
            int32_t q = 0, slot = 0;
            for (int32_t oy = 0; oy < in.h; ++oy) {
                const int32_t y0 = oy - p.padding.h;
                int32_t fy_first, fy_end;
                tg_valid_taps(y0, 1, f_h, in.h, &fy_first, &fy_end);
                for (int32_t ox = 0; ox < in.w; ++ox, ++q) {
                    const int32_t x0 = ox - p.padding.w;
                    int32_t fx_first, fx_end;
                    tg_valid_taps(x0, 1, f_w, in.w, &fx_first, &fx_end);
                    const int inside = fy_first == 0 && fy_end == f_h && fx_first == 0 && fx_end == f_w;
                    const int8_t *tap0 = in_batch + ((y0 + fy_first) * in.w + x0 + fx_first) * c_all;
                    int8_t *dst = ring_bytes + slot * p.group;
                    for (int32_t c = g0; c < g_end; c += 4) {
                        const int32_t *channel = channels + c * TG_WIDE_CHANNEL_WORDS;
                        const int32_t *w_c = filter + (c >> 2) * group_words;
                        tg_acc4_t acc;
                        if (inside) {
                            acc = tg_wide_start(channel, 0);  /* the folded bias */
                            if (whole_3x3) {
                                acc = window3x3(tap0 + c, c_all, row_step, w_c, acc);
                            } else {
                                const int8_t *x = tap0 + c;
                                for (int32_t fy = 0; fy < f_h; ++fy, x += row_step) {
                                    for (int32_t fx = 0; fx < f_w; ++fx) {
                                        acc = tap4(x + fx * c_all, w_c + 2 * (fy * f_w + fx), acc);
                                    }
                                }
                            }
                        } else {
                            acc = tg_wide_start(channel, 4);  /* the plain bias, the offset added per tap */
                            const int8_t *x = tap0 + c;
                            for (int32_t fy = fy_first; fy < fy_end; ++fy, x += row_step) {
                                for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                                    acc = tap4_offset(x + (fx - fx_first) * c_all, w_c + 2 * (fy * f_w + fx),
                                                      offsets, acc);
                                }
                            }
                        }
                        dst = tg_wide_outputs(acc, channel, 4, epilogue, dst);
                    }
                    slot = slot + 1 == slots ? 0 : slot + 1;
                    if (q >= p.lag) {  /* pixel q - lag is read no more: its slot is the next one */
                        store_pixel(ring_bytes + slot * p.group, out_batch + (q - p.lag) * c_all + g0, g_end - g0);
                    }
                }
            }
            for (int32_t r = pixels - p.lag < 0 ? 0 : pixels - p.lag; r < pixels; ++r) {
                store_pixel(ring_bytes + (r % slots) * p.group, out_batch + r * c_all + g0, g_end - g0);
            }
        }
    }
}
