/* FULLY_CONNECTED, int8: TFLM reference_integer_ops::FullyConnected (and its per-channel twin). */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

void tg_fully_connected_s8(const tg_fc_params_t *params, const tg_channel_requant_t *requant,
                           int32_t batches, int32_t accum_depth, int32_t output_depth,
                           const int8_t *input, const int8_t *filter,
                           const int32_t *bias,
                           int8_t *output)
{
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in = input + b * accum_depth;
        for (int32_t oc = 0; oc < output_depth; ++oc) {
            const int8_t *w = filter + oc * accum_depth;
            int32_t acc = 0;
            for (int32_t d = 0; d < accum_depth; ++d) {
                acc += ((int32_t)w[d] + params->filter_offset) * ((int32_t)in[d] + params->input_offset);
            }
            if (bias != NULL) {
                acc += bias[oc];
            }
            const int32_t q = requant->per_channel ? oc : 0;
            acc = tg_requantize(acc, requant->multiplier[q], requant->shift[q]);
            acc += params->output_offset;
            output[b * output_depth + oc] = (int8_t)tg_clamp(acc, params->activation.min, params->activation.max);
        }
    }
}
