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

/* The interleaved column against one block of four interleaved rows, four k per iteration. On the
 * DSP path asm: eight accumulators, two pointers and four words take all fourteen registers GCC can
 * give, so the loop ends on the column's end kept in memory (25 instructions per 32 MACs, where
 * GCC 12 spilled an accumulator and the count from the C: 29). */
static inline acc2x4_t dot2x4(const tg_u32_alias_t *x, const int32_t *w, int32_t blocks, tg_acc4_t start)
{
#if TG_SIMD_DSP
    int32_t p0a0 = start.a0, p0a1 = start.a1, p0a2 = start.a2, p0a3 = start.a3;
    int32_t p1a0 = start.a0, p1a1 = start.a1, p1a2 = start.a2, p1a3 = start.a3;
    const tg_u32_alias_t *end = x + 4 * blocks;
    uint32_t x0, x1, w0, w1;
    __asm__("1:\n\t"
            GROUP_2X4_ASM
            GROUP_2X4_ASM
            "ldr %[w0], %[end]\n\t"
            "cmp %[x], %[w0]\n\t"
            "bne 1b\n\t"
            : [p0a0] "+r"(p0a0), [p0a1] "+r"(p0a1), [p0a2] "+r"(p0a2), [p0a3] "+r"(p0a3), [p1a0] "+r"(p1a0),
              [p1a1] "+r"(p1a1), [p1a2] "+r"(p1a2), [p1a3] "+r"(p1a3), [x] "+r"(x), [w] "+r"(w),
              [x0] "=&r"(x0), [x1] "=&r"(x1), [w0] "=&r"(w0), [w1] "=&r"(w1)
            : [end] "m"(end)
            : "memory", "cc");
    const acc2x4_t acc = {{p0a0, p0a1, p0a2, p0a3}, {p1a0, p1a1, p1a2, p1a3}};
    return acc;
#else
    acc2x4_t acc = {start, start};
    for (; blocks > 0; --blocks) {
        GROUP_2X4(x, w, acc);
        GROUP_2X4(x, w, acc);
    }
    return acc;
#endif
}

static tg_acc4_t folded_start(const int32_t *channel)
{
    return tg_wide_start(channel, 0);
}

static tg_acc4_t same_sums(tg_acc4_t acc, const int32_t *channel)
{
    (void)channel;
    return acc;
}

TG_CONV_WIDE_PAIR_KERNEL(tg_conv_s8_wide_pair, dot2x4, folded_start, same_sums, 2 * TG_WIDE_ROWS)
