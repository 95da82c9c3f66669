/* SVDF, int8 input/output with int16 state and time weights: TFLM's EvalInt16SvdfReference. */
#define TG_SVDF_STATE_T int16_t
#include "tg_svdf_body.h"

void tg_svdf_s8_s16(const tg_svdf_params_t *params, const int8_t *input, const int8_t *weights_feature,
                    const int16_t *weights_time, const int32_t *bias, int16_t *state,
                    int8_t *output, int32_t *scratch)
{
    tg_svdf_body(params, input, weights_feature, weights_time, bias, state, output, scratch);
}
