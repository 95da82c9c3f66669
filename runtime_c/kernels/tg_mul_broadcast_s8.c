/* MUL, int8, with broadcasting up to 6-D, as the TFLM interpreter does (BroadcastMul*DSlow). */
#include "tinygen/tg_kernels.h"

void tg_mul_broadcast_s8(const tg_mul_params_t *params, const tg_broadcast_t *broadcast,
                         const int8_t *input1, const int8_t *input2, int8_t *output)
{
    const int32_t *dims = broadcast->output_dims;
    const int32_t *s1 = broadcast->input1_strides;
    const int32_t *s2 = broadcast->input2_strides;
    int32_t o = 0;
    /* The output is written in order; each input advances by its stride (0 where it broadcasts). */
    for (int32_t d0 = 0, i0 = 0, j0 = 0; d0 < dims[0]; ++d0, i0 += s1[0], j0 += s2[0]) {
        for (int32_t d1 = 0, i1 = i0, j1 = j0; d1 < dims[1]; ++d1, i1 += s1[1], j1 += s2[1]) {
            for (int32_t d2 = 0, i2 = i1, j2 = j1; d2 < dims[2]; ++d2, i2 += s1[2], j2 += s2[2]) {
                for (int32_t d3 = 0, i3 = i2, j3 = j2; d3 < dims[3]; ++d3, i3 += s1[3], j3 += s2[3]) {
                    for (int32_t d4 = 0, i4 = i3, j4 = j3; d4 < dims[4]; ++d4, i4 += s1[4], j4 += s2[4]) {
                        for (int32_t d5 = 0, i5 = i4, j5 = j4; d5 < dims[5]; ++d5, i5 += s1[5], j5 += s2[5]) {
                            output[o++] = tg_mul_s8_element(params, input1[i5], input2[j5]);
                        }
                    }
                }
            }
        }
    }
}
