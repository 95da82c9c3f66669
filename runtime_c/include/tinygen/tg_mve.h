/* tinygen runtime: the Helium (MVE) kernel variants, whose data the generator prepares per layer
 * (tinygen/kernels/variants_mve.py).
 *
 * Weights stay int8. At generation time the rows of a convolution or fully connected layer are padded
 * to a multiple of 16 k (zeros) and TG_MVE_ROWS rows (zeros), and interleaved per block of rows: for
 * each 16 k, row 0's 16 bytes, then row 1's, ... so one pointer walks them and every load is a VLDRB
 * of 16 bytes. The input offset is folded into the bias: bias'[o] = bias[o] + input_offset * sum_k w[o][k]
 * (wrapped to int32), so the inner loop is VLDRB + VMLADAVA.S8 only; padding taps hold the input's
 * zero point, whose folded contribution is 0. Depthwise weights are [block of 4 channels][tap][4].
 *
 * The epilogue's per-channel data is one int32_t array, TG_MVE_BLOCK_WORDS words per block of 4
 * channels: bias' x 4, multiplier x 4, left shift x 4, -right shift x 4 (TFLM's shift split as in
 * MultiplyByQuantizedMultiplier). The requantization is VQRDMULH (gemmlowp's saturating rounding
 * doubling high multiply, exactly) and VRSHL by -e after subtracting 1 from negative values (gemmlowp's
 * rounding divide by 2^e, half away from zero, exactly), for every shift QuantizeMultiplier gives.
 *
 * Every function also compiles without MVE (plain C computing the same lanes the same way: the host
 * tests run it); the firmware for a core with MVE (__ARM_FEATURE_MVE) runs the Helium instructions.
 */
#ifndef TINYGEN_TG_MVE_H
#define TINYGEN_TG_MVE_H

#include "tinygen/tg_types.h"
#include "tinygen/tg_elementwise.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_MVE_ROWS 4          /* output channels per block of interleaved rows (one int32x4 of results) */
#define TG_MVE_CHUNK 16        /* k per VLDRB.8: rows are padded to a multiple of it */
#define TG_MVE_BLOCK_WORDS 16  /* per block of 4 channels: bias', multiplier, left shift, -right shift */
#define TG_MVE_DW_BLOCK_WORDS 20  /* the depthwise's: the same, then the pad correction bias - bias' x 4 */

typedef struct {
    int32_t pad_value;      /* the input's zero point: what im2col writes for taps in the padding */
    int32_t output_offset;
    tg_hw_t stride;
    tg_hw_t padding;
    tg_hw_t dilation;
    tg_range_t activation;
    int32_t depth;          /* f_h * f_w * in_c: one column's k */
    int32_t depth_padded;   /* depth rounded up to TG_MVE_CHUNK: one packed row's bytes */
    int32_t direct;         /* 1: a 1x1 convolution, stride 1, no padding: a column is an input pixel */
    int32_t left_shift;     /* 1: some channel's shift is a left shift (else the epilogue skips it) */
} tg_conv_mve_params_t;

/* CONV_2D, ungrouped. The output pixels' columns, two at a time (the input pixels themselves when
 * direct, else their windows copied to scratch: im2col) against TG_MVE_ROWS rows at a time.
 * scratch: TG_CONV_S8_MVE_BUFFER_SIZE bytes (two columns), or NULL when direct or when they take at
 * most TG_CONV_S8_MVE_STACK_COLUMN bytes (the columns are then on the kernel's stack). */
void tg_conv_s8_mve(const tg_conv_mve_params_t *params, const int32_t *channels,
                    const tg_dims_t *input_dims, const int8_t *input,
                    const tg_dims_t *filter_dims, const int8_t *filter,
                    const tg_dims_t *output_dims, int8_t *output, int8_t *scratch);

#define TG_CONV_S8_MVE_BUFFER_SIZE(depth_padded) (2 * (depth_padded))
#define TG_CONV_S8_MVE_STACK_COLUMN 1024

/* The same for a 1x1 convolution (direct) run over its own input: each block of two input pixels is
 * copied to pixels_copy (2 * input channels bytes) before its output pixels are written, as
 * tg_conv_1x1_s8_inplace (kernels/overlap.py: the same contract). */
void tg_conv_1x1_s8_inplace_mve(const tg_conv_mve_params_t *params, const int32_t *channels,
                                const tg_dims_t *input_dims, const int8_t *input,
                                const tg_dims_t *filter_dims, const int8_t *filter,
                                const tg_dims_t *output_dims, int8_t *output, int8_t *pixels_copy);

typedef struct {
    int32_t output_offset;
    tg_range_t activation;
    int32_t depth_padded;   /* accum_depth rounded up to TG_MVE_CHUNK */
    int32_t left_shift;     /* 1: some unit's shift is a left shift */
} tg_fc_mve_params_t;

/* FULLY_CONNECTED, weights without zero point: each input row against TG_MVE_ROWS rows at a time. */
void tg_fully_connected_s8_mve(const tg_fc_mve_params_t *params, const int32_t *channels,
                               int32_t batches, int32_t accum_depth, int32_t output_depth,
                               const int8_t *input, const int8_t *filter, int8_t *output);

typedef struct {
    int32_t pad_value;      /* the input's zero point: the value of taps in the padding */
    int32_t output_offset;
    tg_hw_t stride;
    tg_hw_t padding;
    tg_hw_t dilation;
    tg_range_t activation;
} tg_depthwise_mve_params_t;

/* DEPTHWISE_CONV_2D, depth multiplier 1: four channels per int32x4 (VLDRB.S32 of the input and the
 * weights, VMUL, VADD). channels: TG_MVE_DW_BLOCK_WORDS words per block of four channels (the pad
 * correction lets windows over the padding skip their padding taps). filter: [channel block][tap][4]
 * int8, channels completed with zeros. */
void tg_depthwise_conv_s8_mve(const tg_depthwise_mve_params_t *params, const int32_t *channels,
                              const tg_dims_t *input_dims, const int8_t *input,
                              const tg_dims_t *filter_dims, const int8_t *filter,
                              const tg_dims_t *output_dims, int8_t *output);

typedef struct {
    int32_t pad_value;      /* the input's zero point: what the padded plane holds around the input */
    int32_t output_offset;
    tg_hw_t stride;
    tg_hw_t padding;
    tg_hw_t dilation;
    tg_range_t activation;
    int32_t transposed;     /* 1: the plane's rows are the input's columns (the vector runs down them) */
} tg_depthwise_planes_mve_params_t;

#define TG_MVE_DW_CHANNEL_WORDS 3  /* per channel: bias' << left shift, multiplier, right shift (>= 0) */
#define TG_MVE_DW_STACK_PLANE 2560  /* the padded plane's buffer, on the kernel's stack */

/* TG_MVE_DW_PLANE_BYTES: the padded plane's bytes, rows * row_bytes and the slack the last vector of
 * four reads past it (three strides). */
#define TG_MVE_DW_PLANE_BYTES(rows, row_bytes, stride_along) ((rows) * (row_bytes) + 3 * (stride_along) + 4)

/* DEPTHWISE_CONV_2D, depth multiplier 1, channel by channel over a padded copy of the channel's plane:
 * four output pixels of one channel per int32x4 (VLDRB.S32, VMLA by the tap's weight), run in place
 * (the output exactly over the input) or apart. channels: TG_MVE_DW_CHANNEL_WORDS words per channel;
 * filter: per channel its taps as int32 (left shift folded in), [row][column] of the plane
 * (transposed: [x][y]). The plane (TG_MVE_DW_PLANE_BYTES) must fit TG_MVE_DW_STACK_PLANE. */
void tg_depthwise_conv_s8_planes_mve(const tg_depthwise_planes_mve_params_t *params, const int32_t *channels,
                                     const tg_dims_t *input_dims, const int8_t *input,
                                     const tg_dims_t *filter_dims, const int32_t *filter,
                                     const tg_dims_t *output_dims, int8_t *output);

/* ADD, same shapes: tg_add_s8's arguments and bits, four elements per int32x4. */
void tg_add_s8_mve(const tg_add_params_t *params, int32_t size,
                   const int8_t *input1, const int8_t *input2, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_MVE_H */
