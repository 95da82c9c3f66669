/* SOFTMAX, int16 in and out: TFLM's reference_ops::SoftmaxInt16. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

/* TFLM's LUTLookup on int16: 512 segments, linearly interpolated over the low 7 bits. */
static int16_t lut_lookup(int16_t value, const int16_t *lut)
{
    const int32_t index = 256 + (value >> 7);
    const int32_t offset = value & 0x7F;
    const int32_t slope = (int32_t)lut[index + 1] - lut[index];
    return (int16_t)(lut[index] + ((slope * offset + 64) >> 7));
}

static int32_t leading_zeros(uint32_t x)
{
    int32_t n = 0;
    while (n < 32 && !(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

void tg_softmax_s16(const tg_softmax_s16_params_t *params, const int16_t *input, int16_t *output)
{
    const int32_t depth = params->depth;
    for (int32_t row = 0; row < params->outer_size; ++row) {
        const int16_t *in = input + row * depth;
        int16_t *out = output + row * depth;   /* holds the exps first, as TFLM's does */
        int16_t max = INT16_MIN;
        for (int32_t c = 0; c < depth; ++c) {
            max = in[c] > max ? in[c] : max;
        }
        int32_t sum = 0;   /* Q16.15 */
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t scaled = tg_requantize((int32_t)in[c] - max, params->input.multiplier, params->input.shift);
            out[c] = lut_lookup((int16_t)tg_clamp(scaled + 32767, -32768, 32767), params->exp_lut);
            sum += out[c];
        }
        const int32_t headroom_plus_one = leading_zeros((uint32_t)sum);
        const int32_t shifted = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        const int16_t x = (int16_t)tg_clamp(shifted - ((1 << 15) + (1 << 16)), -32768, 32767);
        const int16_t reciprocal = lut_lookup(x, params->one_over_one_plus_x_lut);
        const int32_t right_shift = 31 - headroom_plus_one;
        const int64_t round = (int64_t)1 << (right_shift - 1);
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t y = (int32_t)(((int64_t)out[c] * reciprocal + round) >> right_shift);
            out[c] = (int16_t)tg_clamp(y, 0, 32767);
        }
    }
}
