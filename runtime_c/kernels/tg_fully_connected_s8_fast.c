/* FULLY_CONNECTED, int8, weights without zero point: tg_fully_connected_s8's optimised twin.
 * Two output units at a time share each load of the input row (tg_dot2_s8). */
#include "tinygen/tg_kernels.h"
#include "tg_dot_s8.h"

void tg_fully_connected_s8_fast(const tg_fc_params_t *params, const tg_channel_requant_t *requant,
                                int32_t batches, int32_t accum_depth, int32_t output_depth,
                                const int8_t *input, const int8_t *filter,
                                const int32_t *bias,
                                int8_t *output)
{
    const tg_dot_epilogue_t epilogue = tg_dot_epilogue(bias, requant, params->output_offset, params->activation);
    const uint32_t offsets = tg_pair_splat(params->input_offset);
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *in = input + b * accum_depth;
        int32_t oc = 0;
        for (; oc + 1 < output_depth; oc += 2) {
            const int8_t *w0 = filter + oc * accum_depth;
            int32_t acc0 = 0, acc1 = 0;
            tg_dot2_s8(in, w0, w0 + accum_depth, accum_depth, params->input_offset, offsets, &acc0, &acc1);
            output[0] = tg_dot_output_s8(acc0, oc, epilogue);
            output[1] = tg_dot_output_s8(acc1, oc + 1, epilogue);
            output += 2;
        }
        if (oc < output_depth) {
            const int32_t acc = tg_dot1_s8(in, filter + oc * accum_depth, accum_depth, params->input_offset, offsets, 0);
            *output++ = tg_dot_output_s8(acc, oc, epilogue);
        }
    }
}
