/* Internal to runtime_c/kernels: the scratch-free DSP FULLY_CONNECTED (tinygen/tg_dsp.h), shared
 * by its three weight layouts: int16 pairs widened at generation time (tg_fully_connected_s8_dsp, 14
 * instructions and 22 estimated cycles per 16 MACs), the int8 weights themselves, split by SXTB16 at
 * run time like the input (tg_fully_connected_s8_dsp_narrow, no extra flash, 21 and 25), and two rows'
 * int8 weights packed per int16 half (tg_fully_connected_s8_dsp_packed, no extra flash, 16.5 and 21). */
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

/* The same with row pairs packed (tg_fully_connected_s8_dsp_packed): acc.a0 and acc.a2 gather
 * 256 * odd row + even row, acc.a1 and acc.a3 the even rows (rows 0 and 2) alone. */
static inline tg_acc4_t block4_packed(uint32_t s8x4, const int32_t **w, tg_acc4_t acc)
{
    const uint32_t even = tg_pair_even(s8x4), odd = tg_pair_odd(s8x4);
    const int32_t *words = *w;
    const uint32_t p01e = (uint32_t)words[0], p01o = (uint32_t)words[1];
    const uint32_t p23e = (uint32_t)words[2], p23o = (uint32_t)words[3];
    acc.a0 = tg_smlad(even, p01e, acc.a0);
    acc.a1 = tg_smlad(even, tg_pair_even(p01e), acc.a1);
    acc.a0 = tg_smlad(odd, p01o, acc.a0);
    acc.a1 = tg_smlad(odd, tg_pair_even(p01o), acc.a1);
    acc.a2 = tg_smlad(even, p23e, acc.a2);
    acc.a3 = tg_smlad(even, tg_pair_even(p23e), acc.a3);
    acc.a2 = tg_smlad(odd, p23o, acc.a2);
    acc.a3 = tg_smlad(odd, tg_pair_even(p23o), acc.a3);
    *w = words + TG_WIDE_ROWS;
    return acc;
}

#if TG_SIMD_DSP
/* One block of four k on the DSP path. The input word is split by SXTB16 into (x0, x2), (x1, x3);
 * the block's weights come in by LDM into r8-r11 (a fixed, ascending list, so they are clobbers, not
 * operands): an LDM of four words takes 5 cycles where two LDRD take 6, and is one instruction. */
#define TG_FC_INPUT_ASM                                                                                \
    "ldr %[xo], [%[x]], #4\n\t"                                                                        \
    "sxtb16 %[xe], %[xo]\n\t"                                                                          \
    "sxtb16 %[xo], %[xo], ror #8\n\t"

/* int16 pairs: rows A and B at (w0, w2), (w1, w3) each, in r8-r11. */
#define TG_FC_WIDE16_TWO_ROWS_ASM(A, B)                                                                \
    "ldm %[w]!, {r8, r9, r10, r11}\n\t"                                                                \
    "smlad %[" A "], %[xe], r8, %[" A "]\n\t"                                                          \
    "smlad %[" A "], %[xo], r9, %[" A "]\n\t"                                                          \
    "smlad %[" B "], %[xe], r10, %[" B "]\n\t"                                                         \
    "smlad %[" B "], %[xo], r11, %[" B "]\n\t"

/* 22 estimated cycles per 16 MACs: LDR, two SXTB16, two LDM of four words, eight SMLAD. */
#define TG_FC_WIDE16_BLOCK_ASM TG_FC_INPUT_ASM TG_FC_WIDE16_TWO_ROWS_ASM("a0", "a1") TG_FC_WIDE16_TWO_ROWS_ASM("a2", "a3")

/* int8: the four rows' words of four k in r8-r11, each split like the input (te the even pair). */
#define TG_FC_NARROW_ROW_ASM(A, R)                                                                     \
    "sxtb16 %[te], " R "\n\t"                                                                          \
    "sxtb16 " R ", " R ", ror #8\n\t"                                                                  \
    "smlad %[" A "], %[xe], %[te], %[" A "]\n\t"                                                       \
    "smlad %[" A "], %[xo], " R ", %[" A "]\n\t"

/* 25 estimated cycles per 16 MACs: LDR, two SXTB16, one LDM of four words, eight SXTB16, eight SMLAD. */
#define TG_FC_NARROW_BLOCK_ASM                                                                         \
    TG_FC_INPUT_ASM "ldm %[w]!, {r8, r9, r10, r11}\n\t"                                                \
    TG_FC_NARROW_ROW_ASM("a0", "r8") TG_FC_NARROW_ROW_ASM("a1", "r9")                                  \
    TG_FC_NARROW_ROW_ASM("a2", "r10") TG_FC_NARROW_ROW_ASM("a3", "r11")

/* A packed word R against the input pair X: S += X . R, E += X . (R's even bytes). */
#define TG_FC_PACKED_WORD_ASM(S, E, X, R)                                                              \
    "sxtb16 %[te], " R "\n\t"                                                                          \
    "smlad %[" S "], %[" X "], " R ", %[" S "]\n\t"                                                    \
    "smlad %[" E "], %[" X "], %[te], %[" E "]\n\t"

/* 21 estimated cycles per 16 MACs: LDR, two SXTB16, one LDM of four words, four SXTB16, eight SMLAD. */
#define TG_FC_PACKED_BLOCK_ASM                                                                         \
    TG_FC_INPUT_ASM "ldm %[w]!, {r8, r9, r10, r11}\n\t"                                                \
    TG_FC_PACKED_WORD_ASM("a0", "a1", "xe", "r8") TG_FC_PACKED_WORD_ASM("a0", "a1", "xo", "r9")        \
    TG_FC_PACKED_WORD_ASM("a2", "a3", "xe", "r10") TG_FC_PACKED_WORD_ASM("a2", "a3", "xo", "r11")

/* A fixed run of blocks (CODE) over x and rows, the accumulators a0..a3 in registers, inside
 * TG_FC_DOT_ASM. */
#define TG_FC_STRAIGHT_ASM(CODE)                                                                       \
    __asm__(CODE                                                                                       \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(rows), [x] "+r"(x), \
              [xe] "=&r"(xe), [xo] "=&r"(xo), [te] "=&r"(te)                                           \
            :                                                                                          \
            : "memory", "r8", "r9", "r10", "r11")

/* N (> 0) times CODE (a fixed run of blocks), the loop's SUBS and BNE after each. */
#define TG_FC_LOOPED_ASM(CODE, N)                                                                      \
    __asm__("1:\n\t" CODE                                                                              \
            "subs %[n], %[n], #1\n\t"                                                                  \
            "bne 1b\n\t"                                                                               \
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(rows), [x] "+r"(x), \
              [n] "+r"(N), [xe] "=&r"(xe), [xo] "=&r"(xo), [te] "=&r"(te)                              \
            :                                                                                          \
            : "memory", "cc", "r8", "r9", "r10", "r11")

/* blocks (> 0) of BLOCK_ASM over x and *w: blocks % 8 first (one, two, then four), then eight per
 * iteration (the loop's SUBS and taken BNE, 4 cycles, shared by 128 MACs). */
#define TG_FC_DOT_ASM(BLOCK_ASM)                                                                       \
    do {                                                                                               \
        int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;                                    \
        const int32_t *rows = *w;                                                                      \
        int32_t quads = blocks >> 3;                                                                   \
        uint32_t xe, xo, te;                                                                           \
        if (blocks & 1) {                                                                              \
            TG_FC_STRAIGHT_ASM(BLOCK_ASM);                                                             \
        }                                                                                              \
        if (blocks & 2) {                                                                              \
            TG_FC_STRAIGHT_ASM(BLOCK_ASM BLOCK_ASM);                                                   \
        }                                                                                              \
        if (blocks & 4) {                                                                              \
            TG_FC_STRAIGHT_ASM(BLOCK_ASM BLOCK_ASM BLOCK_ASM BLOCK_ASM);                               \
        }                                                                                              \
        if (quads > 0) {                                                                               \
            TG_FC_LOOPED_ASM(BLOCK_ASM BLOCK_ASM BLOCK_ASM BLOCK_ASM                                   \
                             BLOCK_ASM BLOCK_ASM BLOCK_ASM BLOCK_ASM, quads);                          \
        }                                                                                              \
        *w = rows;                                                                                     \
        const tg_acc4_t result = {a0, a1, a2, a3};                                                     \
        return result;                                                                                 \
    } while (0)
#endif

#if TG_SIMD_DSP
/* count (> 0) times BLOCKS_ASM (a fixed run of blocks), the loop alone. */
#define TG_FC_DOT_LOOP_ASM(BLOCKS_ASM)                                                                 \
    do {                                                                                               \
        int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;                                    \
        const int32_t *rows = *w;                                                                      \
        uint32_t xe, xo, te;                                                                           \
        TG_FC_LOOPED_ASM(BLOCKS_ASM, count);                                                           \
        *w = rows;                                                                                     \
        const tg_acc4_t result = {a0, a1, a2, a3};                                                     \
        return result;                                                                                 \
    } while (0)

#define TG_FC_PACKED_2_ASM TG_FC_PACKED_BLOCK_ASM TG_FC_PACKED_BLOCK_ASM
#define TG_FC_PACKED_4_ASM TG_FC_PACKED_2_ASM TG_FC_PACKED_2_ASM

/* count runs of 8, 4 or 2 blocks: the depth is count * 4 * run */
static inline tg_acc4_t dot_packed_runs8(const int8_t *x, const int32_t **w, int32_t count, tg_acc4_t acc)
{
    TG_FC_DOT_LOOP_ASM(TG_FC_PACKED_4_ASM TG_FC_PACKED_4_ASM);
}
static inline tg_acc4_t dot_packed_runs4(const int8_t *x, const int32_t **w, int32_t count, tg_acc4_t acc)
{
    TG_FC_DOT_LOOP_ASM(TG_FC_PACKED_4_ASM);
}
static inline tg_acc4_t dot_packed_runs2(const int8_t *x, const int32_t **w, int32_t count, tg_acc4_t acc)
{
    TG_FC_DOT_LOOP_ASM(TG_FC_PACKED_2_ASM);
}
#endif

/* blocks (> 0) of four k of x against the block's rows of int16 weights. On the DSP path the loop is
 * asm (GCC 12 spills the C version's registers and does not use LDM). */
static inline tg_acc4_t dot_wide16(const int8_t *x, const int32_t **w, int32_t blocks, tg_acc4_t acc)
{
#if TG_SIMD_DSP
    TG_FC_DOT_ASM(TG_FC_WIDE16_BLOCK_ASM);
#else
    for (; blocks > 0; --blocks, x += 4) {
        acc = block4(tg_read_s8x4(x), w, acc);
    }
    return acc;
#endif
}

/* blocks (> 0) of four k of x against the block's rows of int8 weights, asm on the DSP path as above. */
static inline tg_acc4_t dot_narrow(const int8_t *x, const int32_t **w, int32_t blocks, tg_acc4_t acc)
{
#if TG_SIMD_DSP
    TG_FC_DOT_ASM(TG_FC_NARROW_BLOCK_ASM);
#else
    for (; blocks > 0; --blocks, x += 4) {
        acc = block4_narrow(tg_read_s8x4(x), w, acc);
    }
    return acc;
#endif
}

/* blocks (> 0) of four k of x against the block's packed row pairs, asm on the DSP path as above. */
static inline tg_acc4_t dot_packed(const int8_t *x, const int32_t **w, int32_t blocks, tg_acc4_t acc)
{
#if TG_SIMD_DSP
    TG_FC_DOT_ASM(TG_FC_PACKED_BLOCK_ASM);
#else
    for (; blocks > 0; --blocks, x += 4) {
        acc = block4_packed(tg_read_s8x4(x), w, acc);
    }
    return acc;
#endif
}

/* The weight layouts of tg_fc_dsp: int16 pairs, int8 rows, int8 row pairs packed per int16 half. */
typedef enum { TG_FC_WIDE16, TG_FC_NARROW, TG_FC_PACKED } tg_fc_layout_t;

#if TG_SIMD_DSP
/* The packed layout where the depth is whole runs of RUN (8, 4 or 2) blocks and the output whole
 * blocks of rows: per block one loop, then the epilogue's four outputs. One function per run, out of
 * line, so that GCC allocates this loop's registers on their own. */
#define TG_FC_PACKED_RUNS(RUN)                                                                         \
    __attribute__((noinline)) static void tg_fc_packed_runs##RUN(                                      \
        tg_wide_epilogue_t epilogue, const int32_t *channels, int32_t batches, int32_t accum_depth,    \
        int32_t output_depth, const int8_t *input, const int32_t *filter, int8_t *output)              \
    {                                                                                                  \
        const int32_t count = accum_depth / (4 * RUN);                                                 \
        for (int32_t b = 0; b < batches; ++b) {                                                        \
            const int8_t *row = input + b * accum_depth;                                               \
            const int32_t *w = filter;                                                                 \
            const int32_t *channel = channels;                                                         \
            for (int32_t oc = 0; oc < output_depth;                                                    \
                 oc += TG_WIDE_ROWS, channel += TG_WIDE_ROWS * TG_WIDE_CHANNEL_WORDS) {                \
                const tg_acc4_t acc = dot_packed_runs##RUN(row, &w, count, packed_start(channel));     \
                output = tg_wide_outputs4_dsp(packed_rows(acc, channel), channel, epilogue, output);   \
            }                                                                                          \
        }                                                                                              \
    }
TG_FC_PACKED_RUNS(8)
TG_FC_PACKED_RUNS(4)
TG_FC_PACKED_RUNS(2)
#endif

/* --- eight rows at a time: tg_fully_connected_s8_dsp_packed8 -------------------------------------
 * The packed layout's row pairs four to a block: per four k the words of pairs (0, 1), (2, 3), (4, 5),
 * (6, 7), each its even word then its odd one, so that one input word and its two SXTB16 serve eight
 * rows (the four-row block splits it again for the next four). Output depth and accumulation depth are
 * multiples of 8 (the generator checks). */

typedef struct {
    tg_acc4_t lo, hi;  /* rows 0-3 and 4-7, each as the packed block's (sum, even) pairs */
} tg_acc8_t;

static inline tg_acc8_t packed8_start(const int32_t *channel)
{
    const tg_acc8_t acc = {packed_start(channel), packed_start(channel + TG_WIDE_ROWS * TG_WIDE_CHANNEL_WORDS)};
    return acc;
}

#if TG_SIMD_DSP
/* A row pair against four k: one LDRD of its even and odd words, each used by SMLAD for the pair's
 * sum (S), then split in place by SXTB16 for its even row's (E). */
#define TG_FC_PACKED8_PAIR_ASM(S, E)                                                                   \
    "ldrd %[w0], %[w1], [%[w]], #8\n\t"                                                                \
    "smlad %[" S "], %[xe], %[w0], %[" S "]\n\t"                                                       \
    "sxtb16 %[w0], %[w0]\n\t"                                                                          \
    "smlad %[" E "], %[xe], %[w0], %[" E "]\n\t"                                                       \
    "smlad %[" S "], %[xo], %[w1], %[" S "]\n\t"                                                       \
    "sxtb16 %[w1], %[w1]\n\t"                                                                          \
    "smlad %[" E "], %[xo], %[w1], %[" E "]\n\t"

/* 31 instructions and 40 estimated cycles per 32 MACs (LDR, two SXTB16, four LDRD, four SXTB16, 16
 * SMLAD) where two four-row blocks take 32 and 42. */
#define TG_FC_PACKED8_BLOCK_ASM                                                                        \
    TG_FC_INPUT_ASM TG_FC_PACKED8_PAIR_ASM("a0", "a1") TG_FC_PACKED8_PAIR_ASM("a2", "a3")              \
    TG_FC_PACKED8_PAIR_ASM("a4", "a5") TG_FC_PACKED8_PAIR_ASM("a6", "a7")
#define TG_FC_PACKED8_2_ASM TG_FC_PACKED8_BLOCK_ASM TG_FC_PACKED8_BLOCK_ASM
#define TG_FC_PACKED8_4_ASM TG_FC_PACKED8_2_ASM TG_FC_PACKED8_2_ASM

/* x's depth values (a multiple of four times the blocks in BLOCKS_ASM) against eight rows: the loop
 * ends where x reaches its end, read from memory into a free register (eight accumulators, the input's
 * two halves, two weight words and the two pointers take the fourteen registers GCC can give). The
 * accumulators start from acc (ACC "+r", XE "=&r"), or (PROLOGUE TG_FC_PACKED8_LOAD_ASM, ACC "=&r",
 * XE "+r") from the block's channels loaded in the asm, the channel pointer coming in the register the
 * input's even half takes in the loop, so that GCC moves no start values into place. */
#define TG_FC_PACKED8_DOT(NAME, BLOCKS_ASM, PROLOGUE, ACC, XE)                                         \
    static inline __attribute__((always_inline)) tg_acc8_t NAME(const int8_t *x, const int32_t **w,   \
                                                                int32_t depth, tg_acc8_t acc,           \
                                                                const int32_t *channel)                 \
    {                                                                                                  \
        int32_t a0 = acc.lo.a0, a1 = acc.lo.a1, a2 = acc.lo.a2, a3 = acc.lo.a3;                        \
        int32_t a4 = acc.hi.a0, a5 = acc.hi.a1, a6 = acc.hi.a2, a7 = acc.hi.a3;                        \
        const int32_t *rows = *w;                                                                      \
        const int8_t *const end = x + depth;                                                           \
        uint32_t xe = (uint32_t)(uintptr_t)channel, xo, w0, w1;                                       \
        __asm__(PROLOGUE "1:\n\t" BLOCKS_ASM                                                           \
                "ldr %[w0], %[end]\n\t"                                                                \
                "cmp %[x], %[w0]\n\t"                                                                  \
                "bne 1b\n\t"                                                                           \
                : [a0] ACC(a0), [a1] ACC(a1), [a2] ACC(a2), [a3] ACC(a3), [a4] ACC(a4), [a5] ACC(a5),    \
                  [a6] ACC(a6), [a7] ACC(a7), [w] "+r"(rows), [x] "+r"(x), [xe] XE(xe), [xo] "=&r"(xo),  \
                  [w0] "=&r"(w0), [w1] "=&r"(w1)                                                       \
                : [end] "m"(end)                                                                       \
                : "memory", "cc");                                                                     \
        *w = rows;                                                                                     \
        const tg_acc8_t result = {{a0, a1, a2, a3}, {a4, a5, a6, a7}};                                 \
        return result;                                                                                 \
    }

/* packed8_start in the asm, from the channel pointer in xe. */
#define TG_FC_PACKED8_LOAD_ASM                                                                         \
    "ldr %[a0], [%[xe]]\n\t"                                                                           \
    "ldr %[a2], [%[xe], #40]\n\t"                                                                      \
    "ldr %[a4], [%[xe], #80]\n\t"                                                                      \
    "ldr %[a6], [%[xe], #120]\n\t"                                                                     \
    "mov %[a1], %[a0]\n\t"                                                                             \
    "mov %[a3], %[a2]\n\t"                                                                             \
    "mov %[a5], %[a4]\n\t"                                                                             \
    "mov %[a7], %[a6]\n\t"
#define TG_FC_PACKED8_8_ASM TG_FC_PACKED8_4_ASM TG_FC_PACKED8_4_ASM
#define TG_FC_PACKED8_16_ASM TG_FC_PACKED8_8_ASM TG_FC_PACKED8_8_ASM

TG_FC_PACKED8_DOT(dot_packed8_runs16, TG_FC_PACKED8_16_ASM, "", "+r", "=&r")
TG_FC_PACKED8_DOT(dot_packed8_runs8, TG_FC_PACKED8_8_ASM, "", "+r", "=&r")
TG_FC_PACKED8_DOT(dot_packed8_runs4, TG_FC_PACKED8_4_ASM, "", "+r", "=&r")
TG_FC_PACKED8_DOT(dot_packed8_runs2, TG_FC_PACKED8_2_ASM, "", "+r", "=&r")
/* the per-tensor layers' (AD's): 32 blocks a loop, the start values loaded in the asm */
TG_FC_PACKED8_DOT(dot_packed8_runs32_loaded, TG_FC_PACKED8_16_ASM TG_FC_PACKED8_16_ASM, TG_FC_PACKED8_LOAD_ASM,
                  "=&r", "+r")

/* One output of packed8_word4 below: X (an accumulator) requantized with channel J's words at
 * channel + 4 * (5J + 1), + 4 * (5J + 2), + 4 * (5J + 3) (doubled multiplier, shift, rounding), the
 * output offset added, saturated to int8 (tg_wide_requantize, then tg_wide_word4's SSAT). */
#define TG_FC_OUTPUT_ASM(X, AT_DOUBLED, AT_ROUNDING)                                                   \
    "ldrd %[d], %[s], [%[c], #" AT_DOUBLED "]\n\t"                                                     \
    "ldr %[r], [%[c], #" AT_ROUNDING "]\n\t"                                                           \
    "and %[h], %[" X "], %[d], asr #31\n\t"                                                            \
    "smmlar %[h], %[" X "], %[d], %[h]\n\t"                                                            \
    "add %[r], %[r], %[h], asr #31\n\t"                                                                \
    "qadd %[h], %[h], %[r]\n\t"                                                                        \
    "asr %[h], %[h], %[s]\n\t"                                                                         \
    "add %[h], %[h], %[off]\n\t"                                                                       \
    "ssat %[" X "], #8, %[h]\n\t"

/* The same with one multiplier, shift and rounding for every channel, already in d, s and r. */
#define TG_FC_OUTPUT_UNIFORM_ASM(X)                                                                    \
    "and %[h], %[" X "], %[d], asr #31\n\t"                                                            \
    "smmlar %[h], %[" X "], %[d], %[h]\n\t"                                                            \
    "add %[t], %[r], %[h], asr #31\n\t"                                                                \
    "qadd %[h], %[h], %[t]\n\t"                                                                        \
    "asr %[h], %[h], %[s]\n\t"                                                                         \
    "add %[h], %[h], %[off]\n\t"                                                                       \
    "ssat %[" X "], #8, %[h]\n\t"

/* Rows 1 and 3 of a packed block: each its channel's bias + (S - E) >> 8 (packed_rows). */
#define TG_FC_ODD_ROWS_ASM                                                                             \
    "ldr %[row1], [%[c], #20]\n\t"                                                                     \
    "sub %[s01], %[s01], %[row0]\n\t"                                                                  \
    "add %[row1], %[row1], %[s01], asr #8\n\t"                                                         \
    "ldr %[row3], [%[c], #60]\n\t"                                                                     \
    "sub %[s23], %[s23], %[row2]\n\t"                                                                  \
    "add %[row3], %[row3], %[s23], asr #8\n\t"
#define TG_FC_PACK4_ASM                                                                                \
    "bfi %[row0], %[row1], #8, #8\n\t"                                                                 \
    "bfi %[row0], %[row2], #16, #8\n\t"                                                                \
    "bfi %[row0], %[row3], #24, #8\n\t"

/* A packed block's four outputs as one word, before the activation's clamp: rows 0 and 2 are the
 * accumulators a1 and a3, rows 1 and 3 from the differences (packed_rows). In asm: in C, GCC 12
 * reloads its pointers and the channel's words around each output after the loop's fourteen
 * registers (KWS -56 K, VWW -200 K estimated cycles). uniform: one multiplier, shift and rounding
 * for every channel, at uniform[1..3] (a per-tensor layer: the first channel's words, copied), loaded
 * once. */
static inline __attribute__((always_inline)) uint32_t packed8_word4(tg_acc4_t acc, const int32_t *channel,
                                                                    int32_t output_offset, const int32_t *uniform)
{
    int32_t s01 = acc.a0, row0 = acc.a1, s23 = acc.a2, row2 = acc.a3, row1, row3;
    uint32_t d, s, r, h, t;
    if (uniform != 0) {
        __asm__("ldrd %[d], %[s], [%[u], #4]\n\t"
                "ldr %[r], [%[u], #12]\n\t" TG_FC_ODD_ROWS_ASM
                TG_FC_OUTPUT_UNIFORM_ASM("row0") TG_FC_OUTPUT_UNIFORM_ASM("row1")
                TG_FC_OUTPUT_UNIFORM_ASM("row2") TG_FC_OUTPUT_UNIFORM_ASM("row3") TG_FC_PACK4_ASM
                : [row0] "+r"(row0), [row2] "+r"(row2), [s01] "+r"(s01), [s23] "+r"(s23), [row1] "=&r"(row1),
                  [row3] "=&r"(row3), [d] "=&r"(d), [s] "=&r"(s), [r] "=&r"(r), [h] "=&r"(h), [t] "=&r"(t)
                : [c] "r"(channel), [u] "r"(uniform), [off] "r"(output_offset),
                  "m"(*(const int32_t(*)[4 * TG_WIDE_CHANNEL_WORDS])channel), "m"(*(const int32_t(*)[4])uniform));
    } else {
        __asm__(TG_FC_ODD_ROWS_ASM
                TG_FC_OUTPUT_ASM("row0", "4", "12") TG_FC_OUTPUT_ASM("row1", "24", "32")
                TG_FC_OUTPUT_ASM("row2", "44", "52") TG_FC_OUTPUT_ASM("row3", "64", "72") TG_FC_PACK4_ASM
                : [row0] "+r"(row0), [row2] "+r"(row2), [s01] "+r"(s01), [s23] "+r"(s23), [row1] "=&r"(row1),
                  [row3] "=&r"(row3), [d] "=&r"(d), [s] "=&r"(s), [r] "=&r"(r), [h] "=&r"(h)
                : [c] "r"(channel), [off] "r"(output_offset),
                  "m"(*(const int32_t(*)[4 * TG_WIDE_CHANNEL_WORDS])channel));
    }
    (void)t;
    return (uint32_t)row0;
}

/* Per eight rows one loop over the depth (whole runs of RUN blocks), then two epilogues of four. One
 * function per run, out of line, so that GCC allocates this loop's registers on their own. UNIFORM
 * (a per-tensor layer, params->uniform): every epilogue reads the first channel's multiplier, shift
 * and rounding from a copy on the stack (reading them through `channels` keeps one more pointer
 * live: AD +1.7 K estimated cycles, measured), and the loop (RUN 32_loaded) loads its start values. */
#define TG_FC_PACKED8_RUNS_OF(NAME, RUN, UNIFORM)                                                      \
    __attribute__((noinline)) static void NAME(                                                        \
        tg_wide_epilogue_t epilogue, const int32_t *channels, int32_t batches, int32_t accum_depth,    \
        int32_t output_depth, const int8_t *input, const int32_t *filter, int8_t *output)              \
    {                                                                                                  \
        const int32_t half = TG_WIDE_ROWS * TG_WIDE_CHANNEL_WORDS;                                     \
        const int32_t shared[4] = {0, channels[1], channels[2], channels[3]};                          \
        for (int32_t b = 0; b < batches; ++b) {                                                        \
            const int8_t *row = input + b * accum_depth;                                               \
            const int32_t *w = filter;                                                                 \
            const int32_t *channel = channels;                                                         \
            for (int32_t oc = 0; oc < output_depth; oc += 2 * TG_WIDE_ROWS, channel += 2 * half) {    \
                const tg_acc8_t acc = dot_packed8_runs##RUN(row, &w, accum_depth, packed8_start(channel), channel); \
                uint32_t first = packed8_word4(acc.lo, channel, epilogue.output_offset, UNIFORM ? shared : 0); \
                uint32_t second = packed8_word4(acc.hi, channel + half, epilogue.output_offset,       \
                                                UNIFORM ? shared : 0);                               \
                if (epilogue.clamps) {                                                                 \
                    first = tg_clamp_s8x4(first, epilogue.min4, epilogue.max4);                        \
                    second = tg_clamp_s8x4(second, epilogue.min4, epilogue.max4);                      \
                }                                                                                      \
                __builtin_memcpy(output, &first, sizeof first);                                        \
                __builtin_memcpy(output + TG_WIDE_ROWS, &second, sizeof second);                       \
                output += 2 * TG_WIDE_ROWS;                                                            \
            }                                                                                          \
        }                                                                                              \
    }
#define TG_FC_PACKED8_RUNS(RUN) TG_FC_PACKED8_RUNS_OF(tg_fc_packed8_runs##RUN, RUN, 0)
TG_FC_PACKED8_RUNS(16)
TG_FC_PACKED8_RUNS(8)
TG_FC_PACKED8_RUNS(4)
TG_FC_PACKED8_RUNS(2)
TG_FC_PACKED8_RUNS_OF(tg_fc_packed8_runs32_uniform, 32_loaded, 1)  /* the deep per-tensor layers (AD's) only */
#endif

/* The eight-row layout: output_depth and accum_depth multiples of 8. The longest run the depth allows
 * (per-tensor layers of whole runs of 32 blocks their own); every run stays in the firmware. */
static inline void tg_fc_packed8(const tg_fc_wide_params_t *params, const int32_t *channels, int32_t batches,
                                 int32_t accum_depth, int32_t output_depth, const int8_t *input,
                                 const int32_t *filter, int8_t *output)
{
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(params->output_offset, params->activation);
#if TG_SIMD_DSP
    if ((accum_depth & 127) == 0 && params->uniform) {
        tg_fc_packed8_runs32_uniform(epilogue, channels, batches, accum_depth, output_depth, input, filter, output);
    } else if ((accum_depth & 63) == 0) {
        tg_fc_packed8_runs16(epilogue, channels, batches, accum_depth, output_depth, input, filter, output);
    } else if ((accum_depth & 31) == 0) {
        tg_fc_packed8_runs8(epilogue, channels, batches, accum_depth, output_depth, input, filter, output);
    } else if ((accum_depth & 15) == 0) {
        tg_fc_packed8_runs4(epilogue, channels, batches, accum_depth, output_depth, input, filter, output);
    } else {
        tg_fc_packed8_runs2(epilogue, channels, batches, accum_depth, output_depth, input, filter, output);
    }
#else
    const int32_t half = TG_WIDE_ROWS * TG_WIDE_CHANNEL_WORDS;
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *row = input + b * accum_depth;
        const int32_t *w = filter;
        for (int32_t oc = 0; oc < output_depth; oc += 2 * TG_WIDE_ROWS) {
            const int32_t *channel = channels + oc * TG_WIDE_CHANNEL_WORDS;
            tg_acc8_t acc = packed8_start(channel);
            for (int32_t k = 0; k < accum_depth; k += 4) {
                const uint32_t s8x4 = tg_read_s8x4(row + k);
                acc.lo = block4_packed(s8x4, &w, acc.lo);  /* the block's words: pairs (0, 1), (2, 3) */
                acc.hi = block4_packed(s8x4, &w, acc.hi);  /* then (4, 5), (6, 7) */
            }
            output = tg_wide_outputs(packed_rows(acc.lo, channel), channel, TG_WIDE_ROWS, epilogue, output);
            output = tg_wide_outputs(packed_rows(acc.hi, channel + half), channel + half, TG_WIDE_ROWS, epilogue,
                                     output);
        }
    }
#endif
}

/* An input row to the in-place kernels' word-aligned copy (words and bytes: the same scratch), for
 * the kernel to read while it writes over the row. */
static inline void tg_fc_copy_row(const int8_t *row, int32_t accum_depth, tg_u32_alias_t *words, int8_t *bytes)
{
    const int32_t whole = accum_depth >> 2;
    for (int32_t i = 0; i < whole; ++i) {
        words[i] = tg_read_s8x4(row + 4 * i);
    }
    for (int32_t k = 4 * whole; k < accum_depth; ++k) {
        bytes[k] = row[k];
    }
}

/* The kernel for any layout; inlined with a constant, so each caller gets its own loop. */
static inline void tg_fc_dsp(const tg_fc_wide_params_t *params, const int32_t *channels, int32_t batches,
                             int32_t accum_depth, int32_t output_depth, const int8_t *input, const int32_t *filter,
                             int8_t *output, tg_fc_layout_t layout)
{
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(params->output_offset, params->activation);
    const int32_t whole = accum_depth >> 2, tail = accum_depth & 3;
#if TG_SIMD_DSP
    if (layout == TG_FC_PACKED && (accum_depth & 7) == 0 && accum_depth > 0 && (output_depth & 3) == 0) {
        /* the common shapes: a depth of whole runs of 8, 4 or 2 blocks and whole blocks of rows, each
         * block one loop and nothing else (the general path below dispatches blocks % 8 per block) */
        if ((accum_depth & 31) == 0) {
            tg_fc_packed_runs8(epilogue, channels, batches, accum_depth, output_depth, input, filter, output);
        } else if ((accum_depth & 15) == 0) {
            tg_fc_packed_runs4(epilogue, channels, batches, accum_depth, output_depth, input, filter, output);
        } else {
            tg_fc_packed_runs2(epilogue, channels, batches, accum_depth, output_depth, input, filter, output);
        }
        return;
    }
#endif
    for (int32_t b = 0; b < batches; ++b) {
        const int8_t *row = input + b * accum_depth;
        const uint32_t last = tail_word(row + 4 * whole, tail);
        const int32_t *w = filter;
        for (int32_t oc = 0; oc < output_depth; oc += TG_WIDE_ROWS) {
            const int32_t *channel = channels + oc * TG_WIDE_CHANNEL_WORDS;
            tg_acc4_t acc = layout == TG_FC_PACKED ? packed_start(channel) : tg_wide_start(channel, 0);
            const int8_t *const x = row;
            if (whole > 0) {
                acc = layout == TG_FC_PACKED ? dot_packed(x, &w, whole, acc)
                    : layout == TG_FC_NARROW ? dot_narrow(x, &w, whole, acc)
                                             : dot_wide16(x, &w, whole, acc);
            }
            if (tail) {
                acc = layout == TG_FC_PACKED ? block4_packed(last, &w, acc)
                    : layout == TG_FC_NARROW ? block4_narrow(last, &w, acc)
                                             : block4(last, &w, acc);
            }
            if (layout == TG_FC_PACKED) {
                acc = packed_rows(acc, channel);
            }
            const int32_t rows = output_depth - oc < TG_WIDE_ROWS ? output_depth - oc : TG_WIDE_ROWS;
            output = tg_wide_outputs(acc, channel, rows, epilogue, output);
        }
    }
}

/* The in-place kernels (tg_fully_connected_s8_dsp_packed_inplace, ..._packed8_inplace): each input row
 * copied to row_copy before its output row is written, then the FC over that one row (eight_rows: the
 * eight-row layout, else the packed one). */
static inline void tg_fc_dsp_inplace(const tg_fc_wide_params_t *params, const int32_t *channels, int32_t batches,
                                     int32_t accum_depth, int32_t output_depth, const int8_t *input,
                                     const int32_t *filter, int8_t *output, void *row_copy, int eight_rows)
{
    int8_t *const bytes = (int8_t *)row_copy;
    for (int32_t b = 0; b < batches; ++b) {
        tg_fc_copy_row(input + b * accum_depth, accum_depth, (tg_u32_alias_t *)row_copy, bytes);
        int8_t *const row_out = output + b * output_depth;
        if (eight_rows) {
            tg_fc_packed8(params, channels, 1, accum_depth, output_depth, bytes, filter, row_out);
        } else {
            tg_fc_dsp(params, channels, 1, accum_depth, output_depth, bytes, filter, row_out, TG_FC_PACKED);
        }
    }
}

#endif /* TINYGEN_TG_FC_DSP_H */
