/* tinygen runtime: in-place kernel variants for cores with the DSP extension (SXTB16, SMLAD), with
 * the wide variants' generation-time data (tinygen/tg_wide.h: int16 weights packed in SXTB16's
 * order, the input offset folded into the bias, the per-channel SMLAL + QADD epilogue words) and
 * the in-place kernels' contract (tinygen/kernels/overlap.py): the output may lie exactly over the
 * input, so the arena stays the in-place plan's. On other cores the same C computes the same bits
 * with tg_simd.h's portable operations.
 */
#ifndef TINYGEN_TG_DSP_H
#define TINYGEN_TG_DSP_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    tg_hw_t padding;
    tg_range_t activation;
    int32_t lag;    /* padding.h * in_w + padding.w: output pixels held in the ring before they are stored */
} tg_depthwise_inplace_dsp_params_t;

/* DEPTHWISE_CONV_2D, depth multiplier 1, stride 1, no dilation, output dims = input dims, channels a
 * multiple of 4; the output may start at the input's address. filter and channels: as
 * tg_depthwise_conv_s8_wide's. Four channels at a time over the whole image: output pixel q's four
 * values wait in a ring of lag + 1 pixels and are stored over input pixel q once output pixel
 * q + lag is computed: no later window reads input pixel q (the last window that holds it starts
 * padding rows above and padding columns left of it). */
void tg_depthwise_conv_s8_inplace_dsp(const tg_depthwise_inplace_dsp_params_t *params, const int32_t *channels,
                                      const tg_dims_t *input_dims, const int8_t *input,
                                      const tg_dims_t *filter_dims, const int32_t *filter,
                                      const tg_dims_t *output_dims, int8_t *output, void *ring);

/* Scratch bytes of tg_depthwise_conv_s8_inplace_dsp: the ring of lag + 1 pixels of four channels. */
#define TG_DEPTHWISE_CONV_S8_INPLACE_DSP_BUFFER_SIZE(lag) (4 * ((lag) + 1))

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_DSP_H */
