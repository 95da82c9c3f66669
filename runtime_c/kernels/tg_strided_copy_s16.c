/* TRANSPOSE and STRIDED_SLICE, int16 (issue 10, ops-c; tg_strided_copy_body.h). */
#define TG_COPY_ELEMENT_T int16_t
#include "tg_strided_copy_body.h"

void tg_strided_copy_s16(const tg_strided_copy_params_t *params, const int16_t *input, int16_t *output)
{
    tg_strided_copy_body(params, input, output);
}
