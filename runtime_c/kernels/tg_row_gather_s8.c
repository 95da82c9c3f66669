/* SPACE_TO_BATCH_ND, int8 (its index arithmetic tabulated at generation time, one entry per output
 * row of `depth` elements): each row copied from the input, or filled with the pad value. */
#include "tinygen/tg_kernels.h"

void tg_row_gather_s8(const tg_row_gather_params_t *params, const int8_t *input, int8_t *output)
{
    const int32_t depth = params->depth;
    for (int32_t r = 0; r < params->rows; ++r) {
        const int32_t source = params->sources[r];
        int8_t *out = output + r * depth;
        for (int32_t i = 0; i < depth; ++i) {
            out[i] = source >= 0 ? input[source + i] : (int8_t)params->pad_value;
        }
    }
}
