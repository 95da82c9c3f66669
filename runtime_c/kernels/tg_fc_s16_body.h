/* The body of both FULLY_CONNECTED 16x8 kernels (TFLM reference_integer_ops::FullyConnected and
 * FullyConnectedPerChannel on int16 input). The including file defines TG_ACC_T (int64_t or
 * int32_t: the bias's type, which is TFLM's accumulator) and TG_REQUANTIZE (the matching
 * MultiplyByQuantizedMultiplier). Private to tg_fully_connected_s16*.c. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

static inline void tg_fc_s16_body(const tg_fc_params_t *params, const tg_channel_requant_t *requant,
                                  int32_t batches, int32_t accum_depth, int32_t output_depth,
                                  const int16_t *input, const int8_t *filter, const TG_ACC_T *bias,
                                  int16_t *output)
{
    for (int32_t b = 0; b < batches; ++b) {
        const int16_t *in = input + b * accum_depth;
        for (int32_t oc = 0; oc < output_depth; ++oc) {
            const int8_t *w = filter + oc * accum_depth;
            TG_ACC_T acc = 0;
            for (int32_t d = 0; d < accum_depth; ++d) {
                /* The product is an int32 in TFLM too; int32 sums wrap as TFLM's do on hardware. */
                const int32_t product = ((int32_t)w[d] + params->filter_offset) * ((int32_t)in[d] + params->input_offset);
                acc = (TG_ACC_T)((uint64_t)acc + (uint64_t)(int64_t)product);
            }
            if (bias != NULL) {
                acc = (TG_ACC_T)((uint64_t)acc + (uint64_t)(int64_t)bias[oc]);
            }
            const int32_t q = requant->per_channel ? oc : 0;
            int32_t y = TG_REQUANTIZE(acc, requant->multiplier[q], requant->shift[q]);
            y += params->output_offset;
            output[b * output_depth + oc] = (int16_t)tg_clamp(y, params->activation.min, params->activation.max);
        }
    }
}
