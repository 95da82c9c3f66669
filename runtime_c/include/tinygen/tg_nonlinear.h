/* tinygen runtime: SOFTMAX, LOGISTIC and HARD_SWISH kernels. */
#ifndef TINYGEN_TG_NONLINEAR_H
#define TINYGEN_TG_NONLINEAR_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SOFTMAX ------------------------------------------------------------------------------ */
/* TFLM SoftmaxParams for int8 input: beta * input_scale as a Q31 multiplier and left shift
 * (PreprocessSoftmaxScaling with 5 integer bits), and the most negative input difference from
 * the row maximum that still contributes (-CalculateInputRadius). */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} tg_softmax_params_t;

/* Softmax over the last axis: input and output are [outer_size][depth].
 * Output scale 1/256, zero point -128. */
void tg_softmax_s8(const tg_softmax_params_t *params, int32_t outer_size, int32_t depth,
                   const int8_t *input, int8_t *output);

/* The same with an int16 output: scale 1/65536, zero point -32768. */
void tg_softmax_s8_s16(const tg_softmax_params_t *params, int32_t outer_size, int32_t depth,
                       const int8_t *input, int16_t *output);

/* ---- LOGISTIC ----------------------------------------------------------------------------- */
/* TFLM OpDataLogistic for int8: the input rescaled to Q4.27, and the radius beyond which the
 * output saturates. Output scale 1/256, zero point -128. */
typedef struct {
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} tg_logistic_params_t;

void tg_logistic_s8(const tg_logistic_params_t *params, int32_t size, const int8_t *input, int8_t *output);

/* ---- HARD_SWISH --------------------------------------------------------------------------- */
/* TFLM HardSwishParams: Q15 multipliers (DownScaleInt32ToInt16Multiplier) and exponents from the
 * input scale / 128 to the "relu-ish" scale 3/32768 and to the output scale. */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int16_t reluish_multiplier;
    int32_t reluish_exponent;     /* > 0 left, < 0 right */
    int16_t output_multiplier;
    int32_t output_exponent;      /* <= 0 */
} tg_hard_swish_params_t;

void tg_hard_swish_s8(const tg_hard_swish_params_t *params, int32_t size, const int8_t *input, int8_t *output);

/* ---- LOG_SOFTMAX -------------------------------------------------------------------------- */
/* TFLM LogSoftmaxOpData for int8: the softmax input scaling (5 integer bits) and its inverse,
 * which turns log(sum of exps) back into an input difference below which outputs are -128. */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t reverse_scaling_divisor;
    int32_t reverse_scaling_right_shift;
    int32_t diff_min;
} tg_log_softmax_params_t;

/* log(softmax) over the last axis: input and output are [outer_size][depth].
 * Output scale 16/256, zero point 127. */
void tg_log_softmax_s8(const tg_log_softmax_params_t *params, int32_t outer_size, int32_t depth,
                       const int8_t *input, int8_t *output);

/* ---- TANH --------------------------------------------------------------------------------- */
/* TFLM's int8 TANH: LOGISTIC's parameters (the input in Q4.27, the saturation radius). The output
 * is tanh in steps of 1/128 around 0; TFLM never reads the output's quantization. */
void tg_tanh_s8(const tg_logistic_params_t *params, int32_t size, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_NONLINEAR_H */
