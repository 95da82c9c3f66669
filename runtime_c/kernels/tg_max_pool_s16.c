/* MAX_POOL_2D, int16: TFLM reference_integer_ops::MaxPool. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

static int32_t max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static int32_t min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

void tg_max_pool_s16(const tg_pool_params_t *params,
                    const tg_dims_t *input_dims, const int16_t *input,
                    const tg_dims_t *output_dims, int16_t *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int16_t *in_batch = input + b * in_h * in_w * depth;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t fy_start = max_i32(0, -y0);
            const int32_t fy_end = min_i32(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t fx_start = max_i32(0, -x0);
                const int32_t fx_end = min_i32(params->filter.w, in_w - x0);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t max = INT16_MIN;  /* padding never wins: only in-image taps are read */
                    for (int32_t fy = fy_start; fy < fy_end; ++fy) {
                        for (int32_t fx = fx_start; fx < fx_end; ++fx) {
                            const int32_t v = in_batch[((y0 + fy) * in_w + (x0 + fx)) * depth + c];
                            max = v > max ? v : max;
                        }
                    }
                    *output++ = (int16_t)tg_clamp(max, params->activation.min, params->activation.max);
                }
            }
        }
    }
}
