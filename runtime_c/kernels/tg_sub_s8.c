/* SUB, int8, both inputs of the output's shape: TFLM reference_ops::Sub (SubElementwise). */
#include "tinygen/tg_kernels.h"

void tg_sub_s8(const tg_add_params_t *params, int32_t size,
               const int8_t *input1, const int8_t *input2, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = tg_sub_s8_element(params, input1[i], input2[i]);
    }
}
