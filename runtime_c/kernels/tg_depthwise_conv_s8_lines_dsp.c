/* DEPTHWISE_CONV_2D 3x3, stride 1, padding 1, one channel at a time over a ring of three int16
 * lines: a variant of tg_depthwise_conv_s8 and of tg_depthwise_conv_s8_inplace (tinygen/tg_dsp.h).
 *
 * The four-channel kernels (tg_depthwise_conv_s8_wide, ..._inplace_dsp_rows) reload a tap's weights
 * for every window and take one SMLAxy per MAC: ~2.75 estimated cycles per MAC in their taps alone.
 * Here a channel's nine weights stay in six registers for a whole line, as the int16 pairs
 * u = (w0, w1) and v = (w1, w2) along the line, and two neighbouring outputs j, j + 1 share the
 * line's words a = (x[j], x[j + 1]) and b = (x[j + 2], x[j + 3]):
 *     out[j]     += SMLAD(a, u) + SMLABT(b, v)     (x[j] w0 + x[j + 1] w1, x[j + 2] w2)
 *     out[j + 1] += SMLATB(a, u) + SMLAD(b, v)     (x[j + 1] w0, x[j + 2] w1 + x[j + 3] w2)
 * six MACs in four instructions and two loads, ~1.2 cycles per MAC.
 *
 * The lines run along the output's longer axis (params->transposed: the input's columns), so that
 * the work per line (its copy, the weights' loads) is spread over as many outputs as possible
 * (KWS's 25x5 images: lines of 25). Each input line of the channel is copied, sign-extended, into
 * one lane of the ring; the ring interleaves its three lanes word by word (word k of lanes 0, 1, 2
 * in turn) so that one pointer and immediate offsets reach the window's six words. Position 0 and the
 * positions after the line's n values hold the input's zero point, as do the two padding lines, so
 * the bias with the input offset folded in holds everywhere: no border code. The lane of padded line
 * r is r % 3; for output line o the lanes hold window lines (l - o) % 3, and the weights are rotated
 * to match, in registers, once per line.
 *
 * In place: output line o of the channel is written after input line o + 1 is copied, and covers only
 * that channel's input line o, already copied; no other channel is touched. So the output may lie
 * exactly over the input, or a whole number of pixels below it (of lines of pixels, where the lines
 * are columns): its writes then land on the same channel's input of lines already copied
 * (tinygen/kernels/overlap.py).
 *
 * Aliasing: the ring is written as int16 and read as words through may_alias types (tg_wide_dot.h).
 * Wrapping: the portable sums are taken in uint32_t.
 */
#include "tinygen/tg_kernels.h"
#include "tg_channel_pair.h"

/* Words per lane: the left padding, n values, the right padding and the odd last pair's spare. */
#define LANE_WORDS(n) (((n) + 3) >> 1)

typedef struct {
    int32_t lines, length;            /* across and along the lines (the input's, the output's too) */
    int32_t step_across, step_along;  /* bytes between a channel's neighbours */
} geometry_t;

/* Lane `lane`'s int16 position 1 (its first value): words interleave the three lanes. */
static inline tg_s16_alias_t *lane_values(tg_u32_alias_t *ring, int32_t lane)
{
    return (tg_s16_alias_t *)(void *)ring + 2 * lane + 1;
}

/* n values a step apart from src into the lane, sign-extended: positions 1..n; position i lies at
 * half-word (i / 2) * 6 + 2 * lane + i % 2, so from position 1 on the halves come at + 0, + 5, + 6,
 * + 11, then twelve on. */
static inline __attribute__((always_inline)) void copy_line(tg_u32_alias_t *ring, int32_t lane, const int8_t *src,
                                                             int32_t step, int32_t n)
{
    tg_s16_alias_t *to = lane_values(ring, lane);
    const int32_t step2 = 2 * step, step3 = 3 * step, step4 = 4 * step;
    for (; n >= 4; n -= 4, src += step4, to += 12) {
        const int16_t x0 = src[0], x1 = src[step], x2 = src[step2], x3 = src[step3];
        to[0] = x0;
        to[5] = x1;
        to[6] = x2;
        to[11] = x3;
    }
    if (n >= 2) {
        to[0] = src[0];
        to[5] = src[step];
        to += 6;
        src += step2;
        n -= 2;
    }
    if (n) {
        to[0] = src[0];
    }
}

/* The lane's positions 1..n set to the zero point (a padding line). */
static inline void pad_line(tg_u32_alias_t *ring, int32_t lane, int16_t zero_point, int32_t n)
{
    tg_s16_alias_t *to = lane_values(ring, lane);
    for (; n >= 2; n -= 2, to += 6) {
        to[0] = zero_point;
        to[5] = zero_point;
    }
    if (n) {
        to[0] = zero_point;
    }
}

#if TG_SIMD_DSP
/* One lane's two words (byte offsets K0 for word k, K1 for word k + 1) into both sums. */
#define TG_DWL_LANE_ASM(K0, K1, U, V)                                                                  \
    "ldr %[a], [%[p], #" K0 "]\n\t"                                                                    \
    "ldr %[b], [%[p], #" K1 "]\n\t"                                                                    \
    "smlad %[s0], %[a], %[" U "], %[s0]\n\t"                                                           \
    "smlatb %[s1], %[a], %[" U "], %[s1]\n\t"                                                          \
    "smlabt %[s0], %[b], %[" V "], %[s0]\n\t"                                                          \
    "smlad %[s1], %[b], %[" V "], %[s1]\n\t"

/* A pair's two sums from the bias over the ring's three lanes; p moves one word on. */
#define TG_DWL_PAIR_ASM                                                                                \
    "ldr %[s0], %[bias]\n\t"                                                                           \
    "mov %[s1], %[s0]\n\t"                                                                             \
    TG_DWL_LANE_ASM("0", "12", "u0", "v0") TG_DWL_LANE_ASM("4", "16", "u1", "v1")                         \
    TG_DWL_LANE_ASM("8", "20", "u2", "v2")                                                             \
    "add %[p], %[p], #12\n\t"
#define TG_CPAIR_LINE_PAIR TG_DWL_PAIR_ASM /* TG_CPAIR_LINE's */
#endif

/* Output line `out` (n outputs a step apart) from the ring's lanes; uv: lane l's weight pairs u, v at
 * 2l, 2l + 1; k: the caller's local (the asm reads it at offsets from sp). */
static inline __attribute__((always_inline)) void line3x3(const tg_u32_alias_t *ring, const uint32_t *uv,
                                                          tg_channel_pair_words_t *k, int32_t form, int8_t *out,
                                                          int32_t step, int32_t n)
{
#if TG_SIMD_DSP
    const tg_u32_alias_t *p = ring;
    TG_CPAIR_LINE();
#else
    (void)form;  /* tg_channel_pair_output clamps */
    const tg_s16_alias_t *x = (const tg_s16_alias_t *)(const void *)ring;
    for (int32_t j = 0; j < n; ++j, out += step) {
        uint32_t sum = (uint32_t)k->bias;
        for (int32_t lane = 0; lane < 3; ++lane) {
            const uint32_t u = uv[2 * lane], v = uv[2 * lane + 1];
            const int32_t w[3] = {(int16_t)(u & 0xFFFFu), (int16_t)(u >> 16), (int16_t)(v >> 16)};
            for (int32_t t = 0; t < 3; ++t) {
                const int32_t i = j + t;  /* the window's position in the lane */
                sum += (uint32_t)(w[t] * x[(i >> 1) * 6 + 2 * lane + (i & 1)]);
            }
        }
        *out = tg_channel_pair_output(sum, k);
    }
#endif
}

/* One channel (its words at channel, weights at w), line by line. Out of line: its loop keeps the
 * locals the asm reads in its own frame. */
static __attribute__((noinline)) void channel3x3(tg_u32_alias_t *ring, const geometry_t *geometry,
                                                 const int32_t *channel, const uint32_t *w,
                                                 const tg_channel_pair_words_t *words, int16_t zero_point,
                                                 int32_t form, const int8_t *in_c, int8_t *out_c)
{
    const geometry_t g = *geometry;
    tg_channel_pair_words_t k = *words;
    tg_channel_pair_channel(&k, channel);
    /* turns[f]: the lanes' weight pairs while window line 0 is in lane f (lane l holds line (l - f) % 3) */
    const uint32_t u0 = w[0], v0 = w[1], u1 = w[2], v1 = w[3], u2 = w[4], v2 = w[5];
    const uint32_t turns[3][6] = {{u0, v0, u1, v1, u2, v2}, {u2, v2, u0, v0, u1, v1}, {u1, v1, u2, v2, u0, v0}};
    pad_line(ring, 0, zero_point, g.length);  /* padded line 0 */
    copy_line(ring, 1, in_c, g.step_along, g.length);
    for (int32_t o = 0, first = 0; o < g.lines; ++o, first = first == 2 ? 0 : first + 1) {
        /* padded line o + 2 (input line o + 1) into lane (o + 2) % 3: the lane before first */
        const int32_t last = first == 0 ? 2 : first - 1;
        if (o + 1 < g.lines) {
            copy_line(ring, last, in_c + (o + 1) * g.step_across, g.step_along, g.length);
        } else {
            pad_line(ring, last, zero_point, g.length);
        }
        line3x3(ring, turns[first], &k, form, out_c + o * g.step_across, g.step_along, g.length);
    }
}

static geometry_t geometry_of(const tg_depthwise_lines_dsp_params_t *p, const tg_dims_t *in)
{
    const geometry_t along_rows = {in->h, in->w, in->w * in->c, in->c};
    const geometry_t along_columns = {in->w, in->h, in->c, in->w * in->c};
    return p->transposed ? along_columns : along_rows;
}

void tg_depthwise_conv_s8_lines_dsp(const tg_depthwise_lines_dsp_params_t *params, const int32_t *channels,
                                    const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims,
                                    const int32_t *filter, const tg_dims_t *output_dims, int8_t *output)
{
    tg_depthwise_conv_s8_lines_dsp_channels(params, channels, input_dims, input, filter_dims, filter, output_dims,
                                            output, 0, input_dims->c);
}

void tg_depthwise_conv_s8_lines_dsp_channels(const tg_depthwise_lines_dsp_params_t *params, const int32_t *channels,
                                             const tg_dims_t *input_dims, const int8_t *input_at_first,
                                             const tg_dims_t *filter_dims, const int32_t *filter,
                                             const tg_dims_t *output_dims, int8_t *output_at_first,
                                             int32_t first_channel, int32_t end_channel)
{
    (void)filter_dims;  /* 3x3: the generator's condition */
    /* the pointers name channel first_channel of pixel 0: step back to channel 0's */
    const int8_t *const input = input_at_first - first_channel;
    int8_t *const output = output_at_first - first_channel;
    const tg_depthwise_lines_dsp_params_t prm = *params;
    const tg_dims_t in = *input_dims;
    const geometry_t g = geometry_of(&prm, &in);
    const int16_t zero_point = (int16_t)-prm.input_offset;
    const int32_t lane_words = LANE_WORDS(g.length), pixels = in.h * in.w * in.c;
    const int32_t form = tg_channel_pair_form(prm.output_offset, prm.activation);
    tg_u32_alias_t ring[3 * LANE_WORDS(TG_DEPTHWISE_LINES_DSP_MAX_LINE)];
    const uint32_t zero_pair = (uint16_t)zero_point * 0x00010001u;
    for (int32_t i = 0; i < 3 * lane_words; ++i) {
        ring[i] = zero_pair;  /* every lane's padding positions, for good */
    }
    const tg_channel_pair_words_t words = tg_channel_pair_words(prm.output_offset, prm.activation);
    for (int32_t batch = 0; batch < output_dims->n; ++batch) {
        for (int32_t c = first_channel; c < end_channel; ++c) {
            channel3x3(ring, &g, channels + c * TG_WIDE_CHANNEL_WORDS, (const uint32_t *)filter + 6 * c, &words,
                       zero_point, form, input + batch * pixels + c, output + batch * pixels + c);
        }
    }
}
