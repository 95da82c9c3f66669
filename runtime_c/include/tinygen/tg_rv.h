/* tinygen runtime: the register-blocked variants for cores without SIMD (RISC-V rv32imac/rv32imc),
 * whose data the generator prepares per layer (tinygen/kernels/variants_rv.py).
 *
 * Plain C (no intrinsics): the host builds it too, which is how the tests check it bit for bit.
 * Weights stay int8 (on rv32 a byte load sign-extends for free, so wider weights buy no
 * instruction) but are re-laid out at generation time so that one pointer walks a block of
 * TG_RV_ROWS output channels, and the input offset is folded into the bias: bias'[o] = bias[o] +
 * input_offset * sum_k w[o][k] (modulo 2^32, as the sums wrap), so the inner loop is loads,
 * multiplies and adds only. Windows that overlap the padding start from the plain bias and add
 * w * (x + input_offset) over their valid taps, as the reference skips the others. Sums are
 * uint32_t (they may wrap); the requantization is TFLM's (tg_dot_requantize: MUL + MULH).
 */
#ifndef TINYGEN_TG_RV_H
#define TINYGEN_TG_RV_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Output channels per block: the weights of a block go, per tap (filter row, column, input channel),
 * one byte per channel of the block; the last block is completed with zero weights. */
#define TG_RV_ROWS 8

/* Per output channel, TG_RV_CHANNEL_WORDS words: the folded bias (interior windows start from it),
 * the plain bias (windows over the padding), then QuantizeMultiplier's (multiplier m, shift s) as
 * the epilogue uses them: 2m (as uint32), left = max(s, 0), right = max(-s, 0), mask = 2^right - 1,
 * half = mask >> 1; the eighth, for the short epilogue, 2^(right - 1) + output_offset * 2^right
 * (wrapped to 32 bits; used only where it did not wrap, see folded_rounding). */
#define TG_RV_CHANNEL_WORDS 8
#define TG_RV_WORD_FOLDED 0
#define TG_RV_WORD_PLAIN 1
#define TG_RV_WORD_M2 2
#define TG_RV_WORD_LEFT 3
#define TG_RV_WORD_RIGHT 4
#define TG_RV_WORD_MASK 5
#define TG_RV_WORD_HALF 6
#define TG_RV_WORD_ROUNDING 7

typedef struct {
    int32_t input_offset;   /* -zero point of the input */
    int32_t output_offset;
    tg_hw_t stride;
    tg_hw_t padding;
    tg_hw_t dilation;
    tg_range_t activation;
    /* 1: the short epilogue (tg_rv_dot.h) is exact for every channel: no left shift, right shifts of 1
     * or more, and the accumulators' bound (made at generation time from the weights and biases)
     * keeps its one addition from overflowing. 0: the general one. */
    int32_t folded_rounding;
} tg_conv_rv_params_t;

/* CONV_2D, ungrouped (and FULLY_CONNECTED as a 1x1 convolution over `batches` pixels): two output
 * pixels whose windows lie inside the input by TG_RV_ROWS channels per inner loop, each input byte
 * loaded once for the block and each weight byte once for both pixels. No scratch. */
void tg_conv_s8_rv(const tg_conv_rv_params_t *params, const int32_t *channels,
                   const tg_dims_t *input_dims, const int8_t *input,
                   const tg_dims_t *filter_dims, const int8_t *filter,
                   const tg_dims_t *output_dims, int8_t *output);

/* DEPTHWISE_CONV_2D, depth multiplier 1, output pixels in raster order (so it has tg_depthwise_conv_s8's
 * overlap contract), 4 channels at a time: filter per block of 4 channels (the last completed with
 * zeros), tap by tap, one byte per channel; channels as above, completed to a multiple of 4. */
void tg_depthwise_conv_s8_rv(const tg_conv_rv_params_t *params, const int32_t *channels,
                             const tg_dims_t *input_dims, const int8_t *input,
                             const tg_dims_t *filter_dims, const int8_t *filter,
                             const tg_dims_t *output_dims, int8_t *output);

/* The in-place forms (tinygen/kernels/inplace.py, kernels/overlap.py): the output may lie over the
 * input, as tg_conv_1x1_s8_inplace's and tg_depthwise_conv_s8_inplace's, with the same scratch. The
 * depthwise one goes channel by channel over the copied plane: its filter is per channel, tap by tap.
 * Where the plane with its padding fits in 256 bytes it is copied onto the kernel's stack instead,
 * framed by the input's zero point (`plane` unused), so that every window is an interior one. */
void tg_conv_1x1_s8_inplace_rv(const tg_conv_rv_params_t *params, const int32_t *channels,
                               const tg_dims_t *input_dims, const int8_t *input,
                               const tg_dims_t *filter_dims, const int8_t *filter,
                               const tg_dims_t *output_dims, int8_t *output, int8_t *pixels_copy);
void tg_depthwise_conv_s8_inplace_rv(const tg_conv_rv_params_t *params, const int32_t *channels,
                                     const tg_dims_t *input_dims, const int8_t *input,
                                     const tg_dims_t *filter_dims, const int8_t *filter,
                                     const tg_dims_t *output_dims, int8_t *output, int8_t *plane);
/* The same over the channels [first_channel, end_channel) (one core's share): input and output point at
 * channel first_channel of pixel 0. */
void tg_depthwise_conv_s8_inplace_rv_channels(const tg_conv_rv_params_t *params, const int32_t *channels,
                                              const tg_dims_t *input_dims, const int8_t *input,
                                              const tg_dims_t *filter_dims, const int8_t *filter,
                                              const tg_dims_t *output_dims, int8_t *output, int8_t *plane,
                                              int32_t first_channel, int32_t end_channel);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_RV_H */
