/* Internal to runtime_c/kernels: the pair of outputs of the channel-at-a-time depthwise kernels
 * (tg_depthwise_conv_s8_lines_dsp, tg_depthwise_conv_s8_plane_dsp). Each computes two outputs of one
 * channel at a time, s0 and s1, from the channel's six weight words u0, v0, u1, v1, u2, v2 held in
 * registers (per window line l: u = (w[l][0], w[l][1]), v = (w[l][1], w[l][2])); PAIR, the kernel's own
 * asm, reads its int16 copy of the input through p and leaves the two sums. What follows is shared:
 * the requantization, the clamp, the stores at out and out + step, a pair's and a last output's asm
 * and the operands; the loop over a line's pairs (TG_CPAIR_LINE) is the lines kernel's (the plane
 * kernel loops over all of a channel's rows in one asm).
 *
 * The asm takes thirteen registers (the six weights, s0, s1, a, b, p, out, step); the channel's words
 * and the line's end are memory operands, a local of the caller read at offsets from sp.
 */
#ifndef TINYGEN_TG_CHANNEL_PAIR_H
#define TINYGEN_TG_CHANNEL_PAIR_H

#include "tinygen/tg_kernels.h"
#include "tg_wide_dot.h"

/* What a line's asm reads from memory: the channel's words and the line's bounds. */
typedef struct {
    int32_t bias, multiplier, rounding, shift, offset;
    uint32_t min2, max2;  /* the activation's bounds in both halves */
    const int8_t *end;    /* the line's output after its last two pairs */
} tg_channel_pair_words_t;

/* The words of a channel-at-a-time kernel's call: the channel's own set per channel (channel_words). */
static inline tg_channel_pair_words_t tg_channel_pair_words(int32_t output_offset, tg_range_t activation)
{
    const tg_channel_pair_words_t words = {0, 0, 0, 0, output_offset,
                                           (uint16_t)(int16_t)activation.min * 0x00010001u,
                                           (uint16_t)(int16_t)activation.max * 0x00010001u, 0};
    return words;
}

/* The epilogue's form, each its own asm: the USAT form where the output offset is -128 and the
 * activation int8's whole range (tg_wide_epilogue_t's unsigned_bytes), else the signed form clamped
 * to the activation (a clamp to int8's whole range changes nothing: one asm fewer per shape, ~1.8 KB
 * of the plane kernel's code, for ~7 estimated cycles a pair on such layers, rare after a ReLU). */
enum { TG_CPAIR_CLAMPS = 0, TG_CPAIR_UNSIGNED = 1 };

static inline int32_t tg_channel_pair_form(int32_t output_offset, tg_range_t activation)
{
    return tg_wide_epilogue(output_offset, activation).unsigned_bytes ? TG_CPAIR_UNSIGNED : TG_CPAIR_CLAMPS;
}

/* words with channel's bias, multiplier, shift and rounding (tg_wide.h's channel words). */
static inline void tg_channel_pair_channel(tg_channel_pair_words_t *words, const int32_t *channel)
{
    words->bias = channel[0];
    words->multiplier = channel[1];
    words->shift = channel[2];
    words->rounding = channel[3];
}

#if TG_SIMD_DSP
/* Both sums requantized (SMMLAR with the sum as Ra: the multipliers are normalized,
 * variants.normalized_channels; then tg_wide_requantize's QADD and shift), offset and saturated to
 * int8. */
#define TG_CPAIR_REQUANT_ASM                                                                           \
    "ldr %[a], %[mul]\n\t"                                                                             \
    "ldr %[b], %[round]\n\t"                                                                           \
    "smmlar %[s0], %[s0], %[a], %[s0]\n\t"                                                             \
    "smmlar %[s1], %[s1], %[a], %[s1]\n\t"                                                             \
    "add %[a], %[b], %[s0], asr #31\n\t"                                                               \
    "qadd %[s0], %[s0], %[a]\n\t"                                                                      \
    "add %[a], %[b], %[s1], asr #31\n\t"                                                               \
    "qadd %[s1], %[s1], %[a]\n\t"                                                                      \
    "ldr %[a], %[shift]\n\t"                                                                           \
    "ldr %[b], %[off]\n\t"                                                                             \
    "asr %[s0], %[s0], %[a]\n\t"                                                                       \
    "asr %[s1], %[s1], %[a]\n\t"                                                                       \
    "add %[s0], %[s0], %[b]\n\t"                                                                       \
    "add %[s1], %[s1], %[b]\n\t"                                                                       \
    "ssat %[s0], #8, %[s0]\n\t"                                                                        \
    "ssat %[s1], #8, %[s1]\n\t"

/* TG_CPAIR_REQUANT_ASM's outputs in the USAT form (TG_CPAIR_UNSIGNED): each output + 128 saturated as
 * an unsigned byte, its sign bit flipped; no rounding correction for a negative sum, which gives -128
 * either way (tg_conv_wide_pair_body.h's TG_PAIR_OUTPUTS_U8_ASM says why). 15 estimated cycles a pair
 * where the form above takes 18. */
#define TG_CPAIR_REQUANT_U8_ASM                                                                        \
    "ldr %[a], %[mul]\n\t"                                                                             \
    "ldr %[b], %[round]\n\t"                                                                           \
    "smmlar %[s0], %[s0], %[a], %[s0]\n\t"                                                             \
    "smmlar %[s1], %[s1], %[a], %[s1]\n\t"                                                             \
    "qadd %[s0], %[s0], %[b]\n\t"                                                                      \
    "qadd %[s1], %[s1], %[b]\n\t"                                                                      \
    "ldr %[a], %[shift]\n\t"                                                                           \
    "asr %[s0], %[s0], %[a]\n\t"                                                                       \
    "asr %[s1], %[s1], %[a]\n\t"                                                                       \
    "usat %[s0], #8, %[s0]\n\t"                                                                        \
    "usat %[s1], #8, %[s1]\n\t"                                                                        \
    "eor %[s0], %[s0], #128\n\t"                                                                       \
    "eor %[s1], %[s1], #128\n\t"

/* Both outputs clamped to the activation as the int16 halves of s0 (SSUB16 sets GE per half). */
#define TG_CPAIR_CLAMP_ASM                                                                             \
    "pkhbt %[s0], %[s0], %[s1], lsl #16\n\t"                                                           \
    "ldr %[a], %[min2]\n\t"                                                                            \
    "ldr %[b], %[max2]\n\t"                                                                            \
    "ssub16 %[s1], %[s0], %[a]\n\t"                                                                    \
    "sel %[s0], %[s0], %[a]\n\t"                                                                       \
    "ssub16 %[s1], %[b], %[s0]\n\t"                                                                    \
    "sel %[s0], %[s0], %[b]\n\t"                                                                       \
    "lsr %[s1], %[s0], #16\n\t"

/* The epilogue of each form (EPI below). */
#define TG_CPAIR_CLAMPS_EPI TG_CPAIR_REQUANT_ASM TG_CPAIR_CLAMP_ASM
#define TG_CPAIR_UNSIGNED_EPI TG_CPAIR_REQUANT_U8_ASM

/* ASM_OF(EPI), the asm with form FORM's epilogue, with OPERANDS (a macro's name). */
#define TG_CPAIR_ASM_BY_FORM(FORM, ASM_OF, OPERANDS)                                                   \
    do {                                                                                               \
        if ((FORM) == TG_CPAIR_UNSIGNED) {                                                             \
            __asm__ volatile(ASM_OF(TG_CPAIR_UNSIGNED_EPI) OPERANDS);                                  \
        } else {                                                                                       \
            __asm__ volatile(ASM_OF(TG_CPAIR_CLAMPS_EPI) OPERANDS);                                    \
        }                                                                                              \
    } while (0)

/* A pair's outputs at out and out + step, out moved two on. */
#define TG_CPAIR_STORE_ASM                                                                             \
    "strb %[s0], [%[out]]\n\t"                                                                         \
    "strb %[s1], [%[out], %[step]]\n\t"                                                                \
    "add %[out], %[out], %[step], lsl #1\n\t"

/* Two pairs per iteration while out has not reached end (the end test, ~6 estimated cycles, once per
 * four outputs); one pair; a line's odd last output (a pair whose second output is not stored). EPI:
 * the epilogue's form (TG_CPAIR_*_EPI). */
#define TG_CPAIR_LOOP_ASM(PAIR, EPI)                                                                   \
    "1:\n\t" PAIR EPI TG_CPAIR_STORE_ASM PAIR EPI TG_CPAIR_STORE_ASM                                    \
    "ldr %[b], %[end]\n\t"                                                                             \
    "cmp %[out], %[b]\n\t"                                                                             \
    "bne 1b\n\t"
#define TG_CPAIR_ONE_ASM(PAIR, EPI) PAIR EPI TG_CPAIR_STORE_ASM
#define TG_CPAIR_LAST_ASM(PAIR, EPI) PAIR EPI "strb %[s0], [%[out]]\n\t"

/* The asm's registers; its inputs: uv, the six weight words, step, and WORDS, the caller's
 * tg_channel_pair_words_t (a local: read at offsets from sp). */
#define TG_CPAIR_REGISTERS                                                                             \
    [s0] "=&r"(s0), [s1] "=&r"(s1), [a] "=&r"(a), [b] "=&r"(b), [p] "+r"(p), [out] "+r"(out)
#define TG_CPAIR_INPUTS(WORDS)                                                                         \
    [u0] "r"(uv[0]), [v0] "r"(uv[1]), [u1] "r"(uv[2]), [v1] "r"(uv[3]), [u2] "r"(uv[4]), [v2] "r"(uv[5]),     \
      [step] "r"(step), [bias] "m"((WORDS).bias), [mul] "m"((WORDS).multiplier),                               \
      [round] "m"((WORDS).rounding), [shift] "m"((WORDS).shift), [off] "m"((WORDS).offset),                   \
      [min2] "m"((WORDS).min2), [max2] "m"((WORDS).max2)
/* k: the caller's tg_channel_pair_words_t; its end is the line's. */
#define TG_CPAIR_OPERANDS                                                                              \
    : TG_CPAIR_REGISTERS                                                                               \
    : TG_CPAIR_INPUTS(*k), [end] "m"(k->end)                                                           \
    : "memory", "cc"

/* n outputs step apart from out, the caller's TG_CPAIR_LINE_PAIR (a pair's asm) reading through p (a
 * const tg_u32_alias_t *, moved on by it), form (TG_CPAIR_*) the epilogue's; declares the asm's locals. */
#define TG_CPAIR_LOOP_OF(EPI) TG_CPAIR_LOOP_ASM(TG_CPAIR_LINE_PAIR, EPI)
#define TG_CPAIR_ONE_OF(EPI) TG_CPAIR_ONE_ASM(TG_CPAIR_LINE_PAIR, EPI)
#define TG_CPAIR_LAST_OF(EPI) TG_CPAIR_LAST_ASM(TG_CPAIR_LINE_PAIR, EPI)
#define TG_CPAIR_LINE()                                                                               \
    do {                                                                                               \
        int32_t s0, s1, a, b;                                                                          \
        k->end = out + 4 * step * (n >> 2);                                                            \
        if (n >= 4) {                                                                                  \
            TG_CPAIR_ASM_BY_FORM(form, TG_CPAIR_LOOP_OF, TG_CPAIR_OPERANDS);                           \
        }                                                                                              \
        if (n & 2) {                                                                                   \
            TG_CPAIR_ASM_BY_FORM(form, TG_CPAIR_ONE_OF, TG_CPAIR_OPERANDS);                            \
        }                                                                                              \
        if (n & 1) {                                                                                   \
            TG_CPAIR_ASM_BY_FORM(form, TG_CPAIR_LAST_OF, TG_CPAIR_OPERANDS);                           \
        }                                                                                              \
    } while (0)
#endif

/* The portable output of one sum (tg_wide_output clamps, to int8's range where there is no activation). */
static inline int8_t tg_channel_pair_output(uint32_t sum, const tg_channel_pair_words_t *k)
{
    const int32_t channel[4] = {k->bias, k->multiplier, k->shift, k->rounding};
    const tg_range_t activation = {(int16_t)(k->min2 & 0xFFFFu), (int16_t)(k->max2 & 0xFFFFu)};
    return tg_wide_output((int32_t)sum, channel, tg_wide_epilogue(k->offset, activation));
}

#endif
