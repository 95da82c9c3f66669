/* NEG, float32: TFLM reference_ops::Negate. */
#include "tinygen/tg_kernels.h"

void tg_neg_f32(int32_t size, const float *input, float *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = -input[i];
    }
}
