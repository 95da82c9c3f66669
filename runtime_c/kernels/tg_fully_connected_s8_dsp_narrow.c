/* tg_fully_connected_s8_dsp with the int8 weights themselves (tinygen/tg_dsp.h): no flash beyond the
 * model's weights, for layers a flash budget leaves unwidened. SXTB16 splits each row's four
 * weights as it splits the input's four values, so even pairs meet even pairs and odd odd ones. */
#include "tg_fc_dsp.h"

void tg_fully_connected_s8_dsp_narrow(const tg_fc_wide_params_t *params, const int32_t *channels,
                                      int32_t batches, int32_t accum_depth, int32_t output_depth,
                                      const int8_t *input, const int32_t *filter, int8_t *output)
{
    tg_fc_dsp(params, channels, batches, accum_depth, output_depth, input, filter, output, TG_FC_NARROW);
}
