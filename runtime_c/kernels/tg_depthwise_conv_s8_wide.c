/* DEPTHWISE_CONV_2D, int8, depth multiplier 1: tg_depthwise_conv_s8's wide variant (tinygen/tg_wide.h).
 *
 * Channels are independent, so the SIMD runs across them, four at a time: one load brings four
 * input channels, SXTB16 splits them into (c0, c2) and (c1, c3), one LDRD the matching widened
 * weights, and SMLABB / SMLATT add each product to its channel's accumulator. Inside the input the
 * offset is folded into the bias; windows overlapping the padding add it (SXTAB16) over their valid
 * taps instead. Channels beyond a multiple of four are done one at a time.
 */
#include "tinygen/tg_kernels.h"
#include "tg_depthwise_taps.h"

/* Every group of four channels of one pixel whose 3x3 window (dilation 1) lies inside the input: one
 * tight loop out of line, so that GCC allocates its registers apart from the kernel's walk (~50
 * instructions a group fewer than the general loop below). x: the window's first tap, channel 0. On
 * the DSP path the loop is one asm block (GCC 12 kept a channel word and the loop's pointers in
 * memory around each window): per group the four biases, the nine taps (window3x3's), the four
 * outputs (SMMLAR with the sum as Ra: the generator normalizes every multiplier to [2^30, 2^31),
 * variants.normalized_channels), the clamp where there is one, the store. */
#if TG_SIMD_DSP
#define TG_DW_GROUPS_LOOP_ASM(CLAMP_ASM)                                                               \
    "1:\n\t"                                                                                           \
    "ldr %[a0], [%[ch]]\n\t"                                                                           \
    "ldr %[a1], [%[ch], #20]\n\t"                                                                      \
    "ldr %[a2], [%[ch], #40]\n\t"                                                                      \
    "ldr %[a3], [%[ch], #60]\n\t"                                                                      \
    TG_DW_ROW_ASM "add %[x], %[x], %[r]\n\t" TG_DW_ROW_ASM "add %[x], %[x], %[r]\n\t" TG_DW_ROW_ASM    \
    "sub %[x], %[x], %[r], lsl #1\n\t"                                                                 \
    "add %[x], %[x], #4\n\t"                                                                           \
    TG_DW_WORD4_ASM("ch") CLAMP_ASM                                                                    \
    "str %[a0], [%[out]], #4\n\t"                                                                      \
    "add %[ch], %[ch], #80\n\t"                                                                        \
    "ldr %[xe], %[count]\n\t"                                                                          \
    "subs %[xe], %[xe], #1\n\t"                                                                        \
    "str %[xe], %[count]\n\t"                                                                          \
    "bne 1b\n\t"
#define TG_DW_GROUPS_OPERANDS                                                                          \
    : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [w] "+r"(w), [x] "+r"(x),           \
      [ch] "+r"(channel), [out] "+r"(output), [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0),             \
      [w1] "=&r"(w1), [count] "+m"(groups)                                                             \
    : [c] "r"(tap_step), [r] "r"(row_step), [off] "m"(e.output_offset), [min4] "m"(e.min4),              \
      [max4] "m"(e.max4)                                                                               \
    : "memory", "cc"
#endif

__attribute__((noinline)) static int8_t *inside_groups3x3(const int8_t *x, int32_t groups, int32_t tap_step,
                                                          int32_t row_step, const int32_t *w, const int32_t *channel,
                                                          const tg_wide_epilogue_t *epilogue, int8_t *output)
{
    const tg_wide_epilogue_t e = *epilogue;
#if TG_SIMD_DSP
    if (groups <= 0) {
        return output;
    }
    int32_t a0, a1, a2, a3;
    uint32_t xe, xo, w0, w1;
    if (e.clamps) {
        __asm__(TG_DW_GROUPS_LOOP_ASM(TG_DW_CLAMP_ASM) TG_DW_GROUPS_OPERANDS);
    } else {
        __asm__(TG_DW_GROUPS_LOOP_ASM("") TG_DW_GROUPS_OPERANDS);
    }
#else
    for (; groups > 0; --groups, x += 4, w += 2 * 9, channel += 4 * TG_WIDE_CHANNEL_WORDS) {
        output = tg_wide_outputs(window3x3(x, tap_step, row_step, w, tg_wide_start(channel, 0)), channel, 4, e, output);
    }
#endif
    return output;
}

void tg_depthwise_conv_s8_wide(const tg_depthwise_wide_params_t *params, const int32_t *channels,
                               const tg_dims_t *input_dims, const int8_t *input,
                               const tg_dims_t *filter_dims, const int32_t *filter,
                               const tg_dims_t *output_dims, int8_t *output)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_depthwise_wide_params_t p = *params;
    const tg_dims_t in = *input_dims, out = *output_dims;
    const int32_t f_h = filter_dims->h, f_w = filter_dims->w;
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(p.output_offset, p.activation);
    const int32_t c_all = in.c, c4 = in.c & ~3;
    const int32_t taps = f_h * f_w, group_words = 2 * taps;
    const uint32_t offsets = tg_pair_splat(p.input_offset);
    const int32_t in_row_step = p.dilation.h * in.w * c_all, in_tap_step = p.dilation.w * c_all;
    const int whole_3x3 = f_h == 3 && f_w == 3 && p.dilation.h == 1 && p.dilation.w == 1;

    for (int32_t b = 0; b < out.n; ++b) {
        const int8_t *in_batch = input + b * in.h * in.w * c_all;
        for (int32_t oy = 0; oy < out.h; ++oy) {
            const int32_t y0 = oy * p.stride.h - p.padding.h;
            int32_t fy_first, fy_end;
            tg_valid_taps(y0, p.dilation.h, f_h, in.h, &fy_first, &fy_end);
            for (int32_t ox = 0; ox < out.w; ++ox) {
                const int32_t x0 = ox * p.stride.w - p.padding.w;
                int32_t fx_first, fx_end;
                tg_valid_taps(x0, p.dilation.w, f_w, in.w, &fx_first, &fx_end);
                const int inside = fy_first == 0 && fy_end == f_h && fx_first == 0 && fx_end == f_w;
                const int any = fy_first < fy_end && fx_first < fx_end;
                /* a 3x3 window over the left or right padding only (dilation 1), or over the top or bottom
                 * padding only: one asm block each. Not on the Cortex-M55 (Helium), nor where the build
                 * optimizes for size (PlatformIO's and Arduino's -Os), where GCC 12 finds no registers for
                 * their thirteen operands inlined here ("impossible constraints"), and out of line they
                 * cost what they save. */
#if (defined(__ARM_FEATURE_MVE) && __ARM_FEATURE_MVE) || defined(__OPTIMIZE_SIZE__)
                const int side_3x2 = 0, edge_2x3 = 0;
#else
                const int side_3x2 = whole_3x3 && fy_first == 0 && fy_end == 3 && fx_end - fx_first == 2;
                const int edge_2x3 = whole_3x3 && fx_first == 0 && fx_end == 3 && fy_end - fy_first == 2;
#endif
                const int8_t *in_tap0 =
                    any ? in_batch + ((y0 + p.dilation.h * fy_first) * in.w + x0 + p.dilation.w * fx_first) * c_all
                        : in_batch;
                int32_t c = 0;
                if (inside && whole_3x3) {
                    output = inside_groups3x3(in_tap0, c4 >> 2, c_all, in_row_step, filter, channels, &epilogue,
                                              output);
                    c = c4;
                }
                for (; c < c4; c += 4) {
                    const int32_t *channel = channels + c * TG_WIDE_CHANNEL_WORDS;
                    const int32_t *w_c = filter + (c >> 2) * group_words;
                    tg_acc4_t acc;
                    if (inside) {
                        acc = tg_wide_start(channel, 0);
                        const int8_t *x = in_tap0 + c;
                        if (whole_3x3) {
                            acc = window3x3(x, c_all, in_row_step, w_c, acc);
                        } else {
                            for (int32_t fy = 0; fy < f_h; ++fy) {
                                for (int32_t fx = 0; fx < f_w; ++fx) {
                                    acc = tap4(x + fx * in_tap_step, w_c + 2 * (fy * f_w + fx), acc);
                                }
                                x += in_row_step;
                            }
                        }
                    } else if (side_3x2) {  /* three rows, two columns inside: one asm run */
                        acc = window3x2_offset(in_tap0 + c, in_tap_step, in_row_step, w_c + 2 * fx_first, offsets,
                                               tg_wide_start(channel, 4));
                    } else if (edge_2x3) {  /* two rows, three columns inside */
                        acc = window2x3_offset(in_tap0 + c, in_tap_step, in_row_step, w_c + 6 * fy_first, offsets,
                                               tg_wide_start(channel, 4));
                    } else {
                        acc = tg_wide_start(channel, 4);  /* the plain bias */
                        const int8_t *x_row = in_tap0 + c;
                        for (int32_t fy = fy_first; fy < fy_end; ++fy) {
                            for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                                acc = tap4_offset(x_row + (fx - fx_first) * in_tap_step, w_c + 2 * (fy * f_w + fx),
                                                  offsets, acc);
                            }
                            x_row += in_row_step;
                        }
                    }
                    output = tg_wide_outputs(acc, channel, 4, epilogue, output);
                }
                for (; c < c_all; ++c) {  /* one channel at a time: w * (x + offset) from the plain bias */
                    const int32_t *channel = channels + c * TG_WIDE_CHANNEL_WORDS;
                    uint32_t acc = (uint32_t)channel[4];
                    const int8_t *x_row = in_tap0 + c;
                    for (int32_t fy = fy_first; fy < fy_end; ++fy) {
                        for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                            const int32_t w = packed_weight(filter, taps, fy * f_w + fx, c);
                            acc += (uint32_t)(w * ((int32_t)x_row[(fx - fx_first) * in_tap_step] + p.input_offset));
                        }
                        x_row += in_row_step;
                    }
                    *output++ = tg_wide_output((int32_t)acc, channel, epilogue);
                }
            }
        }
    }
}
