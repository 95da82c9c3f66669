/* MEAN, int8: TFLM reference_ops::QuantizedMeanOrSum (compute_sum = false). */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

/* Advance a row-major multi-index within `bounds`; returns 0 after the last index. */
static int next_index(int32_t rank, const int32_t *bounds, int32_t *index)
{
    for (int32_t i = rank - 1; i >= 0; --i) {
        if (++index[i] < bounds[i]) {
            return 1;
        }
        index[i] = 0;
    }
    return 0;
}

void tg_mean_s8(const tg_mean_params_t *params, const int8_t *input, int8_t *output)
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
    /* TFLM subtracts the input zero point once per output, from the whole sum, in 64 bits. */
    const int64_t zero_point_sum = (int64_t)params->input_zero_point * params->count;

    do {
        int32_t base = 0;
        for (int32_t i = 0; i < rank; ++i) {
            base += outer[i] * stride[i];
            inner[i] = 0;
        }
        int32_t sum = 0;
        do {
            int32_t offset = base;
            for (int32_t i = 0; i < rank; ++i) {
                offset += inner[i] * stride[i];
            }
            sum += input[offset];
        } while (next_index(rank, reduced_bounds, inner));

        /* static_cast<int32_t> of the 64-bit difference: keep the low 32 bits. */
        const int32_t shifted = (int32_t)(uint32_t)(uint64_t)((int64_t)sum - zero_point_sum);
        int32_t value = tg_requantize(shifted, params->requant.multiplier, params->requant.shift);
        value += params->output_zero_point;
        *output++ = (int8_t)tg_clamp(value, INT8_MIN, INT8_MAX);
    } while (next_index(rank, kept_bounds, outer));
}
