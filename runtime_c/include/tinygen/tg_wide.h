/* tinygen runtime: the "wide" kernel variants, whose data the generator prepares per layer.
 *
 * At generation time the generator widens the weights to int16, packs them two to an int32 (low half
 * first: natural order) and interleaves the rows of a block (TG_WIDE_ROWS) so
 * one pointer walks them; the depth is padded to a multiple of 4 with zero weights. It folds the input
 * offset into the bias: bias'[o] = bias[o] + input_offset * sum_k w[o][k], so the inner loop is a plain
 * int16 dot product (SMLAD on the DSP extension). Sums wrap the same in any order (modulo 2^32), so
 * the results are the reference kernels' bits. The epilogue's per-channel data is one int32_t
 * array of TG_WIDE_CHANNEL_WORDS words per channel, also made at generation time (see below). Padding taps of a convolution are filled with the
 * input's zero point (-input_offset), whose folded contribution is w * 0, as the reference skips them.
 */
#ifndef TINYGEN_TG_WIDE_H
#define TINYGEN_TG_WIDE_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output channels per block of interleaved rows. Within a block the words go: for each four k,
 * (row 0: k0 k1) (row 1: k0 k1) (row 2: k0 k1) (row 3: k0 k1) (row 0: k2 k3) ... (row 3: k2 k3).
 * The last block is completed with zero rows. */
#define TG_WIDE_ROWS 4

/* Per output channel: bias' (the dot product starts from it), the multiplier m (in [0, 2^31 - 1])
 * doubled, 2m modulo 2^32 (one SMMLAR multiplies by it: runtime_c/kernels/tg_wide_dot.h), right
 * shift e (-QuantizeMultiplier's shift, in [1, 23]: the generator checks), the rounding constant
 * 2^(e - 1), and the bias without the folded offset (for windows that overlap the padding). */
#define TG_WIDE_CHANNEL_WORDS 5

typedef struct {
    int32_t input_offset;   /* -zero point of the input: im2col fills padding taps with its negation */
    int32_t output_offset;
    tg_hw_t stride;
    tg_hw_t padding;
    tg_hw_t dilation;
    tg_range_t activation;
    int32_t depth_padded;   /* f_h * f_w * in_c rounded up to a multiple of 4: one column's int16 count */
} tg_conv_wide_params_t;

/* CONV_2D, ungrouped: each output pixel's window widened to an int16 column in scratch (im2col),
 * then TG_WIDE_ROWS output channels at a time. filter: the packed rows described above (out_c
 * rounded up to TG_WIDE_ROWS); channels: the epilogue's triples, one per output channel. */
void tg_conv_s8_wide(const tg_conv_wide_params_t *params, const int32_t *channels,
                     const tg_dims_t *input_dims, const int8_t *input,
                     const tg_dims_t *filter_dims, const int32_t *filter,
                     const tg_dims_t *output_dims, int8_t *output, void *scratch);

/* Scratch bytes of tg_conv_s8_wide: one column of depth_padded int16. */
#define TG_CONV_S8_WIDE_BUFFER_SIZE(depth_padded) (2 * (depth_padded))

/* The same with two output pixels per block (raster order): their windows interleaved in one
 * column (per two k, pixel 0's int16 pair then pixel 1's), so each weight word feeds both. Same
 * weights and channels as tg_conv_s8_wide. */
void tg_conv_s8_wide_pair(const tg_conv_wide_params_t *params, const int32_t *channels,
                          const tg_dims_t *input_dims, const int8_t *input,
                          const tg_dims_t *filter_dims, const int32_t *filter,
                          const tg_dims_t *output_dims, int8_t *output, void *scratch);

/* Scratch bytes of tg_conv_s8_wide_pair: two columns of depth_padded int16. */
#define TG_CONV_S8_WIDE_PAIR_BUFFER_SIZE(depth_padded) (4 * (depth_padded))
/* Where the two columns take at most this, the generator passes no scratch (NULL) and the kernel keeps
 * them on its stack (a stem's few channels: KWS's 10x4 over one channel takes 160 B). */
#define TG_CONV_S8_WIDE_PAIR_STACK_COLUMN 256
/* Up to this, the generator calls the kernel's _stack1k entry (no scratch), whose frame holds 1 KiB of
 * columns: IC's 3x3 layers over 16 channels (576 B), where the arena has no bytes for them and the
 * pair beats the scratch-free conv (IC 21.57 M -> 20.40 M estimated cycles, its invoke() stack bound
 * 776 -> 1,568 B). A separate entry, so that a firmware without such a layer links no 1 KiB frame and
 * keeps its stack bound. Larger columns go to the arena, where the plan counts them. */
#define TG_CONV_S8_WIDE_PAIR_STACK_COLUMN_1K 1024
void tg_conv_s8_wide_pair_stack1k(const tg_conv_wide_params_t *params, const int32_t *channels,
                                  const tg_dims_t *input_dims, const int8_t *input,
                                  const tg_dims_t *filter_dims, const int32_t *filter,
                                  const tg_dims_t *output_dims, int8_t *output, void *scratch);

/* The same a window row at a time, where whole columns would pass 1 KiB (IC's 3x3 layers over 32
 * channels: 1,152 B): per pixel pair, each window row's two columns (4 x f_w x c bytes, at most
 * TG_CONV_S8_WIDE_PAIR_ROWS_COLUMN) and every block's sums between rows (2 x out_c int32, at most
 * TG_CONV_S8_WIDE_PAIR_ROWS_CHANNELS channels) on its stack: no arena bytes. Also f_w x c a multiple
 * of 4. */
#define TG_CONV_S8_WIDE_PAIR_ROWS_COLUMN 512
#define TG_CONV_S8_WIDE_PAIR_ROWS_CHANNELS 64
void tg_conv_s8_wide_pair_rows(const tg_conv_wide_params_t *params, const int32_t *channels,
                               const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims,
                               const int32_t *filter, const tg_dims_t *output_dims, int8_t *output, void *scratch);

/* The same with int8 weights, two rows packed per int16 half: filter, per block of TG_WIDE_ROWS rows,
 * per two k, the words of row pairs (0, 1) and (2, 3), each (v_k0, v_k1) with v = 256 * odd row + even
 * row (int16). Same channels and scratch as tg_conv_s8_wide_pair. */
void tg_conv_s8_wide_pair_packed(const tg_conv_wide_params_t *params, const int32_t *channels,
                                 const tg_dims_t *input_dims, const int8_t *input,
                                 const tg_dims_t *filter_dims, const int32_t *filter,
                                 const tg_dims_t *output_dims, int8_t *output, void *scratch);
void tg_conv_s8_wide_pair_packed_stack1k(const tg_conv_wide_params_t *params, const int32_t *channels,
                                         const tg_dims_t *input_dims, const int8_t *input,
                                         const tg_dims_t *filter_dims, const int32_t *filter,
                                         const tg_dims_t *output_dims, int8_t *output, void *scratch);
void tg_conv_s8_wide_pair_packed_rows(const tg_conv_wide_params_t *params, const int32_t *channels,
                                      const tg_dims_t *input_dims, const int8_t *input,
                                      const tg_dims_t *filter_dims, const int32_t *filter,
                                      const tg_dims_t *output_dims, int8_t *output, void *scratch);

/* The same without scratch, for an input depth that is a multiple of 4: the input read in place,
 * each word split into int16 pairs with the offset added (SXTAB16); filter: per block of
 * TG_WIDE_ROWS rows, per four k, each row's pairs (w0, w2) and (w1, w3); the accumulators start
 * from the plain bias (channel word 4) and padding taps are skipped. */
void tg_conv_s8_dsp(const tg_conv_wide_params_t *params, const int32_t *channels,
                    const tg_dims_t *input_dims, const int8_t *input,
                    const tg_dims_t *filter_dims, const int32_t *filter,
                    const tg_dims_t *output_dims, int8_t *output);

typedef struct {
    int32_t output_offset;
    tg_range_t activation;
    int32_t depth_padded;   /* accum_depth rounded up to a multiple of 4 */
    int32_t uniform;        /* every channel has the same multiplier, shift and rounding (per-tensor) */
} tg_fc_wide_params_t;

/* FULLY_CONNECTED, weights without zero point: each input row widened to int16 in scratch, then
 * TG_WIDE_ROWS output units at a time. */
void tg_fully_connected_s8_wide(const tg_fc_wide_params_t *params, const int32_t *channels,
                                int32_t batches, int32_t accum_depth, int32_t output_depth,
                                const int8_t *input, const int32_t *filter,
                                int8_t *output, void *scratch);

#define TG_FULLY_CONNECTED_S8_WIDE_BUFFER_SIZE(depth_padded) (2 * (depth_padded))

typedef struct {
    int32_t input_offset;
    int32_t output_offset;
    tg_hw_t stride;
    tg_hw_t padding;
    tg_hw_t dilation;
    tg_range_t activation;
} tg_depthwise_wide_params_t;

/* DEPTHWISE_CONV_2D, depth multiplier 1. filter: per four channels, per tap, the int16 pairs
 * (w[c0], w[c2]) and (w[c1], w[c3]) (the order SXTB16 splits four input bytes in), channels
 * completed to a multiple of four with zeros. Windows inside the input start from the folded bias
 * and add w * x; windows overlapping the padding start from the plain bias and add w * (x + offset)
 * over their valid taps. */
void tg_depthwise_conv_s8_wide(const tg_depthwise_wide_params_t *params, const int32_t *channels,
                               const tg_dims_t *input_dims, const int8_t *input,
                               const tg_dims_t *filter_dims, const int32_t *filter,
                               const tg_dims_t *output_dims, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_WIDE_H */
