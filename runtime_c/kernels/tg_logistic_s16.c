/* LOGISTIC on int16 (Q3.12 in, Q0.15 out for the power-of-two case): TFLM's
 * reference_integer_ops::Logistic, interpolating between entries of the sigmoid table. */
#include "tg_sigmoid_table.h"
#include "tinygen/tg_kernels.h"

void tg_logistic_s16(int32_t input_multiplier, int32_t input_left_shift, int32_t size,
                     const int16_t *input, int16_t *output)
{
    if (input_multiplier == 0) {
        input_multiplier = 3 << input_left_shift;
        input_left_shift = 0;
    }
    const int32_t round = input_left_shift > 0 ? 1 << (input_left_shift - 1) : 0;
    for (int32_t i = 0; i < size; ++i) {
        const int32_t x = ((int32_t)input[i] * input_multiplier + round) >> input_left_shift;
        const uint32_t magnitude = (uint32_t)(x < 0 ? -x : x);
        const uint32_t index = magnitude >> 9;   /* the table steps 1/24: 2^9 input steps */
        uint32_t y;
        if (index >= 255u) {
            y = 0x7FFFu << 10;
        } else {
            const uint32_t lo = tg_sigmoid_table_u16[index], hi = tg_sigmoid_table_u16[index + 1];
            y = (lo << 9) + (magnitude & 0x1FFu) * (hi - lo);
        }
        /* sigmoid(-x) = 1 - sigmoid(x), then rounded back to 16 bits. */
        y = x >= 0 ? y + (1u << 9) : (1u << 25) - y + (1u << 9) - 1u;
        output[i] = (int16_t)(y >> 10);
    }
}
