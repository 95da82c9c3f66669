/* MINIMUM, int8: TFLM reference_ops::MaximumMinimumBroadcastSlow. The stored values are compared
 * as they are, whatever the tensors' quantization: TFLM does not rescale them either. */
#include "tinygen/tg_kernels.h"
#include "tg_broadcast_iter.h"

void tg_minimum_s8(const tg_broadcast_t *broadcast, const int8_t *input1, const int8_t *input2, int8_t *output)
{
    tg_broadcast_iter_t it;
    const int32_t total = tg_broadcast_begin(broadcast, &it);
    for (int32_t o = 0; o < total; ++o) {
        const int8_t a = input1[it.index1];
        const int8_t b = input2[it.index2];
        output[o] = a < b ? a : b;
        tg_broadcast_next(broadcast, &it);
    }
}
