/* FULLY_CONNECTED (and CONV_2D 1x1, stride 1, unpadded, as an FC over its pixels) on the DSP
 * extension without scratch (tinygen/tg_dsp.h): where the wide variant's widened input row or
 * im2col column would raise the arena. Per four k of the input row: one load, two SXTB16, then
 * per row of the block one LDRD of its pre-widened weights and two SMLAD. The input offset is
 * folded into the bias, so the loop adds w * x only; a depth that is not a multiple of 4 ends
 * with a word built from the last bytes (no read past the row). */
#include "tinygen/tg_kernels.h"
#include "tg_wide_dot.h"

/* The last accum_depth % 4 values of a row as a word, zeros after them. */
static inline uint32_t tail_word(const int8_t *x, int32_t count)
{
    uint32_t word = 0;
    for (int32_t k = 0; k < count; ++k) {
        word |= (uint32_t)(uint8_t)x[k] << (8 * k);
    }
    return word;
}

/* Four k against TG_WIDE_ROWS rows: acc.aj += x . w_j. */
static inline tg_acc4_t block4(uint32_t s8x4, const int32_t **w, tg_acc4_t acc)
{
    const uint32_t even = tg_pair_even(s8x4), odd = tg_pair_odd(s8x4);  /* (x0, x2), (x1, x3) */
    uint32_t w_even, w_odd;
    tg_load_pair(w, &w_even, &w_odd);
    acc.a0 = tg_smlad(even, w_even, acc.a0);
    acc.a0 = tg_smlad(odd, w_odd, acc.a0);
    tg_load_pair(w, &w_even, &w_odd);
    acc.a1 = tg_smlad(even, w_even, acc.a1);
    acc.a1 = tg_smlad(odd, w_odd, acc.a1);
    tg_load_pair(w, &w_even, &w_odd);
    acc.a2 = tg_smlad(even, w_even, acc.a2);
    acc.a2 = tg_smlad(odd, w_odd, acc.a2);
    tg_load_pair(w, &w_even, &w_odd);
    acc.a3 = tg_smlad(even, w_even, acc.a3);
    acc.a3 = tg_smlad(odd, w_odd, acc.a3);
    return acc;
}

void tg_fully_connected_s8_dsp(const tg_fc_wide_params_t *params, const int32_t *channels,
                               int32_t batches, int32_t accum_depth, int32_t output_depth,
                               const int8_t *input, const int32_t *filter, int8_t *output)
{
    const tg_wide_epilogue_t epilogue = {params->output_offset, params->activation.min, params->activation.max};
    const int32_t whole = accum_depth >> 2, tail = accum_depth & 3;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *row = input + b * accum_depth;
        const uint32_t last = tail_word(row + 4 * whole, tail);
        const int32_t *w = filter;
        for (int32_t oc = 0; oc < output_depth; oc += TG_WIDE_ROWS) {
            const int32_t *channel = channels + oc * TG_WIDE_CHANNEL_WORDS;
            tg_acc4_t acc = tg_wide_start(channel, 0);
            const int8_t *x = row;
            for (int32_t k = whole; k > 0; --k, x += 4) {
                acc = block4(tg_read_s8x4(x), &w, acc);
            }
            if (tail) {
                acc = block4(last, &w, acc);
            }
            const int32_t rows = output_depth - oc < TG_WIDE_ROWS ? output_depth - oc : TG_WIDE_ROWS;
            output = tg_wide_outputs(acc, channel, rows, epilogue, output);
        }
    }
}
