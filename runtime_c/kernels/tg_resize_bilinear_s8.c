/* RESIZE_BILINEAR, int8: TFLM reference_ops::ResizeBilinearInteger (double-rounding build: the
 * 2^20-scaled sum rounded half away from zero, then a truncating division). */
#include "tinygen/tg_kernels.h"

void tg_resize_bilinear_s8(const tg_resize_bilinear_params_t *params, const int8_t *input, int8_t *output)
{
    const tg_dims_t in = params->input;
    const int32_t row = in.w * in.c;
    for (int32_t b = 0; b < in.n; ++b) {
        const int8_t *image = input + b * in.h * row;
        for (int32_t y = 0; y < params->output_h; ++y) {
            const int8_t *row0 = image + params->y0[y] * row;
            const int8_t *row1 = image + params->y1[y] * row;
            const int64_t wy = params->y_weight[y];
            for (int32_t x = 0; x < params->output_w; ++x) {
                const int32_t c0 = params->x0[x] * in.c;
                const int32_t c1 = params->x1[x] * in.c;
                const int64_t wx = params->x_weight[x];
                for (int32_t c = 0; c < in.c; ++c) {
                    const int64_t sum = (int64_t)row0[c0 + c] * (1024 - wy) * (1024 - wx)
                                      + (int64_t)row1[c0 + c] * wy * (1024 - wx)
                                      + (int64_t)row0[c1 + c] * (1024 - wy) * wx
                                      + (int64_t)row1[c1 + c] * wy * wx;
                    const int64_t round = sum > 0 ? ((int64_t)1 << 19) : -((int64_t)1 << 19);
                    *output++ = (int8_t)(int32_t)((sum + round) / ((int64_t)1 << 20));
                }
            }
        }
    }
}
