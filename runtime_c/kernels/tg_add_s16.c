/* ADD on int16, both inputs of the output's shape (TFLM's int16 ADD). */
#include "tinygen/tg_kernels.h"

void tg_add_s16(const tg_add_params_t *params, int32_t size,
                const int16_t *input1, const int16_t *input2, int16_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = tg_add_s16_element(params, input1[i], input2[i]);
    }
}
