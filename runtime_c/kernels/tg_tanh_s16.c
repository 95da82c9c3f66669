/* TANH on int16: TFLM's reference_integer_ops::Tanh, tanh(x) = 2 sigmoid(2x) - 1 from the sigmoid table. */
#include "tg_sigmoid_table.h"
#include "tinygen/tg_kernels.h"

void tg_tanh_s16(int32_t input_multiplier, int32_t input_left_shift, int32_t size,
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
        const uint32_t index = magnitude >> 8;
        int32_t y;
        if (index >= 255u) {
            y = (int32_t)(0xFFFFu << 8);
        } else {
            const uint32_t lo = tg_sigmoid_table_u16[index], hi = tg_sigmoid_table_u16[index + 1];
            y = (int32_t)((lo << 8) + (magnitude & 0xFFu) * (hi - lo));
        }
        y = x >= 0 ? y - (1 << 23) + (1 << 7) : -y + (1 << 23) + (1 << 7) - 1;
        output[i] = (int16_t)(y >> 8);
    }
}
