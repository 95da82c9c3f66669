/* CONV_2D, int8, ungrouped: tg_conv_s8's Helium variant (tinygen/tg_mve.h).
 *
 * A direct 1x1 convolution takes two input pixels at a time as its columns (sharing the epilogue's
 * loads); any other copies one output pixel's window at a time to scratch (im2col, padding taps
 * holding the input's zero point), two pixels at a time. Two columns against four output channels at a
 * time, VLDRB + VMLADAVA.S8 only (tg_mve_dot2x4), then one vector epilogue per four channels and pixel.
 */
#include "tinygen/tg_kernels.h"
#include "tg_dot_s8.h"
#include "tg_mve_ops.h"

/* The window of output pixel (oy, ox) as `depth` int8 in column (the input's own order: y, x, c). */
static void im2col(const tg_conv_mve_params_t *p, const tg_dims_t *in, const int8_t *in_batch,
                   const tg_dims_t *filter_dims, int32_t oy, int32_t ox, int8_t *column)
{
    const int32_t c = in->c, f_h = filter_dims->h, f_w = filter_dims->w;
    const int32_t y0 = oy * p->stride.h - p->padding.h, x0 = ox * p->stride.w - p->padding.w;
    if (p->dilation.w == 1 && y0 >= 0 && x0 >= 0 && y0 + p->dilation.h * (f_h - 1) < in->h && x0 + f_w <= in->w) {
        /* inside the input: each filter row is one run of f_w * c bytes */
        const int32_t run = f_w * c, row_step = p->dilation.h * in->w * c;
        const int8_t *row = in_batch + (y0 * in->w + x0) * c;
        if (run <= 16) {  /* one predicated load and store per filter row */
            for (int32_t fy = 0; fy < f_h; ++fy, row += row_step, column += run) {
                tg_v8_store_first(column, tg_v8_load_first(row, run), run);
            }
        } else if ((run & 15) == 0) {  /* whole vectors: no tail to test */
            for (int32_t fy = 0; fy < f_h; ++fy, row += row_step) {
                for (int32_t k = 0; k < run; k += 16, column += 16) {
                    tg_v8_store(column, tg_v8_load(row + k));
                }
            }
        } else {
            for (int32_t fy = 0; fy < f_h; ++fy, row += row_step) {
                column = tg_mve_copy(column, row, run);
            }
        }
        return;
    }
    int32_t fx_first, fx_end;
    tg_valid_taps(x0, p->dilation.w, f_w, in->w, &fx_first, &fx_end);
    int8_t *dst = column;
    for (int32_t fy = 0; fy < f_h; ++fy) {
        const int32_t y = y0 + p->dilation.h * fy;
        if (y < 0 || y >= in->h || fx_first >= fx_end) {
            dst = tg_mve_fill(dst, p->pad_value, f_w * c);
            continue;
        }
        dst = tg_mve_fill(dst, p->pad_value, fx_first * c);
        const int8_t *row = in_batch + y * in->w * c;
        if (p->dilation.w == 1) {
            dst = tg_mve_copy(dst, row + (x0 + fx_first) * c, (fx_end - fx_first) * c);
        } else {
            for (int32_t fx = fx_first; fx < fx_end; ++fx) {
                dst = tg_mve_copy(dst, row + (x0 + p->dilation.w * fx) * c, c);
            }
        }
        dst = tg_mve_fill(dst, p->pad_value, (f_w - fx_end) * c);
    }
}

/* Every output pixel from its window, two pixels at a time: their windows copied to the two columns
 * (depth_padded bytes each) of `columns`, then both against each block of rows (tg_mve_dot2x4); an odd
 * last pixel alone. */
static void im2col_pixels(const tg_conv_mve_params_t *p, const tg_dims_t *in, const int8_t *input,
                          const tg_dims_t *filter_dims, const tg_dims_t *out, const int32_t *channels,
                          const int8_t *filter, int8_t *output, int8_t *columns)
{
    const tg_mve_epilogue_t e = {p->output_offset, p->activation.min, p->activation.max};
    const int32_t pixels = out->n * out->h * out->w;
    int8_t *const second = columns + p->depth_padded;
    int32_t b = 0, oy = 0, ox = 0;  /* the next pixel's, counted along (no division per pixel) */
    const int8_t *in_batch = input;
    for (int32_t q = 0; q < pixels; q += 2, output += 2 * out->c) {
        const int32_t count = pixels - q < 2 ? pixels - q : 2;
        for (int32_t i = 0; i < count; ++i) {
            im2col(p, in, in_batch, filter_dims, oy, ox, i == 0 ? columns : second);
            if (++ox == out->w) {
                ox = 0;
                if (++oy == out->h) {
                    oy = 0;
                    ++b;
                    in_batch += in->h * in->w * in->c;
                }
            }
        }
        tg_mve_gemm_pixels(channels, columns, second, filter, p->depth, p->depth_padded, out->c, e, output, count,
                           p->left_shift);
    }
}

/* The same with the columns on the stack (the generator passes no scratch where two columns take at
 * most TG_CONV_S8_MVE_STACK_COLUMN bytes): no arena bytes; the stack bound counts them. */
static __attribute__((noinline)) void im2col_on_stack(const tg_conv_mve_params_t *p, const tg_dims_t *in,
                                                      const int8_t *input, const tg_dims_t *filter_dims,
                                                      const tg_dims_t *out, const int32_t *channels,
                                                      const int8_t *filter, int8_t *output)
{
    int8_t columns[TG_CONV_S8_MVE_STACK_COLUMN];
    im2col_pixels(p, in, input, filter_dims, out, channels, filter, output, columns);
}

void tg_conv_s8_mve(const tg_conv_mve_params_t *params, const int32_t *channels,
                    const tg_dims_t *input_dims, const int8_t *input,
                    const tg_dims_t *filter_dims, const int8_t *filter,
                    const tg_dims_t *output_dims, int8_t *output, int8_t *scratch)
{
    /* Local copies: output stores through int8_t * may alias anything a pointer reaches (see tg_dot_s8.h). */
    const tg_conv_mve_params_t p = *params;
    const tg_dims_t in = *input_dims, fd = *filter_dims, out = *output_dims;
    const int32_t pixels = out.n * out.h * out.w;
    const tg_mve_epilogue_t e = {p.output_offset, p.activation.min, p.activation.max};
    if (p.direct) {  /* the columns are the input pixels, two at a time */
        for (int32_t q = 0; q < pixels; q += 2) {
            const int32_t count = pixels - q < 2 ? pixels - q : 2;
            const int8_t *x0 = input + q * in.c;
            tg_mve_gemm_pixels(channels, x0, x0 + in.c, filter, p.depth, p.depth_padded, out.c, e, output + q * out.c,
                               count, p.left_shift);
        }
    } else if (scratch != NULL) {
        im2col_pixels(&p, &in, input, &fd, &out, channels, filter, output, scratch);
    } else {
        im2col_on_stack(&p, &in, input, &fd, &out, channels, filter, output);
    }
}
