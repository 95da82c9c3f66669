/* tg_fully_connected_s8_dsp_pair over its own input (a 1x1 convolution in place, tinygen/tg_dsp.h): the
 * same kernel, which copies both rows into its column before writing their outputs; its own name so
 * that the planner gives it the in-place contract (kernels/overlap.py). */
#include "tinygen/tg_dsp.h"

void tg_fully_connected_s8_dsp_pair_inplace(const tg_fc_wide_params_t *params, const int32_t *channels,
                                            int32_t batches, int32_t accum_depth, int32_t output_depth,
                                            const int8_t *input, const int32_t *filter, int8_t *output,
                                            void *column)
{
    tg_fully_connected_s8_dsp_pair(params, channels, batches, accum_depth, output_depth, input, filter, output,
                                   column);
}
