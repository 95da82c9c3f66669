/* A byte copy between non-overlapping buffers (READ_VARIABLE, ASSIGN_VARIABLE); no libc needed. */
#include "tinygen/tg_kernels.h"

void tg_copy_bytes(int32_t size, const void *source, void *destination)
{
    const uint8_t *from = (const uint8_t *)source;
    uint8_t *to = (uint8_t *)destination;
    for (int32_t i = 0; i < size; ++i) {
        to[i] = from[i];
    }
}
