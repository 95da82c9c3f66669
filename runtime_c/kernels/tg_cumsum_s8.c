/* CUMSUM, int8: TFLM reference_ops::CumSum with ADD's rescaling (left shift 20, one input scale);
 * each running sum starts from the rescaled input offset and wraps in int32 as TFLM's build does. */
#include "tinygen/tg_kernels.h"

static int32_t tg_cumsum_scaled(const tg_cumsum_params_t *p, int32_t value)
{
    return tg_requantize((int32_t)((uint32_t)value << p->left_shift), p->input.multiplier, p->input.shift);
}

void tg_cumsum_s8(const tg_cumsum_params_t *params, const int8_t *input, int8_t *output)
{
    const int32_t after = params->after;
    const int32_t depth = params->depth;
    for (int32_t b = 0; b < params->before; ++b) {
        for (int32_t a = 0; a < after; ++a) {
            int32_t acc = tg_cumsum_scaled(params, params->input_offset);
            for (int32_t d = 0; d < depth; ++d) {
                const int32_t dd = params->reverse ? depth - 1 - d : d;
                const int32_t index = (b * depth + dd) * after + a;
                const int32_t scaled = tg_cumsum_scaled(params, params->input_offset + input[index]);
                int32_t sum;
                if (params->exclusive) {
                    sum = acc;
                    acc = tg_fx_add(acc, scaled);
                } else {
                    acc = tg_fx_add(acc, scaled);
                    sum = acc;
                }
                const int32_t out = tg_requantize(sum, params->output.multiplier, params->output.shift)
                                    + params->output_offset;
                output[index] = (int8_t)tg_clamp(out, params->activation.min, params->activation.max);
            }
        }
    }
}
