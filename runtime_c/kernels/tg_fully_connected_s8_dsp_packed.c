/* tg_fully_connected_s8_dsp with two rows' int8 weights packed per int16 half (tinygen/tg_dsp.h): the
 * flash of the model's own weights, and per 16 MACs one SXTB16 of the weights per four MACs where the
 * narrow layout needs two (21 estimated cycles against the int16 layout's 22 and the narrow's 25). */
#include "tg_fc_dsp.h"

void tg_fully_connected_s8_dsp_packed(const tg_fc_wide_params_t *params, const int32_t *channels,
                                      int32_t batches, int32_t accum_depth, int32_t output_depth,
                                      const int8_t *input, const int32_t *filter, int8_t *output)
{
    tg_fc_dsp(params, channels, batches, accum_depth, output_depth, input, filter, output, TG_FC_PACKED);
}
