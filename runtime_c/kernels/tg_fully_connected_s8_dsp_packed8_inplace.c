/* tg_fully_connected_s8_dsp_packed8 over its own input, as tg_fully_connected_s8_dsp_packed_inplace
 * (tinygen/tg_dsp.h): input row b copied to `row_copy` before output row b is written. */
#include "tg_fc_dsp.h"

void tg_fully_connected_s8_dsp_packed8_inplace(const tg_fc_wide_params_t *params, const int32_t *channels,
                                               int32_t batches, int32_t accum_depth, int32_t output_depth,
                                               const int8_t *input, const int32_t *filter, int8_t *output,
                                               void *row_copy)
{
    tg_fc_dsp_inplace(params, channels, batches, accum_depth, output_depth, input, filter, output, row_copy, 1);
}
