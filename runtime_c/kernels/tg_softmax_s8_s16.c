/* SOFTMAX, int8 -> int16: TFLM reference_ops::Softmax<int8_t, int16_t> (gemmlowp fixed point). */
#include "tinygen/tg_fixedpoint_math.h"
#include "tinygen/tg_kernels.h"
#include "tg_softmax_row.h"

void tg_softmax_s8_s16(const tg_softmax_params_t *params, int32_t outer_size, int32_t depth,
                       const int8_t *input, int16_t *output)
{
    for (int32_t row = 0; row < outer_size; ++row) {
        const int8_t *in = input + row * depth;
        int16_t *out = output + row * depth;
        const tg_softmax_row_t r = tg_softmax_row_prepare(params, depth, in, 16);
        for (int32_t c = 0; c < depth; ++c) {
            out[c] = (int16_t)tg_softmax_row_output(params, &r, in[c], INT16_MIN, INT16_MAX);
        }
    }
}
