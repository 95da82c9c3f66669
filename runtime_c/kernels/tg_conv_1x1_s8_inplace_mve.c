/* CONV_2D 1x1, stride 1, no padding, ungrouped, run over its own input: tg_conv_1x1_s8_inplace's
 * Helium variant. Each block of two input pixels is copied to pixels_copy before its output pixels
 * are written (the same contract as tg_conv_1x1_s8_inplace, kernels/overlap.py); the pixels are
 * computed as tg_conv_s8_mve computes them. */
#include "tinygen/tg_kernels.h"
#include "tg_mve_ops.h"

void tg_conv_1x1_s8_inplace_mve(const tg_conv_mve_params_t *params, const int32_t *channels,
                                const tg_dims_t *input_dims, const int8_t *input,
                                const tg_dims_t *filter_dims, const int8_t *filter,
                                const tg_dims_t *output_dims, int8_t *output, int8_t *pixels_copy)
{
    (void)filter_dims;
    const tg_conv_mve_params_t p = *params;
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
    const tg_mve_epilogue_t e = {p.output_offset, p.activation.min, p.activation.max};
    for (int32_t q = 0; q < pixels; q += 2) {
        const int32_t count = pixels - q < 2 ? pixels - q : 2;
        tg_mve_copy(pixels_copy, input + q * in_c, count * in_c);
        tg_mve_gemm_pixels(channels, pixels_copy, pixels_copy + in_c, filter, p.depth, p.depth_padded, out_c, e,
                           output + q * out_c, count, p.left_shift);
    }
}
