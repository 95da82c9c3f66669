/* Walks a broadcast binary operation's output in order, keeping each input's element index:
 * an odometer over TG_BROADCAST_RANK dimensions whose digits advance the inputs by their
 * strides (0 along a dimension an input broadcasts). Private to the broadcast kernels. */
#ifndef TINYGEN_TG_BROADCAST_ITER_H
#define TINYGEN_TG_BROADCAST_ITER_H

#include "tinygen/tg_elementwise.h"

typedef struct {
    int32_t position[TG_BROADCAST_RANK];
    int32_t index1;  /* element of input 1 for the current output element */
    int32_t index2;  /* element of input 2 */
} tg_broadcast_iter_t;

static inline int32_t tg_broadcast_begin(const tg_broadcast_t *b, tg_broadcast_iter_t *it)
{
    int32_t total = 1;
    for (int32_t d = 0; d < TG_BROADCAST_RANK; ++d) {
        it->position[d] = 0;
        total *= b->output_dims[d];
    }
    it->index1 = 0;
    it->index2 = 0;
    return total;
}

static inline void tg_broadcast_next(const tg_broadcast_t *b, tg_broadcast_iter_t *it)
{
    for (int32_t d = TG_BROADCAST_RANK - 1; d >= 0; --d) {
        it->index1 += b->input1_strides[d];
        it->index2 += b->input2_strides[d];
        if (++it->position[d] < b->output_dims[d]) {
            return;
        }
        /* This digit wraps: rewind its contribution and carry into the next one. */
        it->index1 -= b->input1_strides[d] * b->output_dims[d];
        it->index2 -= b->input2_strides[d] * b->output_dims[d];
        it->position[d] = 0;
    }
}

#endif /* TINYGEN_TG_BROADCAST_ITER_H */
