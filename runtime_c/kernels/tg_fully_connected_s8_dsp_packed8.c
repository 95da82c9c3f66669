/* tg_fully_connected_s8_dsp_packed eight rows at a time (tinygen/tg_dsp.h, tg_fc_dsp.h): the same
 * packed int8 weights, each input word split once for eight rows instead of four (31 instructions and
 * 40 estimated cycles per 32 MACs against 32.5 and 42). */
#include "tg_fc_dsp.h"

void tg_fully_connected_s8_dsp_packed8(const tg_fc_wide_params_t *params, const int32_t *channels,
                                       int32_t batches, int32_t accum_depth, int32_t output_depth,
                                       const int8_t *input, const int32_t *filter, int8_t *output)
{
    tg_fc_packed8(params, channels, batches, accum_depth, output_depth, input, filter, output);
}
