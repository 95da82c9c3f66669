/* TANH, int8: TFLM reference_integer_ops::Tanh (gemmlowp tanh on Q4.27). */
#include "tinygen/tg_fixedpoint_math.h"
#include "tinygen/tg_kernels.h"

#define TG_TANH_INPUT_INTEGER_BITS 4
#define TG_TANH_OUTPUT_FRACTIONAL_BITS 7

void tg_tanh_s8(const tg_logistic_params_t *params, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x = (int32_t)input[i] - params->input_zero_point;
        if (x <= -params->input_range_radius) {
            output[i] = INT8_MIN;
        } else if (x >= params->input_range_radius) {
            output[i] = INT8_MAX;
        } else {
            const int32_t x_q4 = tg_requantize(x, params->input_multiplier, params->input_left_shift);
            const int32_t y_q0 = tg_fx_tanh(x_q4, TG_TANH_INPUT_INTEGER_BITS);
            const int32_t y = tg_rounding_divide_by_pot(y_q0, 31 - TG_TANH_OUTPUT_FRACTIONAL_BITS);
            output[i] = (int8_t)tg_clamp(y, INT8_MIN, INT8_MAX);
        }
    }
}
