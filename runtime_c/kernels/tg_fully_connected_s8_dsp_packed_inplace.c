/* tg_fully_connected_s8_dsp_packed over its own input: a 1x1 convolution run in place
 * (kernels/inplace.py) with the packed DSP FC's arithmetic (tinygen/tg_dsp.h). Input row b (one
 * pixel) is copied to `row_copy` before output row b is written, so output row b may lie over input
 * row b, and the rows after it are still to be read (kernels/overlap.py: as the wide FC's rows). The
 * copy is a handful of word moves per pixel against accum_depth * output_depth MACs. */
#include "tg_fc_dsp.h"

void tg_fully_connected_s8_dsp_packed_inplace(const tg_fc_wide_params_t *params, const int32_t *channels,
                                              int32_t batches, int32_t accum_depth, int32_t output_depth,
                                              const int8_t *input, const int32_t *filter, int8_t *output,
                                              void *row_copy)
{
    tg_fc_dsp_inplace(params, channels, batches, accum_depth, output_depth, input, filter, output, row_copy, 0);
}
