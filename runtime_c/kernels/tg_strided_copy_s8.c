/* TRANSPOSE, SLICE, STRIDED_SLICE, ... int8 (tg_strided_copy_body.h). */
#define TG_COPY_ELEMENT_T int8_t
#include "tg_strided_copy_body.h"

void tg_strided_copy_s8(const tg_strided_copy_params_t *params, const int8_t *input, int8_t *output)
{
    tg_strided_copy_body(params, input, output);
}
