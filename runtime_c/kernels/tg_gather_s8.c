/* GATHER, int8 values, int32 positions: TFLM's Gather<int8_t, int32_t>. */
#include "tinygen/tg_kernels.h"

void tg_gather_s8(const tg_gather_params_t *params, const int8_t *input, const int32_t *positions, int8_t *output)
{
    const int32_t inner = params->inner_size;
    for (int32_t batch = 0; batch < params->batch_size; ++batch) {
        const int32_t *batch_positions = positions + batch * params->coord_size;
        for (int32_t outer = 0; outer < params->outer_size; ++outer) {
            const int8_t *block = input + (batch * params->outer_size + outer) * params->axis_size * inner;
            for (int32_t coord = 0; coord < params->coord_size; ++coord) {
                const int32_t p = tg_clamp(batch_positions[coord], 0, params->axis_size - 1);
                const int8_t *src = block + p * inner;
                for (int32_t i = 0; i < inner; ++i) {
                    *output++ = src[i];
                }
            }
        }
    }
}
