/* tg_fully_connected_s8_dsp_packed8 over its own input, as tg_fully_connected_s8_dsp_packed_inplace
 * (tinygen/tg_dsp.h): input row b copied to `row_copy` before output row b is written. */
#include "tg_fc_dsp.h"

void tg_fully_connected_s8_dsp_packed8_inplace(const tg_fc_wide_params_t *params, const int32_t *channels,
                                               int32_t batches, int32_t accum_depth, int32_t output_depth,
                                               const int8_t *input, const int32_t *filter, int8_t *output,
                                               void *row_copy)
{
    int8_t *const bytes = (int8_t *)row_copy;
    for (int32_t b = 0; b < batches; ++b) {
        tg_fc_copy_row(input + b * accum_depth, accum_depth, (tg_u32_alias_t *)row_copy, bytes);
        tg_fc_packed8(params, channels, 1, accum_depth, output_depth, bytes, filter, output + b * output_depth);
    }
}
