/* The bodies of tg_avg_pool_s8/s16 and tg_max_pool_s8/s16 (TFLM reference_integer_ops::AveragePool and
 * MaxPool). The includer defines the element type TG_POOL_ELEMENT_T, its lowest value TG_POOL_ELEMENT_MIN,
 * and the name of the one function it wants, TG_AVG_POOL_FUNCTION or TG_MAX_POOL_FUNCTION: the function is
 * defined here under that name (not wrapped), so the int8 kernels compile to the same code as before they
 * shared this body. Private to tg_*_pool_s*.c. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

static int32_t tg_pool_max_i32(int32_t a, int32_t b)
{
    return a > b ? a : b;
}

static int32_t tg_pool_min_i32(int32_t a, int32_t b)
{
    return a < b ? a : b;
}

#ifdef TG_AVG_POOL_FUNCTION
void TG_AVG_POOL_FUNCTION(const tg_pool_params_t *params,
                          const tg_dims_t *input_dims, const TG_POOL_ELEMENT_T *input,
                          const tg_dims_t *output_dims, TG_POOL_ELEMENT_T *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const TG_POOL_ELEMENT_T *in_batch = input + b * in_h * in_w * depth;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            /* The window clipped to the image: padding is not counted in the average. */
            const int32_t fy_start = tg_pool_max_i32(0, -y0);
            const int32_t fy_end = tg_pool_min_i32(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t fx_start = tg_pool_max_i32(0, -x0);
                const int32_t fx_end = tg_pool_min_i32(params->filter.w, in_w - x0);
                const int32_t count = (fy_end - fy_start) * (fx_end - fx_start);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t sum = 0;
                    for (int32_t fy = fy_start; fy < fy_end; ++fy) {
                        for (int32_t fx = fx_start; fx < fx_end; ++fx) {
                            sum += in_batch[((y0 + fy) * in_w + (x0 + fx)) * depth + c];
                        }
                    }
                    /* TFLM rounds half away from zero on the stored values (zero point included);
                     * C division truncates toward zero, as C++'s does. */
                    const int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    *output++ = (TG_POOL_ELEMENT_T)tg_clamp(avg, params->activation.min, params->activation.max);
                }
            }
        }
    }
}

#endif

#ifdef TG_MAX_POOL_FUNCTION
void TG_MAX_POOL_FUNCTION(const tg_pool_params_t *params,
                          const tg_dims_t *input_dims, const TG_POOL_ELEMENT_T *input,
                          const tg_dims_t *output_dims, TG_POOL_ELEMENT_T *output)
{
    const int32_t in_h = input_dims->h, in_w = input_dims->w, depth = input_dims->c;

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const TG_POOL_ELEMENT_T *in_batch = input + b * in_h * in_w * depth;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            const int32_t fy_start = tg_pool_max_i32(0, -y0);
            const int32_t fy_end = tg_pool_min_i32(params->filter.h, in_h - y0);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                const int32_t fx_start = tg_pool_max_i32(0, -x0);
                const int32_t fx_end = tg_pool_min_i32(params->filter.w, in_w - x0);
                for (int32_t c = 0; c < depth; ++c) {
                    int32_t max = TG_POOL_ELEMENT_MIN;  /* padding never wins: only in-image taps are read */
                    for (int32_t fy = fy_start; fy < fy_end; ++fy) {
                        for (int32_t fx = fx_start; fx < fx_end; ++fx) {
                            const int32_t v = in_batch[((y0 + fy) * in_w + (x0 + fx)) * depth + c];
                            max = v > max ? v : max;
                        }
                    }
                    *output++ = (TG_POOL_ELEMENT_T)tg_clamp(max, params->activation.min, params->activation.max);
                }
            }
        }
    }
}
#endif
