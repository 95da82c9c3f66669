/* CONV_2D, int8, per-channel requantization, ungrouped, input depth a multiple of 4: the scratch-free
 * wide conv (tinygen/tg_wide.h) for where an im2col column would raise the arena.
 *
 * The input is read in place, four bytes at a time, each split by two SXTAB16 into int16 pairs with
 * the input offset added (x0 + off, x2 + off) and (x1 + off, x3 + off); the weights were widened at
 * generation time into the matching pairs (w0, w2) and (w1, w3), four output channels interleaved per
 * four k. Each window is walked as runs of taps inside the input (one run per filter row, or per tap
 * when dilated), the accumulators started from the plain bias, so padding taps are simply skipped as
 * the reference does: 17 instructions per 16 MACs (LDR, two SXTAB16, four LDRD, eight SMLAD, the
 * loop). Output pixels in raster order, each written while its window is still read (in place as
 * the reference kernel).
 */
#include "tinygen/tg_kernels.h"
#include "tg_wide_dot.h"

#if TG_SIMD_DSP
/* Four k: the input word split with the offset added, then two rows at a time, their four weight
 * words loaded by one LDM (5 cycles where two LDRD take 6). */
#define CONV_DSP_ROWS_ASM(A, B)                                                                        \
    "ldmia %[w]!, {%[t0], %[t1], %[t2], %[t3]}\n\t"                                                    \
    "smlad %[" A "], %[xe], %[t0], %[" A "]\n\t"                                                       \
    "smlad %[" A "], %[xo], %[t1], %[" A "]\n\t"                                                       \
    "smlad %[" B "], %[xe], %[t2], %[" B "]\n\t"                                                       \
    "smlad %[" B "], %[xo], %[t3], %[" B "]\n\t"
#define CONV_DSP_BLOCK_ASM                                                                             \
    "ldr %[xo], [%[x]], #4\n\t"                                                                        \
    "sxtab16 %[xe], %[off], %[xo]\n\t"                                                                 \
    "sxtab16 %[xo], %[off], %[xo], ror #8\n\t"                                                         \
    CONV_DSP_ROWS_ASM("a0", "a1") CONV_DSP_ROWS_ASM("a2", "a3")
#endif

/* blocks (> 0) of four k of the run x (offset added) against the block's four interleaved rows. On
 * the DSP path the loop is asm (fourteen registers live: every one GCC can give), two blocks per
 * iteration after an odd one: 28 instructions per 32 MACs. */
static inline tg_acc4_t dot_run(const int8_t *x, const int32_t *w, int32_t blocks, uint32_t offsets, tg_acc4_t acc)
{
#if TG_SIMD_DSP
    int32_t a0 = acc.a0, a1 = acc.a1, a2 = acc.a2, a3 = acc.a3;
    uint32_t xe, xo;
    /* LDM fills its list in register order, lowest from the lowest address: fixed, ascending. */
    register uint32_t t0 __asm__("r8"), t1 __asm__("r9"), t2 __asm__("r10"), t3 __asm__("r11");
    __asm__("lsrs %[n], %[n], #1\n\t"  /* the odd block goes to the carry */
            "bcc 2f\n\t"
            CONV_DSP_BLOCK_ASM
            "cmp %[n], #0\n\t"
            "beq 3f\n\t"
            "2:\n\t"
            CONV_DSP_BLOCK_ASM
            CONV_DSP_BLOCK_ASM
            "subs %[n], %[n], #1\n\t"
            "bne 2b\n\t"
            "3:\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w), [x] "+r"(x),
              [n] "+r"(blocks), [xe] "=&r"(xe), [xo] "=&r"(xo), [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2),
              [t3] "=&r"(t3)
            : [off] "r"(offsets)
            : "memory", "cc");
    const tg_acc4_t result = {a0, a1, a2, a3};
    return result;
#else
    for (; blocks > 0; --blocks, x += 4) {
        const uint32_t s8x4 = tg_read_s8x4(x);
        const uint32_t even = tg_pair_even_add(offsets, s8x4), odd = tg_pair_odd_add(offsets, s8x4);
        acc.a0 = tg_smlad(odd, (uint32_t)w[1], tg_smlad(even, (uint32_t)w[0], acc.a0));
        acc.a1 = tg_smlad(odd, (uint32_t)w[3], tg_smlad(even, (uint32_t)w[2], acc.a1));
        acc.a2 = tg_smlad(odd, (uint32_t)w[5], tg_smlad(even, (uint32_t)w[4], acc.a2));
        acc.a3 = tg_smlad(odd, (uint32_t)w[7], tg_smlad(even, (uint32_t)w[6], acc.a3));
        w += 2 * TG_WIDE_ROWS;
    }
    return acc;
#endif
}

/* Weight words per four k of a block of rows. */
#define BLOCK_WORDS (2 * TG_WIDE_ROWS)

void tg_conv_s8_dsp(const tg_conv_wide_params_t *params, const int32_t *channels,
                    const tg_dims_t *input_dims, const int8_t *input,
                    const tg_dims_t *filter_dims, const int32_t *filter,
                    const tg_dims_t *output_dims, int8_t *output)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_conv_wide_params_t params_copy = *params;
    const tg_dims_t input_copy = *input_dims, filter_copy = *filter_dims, output_copy = *output_dims;
    params = &params_copy;
    input_dims = &input_copy;
    filter_dims = &filter_copy;
    output_dims = &output_copy;
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(params->output_offset, params->activation);
    const int32_t in_w = input_dims->w, c = input_dims->c, quads = c >> 2;
    const int32_t f_w = filter_dims->w, dil_h = params->dilation.h, dil_w = params->dilation.w;
    const int32_t out_c = output_dims->c;
    const int32_t rows_words = (params->depth_padded >> 2) * BLOCK_WORDS;  /* one block of four rows */
    const uint32_t offsets = tg_pair_splat(params->input_offset);

    for (int32_t b = 0; b < output_dims->n; ++b) {
        const int8_t *in_batch = input + b * input_dims->h * in_w * c;
        for (int32_t oy = 0; oy < output_dims->h; ++oy) {
            const int32_t y0 = oy * params->stride.h - params->padding.h;
            int32_t fy_first, fy_end;
            tg_valid_taps(y0, dil_h, filter_dims->h, input_dims->h, &fy_first, &fy_end);
            for (int32_t ox = 0; ox < output_dims->w; ++ox) {
                const int32_t x0 = ox * params->stride.w - params->padding.w;
                int32_t fx_first, fx_end;
                tg_valid_taps(x0, dil_w, f_w, in_w, &fx_first, &fx_end);
                const int32_t fy_stop = fx_first < fx_end ? fy_end : fy_first;  /* no column inside: no taps */
                const int32_t *w = filter;
                for (int32_t oc = 0; oc < out_c; oc += TG_WIDE_ROWS) {
                    const int32_t *channel = channels + oc * TG_WIDE_CHANNEL_WORDS;
                    tg_acc4_t acc = tg_wide_start(channel, 4);
                    for (int32_t fy = fy_first; fy < fy_stop; ++fy) {
                        const int8_t *in_row = in_batch + (y0 + dil_h * fy) * in_w * c;
                        const int32_t *w_row = w + fy * f_w * quads * BLOCK_WORDS;
                        if (dil_w == 1) {
                            acc = dot_run(in_row + (x0 + fx_first) * c, w_row + fx_first * quads * BLOCK_WORDS,
                                          (fx_end - fx_first) * quads, offsets, acc);
                            continue;
                        }
                        for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                            acc = dot_run(in_row + (x0 + dil_w * fx) * c, w_row + fx * quads * BLOCK_WORDS, quads,
                                          offsets, acc);
                        }
                    }
                    w += rows_words;
                    const int32_t rows = out_c - oc < TG_WIDE_ROWS ? out_c - oc : TG_WIDE_ROWS;
                    output = tg_wide_outputs(acc, channel, rows, epilogue, output);
                }
            }
        }
    }
}
