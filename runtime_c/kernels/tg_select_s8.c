/* SELECT_V2, int8: TFLM Select / BroadcastSelect5DSlow; the stored values are copied, whatever the
 * tensors' quantization (TFLM does not rescale either). */
#include "tinygen/tg_kernels.h"

void tg_select_s8(const tg_nary_broadcast_t *broadcast, const uint8_t *condition,
                  const int8_t *x, const int8_t *y, int8_t *output)
{
    const int32_t *dims = broadcast->output_dims;
    const int32_t *sc = broadcast->strides;
    const int32_t *sx = broadcast->strides + TG_MISC_RANK;
    const int32_t *sy = broadcast->strides + 2 * TG_MISC_RANK;
    int32_t o = 0;
    for (int32_t i0 = 0; i0 < dims[0]; ++i0)
    for (int32_t i1 = 0; i1 < dims[1]; ++i1)
    for (int32_t i2 = 0; i2 < dims[2]; ++i2)
    for (int32_t i3 = 0; i3 < dims[3]; ++i3)
    for (int32_t i4 = 0; i4 < dims[4]; ++i4)
    for (int32_t i5 = 0; i5 < dims[5]; ++i5) {
        const int32_t c = i0 * sc[0] + i1 * sc[1] + i2 * sc[2] + i3 * sc[3] + i4 * sc[4] + i5 * sc[5];
        const int32_t a = i0 * sx[0] + i1 * sx[1] + i2 * sx[2] + i3 * sx[3] + i4 * sx[4] + i5 * sx[5];
        const int32_t b = i0 * sy[0] + i1 * sy[1] + i2 * sy[2] + i3 * sy[3] + i4 * sy[4] + i5 * sy[5];
        output[o++] = condition[c] ? x[a] : y[b];
    }
}
