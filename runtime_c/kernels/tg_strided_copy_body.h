/* The body of tg_strided_copy_s8 and tg_strided_copy_s16, for the element type TG_COPY_ELEMENT_T its
 * includer defines: every output element read from one input element whose position is affine in the
 * output index (TFLM reference_ops::Transpose, Slice, ...). Positions are int32 offsets, not pointers
 * stepped past the ends, so no pointer leaves the input. Private to tg_strided_copy_s*.c. */
#include "tinygen/tg_kernels.h"

static inline void tg_strided_copy_body(const tg_strided_copy_params_t *params, const TG_COPY_ELEMENT_T *input,
                                        TG_COPY_ELEMENT_T *output)
{
    const int32_t *dims = params->output_dims;
    const int32_t *stride = params->input_strides;
    int32_t at0 = params->input_offset;
    for (int32_t i0 = 0; i0 < dims[0]; ++i0, at0 += stride[0]) {
        int32_t at1 = at0;
        for (int32_t i1 = 0; i1 < dims[1]; ++i1, at1 += stride[1]) {
            int32_t at2 = at1;
            for (int32_t i2 = 0; i2 < dims[2]; ++i2, at2 += stride[2]) {
                int32_t at3 = at2;
                for (int32_t i3 = 0; i3 < dims[3]; ++i3, at3 += stride[3]) {
                    int32_t at4 = at3;
                    for (int32_t i4 = 0; i4 < dims[4]; ++i4, at4 += stride[4]) {
                        int32_t at = at4;
                        for (int32_t i5 = 0; i5 < dims[5]; ++i5, at += stride[5]) {
                            *output++ = input[at];
                        }
                    }
                }
            }
        }
    }
}
