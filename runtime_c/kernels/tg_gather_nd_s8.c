/* GATHER_ND, int8 values and int32 indices: TFLM GatherNd. TFLM fails the invocation on a slice
 * out of range; here such a slice is written as zeros (constant indices are checked at generation). */
#include "tinygen/tg_kernels.h"

void tg_gather_nd_s8(const tg_gather_nd_params_t *params, const int8_t *values, const int32_t *indices,
                     int8_t *output)
{
    const int32_t size = params->slice_size;
    for (int32_t s = 0; s < params->slices; ++s) {
        int32_t from = 0;
        for (int32_t j = 0; j < params->index_depth; ++j) {
            from += indices[s * params->index_depth + j] * params->dim_strides[j];
        }
        int8_t *out = output + s * size;
        const int in_range = from >= 0 && from + size <= params->params_size;
        for (int32_t i = 0; i < size; ++i) {
            out[i] = in_range ? values[from + i] : 0;
        }
    }
}
