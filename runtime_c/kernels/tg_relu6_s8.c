/* RELU6, int8: TFLM Relu6Quantized. TFLM clamps the input's values to [its zero point, 6.0
 * quantized with its scale] and stores them unchanged: the output's own scale and zero point are
 * never read, so they are not read here either. */
#include "tinygen/tg_kernels.h"

void tg_relu6_s8(const tg_range_t *range, int32_t size, const int8_t *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = (int8_t)tg_clamp(input[i], range->min, range->max);
    }
}
