/* QUANTIZE int8 -> int8: TFLM reference_ops::Requantize (its xor-0x80 shortcut only applies
 * between int8 and uint8, so the general path is the only one for int8 -> int8). */
#include "tinygen/tg_kernels.h"

void tg_requantize_s8(const tg_requantize_params_t *params, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t centred = (int32_t)input[i] - params->input_zero_point;
        const int32_t out = tg_requantize(centred, params->requant.multiplier, params->requant.shift) +
                            params->output_zero_point;
        output[i] = (int8_t)tg_clamp(out, -128, 127);
    }
}
