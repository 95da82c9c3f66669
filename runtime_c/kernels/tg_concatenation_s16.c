/* CONCATENATION, int16 (issue 10, ops-c): one input's share of TFLM reference_ops::Concatenation (a plain copy). */
#include "tinygen/tg_kernels.h"

void tg_concatenation_s16(const tg_concat_params_t *params, const int16_t *input, int16_t *output)
{
    int16_t *dst = output + params->output_offset;
    for (int32_t k = 0; k < params->outer_size; ++k) {
        for (int32_t i = 0; i < params->input_block; ++i) {
            dst[i] = input[i];
        }
        input += params->input_block;
        dst += params->output_block;
    }
}
