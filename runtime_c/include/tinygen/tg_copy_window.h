/* tinygen runtime: the strided block copy that moves a patch's window between a whole tensor and
 * the patch's own buffer (patch-based execution, tinygen/schedule/patches.py). */
#ifndef TINYGEN_TG_COPY_WINDOW_H
#define TINYGEN_TG_COPY_WINDOW_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* `rows` runs of `row_bytes` bytes: run r starts at src + r * src_stride and goes to
 * dst + r * dst_stride. An NHWC window of w pixels of c channels in a tensor of width W is
 * rows = window height, row_bytes = w * c, stride W * c on the whole tensor's side and w * c on
 * the patch's. Source and destination must not overlap. */
typedef struct {
    int32_t rows;
    int32_t row_bytes;
    int32_t src_stride;
    int32_t dst_stride;
} tg_window_copy_t;

void tg_copy_window_s8(const tg_window_copy_t *copy, const int8_t *src, int8_t *dst);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_COPY_WINDOW_H */
