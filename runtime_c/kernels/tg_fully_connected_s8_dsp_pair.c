/* FULLY_CONNECTED over two input rows at a time, and so CONV_2D 1x1 over two pixels (tinygen/tg_dsp.h):
 * the packed pair conv's inner loop (tg_conv_s8_wide_pair_packed) without its window walk.
 *
 * Rows b and b + 1 are widened into one interleaved int16 column (per pair of k, row b's int16 pair
 * then row b + 1's: one LDRD loads both; the pairs (k0, k2) and (k1, k3) of every four k, as SXTB16
 * splits a word), then every block of four output channels runs over the column with the packed int8
 * weights (per pair of k the words of row pairs (0, 1) and (2, 3), v = 256 * odd + even):
 * 12 instructions and 16 estimated cycles per 16 MACs, each weight word loaded once for both rows,
 * where the one-row packed8 FC takes 15.5 and 20. The loop runs over whole runs of groups (two k each)
 * without a branch, as the packed8 FC's does, and each channel's multiplier, shift and rounding are
 * loaded once for both rows' outputs.
 *
 * Both rows are copied before any of their outputs is written, so the output may lie over the input
 * (the in-place 1x1 convolution, kernels/overlap.py). An odd last row is computed twice, its second
 * copy written over the first (the same bytes). accum_depth and output_depth are multiples of 4 (the
 * generator checks).
 */
#include "tinygen/tg_dsp.h"
#include "tg_conv_wide_pair_body.h"

/* The column (2 * depth int16, interleaved) against one block's packed words, RUN groups of two k per
 * iteration (PAIR_DOT_ASM). */
#if TG_SIMD_DSP
/* A row pair's first group, its bias B in S's accumulator (E0, then S1 and E1 free until written):
 * S1 = x1 . w + B, E0 = x0 . even(w) + B, E1 = x1 . even(w) + B, S0 = x0 . w + B. */
#define PAIR_FIRST_PAIR_ASM(S0, E0, S1, E1, W)                                                         \
    "smlad %[" S1 "], %[x1], %[" W "], %[" S0 "]\n\t"                                                  \
    "sxtb16 %[" E1 "], %[" W "]\n\t"                                                                   \
    "smlad %[" E0 "], %[x0], %[" E1 "], %[" S0 "]\n\t"                                                 \
    "smlad %[" E1 "], %[x1], %[" E1 "], %[" S0 "]\n\t"                                                 \
    "smlad %[" S0 "], %[x0], %[" W "], %[" S0 "]\n\t"
/* Group I of a run (I a string: an expression), its words at x + 8I and w + 8I: four single loads in
 * a row, 5 estimated cycles where two LDRD take 6 (each LDRD 1 + 2; loads in a row pipeline), for two
 * more instructions; x and w move on once per run (RUN_END_ASM). */
#define GROUP_LOADS_ASM(I)                                                                             \
    "ldr %[x0], [%[x], #(" I ")*8]\n\t"                                                                \
    "ldr %[x1], [%[x], #(" I ")*8+4]\n\t"                                                              \
    "ldr %[w0], [%[w], #(" I ")*8]\n\t"                                                                \
    "ldr %[w1], [%[w], #(" I ")*8+4]\n\t"
#define G_ASM(I) GROUP_LOADS_ASM(I) TG_PAIR_PACKED_MACS_ASM
/* The first group (0) adds to the block's biases (packed_start: rows 0 and 2's, loaded from the
 * channel pointer, which comes in the register x0 takes in the loop) instead of copying them into the
 * eight accumulators first, then jumps into the loop after its first group: 5 instructions and 3
 * estimated cycles less per block. */
#define PAIR_FIRST_GROUP_ASM                                                                           \
    "ldr %[p0a0], [%[x0]]\n\t"                                                                         \
    "ldr %[p0a2], [%[x0], #40]\n\t"                                                                    \
    GROUP_LOADS_ASM("0")                                                                               \
    PAIR_FIRST_PAIR_ASM("p0a0", "p0a1", "p1a0", "p1a1", "w0")                                          \
    PAIR_FIRST_PAIR_ASM("p0a2", "p0a3", "p1a2", "p1a3", "w1")
/* A block's dot over the column: the first group, then runs of RUN groups (each without a branch)
 * until x reaches the column's end, kept in memory (the eight accumulators, the two pointers and the
 * four words take all fourteen registers). AFTER_FIRST: groups 1 .. RUN - 1. */
#define PAIR_DOT_ASM(RUN, AFTER_FIRST)                                                                 \
    PAIR_FIRST_GROUP_ASM                                                                               \
    "b 2f\n\t"                                                                                         \
    "1:\n\t" G_ASM("0")                                                                                \
    "2:\n\t" AFTER_FIRST                                                                               \
    "add %[x], %[x], #" #RUN "*8\n\t"                                                                  \
    "add %[w], %[w], #" #RUN "*8\n\t"                                                                  \
    "ldr %[w0], %[end]\n\t"                                                                            \
    "cmp %[x], %[w0]\n\t"                                                                              \
    "bne 1b\n\t"

/* What the block loop's asm (BLOCKS_ASM) reads and writes besides its registers: a local of the
 * caller, read at offsets from sp. */
typedef struct {
    const tg_u32_alias_t *column, *end; /* the column and its end */
    const int32_t *channel;              /* the block's channel words, moved on a block at a time */
    int8_t *out;                         /* row b's outputs of the block, moved on a block at a time */
    int32_t next;                        /* row b + 1's outputs from row b's (0: row b again) */
    const int8_t *out_end;               /* row b's outputs' end */
    int32_t form;                        /* 0: the USAT form, 1: the signed one, 2: signed and clamped */
    int32_t offset;                      /* the output offset (the signed forms) */
    uint32_t min4, max4;                 /* the activation's bounds in every byte (the clamp) */
} blocks_t;

/* The outputs of the block's rows in the channel order of the packed layout (rows 0..3 end in a1, a0,
 * a3, a2), the channel pointer in x, the temporaries in x0, x1, w0 (and the offset in w1), registers
 * the dot leaves free. */
#define BLOCK_OUTPUTS_ASM(OUTPUTS)                                                                     \
    OUTPUTS("p0a1", "p1a1", "0") OUTPUTS("p0a0", "p1a0", "20") OUTPUTS("p0a3", "p1a3", "40")            \
    OUTPUTS("p0a2", "p1a2", "60")                                                                      \
    TG_PAIR_PACK_ASM("p0a1", "p0a0", "p0a3", "p0a2") TG_PAIR_PACK_ASM("p1a1", "p1a0", "p1a3", "p1a2")
#define U8_OUTPUTS_ASM(X0, X1, AT) TG_PAIR_OUTPUTS_U8_IN_ASM(X0, X1, AT, "x", "x0", "x1", "w0")
#define SIGNED_OUTPUTS_ASM(X0, X1, AT) TG_PAIR_OUTPUTS_IN_ASM(X0, X1, AT, "x", "x0", "x1", "w0", "w1")
/* Word Y clamped to the activation per byte (SSUB8 sets GE per byte; p0a0, p0a2 the bounds, p0a3 free). */
#define CLAMP4_ASM(Y)                                                                                  \
    "ssub8 %[p0a3], %[" Y "], %[p0a0]\n\t"                                                             \
    "sel %[" Y "], %[" Y "], %[p0a0]\n\t"                                                              \
    "ssub8 %[p0a3], %[p0a2], %[" Y "]\n\t"                                                             \
    "sel %[" Y "], %[" Y "], %[p0a2]\n\t"

/* Every block of a row pair in one asm: per block the dot (PAIR_DOT_ASM), the outputs, both words
 * stored and the pointers moved on. The USAT form falls through (2 estimated cycles for its test);
 * the signed forms branch away and back to the stores. ~28 estimated cycles a block besides the
 * groups and the outputs' arithmetic, where a loop in C around the dot's and the epilogue's asm took
 * ~37 (its locals to and from the stack around each asm), and one copy of the runs' groups. */
#define BLOCKS_ASM(RUN, GROUPS_AFTER_FIRST_ASM)                                                        \
    "0:\n\t"                                                                                           \
    "ldr %[x0], %[channel]\n\t"                                                                        \
    "ldr %[x], %[column]\n\t"                                                                          \
    PAIR_DOT_ASM(RUN, GROUPS_AFTER_FIRST_ASM)                                                          \
    "ldr %[x], %[channel]\n\t"                                                                         \
    "ldr %[w1], %[form]\n\t"                                                                           \
    TG_PAIR_ODD_ROWS_IN_ASM("p0a0", "p0a1", "p1a0", "p1a1", "20", "x", "w0")                           \
    TG_PAIR_ODD_ROWS_IN_ASM("p0a2", "p0a3", "p1a2", "p1a3", "60", "x", "w0")                           \
    "cmp %[w1], #0\n\t"                                                                                \
    "bne 5f\n\t"                                                                                       \
    BLOCK_OUTPUTS_ASM(U8_OUTPUTS_ASM)                                                                  \
    TG_PAIR_FLIP_ASM("p0a1") TG_PAIR_FLIP_ASM("p1a1")                                                  \
    "3:\n\t"                                                                                           \
    "ldr %[p0a0], %[out]\n\t"                                                                          \
    "ldr %[p0a2], %[next]\n\t"                                                                         \
    "str %[p1a1], [%[p0a0], %[p0a2]]\n\t"                                                              \
    "str %[p0a1], [%[p0a0]], #4\n\t"                                                                   \
    "str %[p0a0], %[out]\n\t"                                                                          \
    "add %[x], %[x], #80\n\t" /* TG_WIDE_ROWS * TG_WIDE_CHANNEL_WORDS * 4 */                           \
    "str %[x], %[channel]\n\t"                                                                         \
    "ldr %[p0a2], %[out_end]\n\t"                                                                      \
    "cmp %[p0a0], %[p0a2]\n\t"                                                                         \
    "bne 0b\n\t"                                                                                       \
    "b 9f\n\t"                                                                                         \
    "5:\n\t"                                                                                           \
    "cmp %[w1], #1\n\t"                                                                                \
    "ldr %[w1], %[offset]\n\t"                                                                         \
    BLOCK_OUTPUTS_ASM(SIGNED_OUTPUTS_ASM)                                                              \
    "beq 3b\n\t" /* the flags of cmp: nothing between sets them */                                     \
    "ldr %[p0a0], %[min4]\n\t"                                                                         \
    "ldr %[p0a2], %[max4]\n\t"                                                                         \
    CLAMP4_ASM("p0a1") CLAMP4_ASM("p1a1")                                                              \
    "b 3b\n\t"                                                                                         \
    "9:\n\t"

#define PAIR_BLOCKS(RUN, GROUPS_AFTER_FIRST_ASM)                                                       \
    static inline __attribute__((always_inline)) void blocks_##RUN(blocks_t *blocks, const int32_t *w)  \
    {                                                                                                  \
        int32_t p0a0, p0a1, p0a2, p0a3, p1a0, p1a1, p1a2, p1a3;                                        \
        uint32_t x, x0, x1, w0, w1;                                                                    \
        __asm__ volatile(BLOCKS_ASM(RUN, GROUPS_AFTER_FIRST_ASM)                                       \
                         : [p0a0] "=&r"(p0a0), [p0a1] "=&r"(p0a1), [p0a2] "=&r"(p0a2), [p0a3] "=&r"(p0a3), \
                           [p1a0] "=&r"(p1a0), [p1a1] "=&r"(p1a1), [p1a2] "=&r"(p1a2), [p1a3] "=&r"(p1a3), \
                           [x] "=&r"(x), [w] "+r"(w), [x0] "=&r"(x0), [x1] "=&r"(x1), [w0] "=&r"(w0),    \
                           [w1] "=&r"(w1), [channel] "+m"(blocks->channel), [out] "+m"(blocks->out)       \
                         : [column] "m"(blocks->column), [end] "m"(blocks->end), [next] "m"(blocks->next), \
                           [out_end] "m"(blocks->out_end), [form] "m"(blocks->form),                   \
                           [offset] "m"(blocks->offset), [min4] "m"(blocks->min4), [max4] "m"(blocks->max4) \
                         : "memory", "cc");                                                            \
    }

/* RUN - 1 groups: the run's groups after its first (1 .. RUN - 1) */
#define G4_ASM(B) G_ASM(B "+0") G_ASM(B "+1") G_ASM(B "+2") G_ASM(B "+3")
#define G16_ASM(B) G4_ASM(B "+0") G4_ASM(B "+4") G4_ASM(B "+8") G4_ASM(B "+12")
#define GROUPS1_ASM G_ASM("1")
#define GROUPS3_ASM G_ASM("1") G_ASM("2") G_ASM("3")
#define GROUPS7_ASM GROUPS3_ASM G4_ASM("4")
#define GROUPS15_ASM GROUPS7_ASM G4_ASM("8") G4_ASM("12")
#define GROUPS31_ASM GROUPS15_ASM G16_ASM("16")
PAIR_BLOCKS(32, GROUPS31_ASM)
PAIR_BLOCKS(16, GROUPS15_ASM)
PAIR_BLOCKS(8, GROUPS7_ASM)
PAIR_BLOCKS(4, GROUPS3_ASM)
PAIR_BLOCKS(2, GROUPS1_ASM)
#else
/* The portable dot: the column against one block's packed words (depth a multiple of 2). */
static inline acc2x4_t dot_portable(const tg_u32_alias_t *x, const int32_t **w, int32_t depth, const int32_t *channel)
{
    acc2x4_t acc = {packed_start(channel), packed_start(channel)};
    for (int32_t groups = depth >> 1; groups > 0; --groups) {
        TG_PAIR_PACKED_GROUP(x, *w, acc);
    }
    return acc;
}
#endif

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

/* Per two rows: the column, then every block of four channels: its dot and its outputs. */
#if TG_SIMD_DSP
/* One function per run, out of line (the asm takes all fourteen registers). */
#define PAIR_RUNS(RUN)                                                                                 \
    __attribute__((noinline)) static void pair_runs##RUN(                                             \
        tg_wide_epilogue_t e, const int32_t *channels, int32_t batches, int32_t accum_depth,           \
        int32_t output_depth, const int8_t *input, const int32_t *filter, int8_t *output,              \
        tg_u32_alias_t *column)                                                                        \
    {                                                                                                  \
        blocks_t blocks = {column, column + accum_depth, channels, output, 0, output,                  \
                           e.unsigned_bytes ? 0 : e.clamps ? 2 : 1, e.output_offset, e.min4, e.max4};   \
        for (int32_t b = 0; b < batches; b += 2) {                                                     \
            const int32_t second = b + 1 < batches; /* else row b again, its outputs written over row b's */ \
            const int8_t *row = input + b * accum_depth;                                               \
            widen_rows(row, second ? row + accum_depth : row, accum_depth, column);                    \
            blocks.channel = channels;                                                                 \
            blocks.out = output + b * output_depth;                                                    \
            blocks.next = second ? output_depth : 0; /* the same bytes: no branch */                   \
            blocks.out_end = blocks.out + output_depth;                                                \
            blocks_##RUN(&blocks, filter);                                                             \
        }                                                                                              \
    }
#else
#define PAIR_RUNS(RUN)                                                                                 \
    static void pair_runs##RUN(tg_wide_epilogue_t e, const int32_t *channels, int32_t batches,         \
                               int32_t accum_depth, int32_t output_depth, const int8_t *input,         \
                               const int32_t *filter, int8_t *output, tg_u32_alias_t *column)          \
    {                                                                                                  \
        for (int32_t b = 0; b < batches; b += 2) {                                                     \
            const int32_t second = b + 1 < batches; /* else row b again, its outputs written over row b's */ \
            const int8_t *row = input + b * accum_depth;                                               \
            widen_rows(row, second ? row + accum_depth : row, accum_depth, column);                    \
            int8_t *out = output + b * output_depth;                                                   \
            int8_t *out_next = second ? out + output_depth : out;                                      \
            const int32_t *w = filter;                                                                 \
            const int32_t *channel = channels;                                                         \
            for (int32_t oc = 0; oc < output_depth; oc += TG_WIDE_ROWS) {                              \
                const acc2x4_t acc = dot_portable(column, &w, accum_depth, channel);                   \
                uint32_t first, next;                                                                  \
                tg_pair_words4_packed(acc, channel, e.output_offset, 0, &first, &next);                 \
                if (e.clamps) {                                                                        \
                    first = tg_pair_clamp4(first, e);                                                  \
                    next = tg_pair_clamp4(next, e);                                                    \
                }                                                                                      \
                __builtin_memcpy(out + oc, &first, sizeof first);                                      \
                __builtin_memcpy(out_next + oc, &next, sizeof next);                                   \
                channel += TG_WIDE_ROWS * TG_WIDE_CHANNEL_WORDS;                                       \
            }                                                                                          \
        }                                                                                              \
    }
#endif
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
