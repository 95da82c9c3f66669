/* A window of an NHWC tensor copied row by row (see tg_copy_window.h). No libc: a plain loop. */
#include "tinygen/tg_kernels.h"

void tg_copy_window_s8(const tg_window_copy_t *copy, const int8_t *src, int8_t *dst)
{
    for (int32_t r = 0; r < copy->rows; ++r) {
        const int8_t *from = src + r * copy->src_stride;
        int8_t *to = dst + r * copy->dst_stride;
        for (int32_t i = 0; i < copy->row_bytes; ++i) {
            to[i] = from[i];
        }
    }
}
