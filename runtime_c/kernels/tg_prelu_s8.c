/* PRELU, int8: TFLM reference_ops::BroadcastPrelu4DSlow (alpha broadcast against the input). */
#include "tinygen/tg_kernels.h"
#include "tg_broadcast_iter.h"

void tg_prelu_s8(const tg_prelu_params_t *params, const tg_broadcast_t *broadcast,
                 const int8_t *input, const int8_t *alpha, int8_t *output)
{
    tg_broadcast_iter_t it;
    const int32_t total = tg_broadcast_begin(broadcast, &it);
    for (int32_t o = 0; o < total; ++o) {
        const int32_t x = params->input_offset + input[it.index1];
        int32_t y;
        if (x >= 0) {
            y = tg_requantize(x, params->identity.multiplier, params->identity.shift);
        } else {
            const int32_t a = params->alpha_offset + alpha[it.index2];
            y = tg_requantize(x * a, params->alpha.multiplier, params->alpha.shift);
        }
        output[o] = (int8_t)tg_clamp(y + params->output_offset, INT8_MIN, INT8_MAX);
        tg_broadcast_next(broadcast, &it);
    }
}
