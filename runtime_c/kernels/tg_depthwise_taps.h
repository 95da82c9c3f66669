/* Internal to runtime_c/kernels: the depthwise wide kernels' taps, four channels at a time (SXTB16
 * splits four input bytes into (c0, c2) and (c1, c3); the weights were packed in that order at
 * generation time, tinygen/kernels/variants.py depthwise_wide_weights). Shared by
 * tg_depthwise_conv_s8_wide and tg_depthwise_conv_s8_inplace_dsp. */
#ifndef TINYGEN_TG_DEPTHWISE_TAPS_H
#define TINYGEN_TG_DEPTHWISE_TAPS_H

#include "tg_wide_dot.h"

/* acc.ai += w[i] * x[i] for four channels at x; w points at the tap's two packed words. */
static inline tg_acc4_t tap4(const int8_t *x, const int32_t *w, tg_acc4_t acc)
{
    const uint32_t xs = tg_read_s8x4(x);
    const uint32_t x_even = tg_pair_even(xs), x_odd = tg_pair_odd(xs);
    uint32_t w_even, w_odd;
    tg_load_pair(&w, &w_even, &w_odd);
    acc.a0 = tg_smlabb(w_even, x_even, acc.a0);
    acc.a2 = tg_smlatt(w_even, x_even, acc.a2);
    acc.a1 = tg_smlabb(w_odd, x_odd, acc.a1);
    acc.a3 = tg_smlatt(w_odd, x_odd, acc.a3);
    return acc;
}

/* The same with the input offset added to x (offsets = tg_pair_splat(offset)). */
static inline tg_acc4_t tap4_offset(const int8_t *x, const int32_t *w, uint32_t offsets, tg_acc4_t acc)
{
    const uint32_t xs = tg_read_s8x4(x);
    const uint32_t x_even = tg_pair_even_add(offsets, xs), x_odd = tg_pair_odd_add(offsets, xs);
    uint32_t w_even, w_odd;
    tg_load_pair(&w, &w_even, &w_odd);
    acc.a0 = tg_smlabb(w_even, x_even, acc.a0);
    acc.a2 = tg_smlatt(w_even, x_even, acc.a2);
    acc.a1 = tg_smlabb(w_odd, x_odd, acc.a1);
    acc.a3 = tg_smlatt(w_odd, x_odd, acc.a3);
    return acc;
}

/* Channel c's weight at tap t in the packed layout (taps per channel group: taps). */
static inline int32_t packed_weight(const int32_t *filter, int32_t taps, int32_t t, int32_t c)
{
    const uint32_t word = (uint32_t)filter[((c >> 2) * taps + t) * 2 + (c & 1)];
    return (int16_t)(uint16_t)((c & 2) ? word >> 16 : word & 0xFFFFu);
}

#if TG_SIMD_DSP
/* One tap in the asm below: four input channels (LDR at X), the tap's two weight words (LDRD at W),
 * each product added to its channel's accumulator. */
#define TG_DW_TAP_AT_ASM(X, W)                                                                         \
    "ldr %[xo], " X "\n\t"                                                                             \
    "ldrd %[w0], %[w1], " W "\n\t"                                                                     \
    "sxtb16 %[xe], %[xo]\n\t"                                                                          \
    "sxtb16 %[xo], %[xo], ror #8\n\t"                                                                  \
    "smlabb %[a0], %[w0], %[xe], %[a0]\n\t"                                                            \
    "smlatt %[a2], %[w0], %[xe], %[a2]\n\t"                                                            \
    "smlabb %[a1], %[w1], %[xo], %[a1]\n\t"                                                            \
    "smlatt %[a3], %[w1], %[xo], %[a3]\n\t"
/* The same with the weights in order (w moves past the tap's two words). */
#define TG_DW_TAP_ASM(ADDR) TG_DW_TAP_AT_ASM(ADDR, "[%[w]], #8")
#define TG_DW_ROW_ASM TG_DW_TAP_ASM("[%[x]]") TG_DW_TAP_ASM("[%[x], %[c]]") TG_DW_TAP_ASM("[%[x], %[c], lsl #1]")

/* The same tap with the input offset added (SXTAB16; offs: the offset in both halves). */
#define TG_DW_TAP_OFFSET_ASM(ADDR)                                                                     \
    "ldr %[xo], " ADDR "\n\t"                                                                          \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    "sxtab16 %[xe], %[offs], %[xo]\n\t"                                                                \
    "sxtab16 %[xo], %[offs], %[xo], ror #8\n\t"                                                        \
    "smlabb %[a0], %[w0], %[xe], %[a0]\n\t"                                                            \
    "smlatt %[a2], %[w0], %[xe], %[a2]\n\t"                                                            \
    "smlabb %[a1], %[w1], %[xo], %[a1]\n\t"                                                            \
    "smlatt %[a3], %[w1], %[xo], %[a3]\n\t"
#define TG_DW_ROW2_ASM TG_DW_TAP_OFFSET_ASM("[%[x]]") TG_DW_TAP_OFFSET_ASM("[%[x], %[c]]") \
    "add %[x], %[x], %[r]\n\t" "add %[w], %[w], #8\n\t"

/* The body of a window of offset taps (CODE) from x and w, the plain bias in acc. */
#define TG_DW_OFFSET_WINDOW(CODE)                                                                      \
    do {                                                                                               \
        int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;                                    \
        uint32_t xe, xo, w0, w1;                                                                       \
        __asm__(CODE                                                                                   \
                : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w),             \
                  [x] "+r"(x), [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1)          \
                : [c] "r"(tap_step), [r] "r"(row_step), [offs] "r"(offsets)                            \
                : "memory");                                                                           \
        const tg_acc4_t result = {a0, a1, a2, a3};                                                     \
        return result;                                                                                 \
    } while (0)

/* A 3x3 window whose first or last column lies in the padding, its rows inside the image: the two
 * columns inside, from x (the first of them) on, with w * (x + offset) from the plain bias; w
 * points at the first inside column's weights (the group's taps + 2 for a left border). */
static inline tg_acc4_t window3x2_offset(const int8_t *x, int32_t tap_step, int32_t row_step, const int32_t *w,
                                         uint32_t offsets, tg_acc4_t acc)
{
    TG_DW_OFFSET_WINDOW(TG_DW_ROW2_ASM TG_DW_ROW2_ASM TG_DW_ROW2_ASM);
}

#define TG_DW_ROW3_OFFSET_ASM TG_DW_TAP_OFFSET_ASM("[%[x]]") TG_DW_TAP_OFFSET_ASM("[%[x], %[c]]") \
    TG_DW_TAP_OFFSET_ASM("[%[x], %[c], lsl #1]") "add %[x], %[x], %[r]\n\t"

/* A 3x3 window whose first or last row lies in the padding, its columns inside the image: the two
 * rows inside, from x (the first of them) on, with w * (x + offset) from the plain bias; w points at
 * the first inside row's weights (the group's taps + 6 for a top border). */
static inline tg_acc4_t window2x3_offset(const int8_t *x, int32_t tap_step, int32_t row_step, const int32_t *w,
                                         uint32_t offsets, tg_acc4_t acc)
{
    TG_DW_OFFSET_WINDOW(TG_DW_ROW3_OFFSET_ASM TG_DW_ROW3_OFFSET_ASM);
}

/* A whole undilated 3x3 window for four channels; w walks the group's nine taps. In asm: GCC 12
 * spills most of the twelve registers this needs around the C version's loads (measured: ~110
 * instructions per window instead of 72: per tap LDR, LDRD, two SXTB16, four SMLAxy). The taps of a
 * row are at x, x + c, x + 2c (register offsets, the last shifted). */
static inline tg_acc4_t window3x3(const int8_t *x, int32_t tap_step, int32_t row_step, const int32_t *w,
                                  tg_acc4_t acc)
{
    int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;
    uint32_t xe, xo, w0, w1;
    __asm__(TG_DW_ROW_ASM "add %[x], %[x], %[r]\n\t" TG_DW_ROW_ASM "add %[x], %[x], %[r]\n\t" TG_DW_ROW_ASM
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w), [x] "+r"(x),
              [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1)
            : [c] "r"(tap_step), [r] "r"(row_step)
            : "memory");
    const tg_acc4_t result = {a0, a1, a2, a3};
    return result;
}
/* The window loops' epilogue (tg_depthwise_conv_s8_wide's inside groups, the in-place rows kernel's
 * 3x3 row): channel J's output from its sum A, the channel's words at CH + AT: requantized (SMMLAR
 * with the sum as Ra: the generator normalizes every multiplier to [2^30, 2^31),
 * variants.normalized_channels), the output offset (memory operand off) added, saturated. Uses the
 * asm's w0, w1, xe, xo. */
#define TG_DW_OUTPUT_ASM(A, CH, AT)                                                                    \
    "ldr %[w0], [%[" CH "], #" AT "+4]\n\t"                                                            \
    "ldr %[w1], [%[" CH "], #" AT "+12]\n\t"                                                           \
    "ldr %[xe], [%[" CH "], #" AT "+8]\n\t"                                                            \
    "ldr %[xo], %[off]\n\t"                                                                            \
    "smmlar %[" A "], %[" A "], %[w0], %[" A "]\n\t"                                                   \
    "add %[w0], %[w1], %[" A "], asr #31\n\t"                                                          \
    "qadd %[" A "], %[" A "], %[w0]\n\t"                                                               \
    "asr %[" A "], %[" A "], %[xe]\n\t"                                                                \
    "add %[" A "], %[" A "], %[xo]\n\t"                                                                \
    "ssat %[" A "], #8, %[" A "]\n\t"

/* A window's four outputs into a0 (channel 0 in the low byte), the channels' words at CH. */
#define TG_DW_WORD4_ASM(CH)                                                                            \
    TG_DW_OUTPUT_ASM("a0", CH, "0") TG_DW_OUTPUT_ASM("a1", CH, "20") TG_DW_OUTPUT_ASM("a2", CH, "40")      \
    TG_DW_OUTPUT_ASM("a3", CH, "60")                                                                   \
    "bfi %[a0], %[a1], #8, #8\n\t"                                                                     \
    "bfi %[a0], %[a2], #16, #8\n\t"                                                                    \
    "bfi %[a0], %[a3], #24, #8\n\t"

/* a0's four bytes clamped to the activation (memory operands min4, max4: tg_clamp_s8x4). */
#define TG_DW_CLAMP_ASM                                                                                \
    "ldr %[xe], %[min4]\n\t"                                                                           \
    "ldr %[xo], %[max4]\n\t"                                                                           \
    "ssub8 %[w0], %[a0], %[xe]\n\t"                                                                    \
    "sel %[a0], %[a0], %[xe]\n\t"                                                                      \
    "ssub8 %[w0], %[xo], %[a0]\n\t"                                                                    \
    "sel %[a0], %[a0], %[xo]\n\t"
#else
static inline tg_acc4_t window3x2_offset(const int8_t *x, int32_t tap_step, int32_t row_step, const int32_t *w,
                                         uint32_t offsets, tg_acc4_t acc)
{
    for (int32_t fy = 0; fy < 3; ++fy, x += row_step, w += 6) {
        acc = tap4_offset(x, w, offsets, acc);
        acc = tap4_offset(x + tap_step, w + 2, offsets, acc);
    }
    return acc;
}

static inline tg_acc4_t window2x3_offset(const int8_t *x, int32_t tap_step, int32_t row_step, const int32_t *w,
                                         uint32_t offsets, tg_acc4_t acc)
{
    for (int32_t fy = 0; fy < 2; ++fy, x += row_step, w += 6) {
        acc = tap4_offset(x, w, offsets, acc);
        acc = tap4_offset(x + tap_step, w + 2, offsets, acc);
        acc = tap4_offset(x + 2 * tap_step, w + 4, offsets, acc);
    }
    return acc;
}

/* A whole undilated 3x3 window for four channels; w walks the group's nine taps. */
static inline tg_acc4_t window3x3(const int8_t *x, int32_t tap_step, int32_t row_step, const int32_t *w,
                                  tg_acc4_t acc)
{
    acc = tap4(x, w, acc);
    acc = tap4(x + tap_step, w + 2, acc);
    acc = tap4(x + 2 * tap_step, w + 4, acc);
    x += row_step;
    acc = tap4(x, w + 6, acc);
    acc = tap4(x + tap_step, w + 8, acc);
    acc = tap4(x + 2 * tap_step, w + 10, acc);
    x += row_step;
    acc = tap4(x, w + 12, acc);
    acc = tap4(x + tap_step, w + 14, acc);
    acc = tap4(x + 2 * tap_step, w + 16, acc);
    return acc;
}
#endif

#endif /* TINYGEN_TG_DEPTHWISE_TAPS_H */
