/* tinygen runtime: ADD, MUL, RELU, RELU6, QUANTIZE and DEQUANTIZE kernels. */
#ifndef TINYGEN_TG_ELEMENTWISE_H
#define TINYGEN_TG_ELEMENTWISE_H

#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- broadcasting (ADD, MUL) ---------------------------------------------------------------- */
/* Every broadcast is described in TG_BROADCAST_RANK dimensions, outermost first, leading
 * dimensions padded with 1. An input's stride is 0 along a dimension it broadcasts. */
#define TG_BROADCAST_RANK 6

typedef struct {
    const int32_t *output_dims;     /* TG_BROADCAST_RANK extents of the output */
    const int32_t *input1_strides;  /* TG_BROADCAST_RANK element strides of input 1 */
    const int32_t *input2_strides;  /* TG_BROADCAST_RANK element strides of input 2 */
} tg_broadcast_t;

/* ---- ADD: TFLM reference_integer_ops AddFunc ------------------------------------------------- */
typedef struct {
    int32_t input1_offset;   /* -input 1 zero point */
    int32_t input2_offset;   /* -input 2 zero point */
    int32_t output_offset;   /* output zero point */
    int32_t left_shift;      /* 20 for int8: headroom before rescaling both inputs to a common scale */
    tg_requant_t input1;     /* shift <= 0 (QuantizeMultiplierSmallerThanOneExp) */
    tg_requant_t input2;
    tg_requant_t output;
    tg_range_t activation;
} tg_add_params_t;

/* One output element; shared by the same-shape and broadcast kernels so they cannot drift apart.
 * Each rescale is gemmlowp's double rounding with a right shift only, i.e. tg_requantize with
 * shift <= 0. */
static inline int8_t tg_add_s8_element(const tg_add_params_t *p, int8_t a, int8_t b)
{
    const int32_t shifted1 = ((int32_t)a + p->input1_offset) * ((int32_t)1 << p->left_shift);
    const int32_t shifted2 = ((int32_t)b + p->input2_offset) * ((int32_t)1 << p->left_shift);
    const int32_t scaled1 = tg_requantize(shifted1, p->input1.multiplier, p->input1.shift);
    const int32_t scaled2 = tg_requantize(shifted2, p->input2.multiplier, p->input2.shift);
    const int32_t sum = scaled1 + scaled2;
    const int32_t out = tg_requantize(sum, p->output.multiplier, p->output.shift) + p->output_offset;
    return (int8_t)tg_clamp(out, p->activation.min, p->activation.max);
}

/* input1, input2 and output all have `size` elements. */
void tg_add_s8(const tg_add_params_t *params, int32_t size,
               const int8_t *input1, const int8_t *input2, int8_t *output);

void tg_add_broadcast_s8(const tg_add_params_t *params, const tg_broadcast_t *broadcast,
                         const int8_t *input1, const int8_t *input2, int8_t *output);

/* tg_add_s8's twin where each input's rescale is a table made at generation time: tables holds
 * 2 x 256 int32, input k's rescaled value of x at tables[256 * (k - 1) + x + 128] (every int8 x:
 * the reference's ((x + offset) << left_shift) rescaled, exactly), so only the sum's rescale is
 * computed per element. */
typedef struct {
    int32_t output_offset;
    tg_requant_t output;
    tg_range_t activation;
} tg_add_table_params_t;

void tg_add_s8_table(const tg_add_table_params_t *params, int32_t size, const int32_t *tables,
                     const int8_t *input1, const int8_t *input2, int8_t *output);

/* The same, the sum's rescale as the wide variants' epilogue (tinygen/tg_wide.h: the multiplier
 * doubled, a right shift in [1, 23] and its rounding term, exact as tg_wide_requantize states), four
 * elements per step on the DSP extension: two word loads, eight table loads, one word stored. */
typedef struct {
    int32_t output_offset;
    int32_t doubled;      /* the output multiplier (in [2^30, 2^31)) doubled, modulo 2^32: its sign bit set */
    int32_t right_shift;  /* in [1, 23] */
    int32_t rounding;     /* 2^(right_shift - 1) */
    tg_range_t activation;
} tg_add_table_wide_params_t;

void tg_add_s8_table_wide(const tg_add_table_wide_params_t *params, int32_t size, const int32_t *tables,
                          const int8_t *input1, const int8_t *input2, int8_t *output);

/* ---- MUL: TFLM reference_integer_ops MulElementwise ------------------------------------------ */
typedef struct {
    int32_t input1_offset;   /* -input 1 zero point */
    int32_t input2_offset;   /* -input 2 zero point */
    int32_t output_offset;   /* output zero point */
    tg_requant_t output;     /* input1_scale * input2_scale / output_scale */
    tg_range_t activation;
} tg_mul_params_t;

static inline int8_t tg_mul_s8_element(const tg_mul_params_t *p, int8_t a, int8_t b)
{
    const int32_t product = ((int32_t)a + p->input1_offset) * ((int32_t)b + p->input2_offset);
    const int32_t out = tg_requantize(product, p->output.multiplier, p->output.shift) + p->output_offset;
    return (int8_t)tg_clamp(out, p->activation.min, p->activation.max);
}

void tg_mul_s8(const tg_mul_params_t *params, int32_t size,
               const int8_t *input1, const int8_t *input2, int8_t *output);

void tg_mul_broadcast_s8(const tg_mul_params_t *params, const tg_broadcast_t *broadcast,
                         const int8_t *input1, const int8_t *input2, int8_t *output);

/* ---- RELU: TFLM ReluQuantized (requantizes from the input's to the output's scale) ----------- */
typedef struct {
    int32_t input_zero_point;   /* subtracted from each input */
    int32_t output_zero_point;  /* added after rescaling */
    tg_requant_t requant;       /* input_scale / output_scale */
    tg_range_t activation;      /* [max(-128, output zero point), 127] */
} tg_relu_params_t;

void tg_relu_s8(const tg_relu_params_t *params, int32_t size, const int8_t *input, int8_t *output);

/* ---- RELU6: TFLM Relu6Quantized (a clamp in the INPUT's quantization, no rescaling) ------------ */
void tg_relu6_s8(const tg_range_t *range, int32_t size, const int8_t *input, int8_t *output);

/* ---- QUANTIZE / DEQUANTIZE --------------------------------------------------------------------- */
typedef struct {
    float scale;
    int32_t zero_point;
} tg_affine_quant_t;

/* float32 -> int8: TFLM AffineQuantize, round(x / scale) + zero_point in float, clamped. */
void tg_quantize_f32_s8(const tg_affine_quant_t *quant, int32_t size, const float *input, int8_t *output);

/* int8 -> int8: TFLM Requantize. */
typedef struct {
    int32_t input_zero_point;
    int32_t output_zero_point;
    tg_requant_t requant;  /* input_scale / output_scale */
} tg_requantize_params_t;

void tg_requantize_s8(const tg_requantize_params_t *params, int32_t size, const int8_t *input, int8_t *output);

/* int8 -> float32: TFLM Dequantize, scale * (q - zero_point) in float. */
void tg_dequantize_s8_f32(const tg_affine_quant_t *quant, int32_t size, const int8_t *input, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_ELEMENTWISE_H */
