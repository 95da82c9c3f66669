/* DEPTHWISE_CONV_2D, int8, depth multiplier 1, channel by channel over a padded plane: a Helium
 * variant of tg_depthwise_conv_s8 and of tg_depthwise_conv_s8_inplace (tinygen/tg_mve.h).
 *
 * Each channel's plane is copied (VLDRB gathers of eight pixels) into a buffer holding its padding,
 * the input's zero point, so that a padding tap adds what the folded bias leaves out and every window
 * lies inside. The plane's rows run along the output's longer axis (`transposed`: the input's columns),
 * and the vector runs along a row: four output pixels of the one channel per int32x4, one VLDRB.S32
 * (a gather when the stride along the row is not 1) and one VMLA by the tap's weight (a scalar) per
 * tap, the epilogue with the channel's scalars, a VSTRB scatter to the four pixels. The weights are
 * int32 with the left shift folded in (x * (w << s) = (x * w) << s, wrapping alike), so is the bias.
 *
 * In place: a channel's plane is copied before any of its outputs is written, and output (q, ch) lies
 * on input (q, ch), so the output may lie exactly over the input (or apart).
 */
#include "tinygen/tg_kernels.h"
#include "tg_dot_s8.h"
#include "tg_mve_ops.h"

/* The plane along its rows (b, the vector's axis) and across them (a), in the input's and the
 * output's pixels; steps are bytes between neighbouring pixels of a channel. */
typedef struct {
    int32_t out_a, out_b, in_a, in_b;
    int32_t stride_a, stride_b, dil_a, dil_b, f_a, f_b, pad_a, pad_b;
    int32_t in_step_a, in_step_b, out_step_a, out_step_b;
    int32_t row, bytes;  /* the padded plane's bytes per row, and in all (TG_MVE_DW_PLANE_BYTES) */
} planes_t;

static planes_t planes_of(const tg_depthwise_planes_mve_params_t *p, const tg_dims_t *in, const tg_dims_t *f,
                          const tg_dims_t *out)
{
    const int32_t c = in->c;
    planes_t g;
    if (p->transposed) {
        g = (planes_t){out->w, out->h, in->w, in->h, p->stride.w, p->stride.h, p->dilation.w, p->dilation.h,
                       f->w, f->h, p->padding.w, p->padding.h, c, in->w * c, c, out->w * c, 0, 0};
    } else {
        g = (planes_t){out->h, out->w, in->h, in->w, p->stride.h, p->stride.w, p->dilation.h, p->dilation.w,
                       f->h, f->w, p->padding.h, p->padding.w, in->w * c, c, out->w * c, c, 0, 0};
    }
    g.row = tg_padded_extent(g.out_b, g.stride_b, g.pad_b, g.dil_b, g.f_b, g.in_b);
    g.bytes = TG_MVE_DW_PLANE_BYTES(tg_padded_extent(g.out_a, g.stride_a, g.pad_a, g.dil_a, g.f_a, g.in_a), g.row,
                                    g.stride_b);
    return g;
}

/* Channel ch of the input (in_batch + ch: pixel (0, 0)) into the plane's interior. */
static void copy_plane(const planes_t *g, const int8_t *in_ch, int8_t *interior)
{
    for (int32_t ia = 0; ia < g->in_a; ++ia, in_ch += g->in_step_a, interior += g->row) {
        const int8_t *from = in_ch;
        for (int32_t ib = 0; ib < g->in_b; ib += 8, from += 8 * g->in_step_b) {
            tg_mve_gather8(interior + ib, from, g->in_step_b, g->in_b - ib < 8 ? g->in_b - ib : 8);
        }
    }
}

typedef struct {
    int32_t bias, multiplier, right;  /* bias' and the right shift, both after the left shift's folding */
} channel_t;

/* What every channel's groups of four share: the lanes' byte offsets in the output (to) and, for a
 * gather, in the plane (tap + 0, 1, 2 along the row); the activation's bounds. */
typedef struct {
    tg_v32_t to, l0, l1, l2, lo, hi;
} lanes_t;

/* bias' + acc -> TFLM's MultiplyByQuantizedMultiplier (see tg_mve_rescale; the left shift is folded in
 * the data), the offset, the clamp. */
static inline tg_v32_t requantize(tg_v32_t acc, channel_t c, tg_mve_epilogue_t e)
{
    tg_v32_t high = tg_v32_qrdmulh_n(acc, c.multiplier);
    if (c.right != 0) {
        high = tg_v32_rshl_n(tg_v32_qadd(high, tg_v32_sign(high)), -c.right);
    }
    return tg_v32_clamp(tg_v32_add_n(high, e.output_offset), e.min, e.max);
}

/* Any filter, any channel: tap by tap (a gather per tap), the epilogue in C. */
static void channel_any(const planes_t *g, const lanes_t *v, const int8_t *plane, const int32_t *w, channel_t c,
                        tg_mve_epilogue_t e, int8_t *out_ch)
{
    for (int32_t oa = 0; oa < g->out_a; ++oa) {
        const int8_t *r0 = plane + oa * g->stride_a * g->row;
        int8_t *o = out_ch + oa * g->out_step_a;
        for (int32_t ob = 0; ob < g->out_b; ob += 4, r0 += 4 * g->stride_b, o += 4 * g->out_step_b) {
            tg_v32_t acc = tg_v32_dup(c.bias);
            const int32_t *wt = w;
            for (int32_t fa = 0; fa < g->f_a; ++fa) {
                const int8_t *x = r0 + fa * g->dil_a * g->row;
                for (int32_t fb = 0; fb < g->f_b; ++fb, x += g->dil_b) {
                    acc = tg_v32_mla_n(acc, tg_v32_gather_s8(x, v->l0), *wt++);
                }
            }
            tg_v32_scatter_s8_first(o, v->to, requantize(acc, c, e), g->out_b - ob);
        }
    }
}

#if TG_MVE
/* An undilated 3x3 filter, a right shift > 0: four outputs of one channel from the taps at r0, r1, r2
 * + 0, 1, 2 (each pointer then advanced four pixels), requantized and clamped as requantize() does. In
 * assembly: GCC 12 spills the nine weights and the row pointers around each tap; here the weights
 * come by LDRD and LDR, and each tap is one VLDRB.S32 (an immediate offset along a stride-1 row, a
 * gather otherwise) and one VMLA by the weight. */
#define TG_DW_EPILOGUE                                   \
    "vqrdmulh.s32 %q[acc], %q[acc], %[mult]\n\t"          \
    "vshr.s32 %q[x], %q[acc], #31\n\t"                    \
    "vqadd.s32 %q[acc], %q[acc], %q[x]\n\t"               \
    "vrshl.s32 %q[acc], %[shift]\n\t"                     \
    "vadd.i32 %q[acc], %q[acc], %[offset]\n\t"            \
    "vmax.s32 %q[acc], %q[acc], %q[lo]\n\t"               \
    "vmin.s32 %q[acc], %q[acc], %q[hi]\n\t"
/* stride 1: taps + 1, + 2, then + 0 with the pointer's writeback */
#define TG_DW_ROW(r, at)                                 \
    "ldrd %[wa], %[wb], [%[w], #" at "]\n\t"              \
    "vldrb.s32 %q[x], [%[" r "], #1]\n\t"                 \
    "vmla.s32 %q[acc], %q[x], %[wb]\n\t"                  \
    "ldr %[wb], [%[w], #" at "+8]\n\t"                    \
    "vldrb.s32 %q[x], [%[" r "], #2]\n\t"                 \
    "vmla.s32 %q[acc], %q[x], %[wb]\n\t"                  \
    "vldrb.s32 %q[x], [%[" r "]], #4\n\t"                 \
    "vmla.s32 %q[acc], %q[x], %[wa]\n\t"
#define TG_DW_ROW_GATHER(r, at)                          \
    "ldrd %[wa], %[wb], [%[w], #" at "]\n\t"              \
    "vldrb.s32 %q[x], [%[" r "], %q[l0]]\n\t"             \
    "vmla.s32 %q[acc], %q[x], %[wa]\n\t"                  \
    "vldrb.s32 %q[x], [%[" r "], %q[l1]]\n\t"             \
    "vmla.s32 %q[acc], %q[x], %[wb]\n\t"                  \
    "ldr %[wb], [%[w], #" at "+8]\n\t"                    \
    "vldrb.s32 %q[x], [%[" r "], %q[l2]]\n\t"             \
    "vmla.s32 %q[acc], %q[x], %[wb]\n\t"                  \
    "add %[" r "], %[step]\n\t"
/* "l": VLDRB.S32 with an immediate offset takes r0-r7 only */
#define TG_DW_OUTPUTS                                                                             \
    [acc] "=&w"(acc), [x] "=&w"(x), [wa] "=&r"(wa), [wb] "=&r"(wb), [r0] "+l"(r0), [r1] "+l"(r1), \
        [r2] "+l"(r2)
#define TG_DW_INPUTS                                                                                 \
    [w] "r"(w), [mult] "r"(c.multiplier), [shift] "r"(shift), [offset] "r"(e.output_offset), [lo] "w"(lo), \
        [hi] "w"(hi)

/* One row of outputs, stride 1 along it: whole groups stored by a VSTRB scatter, then the last
 * (predicated) one. */
static inline __attribute__((always_inline)) void row_3x3(const int8_t *r0, const int8_t *r1, const int8_t *r2,
                                                          const int32_t *w, channel_t c, tg_v32_t bias,
                                                          const lanes_t *v, tg_mve_epilogue_t e, int8_t *o,
                                                          int32_t out_step, int32_t out_b)
{
    tg_v32_t acc, x;
    int32_t wa, wb;
    const int32_t shift = -c.right;
    const tg_v32_t lo = v->lo, hi = v->hi, to = v->to;  /* in registers: the asm clobbers memory */
    for (int32_t groups = out_b >> 2; groups > 0; --groups) {
        __asm__("vmov %q[acc], %q[bias]\n\t" TG_DW_ROW("r0", "0") TG_DW_ROW("r1", "12") TG_DW_ROW("r2", "24")
                TG_DW_EPILOGUE
                "vstrb.32 %q[acc], [%[o], %q[to]]\n\t"
                "add %[o], %[out_step]"
                : TG_DW_OUTPUTS, [o] "+r"(o)
                : TG_DW_INPUTS, [bias] "w"(bias), [to] "w"(to), [out_step] "r"(out_step)
                : "memory");
    }
    if ((out_b & 3) != 0) {
        __asm__("vmov %q[acc], %q[bias]\n\t" TG_DW_ROW("r0", "0") TG_DW_ROW("r1", "12") TG_DW_ROW("r2", "24")
                TG_DW_EPILOGUE
                : TG_DW_OUTPUTS
                : TG_DW_INPUTS, [bias] "w"(bias)
                : "memory");
        tg_v32_scatter_s8_first(o, to, acc, out_b & 3);
    }
}

/* The same along a row of another stride: three gathers per filter row. */
static inline __attribute__((always_inline)) void row_3x3_gather(const int8_t *r0, const int8_t *r1, const int8_t *r2,
                                                                 const int32_t *w, channel_t c, const lanes_t *v,
                                                                 tg_mve_epilogue_t e, int8_t *o, int32_t out_step,
                                                                 int32_t step, int32_t out_b)
{
    tg_v32_t acc, x;
    int32_t wa, wb;
    const int32_t shift = -c.right;
    const tg_v32_t lo = v->lo, hi = v->hi, to = v->to, l0 = v->l0, l1 = v->l1, l2 = v->l2;
    for (int32_t left = out_b; left > 0; left -= 4, o += out_step) {
        __asm__("vdup.32 %q[acc], %[bias]\n\t" TG_DW_ROW_GATHER("r0", "0") TG_DW_ROW_GATHER("r1", "12")
                TG_DW_ROW_GATHER("r2", "24") TG_DW_EPILOGUE
                : TG_DW_OUTPUTS
                : TG_DW_INPUTS, [bias] "r"(c.bias), [l0] "w"(l0), [l1] "w"(l1), [l2] "w"(l2),
                  [step] "r"(step)
                : "memory");
        if (left >= 4) {
            tg_v32_scatter_s8(o, to, acc);
        } else {
            tg_v32_scatter_s8_first(o, to, acc, left);
        }
    }
}
#undef TG_DW_INPUTS
#undef TG_DW_OUTPUTS
#undef TG_DW_ROW_GATHER
#undef TG_DW_ROW
#undef TG_DW_EPILOGUE

static __attribute__((noinline)) void channel_3x3(const planes_t *g, const lanes_t *v, const int8_t *plane, const int32_t *w, channel_t c,
                        tg_mve_epilogue_t e, int8_t *out_ch)
{
    const tg_v32_t bias = tg_v32_dup(c.bias);
    const int32_t out_step = 4 * g->out_step_b;
    for (int32_t oa = 0; oa < g->out_a; ++oa) {
        const int8_t *r0 = plane + oa * g->stride_a * g->row;
        int8_t *o = out_ch + oa * g->out_step_a;
        if (g->stride_b == 1) {
            row_3x3(r0, r0 + g->row, r0 + 2 * g->row, w, c, bias, v, e, o, out_step, g->out_b);
        } else {
            row_3x3_gather(r0, r0 + g->row, r0 + 2 * g->row, w, c, v, e, o, out_step, 4 * g->stride_b, g->out_b);
        }
    }
}
#endif

static void run_channels(const tg_depthwise_planes_mve_params_t *p, const planes_t *g, const int32_t *channels,
                         const tg_dims_t *in, const int8_t *input, const int32_t *filter, const tg_dims_t *out,
                         int8_t *output, int8_t *plane)
{
    const tg_mve_epilogue_t e = {p->output_offset, p->activation.min, p->activation.max};
    const int32_t c_all = in->c, taps = g->f_a * g->f_b, sb = g->stride_b, ob = g->out_step_b;
    const lanes_t v = {tg_v32_make(0, ob, 2 * ob, 3 * ob), tg_v32_make(0, sb, 2 * sb, 3 * sb),
                       tg_v32_make(1, sb + 1, 2 * sb + 1, 3 * sb + 1), tg_v32_make(2, sb + 2, 2 * sb + 2, 3 * sb + 2),
                       tg_v32_dup(e.min), tg_v32_dup(e.max)};
    tg_mve_fill(plane, p->pad_value, g->bytes);  /* the padding's; the copies overwrite the interior only */
    int8_t *const interior = plane + g->pad_a * g->row + g->pad_b;
    for (int32_t b = 0; b < in->n; ++b) {
        const int8_t *in_batch = input + b * in->h * in->w * c_all;
        int8_t *out_batch = output + b * out->h * out->w * c_all;
        const int32_t *words = channels;
        const int32_t *w = filter;
        for (int32_t ch = 0; ch < c_all; ++ch, words += TG_MVE_DW_CHANNEL_WORDS, w += taps) {
            copy_plane(g, in_batch + ch, interior);
            const channel_t c = {words[0], words[1], words[2]};
#if TG_MVE
            if (g->f_a == 3 && g->f_b == 3 && g->dil_a == 1 && g->dil_b == 1 && c.right != 0) {
                channel_3x3(g, &v, plane, w, c, e, out_batch + ch);
                continue;
            }
#endif
            channel_any(g, &v, plane, w, c, e, out_batch + ch);
        }
    }
}

void tg_depthwise_conv_s8_planes_mve(const tg_depthwise_planes_mve_params_t *params, const int32_t *channels,
                                     const tg_dims_t *input_dims, const int8_t *input,
                                     const tg_dims_t *filter_dims, const int32_t *filter,
                                     const tg_dims_t *output_dims, int8_t *output)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches. */
    const tg_depthwise_planes_mve_params_t p = *params;
    const tg_dims_t in = *input_dims, out = *output_dims;
    const planes_t g = planes_of(&p, &in, filter_dims, &out);
    int8_t plane[TG_MVE_DW_STACK_PLANE];  /* the generator checks g.bytes fits: the stack bound counts it */
    run_channels(&p, &g, channels, &in, input, filter, &out, output, plane);
}
