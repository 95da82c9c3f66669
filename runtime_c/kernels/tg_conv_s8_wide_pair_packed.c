/* CONV_2D, int8, per-channel requantization, ungrouped: tg_conv_s8_wide_pair with int8 weights, two
 * rows packed per int16 half (tinygen/tg_wide.h; the driver and the column in
 * tg_conv_wide_pair_body.h), so the weights take the int8 model's flash, not twice it.
 *
 * Per two k a weight word holds rows (0, 1) as v = 256 * row1 + row0 per k (int16, checked at
 * generation). SMLAD with the word gathers 256 * dot1 + dot0 (S); with its even bytes (SXTB16: row 0's
 * int8 weights) dot0 alone (E); row 1 comes back as (S - E) >> 8 (packed_rows). Per two k and both
 * pixels: one LDRD of the column, one of the two words (rows 0-1, 2-3), two SXTB16, eight SMLAD:
 * 12 instructions and 16 estimated cycles per 16 MACs, against the int16 pair's 11 and 17.
 */
#include "tg_conv_wide_pair_body.h"

/* Two k of both pixels against the block's two packed words: p.a0, p.a2 the S sums of pairs (0, 1)
 * and (2, 3), p.a1, p.a3 their E sums (rows 0 and 2). */
#define GROUP_PACKED(x, w, a)                                                                          \
    do {                                                                                               \
        uint32_t x0_, x1_, w0_, w1_;                                                                   \
        load_lanes(&(x), &x0_, &x1_);                                                                  \
        tg_load_pair(&(w), &w0_, &w1_); /* pairs (0, 1) and (2, 3) */                                  \
        a.p0.a0 = tg_smlad(x0_, w0_, a.p0.a0);                                                         \
        a.p1.a0 = tg_smlad(x1_, w0_, a.p1.a0);                                                         \
        w0_ = tg_pair_even(w0_);                                                                       \
        a.p0.a1 = tg_smlad(x0_, w0_, a.p0.a1);                                                         \
        a.p1.a1 = tg_smlad(x1_, w0_, a.p1.a1);                                                         \
        a.p0.a2 = tg_smlad(x0_, w1_, a.p0.a2);                                                         \
        a.p1.a2 = tg_smlad(x1_, w1_, a.p1.a2);                                                         \
        w1_ = tg_pair_even(w1_);                                                                       \
        a.p0.a3 = tg_smlad(x0_, w1_, a.p0.a3);                                                         \
        a.p1.a3 = tg_smlad(x1_, w1_, a.p1.a3);                                                         \
    } while (0)

#if TG_SIMD_DSP
/* GROUP_PACKED in asm. */
#define GROUP_PACKED_ASM                                                                               \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"                                                                \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    "smlad %[p0a0], %[x0], %[w0], %[p0a0]\n\t"                                                         \
    "smlad %[p1a0], %[x1], %[w0], %[p1a0]\n\t"                                                         \
    "sxtb16 %[w0], %[w0]\n\t"                                                                          \
    "smlad %[p0a1], %[x0], %[w0], %[p0a1]\n\t"                                                         \
    "smlad %[p1a1], %[x1], %[w0], %[p1a1]\n\t"                                                         \
    "smlad %[p0a2], %[x0], %[w1], %[p0a2]\n\t"                                                         \
    "smlad %[p1a2], %[x1], %[w1], %[p1a2]\n\t"                                                         \
    "sxtb16 %[w1], %[w1]\n\t"                                                                          \
    "smlad %[p0a3], %[x0], %[w1], %[p0a3]\n\t"                                                         \
    "smlad %[p1a3], %[x1], %[w1], %[p1a3]\n\t"
#endif

/* The interleaved column against one block's packed words, four k per iteration; on the DSP path
 * asm, with the loop's end kept in memory as in the int16 pair (all fourteen registers are taken). */
TG_PAIR_DOT(dot2x4_packed, GROUP_PACKED_ASM, GROUP_PACKED)

TG_CONV_WIDE_PAIR_KERNEL(tg_conv_s8_wide_pair_packed, dot2x4_packed, packed_start, packed_rows, TG_WIDE_ROWS)
