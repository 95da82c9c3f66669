/* CONV_2D, int8, per-channel requantization, ungrouped: tg_conv_s8_wide with two output pixels per
 * block (tinygen/tg_wide.h; the driver and the interleaved column in tg_conv_wide_pair_body.h).
 *
 * Each int16 weight word loaded feeds both pixels: per four k 6 LDRD and 16 SMLAD for 32 MACs (asm,
 * 25 instructions with the loop), where the one-pixel kernel spends 10 LDRD.
 */
#include "tg_conv_wide_pair_body.h"

/* Two k of both pixels against the block's four rows: 3 LDRD, 8 SMLAD. */
#define GROUP_2X4(x, w, a)                                                                             \
    do {                                                                                               \
        uint32_t x0_, x1_, w0_, w1_;                                                                   \
        load_lanes(&(x), &x0_, &x1_);                                                                  \
        tg_load_pair(&(w), &w0_, &w1_); /* rows 0 and 1 */                                             \
        a.p0.a0 = tg_smlad(x0_, w0_, a.p0.a0);                                                         \
        a.p1.a0 = tg_smlad(x1_, w0_, a.p1.a0);                                                         \
        a.p0.a1 = tg_smlad(x0_, w1_, a.p0.a1);                                                         \
        a.p1.a1 = tg_smlad(x1_, w1_, a.p1.a1);                                                         \
        tg_load_pair(&(w), &w0_, &w1_); /* rows 2 and 3 */                                             \
        a.p0.a2 = tg_smlad(x0_, w0_, a.p0.a2);                                                         \
        a.p1.a2 = tg_smlad(x1_, w0_, a.p1.a2);                                                         \
        a.p0.a3 = tg_smlad(x0_, w1_, a.p0.a3);                                                         \
        a.p1.a3 = tg_smlad(x1_, w1_, a.p1.a3);                                                         \
    } while (0)

#if TG_SIMD_DSP
/* GROUP_2X4 in asm. */
#define GROUP_2X4_ASM                                                                                  \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"                                                                \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    "smlad %[p0a0], %[x0], %[w0], %[p0a0]\n\t"                                                         \
    "smlad %[p1a0], %[x1], %[w0], %[p1a0]\n\t"                                                         \
    "smlad %[p0a1], %[x0], %[w1], %[p0a1]\n\t"                                                         \
    "smlad %[p1a1], %[x1], %[w1], %[p1a1]\n\t"                                                         \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    "smlad %[p0a2], %[x0], %[w0], %[p0a2]\n\t"                                                         \
    "smlad %[p1a2], %[x1], %[w0], %[p1a2]\n\t"                                                         \
    "smlad %[p0a3], %[x0], %[w1], %[p0a3]\n\t"                                                         \
    "smlad %[p1a3], %[x1], %[w1], %[p1a3]\n\t"
#endif

/* The interleaved column against one block of four interleaved rows: 25 instructions per 32 MACs in
 * asm, where GCC 12 spilled an accumulator and the count from the C: 29. */
TG_PAIR_DOT(dot2x4, GROUP_2X4_ASM, GROUP_2X4)

static tg_acc4_t folded_start(const int32_t *channel)
{
    return tg_wide_start(channel, 0);
}

static tg_acc4_t same_sums(tg_acc4_t acc, const int32_t *channel)
{
    (void)channel;
    return acc;
}

TG_CONV_WIDE_PAIR_KERNEL(tg_conv_s8_wide_pair, dot2x4, folded_start, same_sums, tg_pair_words4, 2 * TG_WIDE_ROWS)
