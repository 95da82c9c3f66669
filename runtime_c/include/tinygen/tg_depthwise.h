/* tinygen runtime: DEPTHWISE_CONV_2D kernels. */
#ifndef TINYGEN_TG_DEPTHWISE_H
#define TINYGEN_TG_DEPTHWISE_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- DEPTHWISE_CONV_2D -------------------------------------------------------------------- */
typedef struct {
    int32_t input_offset;      /* -input zero point */
    int32_t output_offset;     /* output zero point */
    tg_hw_t stride;
    tg_hw_t padding;           /* top/left padding, as TFLM's ComputePaddingHeightWidth */
    tg_hw_t dilation;
    int32_t depth_multiplier;  /* output channels per input channel */
    tg_range_t activation;
} tg_depthwise_params_t;

/* filter: [1][h][w][input channels * depth_multiplier]; output channel = ic * multiplier + m.
 * The filter zero point is ignored, as in TFLM's int8 per-channel kernel. */
void tg_depthwise_conv_s8(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                          const tg_dims_t *input_dims, const int8_t *input,
                          const tg_dims_t *filter_dims, const int8_t *filter,
                          const int32_t *bias, /* may be NULL */
                          const tg_dims_t *output_dims, int8_t *output);

/* The same results as tg_depthwise_conv_s8, faster (SIMD across channels on cores with the DSP
 * extension); depth multiplier 1 only. */
void tg_depthwise_conv_s8_fast(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                               const tg_dims_t *input_dims, const int8_t *input,
                               const tg_dims_t *filter_dims, const int8_t *filter,
                               const int32_t *bias, /* may be NULL */
                               const tg_dims_t *output_dims, int8_t *output);

/* The same results as tg_depthwise_conv_s8 (depth multiplier 1), with the output allowed to start
 * at the input's address: channel by channel, the input plane is copied to `plane`
 * (tg_depthwise_conv_s8_inplace_buffer_size() bytes) before that output channel is written. */
int32_t tg_depthwise_conv_s8_inplace_buffer_size(const tg_dims_t *input_dims);
void tg_depthwise_conv_s8_inplace(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                                  const tg_dims_t *input_dims, const int8_t *input,
                                  const tg_dims_t *filter_dims, const int8_t *filter,
                                  const int32_t *bias, /* may be NULL */
                                  const tg_dims_t *output_dims, int8_t *output, int8_t *plane);
/* The same over the channels [first_channel, end_channel) only (one core's share): input and output
 * point at channel first_channel of pixel 0; input_dims->c is the tensor's channel count. */
void tg_depthwise_conv_s8_inplace_channels(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                                           const tg_dims_t *input_dims, const int8_t *input,
                                           const tg_dims_t *filter_dims, const int8_t *filter,
                                           const int32_t *bias,
                                           const tg_dims_t *output_dims, int8_t *output, int8_t *plane,
                                           int32_t first_channel, int32_t end_channel);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_DEPTHWISE_H */
