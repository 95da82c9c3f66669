/* SQUARED_DIFFERENCE, int8: TFLM's SquaredDifference(x, y, ArithmeticParams) over a broadcast
 * (BroadcastBinaryFunction4DSlow, or ElementWise for same shapes: the same values in the same order). */
#include "tinygen/tg_kernels.h"
#include "tg_broadcast_iter.h"

void tg_squared_difference_s8(const tg_add_params_t *params, const tg_broadcast_t *broadcast,
                              const int8_t *input1, const int8_t *input2, int8_t *output)
{
    tg_broadcast_iter_t it;
    const int32_t total = tg_broadcast_begin(broadcast, &it);
    for (int32_t o = 0; o < total; ++o) {
        const int32_t shifted1 = ((int32_t)input1[it.index1] + params->input1_offset) * ((int32_t)1 << params->left_shift);
        const int32_t shifted2 = ((int32_t)input2[it.index2] + params->input2_offset) * ((int32_t)1 << params->left_shift);
        const int32_t scaled1 = tg_requantize(shifted1, params->input1.multiplier, params->input1.shift);
        const int32_t scaled2 = tg_requantize(shifted2, params->input2.multiplier, params->input2.shift);
        const int32_t difference = scaled1 - scaled2;
        /* At most (2^15)^2: no overflow, as TFLM notes. */
        const int32_t raw = tg_requantize(difference * difference, params->output.multiplier, params->output.shift);
        output[o] = (int8_t)tg_clamp(raw + params->output_offset, params->activation.min, params->activation.max);
        tg_broadcast_next(broadcast, &it);
    }
}
