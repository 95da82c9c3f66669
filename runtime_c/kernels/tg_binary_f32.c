/* ADD, SUB and MUL, float32: TFLM's reference kernels (Add/Sub/Mul and their broadcast forms), one
 * IEEE operation per element, then ActivationFunctionWithMinMax. */
#include "tinygen/tg_kernels.h"

void tg_binary_f32(int32_t operation, const tg_range_f32_t *activation, const tg_nary_broadcast_t *broadcast,
                   const float *input1, const float *input2, float *output)
{
    const int32_t *dims = broadcast->output_dims;
    const int32_t *s1 = broadcast->strides;
    const int32_t *s2 = broadcast->strides + TG_MISC_RANK;
    int32_t o = 0;
    for (int32_t i0 = 0; i0 < dims[0]; ++i0)
    for (int32_t i1 = 0; i1 < dims[1]; ++i1)
    for (int32_t i2 = 0; i2 < dims[2]; ++i2)
    for (int32_t i3 = 0; i3 < dims[3]; ++i3)
    for (int32_t i4 = 0; i4 < dims[4]; ++i4)
    for (int32_t i5 = 0; i5 < dims[5]; ++i5) {
        const float a = input1[i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3] + i4 * s1[4] + i5 * s1[5]];
        const float b = input2[i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3] + i4 * s2[4] + i5 * s2[5]];
        float v;
        if (operation == TG_F32_ADD) {
            v = a + b;
        } else if (operation == TG_F32_SUB) {
            v = a - b;
        } else {
            v = a * b;
        }
        v = v < activation->min ? activation->min : v;   /* std::max(v, min) */
        v = activation->max < v ? activation->max : v;   /* std::min(v, max) */
        output[o++] = v;
    }
}
