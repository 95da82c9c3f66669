/* REDUCE_MAX, int8: TFLM reference_ops::ReduceGeneric with the max reducer. */
#include "tg_reduce_extreme.h"

void tg_reduce_max_s8(const tg_mean_params_t *params, const int8_t *input, int8_t *output)
{
    tg_reduce_extreme_s8(params, input, output, 1);
}
