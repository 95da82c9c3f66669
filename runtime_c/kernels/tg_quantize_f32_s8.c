/* QUANTIZE float32 -> int8: TFLM reference_ops::AffineQuantize.
 *
 * TFLM computes TfLiteRound(x / scale) with a float division and rounds halves away from zero
 * (roundf), then adds the zero point and clamps. Freestanding C has no roundf, so it is done by
 * hand. Where TFLM converts an out-of-int32 or NaN quotient to int (undefined behaviour in C++:
 * x86 yields INT32_MIN, Arm saturates), this kernel saturates, and maps NaN to the zero point. */
#include "tinygen/tg_kernels.h"

/* |quotient| beyond this always clamps to the int8 end, whatever the zero point. */
#define TG_QUANTIZE_SATURATE 512.0f

static int32_t tg_round_half_away(float q)
{
    /* Caller guarantees |q| <= TG_QUANTIZE_SATURATE: the conversion truncates toward zero and
     * q - truncated is exact (the fraction of a float is representable). */
    const int32_t truncated = (int32_t)q;
    const float fraction = q - (float)truncated;
    if (fraction >= 0.5f) {
        return truncated + 1;
    }
    if (fraction <= -0.5f) {
        return truncated - 1;
    }
    return truncated;
}

void tg_quantize_f32_s8(const tg_affine_quant_t *quant, int32_t size, const float *input, int8_t *output)
{
    for (int32_t i = 0; i < size; ++i) {
        const float q = input[i] / quant->scale;
        int32_t rounded;
        if (q > TG_QUANTIZE_SATURATE) {
            rounded = 1024;
        } else if (q < -TG_QUANTIZE_SATURATE) {
            rounded = -1024;
        } else if (q == q) {
            rounded = tg_round_half_away(q);
        } else {
            rounded = 0;  /* NaN */
        }
        output[i] = (int8_t)tg_clamp(rounded + quant->zero_point, -128, 127);
    }
}
