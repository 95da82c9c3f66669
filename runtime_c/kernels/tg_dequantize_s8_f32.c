/* DEQUANTIZE int8 -> float32: TFLM reference_ops::Dequantize. One float multiply per element:
 * (q - zero_point) is an exact small integer, so the product rounds once, as in TFLM. */
#include "tinygen/tg_kernels.h"

void tg_dequantize_s8_f32(const tg_affine_quant_t *quant, int32_t size, const int8_t *input, float *output)
{
    for (int32_t i = 0; i < size; ++i) {
        output[i] = quant->scale * (float)((int32_t)input[i] - quant->zero_point);
    }
}
