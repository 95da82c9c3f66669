/* ZEROS_LIKE: TFLM writes static_cast<T>(0), all-zero bytes for int8, int32 and float32 alike. */
#include "tinygen/tg_kernels.h"

void tg_zeros_like(int32_t bytes, void *output)
{
    uint8_t *out = (uint8_t *)output;
    for (int32_t i = 0; i < bytes; ++i) {
        out[i] = 0;
    }
}
