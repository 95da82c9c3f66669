/* ARG_MIN, int8 -> int32: TFLM reference_ops::ArgMinMax with std::less
 * (a later equal value does not replace the first). */
#include "tinygen/tg_kernels.h"

void tg_arg_min_s8(const tg_arg_extreme_params_t *params, const int8_t *input, int32_t *output)
{
    const int32_t inner_size = params->inner_size;
    for (int32_t outer = 0; outer < params->outer_size; ++outer) {
        const int8_t *block = input + outer * params->axis_size * inner_size;
        for (int32_t inner = 0; inner < inner_size; ++inner) {
            int8_t best = block[inner];
            int32_t best_index = 0;
            for (int32_t i = 1; i < params->axis_size; ++i) {
                const int8_t value = block[i * inner_size + inner];
                if (value < best) {
                    best = value;
                    best_index = i;
                }
            }
            *output++ = best_index;
        }
    }
}
