/* LESS, LESS_EQUAL, GREATER, GREATER_EQUAL, EQUAL, NOT_EQUAL on int8: TFLM ComparisonWithScaling
 * (both inputs offset, shifted left by 8 and rescaled by their own scale), bool output. */
#include "tinygen/tg_kernels.h"

static int32_t tg_compare_scaled(int32_t value, int32_t offset, int32_t left_shift, const tg_requant_t *r)
{
    return tg_requantize((value + offset) * ((int32_t)1 << left_shift), r->multiplier, r->shift);
}

void tg_compare_s8(const tg_compare_params_t *params, const tg_nary_broadcast_t *broadcast,
                   const int8_t *input1, const int8_t *input2, uint8_t *output)
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
        const int32_t a = i0 * s1[0] + i1 * s1[1] + i2 * s1[2] + i3 * s1[3] + i4 * s1[4] + i5 * s1[5];
        const int32_t b = i0 * s2[0] + i1 * s2[1] + i2 * s2[2] + i3 * s2[3] + i4 * s2[4] + i5 * s2[5];
        const int32_t x = tg_compare_scaled(input1[a], params->input1_offset, params->left_shift, &params->input1);
        const int32_t y = tg_compare_scaled(input2[b], params->input2_offset, params->left_shift, &params->input2);
        const int32_t outcome = x < y ? TG_OUTCOME_LESS : (x == y ? TG_OUTCOME_EQUAL : TG_OUTCOME_GREATER);
        const int32_t result = (params->predicate & outcome) != 0;
        output[o++] = (uint8_t)result;
    }
}
