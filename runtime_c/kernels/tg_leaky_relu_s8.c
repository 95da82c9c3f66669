/* LEAKY_RELU, int8: TFLM reference_ops::QuantizeLeakyRelu (alpha >= 0). */
#include "tinygen/tg_kernels.h"

void tg_leaky_relu_s8(const tg_leaky_relu_params_t *params, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const int32_t value = (int32_t)input[i] - params->input_zero_point;
        const tg_requant_t *r = value >= 0 ? &params->identity : &params->alpha;
        const int32_t out = params->output_zero_point + tg_requantize(value, r->multiplier, r->shift);
        output[i] = (int8_t)tg_clamp(out, INT8_MIN, INT8_MAX);
    }
}
