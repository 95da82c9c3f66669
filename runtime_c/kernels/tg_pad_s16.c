/* PAD (and PADV2-style constant value), int16 (issue 10, ops-c): TFLM reference_ops::PadImpl on 5-D extended shapes. */
#define TG_PAD_ELEMENT_T int16_t
#include "tg_pad_body.h"

void tg_pad_s16(const tg_pad_params_t *params, const int16_t *input, int16_t *output)
{
    tg_pad_body(params, input, output);
}
