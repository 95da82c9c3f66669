/* ADD_N, int8: TFLM reference_ops::AddN. Each element starts from the rescaled input offset (TFLM's
 * x = input1_offset), then adds every input rescaled; the int32 sums wrap as TFLM's build does. */
#include <stdarg.h>

#include "tinygen/tg_kernels.h"

static int32_t tg_add_n_scaled(const tg_add_n_params_t *p, int32_t value)
{
    const int32_t shifted = (int32_t)((uint32_t)value << p->left_shift);
    return tg_requantize(shifted, p->input.multiplier, p->input.shift);
}

void tg_add_n_s8(const tg_add_n_params_t *params, int32_t size, int32_t *scratch, int8_t *output, ...)
{
    const int32_t start = tg_add_n_scaled(params, params->input_offset);
    for (int32_t i = 0; i < size; ++i) {
        scratch[i] = start;
    }
    va_list inputs;
    va_start(inputs, output);
    for (int32_t j = 0; j < params->count; ++j) {
        const int8_t *input = va_arg(inputs, const int8_t *);
        for (int32_t i = 0; i < size; ++i) {
            scratch[i] = tg_fx_add(scratch[i], tg_add_n_scaled(params, params->input_offset + input[i]));
        }
    }
    va_end(inputs);
    for (int32_t i = 0; i < size; ++i) {
        const int32_t out = tg_requantize(scratch[i], params->output.multiplier, params->output.shift)
                            + params->output_offset;
        output[i] = (int8_t)tg_clamp(out, params->activation.min, params->activation.max);
    }
}
