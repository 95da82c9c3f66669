/* tinygen runtime: in-place kernel variants for cores with the DSP extension (SXTB16, SMLAD), with
 * the wide variants' generation-time data (tinygen/tg_wide.h: int16 weights packed in SXTB16's
 * order, the input offset folded into the bias, the per-channel SMMLAR + QADD epilogue words) and
 * the in-place kernels' contract (tinygen/kernels/overlap.py): the output may lie exactly over the
 * input, so the arena stays the in-place plan's. On other cores the same C computes the same bits
 * with tg_simd.h's portable operations.
 */
#ifndef TINYGEN_TG_DSP_H
#define TINYGEN_TG_DSP_H

#include "tinygen/tg_types.h"
#include "tinygen/tg_wide.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    tg_hw_t padding;
    tg_range_t activation;
    int32_t lag;    /* padding.h * in_w + padding.w: output pixels held in the ring before they are stored */
} tg_depthwise_inplace_dsp_params_t;

/* DEPTHWISE_CONV_2D, depth multiplier 1, stride 1, no dilation, output dims = input dims, channels a
 * multiple of 4; the output may start at the input's address. filter and channels: as
 * tg_depthwise_conv_s8_wide's. Four channels at a time over the whole image: output pixel q's four
 * values wait in a ring of lag + 1 pixels and are stored over input pixel q once output pixel
 * q + lag is computed: no later window reads input pixel q (the last window that holds it starts
 * padding rows above and padding columns left of it). */
void tg_depthwise_conv_s8_inplace_dsp(const tg_depthwise_inplace_dsp_params_t *params, const int32_t *channels,
                                      const tg_dims_t *input_dims, const int8_t *input,
                                      const tg_dims_t *filter_dims, const int32_t *filter,
                                      const tg_dims_t *output_dims, int8_t *output, void *ring);
/* The same over the channels [first_channel, end_channel) (multiples of 4: one core's share): input and
 * output point at channel first_channel of pixel 0; input_dims->c is the tensor's channel count. */
void tg_depthwise_conv_s8_inplace_dsp_channels(const tg_depthwise_inplace_dsp_params_t *params,
                                               const int32_t *channels, const tg_dims_t *input_dims,
                                               const int8_t *input, const tg_dims_t *filter_dims,
                                               const int32_t *filter, const tg_dims_t *output_dims,
                                               int8_t *output, void *ring, int32_t first_channel, int32_t end_channel);

/* Scratch bytes of tg_depthwise_conv_s8_inplace_dsp: the ring of lag + 1 pixels of four channels. */
#define TG_DEPTHWISE_CONV_S8_INPLACE_DSP_BUFFER_SIZE(lag) (4 * ((lag) + 1))

/* The same (params->lag unused) over a ring of f_h padded rows: four channels at a time, row by row,
 * their input rows copied into the ring (padding = the input's zero point) before the output row over
 * them is written, every window read from the ring: no border code, nothing held back, faster, and
 * more scratch (the compiler takes it where the arena stays). Also padding < filter size. */
void tg_depthwise_conv_s8_inplace_dsp_rows(const tg_depthwise_inplace_dsp_params_t *params, const int32_t *channels,
                                           const tg_dims_t *input_dims, const int8_t *input,
                                           const tg_dims_t *filter_dims, const int32_t *filter,
                                           const tg_dims_t *output_dims, int8_t *output, void *ring);
void tg_depthwise_conv_s8_inplace_dsp_rows_channels(const tg_depthwise_inplace_dsp_params_t *params,
                                                    const int32_t *channels, const tg_dims_t *input_dims,
                                                    const int8_t *input, const tg_dims_t *filter_dims,
                                                    const int32_t *filter, const tg_dims_t *output_dims,
                                                    int8_t *output, void *ring, int32_t first_channel,
                                                    int32_t end_channel);

/* Scratch bytes of tg_depthwise_conv_s8_inplace_dsp_rows: f_h rows of in_w + f_w - 1 padded pixels of
 * four channels. */
#define TG_DEPTHWISE_CONV_S8_INPLACE_DSP_ROWS_BUFFER_SIZE(f_h, in_w, f_w) (4 * (f_h) * ((in_w) + (f_w) - 1))

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    tg_range_t activation;
    int32_t transposed;  /* the lines are the input's columns (the output's longer axis is its height) */
} tg_depthwise_lines_dsp_params_t;

/* DEPTHWISE_CONV_2D 3x3, depth multiplier 1, stride 1, no dilation, padding 1 on every side (output
 * dims = input dims), the lines along the longer axis at most TG_DEPTHWISE_LINES_DSP_MAX_LINE pixels;
 * the output may lie exactly over the input, a whole number of pixels below it (of rows of pixels,
 * where the lines are columns), or apart. One channel at a time, line by line: each input
 * line is copied into a ring of three int16 lines on the stack (padding = the input's zero point, the
 * input offset folded into the bias), and each output line is computed two pixels at a time with the
 * channel's six weight pairs held in registers: per pair of pixels and window line, two loads, SMLAD,
 * SMLATB, SMLABT, SMLAD (six MACs). channels: tg_wide.h's words, normalized
 * (variants.normalized_channels); filter: per channel, per window line k (across the lines), the int16
 * pairs (w[k][0], w[k][1]) and (w[k][1], w[k][2]) along the line. */
void tg_depthwise_conv_s8_lines_dsp(const tg_depthwise_lines_dsp_params_t *params, const int32_t *channels,
                                    const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims,
                                    const int32_t *filter, const tg_dims_t *output_dims, int8_t *output);
/* The same over the channels [first_channel, end_channel) (one core's share): input and output point at
 * channel first_channel of pixel 0; input_dims->c is the tensor's channel count. */
void tg_depthwise_conv_s8_lines_dsp_channels(const tg_depthwise_lines_dsp_params_t *params, const int32_t *channels,
                                             const tg_dims_t *input_dims, const int8_t *input,
                                             const tg_dims_t *filter_dims, const int32_t *filter,
                                             const tg_dims_t *output_dims, int8_t *output, int32_t first_channel,
                                             int32_t end_channel);

/* The longest line tg_depthwise_conv_s8_lines_dsp takes: its ring, (n + 3) / 2 words per line, three
 * lines, is on its stack. */
#define TG_DEPTHWISE_LINES_DSP_MAX_LINE 64

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    tg_range_t activation;
    int32_t stride;     /* 1 or 2, both ways */
    tg_hw_t padding;    /* before the first row and column: 0 or 1 (after the last: any, as needed) */
} tg_depthwise_plane_dsp_params_t;

/* DEPTHWISE_CONV_2D 3x3, depth multiplier 1, stride 1 or 2, no dilation, padding 0 or 1 before the
 * input, on images small enough for one channel's padded plane: at most TG_DEPTHWISE_PLANE_DSP_ROWS
 * rows of TG_DEPTHWISE_PLANE_DSP_PITCH bytes (int16), the windows' reach included; the output may lie
 * exactly over the input, a whole number of pixels below it, or apart. One channel at a time: its
 * plane copied into int16 on the stack (padding = the input's zero point, the input offset folded into
 * the bias), then each output row computed two pixels at a time with the channel's six weight pairs
 * in registers. channels: tg_wide.h's words, normalized (variants.normalized_channels); filter: per
 * channel, per window row k, the int16 pairs (w[k][0], w[k][1]) and (w[k][1], w[k][2]). */
void tg_depthwise_conv_s8_plane_dsp(const tg_depthwise_plane_dsp_params_t *params, const int32_t *channels,
                                    const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims,
                                    const int32_t *filter, const tg_dims_t *output_dims, int8_t *output);
/* The same over the channels [first_channel, end_channel) (one core's share): input and output point at
 * channel first_channel of pixel 0; input_dims->c is the tensor's channel count. */
void tg_depthwise_conv_s8_plane_dsp_channels(const tg_depthwise_plane_dsp_params_t *params, const int32_t *channels,
                                             const tg_dims_t *input_dims, const int8_t *input,
                                             const tg_dims_t *filter_dims, const int32_t *filter,
                                             const tg_dims_t *output_dims, int8_t *output, int32_t first_channel,
                                             int32_t end_channel);

/* tg_depthwise_conv_s8_plane_dsp's plane on its stack: rows of 32 int16, 16 rows (1 KiB). */
#define TG_DEPTHWISE_PLANE_DSP_PITCH 64
#define TG_DEPTHWISE_PLANE_DSP_ROWS 16

/* FULLY_CONNECTED without weight zero point, and CONV_2D 1x1 with stride 1 and no padding (an FC over
 * the pixels): the wide variant's arithmetic without its scratch. The int8 input is read in place,
 * four values per load, SXTB16 splitting them into (x0, x2) and (x1, x3); the weights, widened to
 * int16 at generation time, are packed in that order: per block of TG_WIDE_ROWS rows, per four k,
 * for each row the words (w0, w2) and (w1, w3). Depth and rows padded with zero weights. channels:
 * tg_wide.h's per-channel words (the input offset folded into the bias). params: tg_fc_wide_params_t. */
void tg_fully_connected_s8_dsp(const tg_fc_wide_params_t *params, const int32_t *channels,
                               int32_t batches, int32_t accum_depth, int32_t output_depth,
                               const int8_t *input, const int32_t *filter, int8_t *output);

/* The same with int8 weights (no flash beyond the model's): per block of TG_WIDE_ROWS rows, per four
 * k, one word per row holding its four weights in order; SXTB16 splits them as it splits the input. */
void tg_fully_connected_s8_dsp_narrow(const tg_fc_wide_params_t *params, const int32_t *channels,
                                      int32_t batches, int32_t accum_depth, int32_t output_depth,
                                      const int8_t *input, const int32_t *filter, int8_t *output);

/* The same with two rows' int8 weights packed per int16 half (no flash beyond the model's, faster than
 * splitting each row): per block of TG_WIDE_ROWS rows, per four k, for the row pairs (0, 1) and (2, 3)
 * the words (v0, v2) and (v1, v3), v_k = 256 * w_odd_row[k] + w_even_row[k]. SMLAD with the word gives
 * 256 * odd + even, with its SXTB16 (the even row's bytes) the even row; the odd row's sum is their
 * difference shifted down by 8. Generation checks that v fits int16 and the odd row's sum 24 bits. */
void tg_fully_connected_s8_dsp_packed(const tg_fc_wide_params_t *params, const int32_t *channels,
                                      int32_t batches, int32_t accum_depth, int32_t output_depth,
                                      const int8_t *input, const int32_t *filter, int8_t *output);

/* The same over its own input (a 1x1 convolution in place): each input row is copied to `row_copy`
 * (TG_FULLY_CONNECTED_S8_DSP_PACKED_INPLACE_BUFFER_SIZE bytes, word-aligned) before its output row is
 * written, so output row b may lie over input row b (kernels/overlap.py). */
void tg_fully_connected_s8_dsp_packed_inplace(const tg_fc_wide_params_t *params, const int32_t *channels,
                                              int32_t batches, int32_t accum_depth, int32_t output_depth,
                                              const int8_t *input, const int32_t *filter, int8_t *output,
                                              void *row_copy);
#define TG_FULLY_CONNECTED_S8_DSP_PACKED_INPLACE_BUFFER_SIZE(accum_depth) (((accum_depth) + 3) / 4 * 4)

/* tg_fully_connected_s8_dsp_packed eight rows at a time, output_depth and accum_depth multiples of 8:
 * per block of 8 rows, per four k, the words (v0, v2) and (v1, v3) of the row pairs (0, 1), (2, 3),
 * (4, 5), (6, 7), so that each input word is loaded and split once for eight rows. */
void tg_fully_connected_s8_dsp_packed8(const tg_fc_wide_params_t *params, const int32_t *channels,
                                       int32_t batches, int32_t accum_depth, int32_t output_depth,
                                       const int8_t *input, const int32_t *filter, int8_t *output);

/* The same over its own input, as tg_fully_connected_s8_dsp_packed_inplace (a row copy of
 * TG_FULLY_CONNECTED_S8_DSP_PACKED_INPLACE_BUFFER_SIZE bytes). */
void tg_fully_connected_s8_dsp_packed8_inplace(const tg_fc_wide_params_t *params, const int32_t *channels,
                                               int32_t batches, int32_t accum_depth, int32_t output_depth,
                                               const int8_t *input, const int32_t *filter, int8_t *output,
                                               void *row_copy);

/* FULLY_CONNECTED over two input rows at a time (CONV_2D 1x1 over two pixels, in place or not):
 * both rows widened into one interleaved int16 column (per two k, row b's pair then row b + 1's), so
 * that each packed weight word serves both. filter: per block of TG_WIDE_ROWS rows, per two k, the
 * words (v_k0, v_k1) of row pairs (0, 1) and (2, 3), v = 256 * odd row + even row (as
 * tg_conv_s8_wide_pair_packed's). Both rows are copied before their outputs are written, so the output
 * may lie over the input (kernels/overlap.py). accum_depth and output_depth multiples of 4. column:
 * TG_FULLY_CONNECTED_S8_DSP_PAIR_BUFFER_SIZE bytes, word-aligned, or NULL where that is at most
 * TG_FULLY_CONNECTED_S8_DSP_PAIR_STACK_COLUMN (then on the kernel's stack). */
void tg_fully_connected_s8_dsp_pair(const tg_fc_wide_params_t *params, const int32_t *channels, int32_t batches,
                                    int32_t accum_depth, int32_t output_depth, const int8_t *input,
                                    const int32_t *filter, int8_t *output, void *column);
#define TG_FULLY_CONNECTED_S8_DSP_PAIR_BUFFER_SIZE(accum_depth) (4 * (accum_depth))
#define TG_FULLY_CONNECTED_S8_DSP_PAIR_STACK_COLUMN 256

/* The same over its own input (the in-place 1x1 convolution): output row b may lie over input row b. */
void tg_fully_connected_s8_dsp_pair_inplace(const tg_fc_wide_params_t *params, const int32_t *channels,
                                            int32_t batches, int32_t accum_depth, int32_t output_depth,
                                            const int8_t *input, const int32_t *filter, int8_t *output,
                                            void *column);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_DSP_H */
