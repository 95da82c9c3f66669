/* CONV_2D 16x8 with an int32 bias and accumulator. */
#define TG_ACC_T int32_t
#define TG_REQUANTIZE tg_requantize
#include "tg_conv_s16_body.h"

void tg_conv_s16_b32(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                     const tg_dims_t *input_dims, const int16_t *input,
                     const tg_dims_t *filter_dims, const int8_t *filter, const int32_t *bias,
                     const tg_dims_t *output_dims, int16_t *output)
{
    tg_conv_s16_body(params, requant, input_dims, input, filter_dims, filter, bias, output_dims, output);
}
