/* MIRROR_PAD and BATCH_TO_SPACE_ND, int8 (their index arithmetic per dimension, tabulated at generation
 * time): every output element read from the input element the per-dimension tables point at. */
#include "tinygen/tg_kernels.h"

void tg_separable_gather_s8(const tg_separable_gather_params_t *params, const int8_t *input, int8_t *output)
{
    const int32_t *dims = params->output_dims;
    const int32_t *t0 = params->tables + params->table_start[0];
    const int32_t *t1 = params->tables + params->table_start[1];
    const int32_t *t2 = params->tables + params->table_start[2];
    const int32_t *t3 = params->tables + params->table_start[3];
    const int32_t *t4 = params->tables + params->table_start[4];
    const int32_t *t5 = params->tables + params->table_start[5];
    for (int32_t i0 = 0; i0 < dims[0]; ++i0) {
        for (int32_t i1 = 0; i1 < dims[1]; ++i1) {
            const int32_t at1 = t0[i0] + t1[i1];
            for (int32_t i2 = 0; i2 < dims[2]; ++i2) {
                const int32_t at2 = at1 + t2[i2];
                for (int32_t i3 = 0; i3 < dims[3]; ++i3) {
                    const int32_t at3 = at2 + t3[i3];
                    for (int32_t i4 = 0; i4 < dims[4]; ++i4) {
                        const int32_t at4 = at3 + t4[i4];
                        for (int32_t i5 = 0; i5 < dims[5]; ++i5) {
                            *output++ = input[at4 + t5[i5]];
                        }
                    }
                }
            }
        }
    }
}
