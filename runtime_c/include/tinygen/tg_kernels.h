/* tinygen runtime: portable reference kernels, bit-exact with TFLite Micro's int8 kernels.
 *
 * One function per file in runtime_c/kernels/, named tg_<op>[_<variant>]_<dtype>. A kernel that
 * needs scratch memory has tg_<op>_buffer_size() beside it; the planner reserves that many
 * bytes in the arena and the generated code passes them in. Kernels never allocate.
 */
#ifndef TINYGEN_TG_KERNELS_H
#define TINYGEN_TG_KERNELS_H

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

/* ---- FULLY_CONNECTED ---------------------------------------------------------------------- */
typedef struct {
    int32_t input_offset;   /* -input zero point */
    int32_t filter_offset;  /* -filter zero point (0 for TFLite's symmetric int8 weights) */
    int32_t output_offset;  /* output zero point */
    tg_range_t activation;
} tg_fc_params_t;

/* input: [batches][accum_depth], filter: [output_depth][accum_depth], output: [batches][output_depth]. */
void tg_fully_connected_s8(const tg_fc_params_t *params, const tg_channel_requant_t *requant,
                           int32_t batches, int32_t accum_depth, int32_t output_depth,
                           const int8_t *input, const int8_t *filter,
                           const int32_t *bias, /* may be NULL */
                           int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_KERNELS_H */
