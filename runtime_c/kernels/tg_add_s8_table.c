/* ADD, int8, both inputs of the output's shape, the inputs' rescales looked up (tinygen/tg_elementwise.h):
 * TFLM's AddFunc with scaled1 and scaled2 read from tables, the rest computed as tg_add_s8_element does. */
#include "tinygen/tg_kernels.h"

void tg_add_s8_table(const tg_add_table_params_t *params, int32_t size, const int32_t *tables,
                     const int8_t *input1, const int8_t *input2, int8_t *output)
{
    /* A local copy: output stores through int8_t * may alias the parameters. */
    const tg_add_table_params_t p = *params;
    const int32_t *scaled1 = tables + 128, *scaled2 = tables + 256 + 128;  /* indexed by the int8 value */
    for (int32_t i = 0; i < size; ++i) {
        const int32_t sum = scaled1[input1[i]] + scaled2[input2[i]];
        const int32_t out = tg_requantize(sum, p.output.multiplier, p.output.shift) + p.output_offset;
        output[i] = (int8_t)tg_clamp(out, p.activation.min, p.activation.max);
    }
}
