/* The loop REDUCE_MAX and REDUCE_MIN share: the output in the order of the kept dims, each
 * element the extreme of the reduced block. Private to tg_reduce_max_s8.c / tg_reduce_min_s8.c. */
#ifndef TINYGEN_TG_REDUCE_EXTREME_H
#define TINYGEN_TG_REDUCE_EXTREME_H

#include "tinygen/tg_kernels.h"

/* Advance a row-major multi-index within `bounds`; returns 0 after the last index. */
static inline int tg_reduce_next_index(int32_t rank, const int32_t *bounds, int32_t *index)
{
    for (int32_t i = rank - 1; i >= 0; --i) {
        if (++index[i] < bounds[i]) {
            return 1;
        }
        index[i] = 0;
    }
    return 0;
}

static inline void tg_reduce_extreme_s8(const tg_mean_params_t *params, const int8_t *input, int8_t *output,
                                        int want_max)
{
    const int32_t rank = params->rank;
    int32_t stride[TG_MEAN_MAX_RANK];
    int32_t kept_bounds[TG_MEAN_MAX_RANK];
    int32_t reduced_bounds[TG_MEAN_MAX_RANK];
    int32_t outer[TG_MEAN_MAX_RANK];
    int32_t inner[TG_MEAN_MAX_RANK];
    int32_t step = 1;
    for (int32_t i = rank - 1; i >= 0; --i) {
        stride[i] = step;
        step *= params->dims[i];
        kept_bounds[i] = params->reduced[i] ? 1 : params->dims[i];
        reduced_bounds[i] = params->reduced[i] ? params->dims[i] : 1;
        outer[i] = 0;
    }
    do {
        int32_t base = 0;
        for (int32_t i = 0; i < rank; ++i) {
            base += outer[i] * stride[i];
            inner[i] = 0;
        }
        /* TFLM starts from the type's lowest (max) or highest (min) value. */
        int32_t best = want_max ? INT8_MIN : INT8_MAX;
        do {
            int32_t offset = base;
            for (int32_t i = 0; i < rank; ++i) {
                offset += inner[i] * stride[i];
            }
            const int32_t v = input[offset];
            best = want_max ? (v > best ? v : best) : (v < best ? v : best);
        } while (tg_reduce_next_index(rank, reduced_bounds, inner));
        *output++ = (int8_t)best;
    } while (tg_reduce_next_index(rank, kept_bounds, outer));
}

#endif /* TINYGEN_TG_REDUCE_EXTREME_H */
