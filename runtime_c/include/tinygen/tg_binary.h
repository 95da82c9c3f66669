/* tinygen runtime: SUB, MAXIMUM and MINIMUM kernels (int8, with TFLite broadcasting), LEAKY_RELU, ABS, PRELU. */
#ifndef TINYGEN_TG_BINARY_H
#define TINYGEN_TG_BINARY_H

#include "tinygen/tg_elementwise.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SUB: TFLM reference_ops::SubElementwise (int8): ADD's arithmetic with a difference --------
 * The parameters are ADD's (tg_add_params_t), computed as TFLM's CalculateOpDataSub does. */
static inline int8_t tg_sub_s8_element(const tg_add_params_t *p, int8_t a, int8_t b)
{
    const int32_t shifted1 = ((int32_t)a + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t shifted2 = ((int32_t)b + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t scaled1 = tg_requantize(shifted1, p->input1.multiplier, p->input1.shift);
    const int32_t scaled2 = tg_requantize(shifted2, p->input2.multiplier, p->input2.shift);
    const int32_t difference = scaled1 - scaled2;
    const int32_t out = tg_requantize(difference, p->output.multiplier, p->output.shift) + p->output_offset;
    return (int8_t)tg_clamp(out, p->activation.min, p->activation.max);
}

void tg_sub_s8(const tg_add_params_t *params, int32_t size,
               const int8_t *input1, const int8_t *input2, int8_t *output);

void tg_sub_broadcast_s8(const tg_add_params_t *params, const tg_broadcast_t *broadcast,
                         const int8_t *input1, const int8_t *input2, int8_t *output);

/* ---- MAXIMUM / MINIMUM: TFLM MaximumMinimumBroadcastSlow on stored values (no rescaling) ---- */
void tg_maximum_s8(const tg_broadcast_t *broadcast, const int8_t *input1, const int8_t *input2, int8_t *output);

void tg_minimum_s8(const tg_broadcast_t *broadcast, const int8_t *input1, const int8_t *input2, int8_t *output);

/* ---- LEAKY_RELU: TFLM reference_ops::QuantizeLeakyRelu ---------------------------------------- */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    tg_requant_t identity;  /* input_scale / output_scale, for inputs at or above the zero point */
    tg_requant_t alpha;     /* input_scale * alpha / output_scale, below it */
} tg_leaky_relu_params_t;

void tg_leaky_relu_s8(const tg_leaky_relu_params_t *params, int32_t size, const int8_t *input, int8_t *output);

/* ---- ABS: TFLM AbsEvalQuantized ------------------------------------------------------------------ */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    int32_t rescale;        /* 0 when both scales are equal: TFLM then skips the multiplier */
    tg_requant_t requant;   /* input_scale / output_scale */
} tg_abs_params_t;

void tg_abs_s8(const tg_abs_params_t *params, int32_t size, const int8_t *input, int8_t *output);

/* ---- PRELU: TFLM reference_ops::BroadcastPrelu4DSlow ----------------------------------------- */
typedef struct {
    int32_t input_offset;   /* -input zero point */
    int32_t alpha_offset;   /* -alpha zero point */
    int32_t output_offset;  /* output zero point */
    tg_requant_t identity;  /* input_scale / output_scale, for inputs at or above the zero point */
    tg_requant_t alpha;     /* input_scale * alpha_scale / output_scale, for (input * alpha) below it */
} tg_prelu_params_t;

/* input1 is the input, input2 alpha (broadcast against it). */
void tg_prelu_s8(const tg_prelu_params_t *params, const tg_broadcast_t *broadcast,
                 const int8_t *input, const int8_t *alpha, int8_t *output);

/* ---- SQUARED_DIFFERENCE: TFLM squared_difference.cc (int8) ------------------------------------
 * ADD's parameters (left shift 7; the output multiplier may exceed 1), with the square of the
 * rescaled difference. */
void tg_squared_difference_s8(const tg_add_params_t *params, const tg_broadcast_t *broadcast,
                              const int8_t *input1, const int8_t *input2, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_BINARY_H */
