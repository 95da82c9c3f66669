/* tinygen runtime: CONV_2D kernels. */
#ifndef TINYGEN_TG_CONV_H
#define TINYGEN_TG_CONV_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- CONV_2D ------------------------------------------------------------------------------ */
typedef struct {
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;  /* output zero point */
    tg_hw_t stride;
    tg_hw_t padding;        /* top/left padding, as TFLM's ComputePaddingHeightWidth */
    tg_hw_t dilation;
    tg_range_t activation;
} tg_conv_params_t;

/* Grouped when filter_dims->c < input_dims->c (groups = input channels / filter channels). */
void tg_conv_s8(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                const tg_dims_t *input_dims, const int8_t *input,
                const tg_dims_t *filter_dims, const int8_t *filter,
                const int32_t *bias, /* may be NULL */
                const tg_dims_t *output_dims, int8_t *output);

/* The same results as tg_conv_s8, faster (SMLAD on cores with the DSP extension); ungrouped only:
 * filter_dims->c == input_dims->c. */
void tg_conv_s8_fast(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                     const tg_dims_t *input_dims, const int8_t *input,
                     const tg_dims_t *filter_dims, const int8_t *filter,
                     const int32_t *bias, /* may be NULL */
                     const tg_dims_t *output_dims, int8_t *output);

/* 1x1 convolution (stride 1, no padding, ungrouped) whose output may overlap its input: each
 * block of two input pixels goes to `pixels_copy` (tg_conv_1x1_s8_inplace_buffer_size() bytes)
 * before its output pixels are written. Over tg_conv_s8_fast; the _ref variant over tg_conv_s8. Same bits. */
int32_t tg_conv_1x1_s8_inplace_buffer_size(const tg_dims_t *input_dims);
void tg_conv_1x1_s8_inplace(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                            const tg_dims_t *input_dims, const int8_t *input,
                            const tg_dims_t *filter_dims, const int8_t *filter,
                            const int32_t *bias, /* may be NULL */
                            const tg_dims_t *output_dims, int8_t *output, int8_t *pixels_copy);
void tg_conv_1x1_s8_inplace_ref(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                                const tg_dims_t *input_dims, const int8_t *input,
                                const tg_dims_t *filter_dims, const int8_t *filter,
                                const int32_t *bias, /* may be NULL */
                                const tg_dims_t *output_dims, int8_t *output, int8_t *pixels_copy);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_CONV_H */
