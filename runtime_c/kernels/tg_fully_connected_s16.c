/* FULLY_CONNECTED 16x8 with an int64 bias and accumulator. */
#define TG_ACC_T int64_t
#define TG_REQUANTIZE tg_requantize_s64
#include "tg_fc_s16_body.h"

void tg_fully_connected_s16(const tg_fc_params_t *params, const tg_channel_requant_t *requant,
                            int32_t batches, int32_t accum_depth, int32_t output_depth,
                            const int16_t *input, const int8_t *filter, const int64_t *bias,
                            int16_t *output)
{
    tg_fc_s16_body(params, requant, batches, accum_depth, output_depth, input, filter, bias, output);
}
