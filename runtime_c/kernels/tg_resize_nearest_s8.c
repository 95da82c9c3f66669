/* RESIZE_NEAREST_NEIGHBOR, int8: TFLM reference_ops::ResizeNearestNeighbor with the source rows
 * and columns precomputed (source_y, source_x). */
#include "tinygen/tg_kernels.h"

void tg_resize_nearest_s8(const tg_resize_nearest_params_t *params, const int8_t *input, int8_t *output)
{
    const tg_dims_t in = params->input;
    const int32_t row = in.w * in.c;
    for (int32_t b = 0; b < in.n; ++b) {
        const int8_t *image = input + b * in.h * row;
        for (int32_t y = 0; y < params->output_h; ++y) {
            const int8_t *src_row = image + params->source_y[y] * row;
            for (int32_t x = 0; x < params->output_w; ++x) {
                const int8_t *pixel = src_row + params->source_x[x] * in.c;
                for (int32_t c = 0; c < in.c; ++c) {
                    *output++ = pixel[c];
                }
            }
        }
    }
}
