/* ABS, int8: TFLM AbsEvalQuantized, |q - input zero point| rescaled when the scales differ. */
#include "tinygen/tg_kernels.h"

void tg_abs_s8(const tg_abs_params_t *params, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t difference = (int32_t)input[i] - params->input_zero_point;
        const int32_t value = difference < 0 ? -difference : difference;
        const int32_t scaled =
            params->rescale ? tg_requantize(value, params->requant.multiplier, params->requant.shift) : value;
        output[i] = (int8_t)tg_clamp(scaled + params->output_zero_point, INT8_MIN, INT8_MAX);
    }
}
