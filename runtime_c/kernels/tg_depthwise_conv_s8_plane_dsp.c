/* DEPTHWISE_CONV_2D 3x3, stride 1 or 2, one channel at a time over the channel's whole plane, copied
 * into int16 on the stack: a variant of tg_depthwise_conv_s8 and of tg_depthwise_conv_s8_inplace
 * (tinygen/tg_dsp.h), for small images.
 *
 * The lines kernel (tg_depthwise_conv_s8_lines_dsp) keeps a ring of three lines and rotates the
 * weights at every line; on the small images of a MobileNet's last stages (6x6, 12x12) that per-line
 * work is spread over few outputs, and the four-channel kernel's border windows (most of a 6x6
 * image's) cost it twice an inside one. Here the channel's plane, padding included, is copied once
 * into rows TG_DEPTHWISE_PLANE_DSP_PITCH bytes apart, so the three window lines of an output row are
 * the words at p, p + PITCH and p + 2 PITCH (LDRD at immediate offsets), with no rotation and no
 * border code: the padding and everything right of the input hold its zero point, set once per
 * call, so the bias with the input offset folded in holds everywhere.
 *
 * Two neighbouring outputs of a row share the window line's words (the lines kernel's pair, per line
 * u = (w0, w1), v = (w1, w2)):
 *   stride 1: a = (x[j], x[j + 1]), b = (x[j + 2], x[j + 3]):
 *       out[j] += SMLAD(a, u) + SMLABT(b, v),  out[j + 1] += SMLATB(a, u) + SMLAD(b, v);
 *   stride 2: a, b, c the words at 2j, 2j + 2, 2j + 4:
 *       out[j] += SMLAD(a, u) + SMLABT(b, v),  out[j + 1] += SMLAD(b, u) + SMLABT(c, v).
 * The requantization and the clamp are the lines kernel's (tg_channel_pair.h); the rows of a channel
 * are one asm.
 *
 * In place: a channel's whole plane is copied before any of its outputs is written, and the writes
 * touch only that channel; so the output may lie exactly over the input or a whole number of pixels
 * below it (tinygen/kernels/overlap.py).
 *
 * Aliasing: the plane is written as int16 and read as words through may_alias types (tg_wide_dot.h).
 * Wrapping: the portable sums are taken in uint32_t.
 */
#include "tinygen/tg_dsp.h"
#include "tg_channel_pair.h"

#define PITCH TG_DEPTHWISE_PLANE_DSP_PITCH
#define TG_STR(x) #x
#define TG_XSTR(x) TG_STR(x)
#define PITCH_WORDS (PITCH / 4)

typedef struct {
    int32_t in_h, in_w, out_h, out_w;
    int32_t channels;                /* bytes between a channel's neighbouring pixels */
    int32_t stride, pad_top, pad_left;
} geometry_t;

#if TG_SIMD_DSP
/* copy_plane where the rows' width is a multiple of six (MobileNet's 6, 12, 24, 48): six values a step
 * as one run of twelve loads and stores through two registers (13 estimated cycles; a load or store
 * after another costs 1), ~19 with the step's loop, and ~6 a row: a 6x6 plane ~150 estimated cycles
 * where the steps of four (then two) took ~300. */
static void copy_rows6(tg_s16_alias_t *to, const int8_t *src, int32_t step, int32_t in_w, int32_t rows)
{
    int32_t x0, x1;
    const int32_t s2 = 2 * step, s3 = 3 * step, s4 = 4 * step, s5 = 5 * step;
    const int32_t skip = PITCH - 2 * in_w; /* a row's end to the next row's start, in bytes */
    tg_s16_alias_t *end = to + in_w;
    __asm__ volatile("1:\n\t"
                     "ldrsb %[x0], [%[src]]\n\t"
                     "ldrsb %[x1], [%[src], %[s1]]\n\t"
                     "strh %[x0], [%[to]]\n\t"
                     "strh %[x1], [%[to], #2]\n\t"
                     "ldrsb %[x0], [%[src], %[s2]]\n\t"
                     "ldrsb %[x1], [%[src], %[s3]]\n\t"
                     "strh %[x0], [%[to], #4]\n\t"
                     "strh %[x1], [%[to], #6]\n\t"
                     "ldrsb %[x0], [%[src], %[s4]]\n\t"
                     "ldrsb %[x1], [%[src], %[s5]]\n\t"
                     "strh %[x0], [%[to], #8]\n\t"
                     "strh %[x1], [%[to], #10]\n\t"
                     "add %[src], %[src], %[s3], lsl #1\n\t"
                     "add %[to], %[to], #12\n\t"
                     "cmp %[to], %[end]\n\t"
                     "bne 1b\n\t"
                     "add %[to], %[to], %[skip]\n\t"
                     "add %[end], %[end], #" TG_XSTR(TG_DEPTHWISE_PLANE_DSP_PITCH) "\n\t"
                     "subs %[rows], %[rows], #1\n\t"
                     "bne 1b\n\t"
                     : [x0] "=&r"(x0), [x1] "=&r"(x1), [src] "+r"(src), [to] "+r"(to), [end] "+r"(end),
                       [rows] "+r"(rows)
                     : [s1] "r"(step), [s2] "r"(s2), [s3] "r"(s3), [s4] "r"(s4), [s5] "r"(s5), [skip] "r"(skip)
                     : "memory", "cc");
}
#endif

/* The channel's input rows, sign-extended, into the plane at (pad_top, pad_left): the input's pixels
 * are one run `channels` bytes apart, the plane's rows PITCH apart. Four values a step (four loads,
 * four stores in a row: ~15 estimated cycles), then two, then one. */
static void copy_plane(tg_u32_alias_t *plane, const geometry_t *g, const int8_t *src)
{
    const int32_t step = g->channels, step2 = 2 * step, step3 = 3 * step;
    const int32_t quads = g->in_w >> 2, in_w = g->in_w;
    tg_s16_alias_t *row = (tg_s16_alias_t *)(void *)(plane + g->pad_top * PITCH_WORDS) + g->pad_left;
#if TG_SIMD_DSP
    if (in_w > 0 && in_w % 6 == 0) {
        copy_rows6(row, src, step, in_w, g->in_h);
        return;
    }
#endif
    for (int32_t y = g->in_h; y > 0; --y, row += PITCH / 2) {
        tg_s16_alias_t *to = row;
#if TG_SIMD_DSP
        if (quads > 0) {  /* GCC 12 merges the four stores into two words with BFI and spills */
            const tg_s16_alias_t *const end = to + 4 * quads;
            int32_t x0, x1, x2, x3;
            __asm__ volatile("1:\n\t"
                             "ldrsb %[x0], [%[src]]\n\t"
                             "ldrsb %[x1], [%[src], %[s1]]\n\t"
                             "ldrsb %[x2], [%[src], %[s2]]\n\t"
                             "ldrsb %[x3], [%[src], %[s3]]\n\t"
                             "strh %[x0], [%[to]]\n\t"
                             "strh %[x1], [%[to], #2]\n\t"
                             "strh %[x2], [%[to], #4]\n\t"
                             "strh %[x3], [%[to], #6]\n\t"
                             "add %[src], %[src], %[s1], lsl #2\n\t"
                             "add %[to], %[to], #8\n\t"
                             "cmp %[to], %[end]\n\t"
                             "bne 1b\n\t"
                             : [x0] "=&r"(x0), [x1] "=&r"(x1), [x2] "=&r"(x2), [x3] "=&r"(x3), [src] "+r"(src),
                               [to] "+r"(to)
                             : [s1] "r"(step), [s2] "r"(step2), [s3] "r"(step3), [end] "r"(end)
                             : "memory", "cc");
        }
#else
        for (int32_t n = quads; n > 0; --n, src += 4 * step, to += 4) {
            const int16_t x0 = src[0], x1 = src[step], x2 = src[step2], x3 = src[step3];
            to[0] = x0;
            to[1] = x1;
            to[2] = x2;
            to[3] = x3;
        }
#endif
        if (in_w & 2) {
            const int16_t x0 = src[0], x1 = src[step];
            to[0] = x0;
            to[1] = x1;
            to += 2;
            src += step2;
        }
        if (in_w & 1) {
            *to = *src;
            src += step;
        }
    }
}

#if TG_SIMD_DSP
#define LINE1 TG_XSTR(TG_DEPTHWISE_PLANE_DSP_PITCH)
#define LINE2 TG_XSTR(2 * TG_DEPTHWISE_PLANE_DSP_PITCH)

/* Stride 1: one window line's words k, k + 1 (LDRD AT) into both sums. */
#define S1_LANE_ASM(AT, U, V)                                                                          \
    "ldrd %[a], %[b], " AT "\n\t"                                                                      \
    "smlad %[s0], %[a], %[" U "], %[s0]\n\t"                                                           \
    "smlatb %[s1], %[a], %[" U "], %[s1]\n\t"                                                          \
    "smlabt %[s0], %[b], %[" V "], %[s0]\n\t"                                                          \
    "smlad %[s1], %[b], %[" V "], %[s1]\n\t"
/* The window's lines 2, 1, then 0 (its LDRD moving p one word on). */
#define S1_PAIR_ASM                                                                                    \
    "ldr %[s0], %[bias]\n\t"                                                                           \
    "mov %[s1], %[s0]\n\t"                                                                             \
    S1_LANE_ASM("[%[p], #" LINE2 "]", "u2", "v2") S1_LANE_ASM("[%[p], #" LINE1 "]", "u1", "v1")         \
    S1_LANE_ASM("[%[p]], #4", "u0", "v0")

/* Stride 2: one window line's words at A, A + 4 and A + 8 into both sums (three loads, the first two
 * in a row). */
#define S2_LANE_ASM(A0, A1, A2, U, V)                                                                  \
    "ldr %[a], " A0 "\n\t"                                                                             \
    "ldr %[b], " A1 "\n\t"                                                                             \
    "smlad %[s0], %[a], %[" U "], %[s0]\n\t"                                                           \
    "smlabt %[s0], %[b], %[" V "], %[s0]\n\t"                                                          \
    "smlad %[s1], %[b], %[" U "], %[s1]\n\t"                                                           \
    "ldr %[a], " A2 "\n\t"                                                                             \
    "smlabt %[s1], %[a], %[" V "], %[s1]\n\t"
#define S2_PAIR_ASM                                                                                    \
    "ldr %[s0], %[bias]\n\t"                                                                           \
    "mov %[s1], %[s0]\n\t"                                                                             \
    S2_LANE_ASM("[%[p], #" LINE2 "]", "[%[p], #" LINE2 "+4]", "[%[p], #" LINE2 "+8]", "u2", "v2")       \
    S2_LANE_ASM("[%[p], #" LINE1 "]", "[%[p], #" LINE1 "+4]", "[%[p], #" LINE1 "+8]", "u1", "v1")       \
    S2_LANE_ASM("[%[p]], #8", "[%[p], #-4]", "[%[p]]", "u0", "v0")

/* Every output row of the channel: the pairs of a row (PAIRS, one or three pairs per iteration, the
 * end test once per iteration) until out reaches the row's last pair (kept in memory, set per row);
 * on odd rows (LAST) the row's last output, a pair whose second is not stored; then p on to the next
 * row's window (skip), until out reaches the channel's end. ~12 estimated cycles a row, where a row
 * loop in C around the lines kernel's line asm took ~55 (the weights and the words back in registers
 * for each asm). */
#define THREE_PAIRS_ASM(PAIR, EPI)                                                                     \
    TG_CPAIR_ONE_ASM(PAIR, EPI) TG_CPAIR_ONE_ASM(PAIR, EPI) TG_CPAIR_ONE_ASM(PAIR, EPI)
#define LAST_ASM(PAIR, EPI) TG_CPAIR_LAST_ASM(PAIR, EPI) "add %[out], %[out], %[step]\n\t"
#define ROWS_ASM(PAIRS, LAST)                                                                          \
    "1:\n\t"                                                                                           \
    "ldr %[b], %[row_bytes]\n\t"                                                                       \
    "add %[b], %[out], %[b]\n\t"                                                                       \
    "str %[b], %[end]\n\t"                                                                             \
    "cmp %[out], %[b]\n\t"                                                                             \
    "beq 3f\n\t" /* a row of one output */                                                             \
    "2:\n\t" PAIRS                                                                                     \
    "ldr %[b], %[end]\n\t"                                                                             \
    "cmp %[out], %[b]\n\t"                                                                             \
    "bne 2b\n\t"                                                                                       \
    "3:\n\t" LAST                                                                                      \
    "ldr %[a], %[skip]\n\t"                                                                            \
    "add %[p], %[p], %[a]\n\t"                                                                         \
    "ldr %[b], %[last]\n\t"                                                                            \
    "cmp %[out], %[b]\n\t"                                                                             \
    "bne 1b\n\t"
#define ROWS_OPERANDS                                                                                  \
    : TG_CPAIR_REGISTERS, [end] "=m"(r->words.end)                                                     \
    : TG_CPAIR_INPUTS(r->words), [row_bytes] "m"(r->row_bytes), [skip] "m"(r->skip), [last] "m"(r->last) \
    : "memory", "cc"
/* The rows asm of each shape, given the epilogue (TG_CPAIR_ASM_BY_FORM's ASM_OF): odd rows (pairs, then
 * the last output), rows of three pairs per iteration, rows of one. */
#define S1_ODD_ROWS(EPI) ROWS_ASM(TG_CPAIR_ONE_ASM(S1_PAIR_ASM, EPI), LAST_ASM(S1_PAIR_ASM, EPI))
#define S2_ODD_ROWS(EPI) ROWS_ASM(TG_CPAIR_ONE_ASM(S2_PAIR_ASM, EPI), LAST_ASM(S2_PAIR_ASM, EPI))
#define S1_ROWS_BY3(EPI) ROWS_ASM(THREE_PAIRS_ASM(S1_PAIR_ASM, EPI), "")
#define S2_ROWS_BY3(EPI) ROWS_ASM(THREE_PAIRS_ASM(S2_PAIR_ASM, EPI), "")
#define S1_ROWS(EPI) ROWS_ASM(TG_CPAIR_ONE_ASM(S1_PAIR_ASM, EPI), "")
#define S2_ROWS(EPI) ROWS_ASM(TG_CPAIR_ONE_ASM(S2_PAIR_ASM, EPI), "")
#endif

#if !TG_SIMD_DSP
/* Output row `out` (n outputs a step apart) from the plane's row at `row`: the portable path. */
static void row3x3(const tg_u32_alias_t *row, const uint32_t *uv, const tg_channel_pair_words_t *k, int32_t stride,
                   int8_t *out, int32_t step, int32_t n)
{
    const tg_s16_alias_t *x = (const tg_s16_alias_t *)(const void *)row;
    for (int32_t j = 0; j < n; ++j, out += step) {
        uint32_t sum = (uint32_t)k->bias;
        for (int32_t line = 0; line < 3; ++line) {
            const uint32_t u = uv[2 * line], v = uv[2 * line + 1];
            const int32_t w[3] = {(int16_t)(u & 0xFFFFu), (int16_t)(u >> 16), (int16_t)(v >> 16)};
            for (int32_t t = 0; t < 3; ++t) {
                sum += (uint32_t)(w[t] * x[line * (PITCH / 2) + stride * j + t]);
            }
        }
        *out = tg_channel_pair_output(sum, k);  /* it clamps */
    }
}
#endif

/* What the rows asm reads besides the channel's words: a row's output bytes, the plane bytes from a
 * row's end to the next row's window, the channel's output end. */
typedef struct {
    tg_channel_pair_words_t words;
    int32_t row_bytes, skip;
    const int8_t *last;
} rows_words_t;

/* The channel's output rows (`rows` of them, each `width` outputs) from the plane. */
static inline __attribute__((always_inline)) void rows3x3(const tg_u32_alias_t *plane, const uint32_t *uv,
                                                          rows_words_t *r, int32_t form, int32_t stride,
                                                          int8_t *out, int32_t step, int32_t width, int32_t rows)
{
#if TG_SIMD_DSP
    const tg_u32_alias_t *p = plane;
    int32_t s0, s1, a, b;
    const int32_t pairs = (width + 1) >> 1;  /* an odd row's last output is computed as a pair */
    r->row_bytes = (width & ~1) * step;
    r->skip = stride * (PITCH - 4 * pairs);  /* a pair moves p 4 * stride bytes */
    r->last = out + rows * width * step;
    if (width & 1) {  /* odd rows: a pair at a time, then the last output */
        if (stride == 1) {
            TG_CPAIR_ASM_BY_FORM(form, S1_ODD_ROWS, ROWS_OPERANDS);
        } else {
            TG_CPAIR_ASM_BY_FORM(form, S2_ODD_ROWS, ROWS_OPERANDS);
        }
        return;
    }
    const int32_t by3 = (width >> 1) % 3 == 0;  /* MobileNet's 6- and 12-wide rows */
    if (stride == 1) {
        if (by3) {
            TG_CPAIR_ASM_BY_FORM(form, S1_ROWS_BY3, ROWS_OPERANDS);
        } else {
            TG_CPAIR_ASM_BY_FORM(form, S1_ROWS, ROWS_OPERANDS);
        }
    } else if (by3) {
        TG_CPAIR_ASM_BY_FORM(form, S2_ROWS_BY3, ROWS_OPERANDS);
    } else {
        TG_CPAIR_ASM_BY_FORM(form, S2_ROWS, ROWS_OPERANDS);
    }
#else
    (void)form;
    for (int32_t oy = 0; oy < rows; ++oy) {
        row3x3(plane + oy * stride * PITCH_WORDS, uv, &r->words, stride, out + oy * width * step, step, width);
    }
#endif
}

/* One channel (its words at channel, weights at w): its plane, then row by row, at a constant stride
 * (one asm set per function: with both, GCC 12 -O2 finds no registers for them). */
static inline __attribute__((always_inline)) void channel_rows(tg_u32_alias_t *plane, const geometry_t *geometry,
                                                               const int32_t *channel, const uint32_t *w,
                                                               const tg_channel_pair_words_t *words, int32_t form,
                                                               const int8_t *in_c, int8_t *out_c, const int32_t stride)
{
    const geometry_t g = *geometry;
    rows_words_t r = {*words, 0, 0, 0};
    tg_channel_pair_channel(&r.words, channel);
    const uint32_t uv[6] = {w[0], w[1], w[2], w[3], w[4], w[5]};
    copy_plane(plane, &g, in_c);
    rows3x3(plane, uv, &r, form, stride, out_c, g.channels, g.out_w, g.out_h);
}

/* Out of line: each loop keeps the locals the asm reads in its own frame. */
static __attribute__((noinline)) void channel_plane_s1(tg_u32_alias_t *plane, const geometry_t *g,
                                                       const int32_t *channel, const uint32_t *w,
                                                       const tg_channel_pair_words_t *words, int32_t form,
                                                       const int8_t *in_c, int8_t *out_c)
{
    channel_rows(plane, g, channel, w, words, form, in_c, out_c, 1);
}

static __attribute__((noinline)) void channel_plane_s2(tg_u32_alias_t *plane, const geometry_t *g,
                                                       const int32_t *channel, const uint32_t *w,
                                                       const tg_channel_pair_words_t *words, int32_t form,
                                                       const int8_t *in_c, int8_t *out_c)
{
    channel_rows(plane, g, channel, w, words, form, in_c, out_c, 2);
}

void tg_depthwise_conv_s8_plane_dsp(const tg_depthwise_plane_dsp_params_t *params, const int32_t *channels,
                                    const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims,
                                    const int32_t *filter, const tg_dims_t *output_dims, int8_t *output)
{
    tg_depthwise_conv_s8_plane_dsp_channels(params, channels, input_dims, input, filter_dims, filter, output_dims,
                                            output, 0, input_dims->c);
}

void tg_depthwise_conv_s8_plane_dsp_channels(const tg_depthwise_plane_dsp_params_t *params, const int32_t *channels,
                                             const tg_dims_t *input_dims, const int8_t *input_at_first,
                                             const tg_dims_t *filter_dims, const int32_t *filter,
                                             const tg_dims_t *output_dims, int8_t *output_at_first,
                                             int32_t first_channel, int32_t end_channel)
{
    (void)filter_dims;  /* 3x3: the generator's condition */
    /* the pointers name channel first_channel of pixel 0: step back to channel 0's */
    const int8_t *const input = input_at_first - first_channel;
    int8_t *const output = output_at_first - first_channel;
    const tg_depthwise_plane_dsp_params_t prm = *params;
    const tg_dims_t in = *input_dims, out = *output_dims;
    const geometry_t g = {in.h, in.w, out.h, out.w, in.c, prm.stride, prm.padding.h, prm.padding.w};
    const int32_t form = tg_channel_pair_form(prm.output_offset, prm.activation);
    tg_u32_alias_t plane[TG_DEPTHWISE_PLANE_DSP_ROWS * PITCH_WORDS];
    const uint32_t zero_pair = (uint16_t)(int16_t)-prm.input_offset * 0x00010001u;
    for (int32_t i = 0; i < TG_DEPTHWISE_PLANE_DSP_ROWS * PITCH_WORDS; ++i) {
        plane[i] = zero_pair;  /* the padding, and all right of and below the input, for good */
    }
    const tg_channel_pair_words_t words = tg_channel_pair_words(prm.output_offset, prm.activation);
    const int32_t in_batch = in.h * in.w * in.c, out_batch = out.h * out.w * out.c;
    for (int32_t batch = 0; batch < out.n; ++batch) {
        for (int32_t c = first_channel; c < end_channel; ++c) {
            const int32_t *channel = channels + c * TG_WIDE_CHANNEL_WORDS;
            const uint32_t *w = (const uint32_t *)filter + 6 * c;
            if (g.stride == 1) {
                channel_plane_s1(plane, &g, channel, w, &words, form, input + batch * in_batch + c,
                                 output + batch * out_batch + c);
            } else {
                channel_plane_s2(plane, &g, channel, w, &words, form, input + batch * in_batch + c,
                                 output + batch * out_batch + c);
            }
        }
    }
}
