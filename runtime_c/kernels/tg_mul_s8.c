/* MUL, int8, both inputs of the output's shape: TFLM reference_integer_ops::Mul. */
#include "tinygen/tg_kernels.h"

void tg_mul_s8(const tg_mul_params_t *params, int32_t size,
               const int8_t *input1, const int8_t *input2, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = tg_mul_s8_element(params, input1[i], input2[i]);
    }
}
