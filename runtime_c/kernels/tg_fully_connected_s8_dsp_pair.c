/* FULLY_CONNECTED over two input rows at a time, and so CONV_2D 1x1 over two pixels (tinygen/tg_dsp.h):
 * the packed pair conv's inner loop (tg_conv_s8_wide_pair_packed) without its window walk.
 *
 * Rows b and b + 1 are widened into one interleaved int16 column (per pair of k, row b's int16 pair
 * then row b + 1's: one LDRD loads both; the pairs (k0, k2) and (k1, k3) of every four k, as SXTB16
 * splits a word), then every block of four output channels runs over the column with
 * the packed int8 weights (per pair of k the words of row pairs (0, 1) and (2, 3), v = 256 * odd + even):
 * 12 instructions and 16 estimated cycles per 16 MACs, each weight word loaded once for both rows,
 * where the one-row packed8 FC takes 15.5 and 20. The loop runs over whole runs of groups (two k each)
 * without a branch, as the packed8 FC's does, and each channel's multiplier, shift and rounding are
 * loaded once for both rows' outputs.
 *
 * Both rows are copied before any of their outputs is written, so the output may lie over the input
 * (the in-place 1x1 convolution, kernels/overlap.py). An odd last row is computed twice, its second
 * copy written over the first (the same bytes). accum_depth and output_depth are multiples of 4 (the generator checks).
 */
#include "tinygen/tg_dsp.h"
#include "tg_conv_wide_pair_body.h"

/* One block of four channels, both rows, from the dot's packed sums (packed_rows) to int8, as two
 * words (row b's, row b + 1's), in one asm: the eight accumulators, the channel pointer, the output
 * offset and three temporaries take thirteen registers. Each channel's multiplier, shift and rounding
 * are loaded once for both rows. (Folding the offset into the rounding word would save an ADD per
 * output, but 9 of VWW's 13 1x1 layers have right shifts above 23, where offset * 2^e leaves int32.) */
#if TG_SIMD_DSP
/* Channel J's outputs of both rows (accumulators X0, X1): the rounding doubling high multiply is one
 * SMMLAR with the accumulator itself as Ra (tg_wide_high_mul's mask is all ones: the generator gives
 * every channel a multiplier in [2^30, 2^31), its doubled word's sign bit set), then the rounding,
 * shift, offset and saturation; the channel's three words in one run of loads. */
#define PAIR_OUTPUTS_ASM(X0, X1, AT)                                                                   \
    "ldr %[d], [%[c], #" AT "+4]\n\t"                                                                  \
    "ldr %[r], [%[c], #" AT "+12]\n\t"                                                                 \
    "ldr %[h], [%[c], #" AT "+8]\n\t"                                                                  \
    "smmlar %[" X0 "], %[" X0 "], %[d], %[" X0 "]\n\t"                                                 \
    "smmlar %[" X1 "], %[" X1 "], %[d], %[" X1 "]\n\t"                                                 \
    "add %[d], %[r], %[" X0 "], asr #31\n\t"                                                           \
    "qadd %[" X0 "], %[" X0 "], %[d]\n\t"                                                              \
    "add %[d], %[r], %[" X1 "], asr #31\n\t"                                                           \
    "qadd %[" X1 "], %[" X1 "], %[d]\n\t"                                                              \
    "asr %[" X0 "], %[" X0 "], %[h]\n\t"                                                               \
    "asr %[" X1 "], %[" X1 "], %[h]\n\t"                                                               \
    "add %[" X0 "], %[" X0 "], %[off]\n\t"                                                             \
    "add %[" X1 "], %[" X1 "], %[off]\n\t"                                                             \
    "ssat %[" X0 "], #8, %[" X0 "]\n\t"                                                                \
    "ssat %[" X1 "], #8, %[" X1 "]\n\t"

/* Rows 1 and 3 of both rows: the channel's bias + (S - E) >> 8. */
#define PAIR_ODD_ROWS_ASM(S0, E0, S1, E1, AT_BIAS)                                                     \
    "ldr %[h], [%[c], #" AT_BIAS "]\n\t"                                                               \
    "sub %[" S0 "], %[" S0 "], %[" E0 "]\n\t"                                                          \
    "add %[" S0 "], %[h], %[" S0 "], asr #8\n\t"                                                       \
    "sub %[" S1 "], %[" S1 "], %[" E1 "]\n\t"                                                          \
    "add %[" S1 "], %[h], %[" S1 "], asr #8\n\t"

#define PAIR_PACK_ASM(Y0, Y1, Y2, Y3)                                                                  \
    "bfi %[" Y0 "], %[" Y1 "], #8, #8\n\t"                                                             \
    "bfi %[" Y0 "], %[" Y2 "], #16, #8\n\t"                                                            \
    "bfi %[" Y0 "], %[" Y3 "], #24, #8\n\t"

static inline __attribute__((always_inline)) void block_outputs(acc2x4_t acc, const int32_t *channel,
                                                                 int32_t output_offset, uint32_t *first,
                                                                 uint32_t *second)
{
    int32_t p0a0 = acc.p0.a0, p0a1 = acc.p0.a1, p0a2 = acc.p0.a2, p0a3 = acc.p0.a3;
    int32_t p1a0 = acc.p1.a0, p1a1 = acc.p1.a1, p1a2 = acc.p1.a2, p1a3 = acc.p1.a3;
    uint32_t d, r, h;
    /* rows 0..3 are in a1, a0, a3, a2 (E0, S01 -> row 1, E2, S23 -> row 3); channel j at 20 * j */
    __asm__(PAIR_ODD_ROWS_ASM("p0a0", "p0a1", "p1a0", "p1a1", "20")
            PAIR_ODD_ROWS_ASM("p0a2", "p0a3", "p1a2", "p1a3", "60")
            PAIR_OUTPUTS_ASM("p0a1", "p1a1", "0") PAIR_OUTPUTS_ASM("p0a0", "p1a0", "20")
            PAIR_OUTPUTS_ASM("p0a3", "p1a3", "40") PAIR_OUTPUTS_ASM("p0a2", "p1a2", "60")
            PAIR_PACK_ASM("p0a1", "p0a0", "p0a3", "p0a2") PAIR_PACK_ASM("p1a1", "p1a0", "p1a3", "p1a2")
            : [p0a0] "+r"(p0a0), [p0a1] "+r"(p0a1), [p0a2] "+r"(p0a2), [p0a3] "+r"(p0a3), [p1a0] "+r"(p1a0),
              [p1a1] "+r"(p1a1), [p1a2] "+r"(p1a2), [p1a3] "+r"(p1a3), [d] "=&r"(d), [r] "=&r"(r), [h] "=&r"(h)
            : [c] "r"(channel), [off] "r"(output_offset), "m"(*(const int32_t(*)[4 * TG_WIDE_CHANNEL_WORDS])channel));
    *first = (uint32_t)p0a1;
    *second = (uint32_t)p1a1;
}
#else
static inline uint32_t outputs4(tg_acc4_t acc, const int32_t *channel, int32_t output_offset)
{
    const int32_t step = TG_WIDE_CHANNEL_WORDS;
    const tg_acc4_t rows = packed_rows(acc, channel);
    const int32_t y[4] = {rows.a0, rows.a1, rows.a2, rows.a3};
    uint32_t word = 0;
    for (int32_t j = 0; j < 4; ++j) {
        const int32_t *words = channel + j * step;
        word |= (uint32_t)(uint8_t)tg_wide_output_s8(y[j], words, output_offset) << (8 * j);
    }
    return word;
}

static inline void block_outputs(acc2x4_t acc, const int32_t *channel, int32_t output_offset, uint32_t *first,
                                 uint32_t *second)
{
    *first = outputs4(acc.p0, channel, output_offset);
    *second = outputs4(acc.p1, channel, output_offset);
}
#endif

static inline uint32_t clamp4(uint32_t word, tg_wide_epilogue_t e)
{
#if TG_SIMD_DSP
    return tg_clamp_s8x4(word, e.min4, e.max4);
#else
    uint32_t out = 0;
    for (int32_t i = 0; i < 4; ++i) {
        const int32_t y = (int8_t)(word >> (8 * i));
        out |= (uint32_t)(uint8_t)tg_clamp(y, e.min, e.max) << (8 * i);
    }
    return out;
#endif
}

/* The column (2 * depth int16, interleaved) against one block's packed words, RUN groups of two k per
 * iteration, no branch inside a run; the loop's end kept in memory (the eight accumulators, the two
 * pointers and the four words take all fourteen registers). The first group adds to the block's
 * biases (packed_start: rows 0 and 2's, loaded from the channel pointer, which comes in the register
 * x0 takes in the loop) instead of copying them into the eight accumulators first, then jumps into
 * the loop after its first group: 5 instructions and 3 estimated cycles less per block. */
#if TG_SIMD_DSP
/* A row pair's first group, its bias B in S's accumulator (E0, then S1 and E1 free until written):
 * S1 = x1 . w + B, E0 = x0 . even(w) + B, E1 = x1 . even(w) + B, S0 = x0 . w + B. */
#define PAIR_FIRST_PAIR_ASM(S0, E0, S1, E1, W)                                                         \
    "smlad %[" S1 "], %[x1], %[" W "], %[" S0 "]\n\t"                                                  \
    "sxtb16 %[" E1 "], %[" W "]\n\t"                                                                   \
    "smlad %[" E0 "], %[x0], %[" E1 "], %[" S0 "]\n\t"                                                 \
    "smlad %[" E1 "], %[x1], %[" E1 "], %[" S0 "]\n\t"                                                 \
    "smlad %[" S0 "], %[x0], %[" W "], %[" S0 "]\n\t"
#define PAIR_FIRST_GROUP_ASM                                                                           \
    "ldr %[p0a0], [%[x0]]\n\t"                                                                         \
    "ldr %[p0a2], [%[x0], #40]\n\t"                                                                    \
    "ldrd %[x0], %[x1], [%[x]], #8\n\t"                                                                \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    PAIR_FIRST_PAIR_ASM("p0a0", "p0a1", "p1a0", "p1a1", "w0")                                          \
    PAIR_FIRST_PAIR_ASM("p0a2", "p0a3", "p1a2", "p1a3", "w1")

#define PAIR_RUN_DOT(RUN, GROUPS_AFTER_FIRST_ASM)                                                      \
    static inline __attribute__((always_inline)) acc2x4_t dot_runs##RUN(                              \
        const tg_u32_alias_t *x, const int32_t **w, int32_t depth, const int32_t *channel)             \
    {                                                                                                  \
        int32_t p0a0, p0a1, p0a2, p0a3, p1a0, p1a1, p1a2, p1a3;                                        \
        const tg_u32_alias_t *const end = x + depth;                                                   \
        const int32_t *rows = *w;                                                                      \
        uint32_t x0 = (uint32_t)(uintptr_t)channel, x1, w0, w1;                                        \
        __asm__(PAIR_FIRST_GROUP_ASM                                                                   \
                "b 2f\n\t"                                                                             \
                "1:\n\t" TG_PAIR_PACKED_GROUP_ASM                                                      \
                "2:\n\t" GROUPS_AFTER_FIRST_ASM                                                        \
                "ldr %[w0], %[end]\n\t"                                                                \
                "cmp %[x], %[w0]\n\t"                                                                  \
                "bne 1b\n\t"                                                                           \
                : [p0a0] "=&r"(p0a0), [p0a1] "=&r"(p0a1), [p0a2] "=&r"(p0a2), [p0a3] "=&r"(p0a3),       \
                  [p1a0] "=&r"(p1a0), [p1a1] "=&r"(p1a1), [p1a2] "=&r"(p1a2), [p1a3] "=&r"(p1a3),       \
                  [x] "+r"(x), [w] "+r"(rows), [x0] "+r"(x0), [x1] "=&r"(x1), [w0] "=&r"(w0), [w1] "=&r"(w1) \
                : [end] "m"(end) /* the "memory" clobber covers the channel's words */                  \
                : "memory", "cc");                                                                     \
        *w = rows;                                                                                     \
        const acc2x4_t acc = {{p0a0, p0a1, p0a2, p0a3}, {p1a0, p1a1, p1a2, p1a3}};                     \
        return acc;                                                                                    \
    }
/* RUN - 1 groups: the run's groups after its first */
#define G_ASM TG_PAIR_PACKED_GROUP_ASM
#define GROUPS1_ASM G_ASM
#define GROUPS3_ASM G_ASM G_ASM G_ASM
#define GROUPS7_ASM GROUPS3_ASM G_ASM GROUPS3_ASM
#define GROUPS15_ASM GROUPS7_ASM G_ASM GROUPS7_ASM
#define GROUPS31_ASM GROUPS15_ASM G_ASM GROUPS15_ASM
#else
#define PAIR_RUN_DOT(RUN, GROUPS_ASM)                                                                  \
    static inline acc2x4_t dot_runs##RUN(const tg_u32_alias_t *x, const int32_t **w, int32_t depth,    \
                                         const int32_t *channel)                                       \
    {                                                                                                  \
        acc2x4_t acc = {packed_start(channel), packed_start(channel)};                                 \
        for (int32_t groups = depth >> 1; groups > 0; --groups) {                                      \
            TG_PAIR_PACKED_GROUP(x, *w, acc);                                                          \
        }                                                                                              \
        return acc;                                                                                    \
    }
#endif
PAIR_RUN_DOT(32, GROUPS31_ASM)
PAIR_RUN_DOT(16, GROUPS15_ASM)
PAIR_RUN_DOT(8, GROUPS7_ASM)
PAIR_RUN_DOT(4, GROUPS3_ASM)
PAIR_RUN_DOT(2, GROUPS1_ASM)

/* Rows first and second (depth a multiple of 4) into the column: per four k, first's (k0, k2), second's
 * (k0, k2), first's (k1, k3), second's (k1, k3), SXTB16's split as it comes (the generator orders the
 * weights' k the same way), so no packing: two loads, four SXTB16, four stores per eight values. */
static void widen_rows(const int8_t *first, const int8_t *second, int32_t depth, tg_u32_alias_t *column)
{
    for (int32_t quads = depth >> 2; quads > 0; --quads) {
        const uint32_t a = tg_read_s8x4(first), b = tg_read_s8x4(second);
        column[0] = tg_pair_even(a);
        column[1] = tg_pair_even(b);
        column[2] = tg_pair_odd(a);
        column[3] = tg_pair_odd(b);
        column += 4;
        first += 4;
        second += 4;
    }
}

/* Per two rows: the column, then per block of four channels one dot and the block's outputs. One
 * function per run, out of line, so that GCC allocates each loop's registers on its own. */
#define PAIR_RUNS(RUN)                                                                                 \
    __attribute__((noinline)) static void pair_runs##RUN(                                             \
        tg_wide_epilogue_t e, const int32_t *channels, int32_t batches, int32_t accum_depth,           \
        int32_t output_depth, const int8_t *input, const int32_t *filter, int8_t *output,              \
        tg_u32_alias_t *column)                                                                        \
    {                                                                                                  \
        for (int32_t b = 0; b < batches; b += 2) {                                                     \
            const int32_t second = b + 1 < batches; /* else row b again, its outputs written over row b's */ \
            const int8_t *row = input + b * accum_depth;                                               \
            widen_rows(row, second ? row + accum_depth : row, accum_depth, column);                    \
            int8_t *out = output + b * output_depth;                                                   \
            int8_t *out_next = second ? out + output_depth : out; /* the same bytes: no branch */      \
            const int32_t *w = filter;                                                                 \
            const int32_t *channel = channels;                                                         \
            for (int32_t oc = 0; oc < output_depth; oc += TG_WIDE_ROWS) {                              \
                const acc2x4_t acc = dot_runs##RUN(column, &w, accum_depth, channel);                   \
                uint32_t first, next;                                                                  \
                block_outputs(acc, channel, e.output_offset, &first, &next);                            \
                if (e.clamps) {                                                                        \
                    first = clamp4(first, e);                                                          \
                    next = clamp4(next, e);                                                            \
                }                                                                                      \
                __builtin_memcpy(out + oc, &first, sizeof first);                                      \
                __builtin_memcpy(out_next + oc, &next, sizeof next);                                   \
                channel += TG_WIDE_ROWS * TG_WIDE_CHANNEL_WORDS;                                       \
            }                                                                                          \
        }                                                                                              \
    }
PAIR_RUNS(32)
PAIR_RUNS(16)
PAIR_RUNS(8)
PAIR_RUNS(4)
PAIR_RUNS(2)

static void pair_run(const tg_fc_wide_params_t *params, const int32_t *channels, int32_t batches,
                     int32_t accum_depth, int32_t output_depth, const int8_t *input, const int32_t *filter,
                     int8_t *output, tg_u32_alias_t *column)
{
    const tg_wide_epilogue_t e = tg_wide_epilogue(params->output_offset, params->activation);
    const int32_t groups = accum_depth >> 1;
    if (groups % 32 == 0) {
        pair_runs32(e, channels, batches, accum_depth, output_depth, input, filter, output, column);
    } else if (groups % 16 == 0) {
        pair_runs16(e, channels, batches, accum_depth, output_depth, input, filter, output, column);
    } else if (groups % 8 == 0) {
        pair_runs8(e, channels, batches, accum_depth, output_depth, input, filter, output, column);
    } else if (groups % 4 == 0) {
        pair_runs4(e, channels, batches, accum_depth, output_depth, input, filter, output, column);
    } else {
        pair_runs2(e, channels, batches, accum_depth, output_depth, input, filter, output, column);
    }
}

static __attribute__((noinline)) void pair_on_stack(const tg_fc_wide_params_t *params, const int32_t *channels,
                                                    int32_t batches, int32_t accum_depth, int32_t output_depth,
                                                    const int8_t *input, const int32_t *filter, int8_t *output)
{
    uint32_t column[TG_FULLY_CONNECTED_S8_DSP_PAIR_STACK_COLUMN / 4];
    pair_run(params, channels, batches, accum_depth, output_depth, input, filter, output, column);
}

void tg_fully_connected_s8_dsp_pair(const tg_fc_wide_params_t *params, const int32_t *channels, int32_t batches,
                                    int32_t accum_depth, int32_t output_depth, const int8_t *input,
                                    const int32_t *filter, int8_t *output, void *column)
{
    if (column != NULL) {
        pair_run(params, channels, batches, accum_depth, output_depth, input, filter, output,
                 (tg_u32_alias_t *)column);
    } else {
        pair_on_stack(params, channels, batches, accum_depth, output_depth, input, filter, output);
    }
}
