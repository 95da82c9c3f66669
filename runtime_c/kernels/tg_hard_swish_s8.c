/* HARD_SWISH, int8: TFLM reference_ops::HardSwish<int8_t> with HardSwishParams, all in int16
 * fixed point exactly as TFLM computes it (including its int16 wrap and saturation). */
#include "tinygen/tg_fixedpoint_math.h"
#include "tinygen/tg_kernels.h"

void tg_hard_swish_s8(const tg_hard_swish_params_t *params, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int16_t x = tg_wrap_s16((int32_t)input[i] - params->input_zero_point);
        /* x on the input scale / 128: |x| <= 255 keeps this inside int16. */
        const int16_t x_hires = tg_wrap_s16((int32_t)x * (1 << 7));
        /* x on the output scale, before the output's right shift. */
        const int16_t x_preshift_output = tg_saturating_rounding_doubling_high_mul_s16(x_hires, params->output_multiplier);

        /* "relu-ish" value: x rescaled so that +-3.0 maps to +-32768, saturating. A left shift is
         * split around the multiply so that only the last bit of it can saturate. */
        int16_t reluish = x_hires;
        if (params->reluish_exponent > 0) {
            reluish = tg_saturating_left_shift_s16(reluish, params->reluish_exponent - 1);
        }
        reluish = tg_saturating_rounding_doubling_high_mul_s16(reluish, params->reluish_multiplier);
        if (params->reluish_exponent > 0) {
            reluish = tg_saturating_left_shift_s16(reluish, 1);
        }
        if (params->reluish_exponent < 0) {
            reluish = tg_rounding_divide_by_pot_s16(reluish, -params->reluish_exponent);
        }
        /* [-1, 1] to [0, 1] in Q0.15 */
        reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);

        /* Truncating (not rounding) multiply, as TFLM: it cancels the bias of the rounding ones. */
        const int16_t preshift = tg_saturating_doubling_high_mul_s16(reluish, x_preshift_output);
        int16_t y = tg_rounding_divide_by_pot_s16(preshift, -params->output_exponent);
        y = tg_wrap_s16((int32_t)y + params->output_zero_point);
        output[i] = (int8_t)tg_clamp(y, INT8_MIN, INT8_MAX);
    }
}
