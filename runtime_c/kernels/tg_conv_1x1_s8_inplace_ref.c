/* tg_conv_1x1_s8_inplace over the reference kernel (tg_conv_s8) for the reference kernel set:
 * the same walk, the same bits. */
#include "tinygen/tg_kernels.h"

void tg_conv_1x1_s8_inplace_ref(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                                const tg_dims_t *input_dims, const int8_t *input,
                                const tg_dims_t *filter_dims, const int8_t *filter,
                                const int32_t *bias,
                                const tg_dims_t *output_dims, int8_t *output, int8_t *pixels_copy)
{
    const int32_t in_c = input_dims->c, out_c = output_dims->c;
    const int32_t pixels = input_dims->n * input_dims->h * input_dims->w;
    for (int32_t p = 0; p < pixels; p += 2) {
        const int32_t count = pixels - p < 2 ? pixels - p : 2;  /* two pixels at once: the twin's pair path */
        const tg_dims_t block_in = {1, 1, count, in_c};
        const tg_dims_t block_out = {1, 1, count, out_c};
        for (int32_t i = 0; i < count * in_c; ++i) {
            pixels_copy[i] = input[p * in_c + i];
        }
        tg_conv_s8(params, requant, &block_in, pixels_copy, filter_dims, filter, bias, &block_out, output + p * out_c);
    }
}
