/* Internal to runtime_c/kernels: the scratch-free DSP FULLY_CONNECTED (tinygen/tg_dsp.h), shared
 * by its two weight layouts: int16 pairs widened at generation time (tg_fully_connected_s8_dsp, 17
 * instructions per 16 MACs) and the int8 weights themselves, split by SXTB16 at run time like the
 * input (tg_fully_connected_s8_dsp_narrow, no extra flash, 25 per 16). */
#ifndef TINYGEN_TG_FC_DSP_H
#define TINYGEN_TG_FC_DSP_H

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

/* The same with int8 weights: per four k one word per row, its bytes (w0..w3) split as the input's. */
static inline tg_acc4_t block4_narrow(uint32_t s8x4, const int32_t **w, tg_acc4_t acc)
{
    const uint32_t even = tg_pair_even(s8x4), odd = tg_pair_odd(s8x4);
    const int32_t *rows = *w;
    const uint32_t r0 = (uint32_t)rows[0], r1 = (uint32_t)rows[1], r2 = (uint32_t)rows[2], r3 = (uint32_t)rows[3];
    acc.a0 = tg_smlad(even, tg_pair_even(r0), acc.a0);
    acc.a0 = tg_smlad(odd, tg_pair_odd(r0), acc.a0);
    acc.a1 = tg_smlad(even, tg_pair_even(r1), acc.a1);
    acc.a1 = tg_smlad(odd, tg_pair_odd(r1), acc.a1);
    acc.a2 = tg_smlad(even, tg_pair_even(r2), acc.a2);
    acc.a2 = tg_smlad(odd, tg_pair_odd(r2), acc.a2);
    acc.a3 = tg_smlad(even, tg_pair_even(r3), acc.a3);
    acc.a3 = tg_smlad(odd, tg_pair_odd(r3), acc.a3);
    *w = rows + TG_WIDE_ROWS;
    return acc;
}

#if TG_SIMD_DSP
#define TG_FC_NARROW_ROW_ASM(A)                                                                        \
    "ldr %[t], [%[w]], #4\n\t"                                                                         \
    "sxtb16 %[te], %[t]\n\t"                                                                           \
    "sxtb16 %[t], %[t], ror #8\n\t"                                                                    \
    "smlad %[" A "], %[xe], %[te], %[" A "]\n\t"                                                       \
    "smlad %[" A "], %[xo], %[t], %[" A "]\n\t"
#endif

#if TG_SIMD_DSP
#define TG_FC_WIDE16_ROW_ASM(A)                                                                        \
    "ldrd %[t], %[te], [%[w]], #8\n\t"                                                                 \
    "smlad %[" A "], %[xe], %[t], %[" A "]\n\t"                                                        \
    "smlad %[" A "], %[xo], %[te], %[" A "]\n\t"
#endif

/* blocks (> 0) of four k of x against the block's rows of int16 weights: asm on the DSP path for
 * the same reason as dot_narrow (17 instructions per 16 MACs: LDR, two SXTB16, four LDRD, eight
 * SMLAD, SUBS, BNE). */
static inline tg_acc4_t dot_wide16(const int8_t *x, const int32_t **w, int32_t blocks, tg_acc4_t acc)
{
#if TG_SIMD_DSP
    int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;
    const int32_t *rows = *w;
    uint32_t xe, xo, t, te;
    __asm__("1:\n\t"
            "ldr %[xo], [%[x]], #4\n\t"
            "sxtb16 %[xe], %[xo]\n\t"
            "sxtb16 %[xo], %[xo], ror #8\n\t"
            TG_FC_WIDE16_ROW_ASM("a0") TG_FC_WIDE16_ROW_ASM("a1") TG_FC_WIDE16_ROW_ASM("a2") TG_FC_WIDE16_ROW_ASM("a3")
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(rows), [x] "+r"(x),
              [n] "+r"(blocks), [xe] "=&r"(xe), [xo] "=&r"(xo), [t] "=&r"(t), [te] "=&r"(te)
            :
            : "memory", "cc");
    *w = rows;
    const tg_acc4_t result = {a0, a1, a2, a3};
    return result;
#else
    for (; blocks > 0; --blocks, x += 4) {
        acc = block4(tg_read_s8x4(x), w, acc);
    }
    return acc;
#endif
}

/* blocks (> 0) of four k of x against the block's rows of int8 weights. On the DSP path the loop is
 * asm (GCC 12 spilled the C version's eleven registers: 36 instructions per 16 MACs instead of 25:
 * LDR and two SXTB16 for the input, per row LDR, two SXTB16 and two SMLAD, SUBS and BNE). */
static inline tg_acc4_t dot_narrow(const int8_t *x, const int32_t **w, int32_t blocks, tg_acc4_t acc)
{
#if TG_SIMD_DSP
    int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;
    const int32_t *rows = *w;
    uint32_t xe, xo, t, te;
    __asm__("1:\n\t"
            "ldr %[xo], [%[x]], #4\n\t"
            "sxtb16 %[xe], %[xo]\n\t"
            "sxtb16 %[xo], %[xo], ror #8\n\t"
            TG_FC_NARROW_ROW_ASM("a0") TG_FC_NARROW_ROW_ASM("a1") TG_FC_NARROW_ROW_ASM("a2") TG_FC_NARROW_ROW_ASM("a3")
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(rows), [x] "+r"(x),
              [n] "+r"(blocks), [xe] "=&r"(xe), [xo] "=&r"(xo), [t] "=&r"(t), [te] "=&r"(te)
            :
            : "memory", "cc");
    *w = rows;
    const tg_acc4_t result = {a0, a1, a2, a3};
    return result;
#else
    for (; blocks > 0; --blocks, x += 4) {
        acc = block4_narrow(tg_read_s8x4(x), w, acc);
    }
    return acc;
#endif
}

/* The kernel for either layout (narrow: int8 weights); inlined with a constant, so each caller gets its own loop. */
static inline void tg_fc_dsp(const tg_fc_wide_params_t *params, const int32_t *channels, int32_t batches,
                             int32_t accum_depth, int32_t output_depth, const int8_t *input, const int32_t *filter,
                             int8_t *output, int narrow)
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
            const int8_t *const x = row;
            if (whole > 0) {
                acc = narrow ? dot_narrow(x, &w, whole, acc) : dot_wide16(x, &w, whole, acc);
            }
            if (tail) {
                acc = narrow ? block4_narrow(last, &w, acc) : block4(last, &w, acc);
            }
            const int32_t rows = output_depth - oc < TG_WIDE_ROWS ? output_depth - oc : TG_WIDE_ROWS;
            output = tg_wide_outputs(acc, channel, rows, epilogue, output);
        }
    }
}

#endif /* TINYGEN_TG_FC_DSP_H */
