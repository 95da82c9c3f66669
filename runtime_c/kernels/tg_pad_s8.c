/* PAD (and PADV2-style constant value), int8: TFLM reference_ops::PadImpl on 5-D extended shapes. */
#define TG_PAD_ELEMENT_T int8_t
#include "tg_pad_body.h"

void tg_pad_s8(const tg_pad_params_t *params, const int8_t *input, int8_t *output)
{
    tg_pad_body(params, input, output);
}
