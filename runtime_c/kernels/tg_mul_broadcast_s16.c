/* MUL on int16 with broadcasting (TFLM's BroadcastMul4DSlow on int16). */
#include "tinygen/tg_kernels.h"
#include "tg_broadcast_iter.h"

void tg_mul_broadcast_s16(const tg_mul_params_t *params, const tg_broadcast_t *broadcast,
                          const int16_t *input1, const int16_t *input2, int16_t *output)
{
    tg_broadcast_iter_t it;
    const int32_t total = tg_broadcast_begin(broadcast, &it);
    for (int32_t o = 0; o < total; ++o) {
        output[o] = tg_mul_s16_element(params, input1[it.index1], input2[it.index2]);
        tg_broadcast_next(broadcast, &it);
    }
}
