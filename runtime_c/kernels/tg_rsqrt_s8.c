/* RSQRT, int8: TFLM RsqrtEvalQuantized. TFLM fails the invocation on an input below the zero point;
 * there the inverse square root of a value <= 1 (INT32_MAX, 0) is used, as for the zero point. */
#include "tinygen/tg_kernels.h"

#define TG_RSQRT_SHIFT 20  /* keeps 1/sqrt(x) an integer before the output rescale */

void tg_rsqrt_s8(const tg_rsqrt_params_t *params, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t value = (int32_t)input[i] - params->input_offset;
        if (value == 0) {
            output[i] = INT8_MAX;
            continue;
        }
        int32_t multiplier;
        int32_t shift;
        tg_inv_sqrt_multiplier(value, &multiplier, &shift);
        const int32_t data = tg_requantize(1, multiplier, shift + TG_RSQRT_SHIFT);
        const int32_t out = tg_requantize(data, params->output.multiplier, params->output.shift - TG_RSQRT_SHIFT)
                            + params->output_offset;
        output[i] = (int8_t)tg_clamp(out, INT8_MIN, INT8_MAX);
    }
}
