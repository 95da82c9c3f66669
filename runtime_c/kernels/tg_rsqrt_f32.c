/* RSQRT, float32: TFLM's 1.f / std::sqrt(f), both steps correctly rounded. */
#include "tinygen/tg_kernels.h"

void tg_rsqrt_f32(int32_t size, const float *input, float *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = 1.0f / tg_sqrt_f32(input[i]);
    }
}
