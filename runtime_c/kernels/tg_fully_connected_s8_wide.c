/* FULLY_CONNECTED, int8, weights without zero point: tg_fully_connected_s8's wide variant
 * (tinygen/tg_wide.h). Each input row is widened once; four output units share each load of it. */
#include "tinygen/tg_kernels.h"
#include "tg_wide_dot.h"

void tg_fully_connected_s8_wide(const tg_fc_wide_params_t *params, const int32_t *channels,
                                int32_t batches, int32_t accum_depth, int32_t output_depth,
                                const int8_t *input, const int32_t *filter,
                                int8_t *output, void *scratch)
{
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(params->output_offset, params->activation);
    const int32_t depth_padded = params->depth_padded, blocks = depth_padded >> 2;
    const int32_t block_words = TG_WIDE_ROWS * (depth_padded >> 1);
    tg_s16_alias_t *column = (tg_s16_alias_t *)scratch;
    for (int32_t b = 0; b < batches; ++b) {
        tg_fill_s16(tg_widen_s8(input + b * accum_depth, column, accum_depth), 0, depth_padded - accum_depth);
        const int32_t *w = filter;
        for (int32_t oc = 0; oc < output_depth; oc += TG_WIDE_ROWS) {
            const tg_acc4_t acc = tg_wide_dot1x4_unrolled((const tg_u32_alias_t *)scratch, w, blocks,
                                                          tg_wide_start(channels + oc * TG_WIDE_CHANNEL_WORDS, 0));
            w += block_words;
            const int32_t rows = output_depth - oc < TG_WIDE_ROWS ? output_depth - oc : TG_WIDE_ROWS;
            output = tg_wide_outputs(acc, channels + oc * TG_WIDE_CHANNEL_WORDS, rows, epilogue, output);
        }
    }
}
