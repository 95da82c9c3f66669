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
static inline acc2x4_t dot2x4_packed(const tg_u32_alias_t *x, const int32_t *w, int32_t blocks, tg_acc4_t start)
{
#if TG_SIMD_DSP
    int32_t p0a0 = start.a0, p0a1 = start.a1, p0a2 = start.a2, p0a3 = start.a3;
    int32_t p1a0 = start.a0, p1a1 = start.a1, p1a2 = start.a2, p1a3 = start.a3;
    const tg_u32_alias_t *end = x + 4 * blocks;
    uint32_t x0, x1, w0, w1;
    __asm__("1:\n\t"
            GROUP_PACKED_ASM
            GROUP_PACKED_ASM
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
        GROUP_PACKED(x, w, acc);
        GROUP_PACKED(x, w, acc);
    }
    return acc;
#endif
}

TG_CONV_WIDE_PAIR_KERNEL(tg_conv_s8_wide_pair_packed, dot2x4_packed, packed_start, packed_rows, TG_WIDE_ROWS)
