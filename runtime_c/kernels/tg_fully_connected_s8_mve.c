/* FULLY_CONNECTED, int8, weights without zero point: tg_fully_connected_s8's Helium variant
 * (tinygen/tg_mve.h). Two input rows at a time (one for the last of an odd count) against four
 * output units at a time, VLDRB + VMLADAVA.S8 only, then one vector epilogue per four units. */
#include "tinygen/tg_kernels.h"
#include "tg_mve_ops.h"

void tg_fully_connected_s8_mve(const tg_fc_mve_params_t *params, const int32_t *channels,
                               int32_t batches, int32_t accum_depth, int32_t output_depth,
                               const int8_t *input, const int8_t *filter, int8_t *output)
{
    const tg_fc_mve_params_t p = *params;
    const tg_mve_epilogue_t e = {p.output_offset, p.activation.min, p.activation.max};
    for (int32_t b = 0; b < batches; b += 2) {
        const int32_t count = batches - b < 2 ? batches - b : 2;
        const int8_t *x0 = input + b * accum_depth;
        tg_mve_gemm_pixels(channels, x0, x0 + accum_depth, filter, accum_depth, p.depth_padded, output_depth, e,
                           output + b * output_depth, count, p.left_shift);
    }
}
