/* RELU, int8: TFLM ReluQuantized. Unlike a fused activation, TFLM's RELU operator rescales from the
 * input's quantization to the output's, then clamps at the output's zero point. */
#include "tinygen/tg_kernels.h"

void tg_relu_s8(const tg_relu_params_t *params, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t centred = (int32_t)input[i] - params->input_zero_point;
        const int32_t out = params->output_zero_point +
                            tg_requantize(centred, params->requant.multiplier, params->requant.shift);
        output[i] = (int8_t)tg_clamp(out, params->activation.min, params->activation.max);
    }
}
