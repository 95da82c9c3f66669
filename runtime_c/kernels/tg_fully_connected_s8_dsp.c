/* FULLY_CONNECTED (and CONV_2D 1x1, stride 1, unpadded, as an FC over its pixels) on the DSP
 * extension without scratch (tinygen/tg_dsp.h): where the wide variant's widened input row or
 * im2col column would raise the arena. Per four k of the input row: one load, two SXTB16, then
 * per row of the block one LDRD of its pre-widened weights and two SMLAD. The input offset is
 * folded into the bias, so the loop adds w * x only; a depth that is not a multiple of 4 ends
 * with a word built from the last bytes (no read past the row). */
#include "tg_fc_dsp.h"

void tg_fully_connected_s8_dsp(const tg_fc_wide_params_t *params, const int32_t *channels,
                               int32_t batches, int32_t accum_depth, int32_t output_depth,
                               const int8_t *input, const int32_t *filter, int8_t *output)
{
    tg_fc_dsp(params, channels, batches, accum_depth, output_depth, input, filter, output, TG_FC_WIDE16);
}
