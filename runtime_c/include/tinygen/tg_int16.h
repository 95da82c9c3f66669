/* tinygen runtime: 16x8 kernels (int16 activations, int8 weights), as TFLM's int16 reference kernels. */
#ifndef TINYGEN_TG_INT16_H
#define TINYGEN_TG_INT16_H

#include "tinygen/tg_conv.h"
#include "tinygen/tg_data_movement.h"
#include "tinygen/tg_depthwise.h"
#include "tinygen/tg_elementwise.h"
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_fully_connected.h"
#include "tinygen/tg_pooling.h"
#include "tinygen/tg_shape_ops.h"
#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* TFLM's MultiplyByQuantizedMultiplier(int64_t x, ...): the multiplier rounded to 16 bits, one rounding. */
static inline int32_t tg_requantize_s64(int64_t x, int32_t multiplier, int32_t shift)
{
    const int32_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total_shift = 15 - shift;
    const int64_t rounded = x * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
    return (int32_t)(rounded >> total_shift);
}

/* FULLY_CONNECTED 16x8: int64 accumulator and bias (the converter's), or, _b32, int32 ones (a bias of
 * type int32 selects TFLM's int32 accumulation, with its other rounding). Same arguments as _s8. */
void tg_fully_connected_s16(const tg_fc_params_t *params, const tg_channel_requant_t *requant,
                            int32_t batches, int32_t accum_depth, int32_t output_depth,
                            const int16_t *input, const int8_t *filter, const int64_t *bias,
                            int16_t *output);
void tg_fully_connected_s16_b32(const tg_fc_params_t *params, const tg_channel_requant_t *requant,
                                int32_t batches, int32_t accum_depth, int32_t output_depth,
                                const int16_t *input, const int8_t *filter, const int32_t *bias,
                                int16_t *output);

/* CONV_2D 16x8 (TFLM reference_integer_ops::ConvPerChannel on int16): zero points are 0, so
 * params->input_offset and output_offset are not read. */
void tg_conv_s16(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                 const tg_dims_t *input_dims, const int16_t *input,
                 const tg_dims_t *filter_dims, const int8_t *filter, const int64_t *bias,
                 const tg_dims_t *output_dims, int16_t *output);
void tg_conv_s16_b32(const tg_conv_params_t *params, const tg_channel_requant_t *requant,
                     const tg_dims_t *input_dims, const int16_t *input,
                     const tg_dims_t *filter_dims, const int8_t *filter, const int32_t *bias,
                     const tg_dims_t *output_dims, int16_t *output);

/* DEPTHWISE_CONV_2D 16x8: int64 bias (TFLM's only one for it), zero points 0. */
void tg_depthwise_conv_s16(const tg_depthwise_params_t *params, const tg_channel_requant_t *requant,
                           const tg_dims_t *input_dims, const int16_t *input,
                           const tg_dims_t *filter_dims, const int8_t *filter, const int64_t *bias,
                           const tg_dims_t *output_dims, int16_t *output);

/* ADD and MUL on int16: the int8 kernels' arithmetic over int16 values (ADD shifts left by 15, not
 * 20: params->left_shift), same-shape or broadcast (up to 4-D in TFLM). */
static inline int16_t tg_add_s16_element(const tg_add_params_t *p, int16_t a, int16_t b)
{
    const int32_t shifted1 = ((int32_t)a + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t shifted2 = ((int32_t)b + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t sum = tg_requantize(shifted1, p->input1.multiplier, p->input1.shift) +
                        tg_requantize(shifted2, p->input2.multiplier, p->input2.shift);
    const int32_t out = tg_requantize(sum, p->output.multiplier, p->output.shift) + p->output_offset;
    return (int16_t)tg_clamp(out, p->activation.min, p->activation.max);
}

static inline int16_t tg_mul_s16_element(const tg_mul_params_t *p, int16_t a, int16_t b)
{
    const int32_t product = ((int32_t)a + p->input1_offset) * ((int32_t)b + p->input2_offset);
    const int32_t out = tg_requantize(product, p->output.multiplier, p->output.shift) + p->output_offset;
    return (int16_t)tg_clamp(out, p->activation.min, p->activation.max);
}

/* SUB on int16: ADD's arithmetic with the difference (TFLM's SubElementwise on int16). */
static inline int16_t tg_sub_s16_element(const tg_add_params_t *p, int16_t a, int16_t b)
{
    const int32_t shifted1 = ((int32_t)a + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t shifted2 = ((int32_t)b + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t difference = tg_requantize(shifted1, p->input1.multiplier, p->input1.shift) -
                               tg_requantize(shifted2, p->input2.multiplier, p->input2.shift);
    const int32_t out = tg_requantize(difference, p->output.multiplier, p->output.shift) + p->output_offset;
    return (int16_t)tg_clamp(out, p->activation.min, p->activation.max);
}

void tg_sub_s16(const tg_add_params_t *params, int32_t size,
                const int16_t *input1, const int16_t *input2, int16_t *output);
void tg_sub_broadcast_s16(const tg_add_params_t *params, const tg_broadcast_t *broadcast,
                          const int16_t *input1, const int16_t *input2, int16_t *output);
void tg_add_s16(const tg_add_params_t *params, int32_t size,
                const int16_t *input1, const int16_t *input2, int16_t *output);
void tg_add_broadcast_s16(const tg_add_params_t *params, const tg_broadcast_t *broadcast,
                          const int16_t *input1, const int16_t *input2, int16_t *output);
void tg_mul_s16(const tg_mul_params_t *params, int32_t size,
                const int16_t *input1, const int16_t *input2, int16_t *output);
void tg_mul_broadcast_s16(const tg_mul_params_t *params, const tg_broadcast_t *broadcast,
                          const int16_t *input1, const int16_t *input2, int16_t *output);

/* SOFTMAX on int16 (TFLM's SoftmaxInt16): exp and 1/(1+x) from 513-entry tables the generator
 * computes as TFLM's LUTPopulate does; rows of `depth` values along the last dimension. */
typedef struct {
    int32_t outer_size;
    int32_t depth;
    tg_requant_t input;      /* input_scale * beta / (10 / 65535): differences onto the exp table */
    const int16_t *exp_lut;
    const int16_t *one_over_one_plus_x_lut;
} tg_softmax_s16_params_t;

void tg_softmax_s16(const tg_softmax_s16_params_t *params, const int16_t *input, int16_t *output);

/* AVERAGE_POOL_2D and MAX_POOL_2D on int16: the int8 kernels' arithmetic (TFLM's int16 AveragePool
 * and MaxPool are the same templates). */
void tg_avg_pool_s16(const tg_pool_params_t *params,
                     const tg_dims_t *input_dims, const int16_t *input,
                     const tg_dims_t *output_dims, int16_t *output);
void tg_max_pool_s16(const tg_pool_params_t *params,
                     const tg_dims_t *input_dims, const int16_t *input,
                     const tg_dims_t *output_dims, int16_t *output);

/* TRANSPOSE and STRIDED_SLICE on int16 (ops-c): tg_strided_copy_s8's walk over 16-bit values. */
void tg_strided_copy_s16(const tg_strided_copy_params_t *params, const int16_t *input, int16_t *output);
/* CONCATENATION on int16 (ops-c): one input's share, as tg_concatenation_s8. */
void tg_concatenation_s16(const tg_concat_params_t *params, const int16_t *input, int16_t *output);
/* PAD and PADV2 on int16 (ops-c): tg_pad_s8's walk, an int16 pad value. */
void tg_pad_s16(const tg_pad_params_t *params, const int16_t *input, int16_t *output);
/* QUANTIZE int8 -> int16, int16 -> int8, int16 -> int16 (ops-c): TFLM Requantize. */
void tg_requantize_s8_s16(const tg_requantize_params_t *params, int32_t size, const int8_t *input, int16_t *output);
void tg_requantize_s16_s8(const tg_requantize_params_t *params, int32_t size, const int16_t *input, int8_t *output);
void tg_requantize_s16(const tg_requantize_params_t *params, int32_t size, const int16_t *input, int16_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_INT16_H */
