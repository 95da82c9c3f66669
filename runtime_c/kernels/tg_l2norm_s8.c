/* L2_NORMALIZATION, int8: TFLM reference_integer_ops::L2Normalization. The output is always in
 * 1/128 steps around 0: TFLM ignores the output tensor's quantization. */
#include "tinygen/tg_kernels.h"

#define TG_L2NORM_OUTPUT_SHIFT 7

void tg_l2norm_s8(const tg_l2norm_params_t *params, const int8_t *input, int8_t *output)
{
    const int32_t depth = params->depth;
    for (int32_t row = 0; row < params->outer; ++row) {
        const int8_t *in = input + row * depth;
        int32_t acc = 0;
        for (int32_t i = 0; i < depth; ++i) {
            const int32_t v = (int32_t)in[i] - params->input_zero_point;
            acc = tg_fx_add(acc, v * v);
        }
        int32_t multiplier;
        int32_t shift;
        tg_inv_sqrt_multiplier(acc, &multiplier, &shift);
        for (int32_t i = 0; i < depth; ++i) {
            const int32_t v = (int32_t)in[i] - params->input_zero_point;
            const int32_t out = tg_requantize(v, multiplier, shift + TG_L2NORM_OUTPUT_SHIFT);
            output[row * depth + i] = (int8_t)tg_clamp(out, INT8_MIN, INT8_MAX);
        }
    }
}
