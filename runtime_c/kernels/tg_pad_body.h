/* The body of tg_pad_s8 and tg_pad_s16 (TFLM reference_ops::PadImpl on 5-D extended shapes), for the
 * element type TG_PAD_ELEMENT_T its includer defines. Private to tg_pad_s*.c. */
#include "tinygen/tg_kernels.h"

static inline void tg_pad_body(const tg_pad_params_t *params, const TG_PAD_ELEMENT_T *input,
                               TG_PAD_ELEMENT_T *output)
{
    const int32_t *in = params->input_dims;
    const int32_t *lo = params->before;
    int32_t out[TG_PAD_RANK];
    for (int32_t i = 0; i < TG_PAD_RANK; ++i) {
        out[i] = lo[i] + in[i] + params->after[i];
    }
    const TG_PAD_ELEMENT_T pad = (TG_PAD_ELEMENT_T)params->pad_value;

    /* Walk the output in order; the input is consumed in order by the in-range positions. */
    for (int32_t d0 = 0; d0 < out[0]; ++d0) {
        const int inside0 = d0 >= lo[0] && d0 < lo[0] + in[0];
        for (int32_t d1 = 0; d1 < out[1]; ++d1) {
            const int inside1 = inside0 && d1 >= lo[1] && d1 < lo[1] + in[1];
            for (int32_t d2 = 0; d2 < out[2]; ++d2) {
                const int inside2 = inside1 && d2 >= lo[2] && d2 < lo[2] + in[2];
                for (int32_t d3 = 0; d3 < out[3]; ++d3) {
                    const int inside3 = inside2 && d3 >= lo[3] && d3 < lo[3] + in[3];
                    for (int32_t d4 = 0; d4 < out[4]; ++d4) {
                        const int inside = inside3 && d4 >= lo[4] && d4 < lo[4] + in[4];
                        *output++ = inside ? *input++ : pad;
                    }
                }
            }
        }
    }
}
