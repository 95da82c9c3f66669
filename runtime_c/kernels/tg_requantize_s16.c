/* QUANTIZE between int8 and int16 and int16 -> int16 (issue 10, ops-c): TFLM reference_ops::Requantize,
 * its general path (the xor-0x80 shortcut is for int8 <-> uint8 only). */
#include "tinygen/tg_kernels.h"

static int32_t requantized(const tg_requantize_params_t *params, int32_t value)
{
    return tg_requantize(value - params->input_zero_point, params->requant.multiplier, params->requant.shift) +
           params->output_zero_point;
}

void tg_requantize_s8_s16(const tg_requantize_params_t *params, int32_t size, const int8_t *input, int16_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = (int16_t)tg_clamp(requantized(params, input[i]), -32768, 32767);
    }
}

void tg_requantize_s16_s8(const tg_requantize_params_t *params, int32_t size, const int16_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = (int8_t)tg_clamp(requantized(params, input[i]), -128, 127);
    }
}

void tg_requantize_s16(const tg_requantize_params_t *params, int32_t size, const int16_t *input, int16_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = (int16_t)tg_clamp(requantized(params, input[i]), -32768, 32767);
    }
}
