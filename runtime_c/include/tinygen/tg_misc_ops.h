/* tinygen runtime, issue 10's second set of operators (int8, bit-exact with TFLite Micro): table
 * lookups (ELU), RSQRT, ADD_N, ZEROS_LIKE, the comparisons, SELECT_V2, CUMSUM, L2_NORMALIZATION,
 * GATHER_ND and the row gather SPACE_TO_BATCH_ND is tabulated into. */
#ifndef TINYGEN_TG_MISC_OPS_H
#define TINYGEN_TG_MISC_OPS_H

#include "tinygen/tg_fixedpoint_math.h"
#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gemmlowp-style 1/sqrt(input) as a multiplier and shift: TFLM's GetInvSqrtQuantizedMultiplierExp
 * with reverse_shift -1 (the shift returned is a left shift, TFLM's convention). Inputs <= 1 give
 * (INT32_MAX, 0), as in TFLM. */
static inline void tg_inv_sqrt_multiplier(int32_t input, int32_t *multiplier, int32_t *shift)
{
    if (input <= 1) {
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    int32_t out_shift = 11;
    while (input >= (1 << 29)) {
        input /= 4;
        ++out_shift;
    }
    const int32_t max_left_shift_bits = tg_count_leading_zeros_u32((uint32_t)input) - 1;
    const int32_t left_shift_bit_pairs = max_left_shift_bits / 2 - 1;
    out_shift -= left_shift_bit_pairs;
    input = (int32_t)((uint32_t)input << (2 * left_shift_bit_pairs));
    /* Newton-Raphson on FixedPoint<int32_t, 3>, five steps from x = 1. */
    const int32_t fixed_input = input >> 1;
    const int32_t half_input = tg_fx_saturating_rounding_mul_by_pot(fixed_input, -1);
    const int32_t half_three = (1 << 28) + (1 << 27);
    int32_t x = tg_fx_one(3);
    for (int i = 0; i < 5; ++i) {
        const int32_t x3 = tg_fx_rescale(tg_fx_mul(tg_fx_mul(x, x), x), 9, 3);
        x = tg_fx_rescale(tg_fx_sub(tg_fx_mul(half_three, x), tg_fx_mul(half_input, x3)), 6, 3);
    }
    const int32_t half_sqrt_2 = 1518500250; /* sqrt(2)/2 in Q0.31 */
    x = tg_fx_mul(x, half_sqrt_2);           /* FixedPoint<3> * FixedPoint<0>: raw product, 3 integer bits */
    if (out_shift < 0) {
        x = (int32_t)((uint32_t)x << -out_shift);
        out_shift = 0;
    }
    *multiplier = x;
    *shift = -out_shift;
}

/* ---- ELU (and any int8 -> int8 function TFLM tabulates): out = table[(uint8_t)in] ----------- */
void tg_lut_s8(const int8_t *table, int32_t size, const int8_t *input, int8_t *output);

/* ---- RSQRT: TFLM RsqrtEvalQuantized --------------------------------------------------------- */
typedef struct {
    int32_t input_offset;   /* input zero point (subtracted) */
    int32_t output_offset;  /* output zero point */
    tg_requant_t output;    /* 1 / (sqrt(input_scale) * output_scale) */
} tg_rsqrt_params_t;

void tg_rsqrt_s8(const tg_rsqrt_params_t *params, int32_t size, const int8_t *input, int8_t *output);

/* ---- ADD_N: TFLM reference_ops::AddN (int8), ADD's rescaling with one input scale --------------
 * Called as tg_add_n_s8(params, size, scratch, output, input0, input1, ...): params->count inputs,
 * each of `size` elements; scratch holds `size` int32 accumulators (tg_add_n_s8_buffer_size). */
typedef struct {
    int32_t count;          /* number of inputs (>= 2) */
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;  /* output zero point */
    int32_t left_shift;     /* 20 */
    tg_requant_t input;     /* 0.5 */
    tg_requant_t output;    /* 2 * input_scale / (2^20 * output_scale) */
    tg_range_t activation;
} tg_add_n_params_t;

void tg_add_n_s8(const tg_add_n_params_t *params, int32_t size, int32_t *scratch, int8_t *output, ...);

/* ---- ZEROS_LIKE: every byte of the output zero (int8, int32 and float32 zeros alike) ---------- */
void tg_zeros_like(int32_t bytes, void *output);

/* ---- the comparisons: TFLM ComparisonWithScaling / BroadcastComparison4DSlowWithScaling --------- */
#define TG_MISC_RANK 6

/* A predicate is the set of outcomes it holds for: no switch (a jump table's indirect jump would
 * blur the static stack bound's call graph). */
enum { TG_OUTCOME_LESS = 1, TG_OUTCOME_EQUAL = 2, TG_OUTCOME_GREATER = 4 };

typedef struct {
    int32_t predicate;      /* TG_OUTCOME_* bits for which the output is true */
    int32_t input1_offset;  /* -zero points */
    int32_t input2_offset;
    int32_t left_shift;     /* 8 */
    tg_requant_t input1;    /* the input scales themselves (QuantizeMultiplierSmallerThanOneExp) */
    tg_requant_t input2;
} tg_compare_params_t;

/* An n-input broadcast over TG_MISC_RANK dimensions: strides are 0 along broadcast dimensions. */
typedef struct {
    const int32_t *output_dims;  /* TG_MISC_RANK extents */
    const int32_t *strides;      /* TG_MISC_RANK per input, input after input */
} tg_nary_broadcast_t;

void tg_compare_s8(const tg_compare_params_t *params, const tg_nary_broadcast_t *broadcast,
                   const int8_t *input1, const int8_t *input2, uint8_t *output);

/* ---- SELECT_V2: TFLM Select / BroadcastSelect5DSlow (stored values, no rescaling) ---------- */
void tg_select_s8(const tg_nary_broadcast_t *broadcast, const uint8_t *condition,
                  const int8_t *x, const int8_t *y, int8_t *output);

/* ---- CUMSUM: TFLM reference_ops::CumSum (int8) --------------------------------------------- */
typedef struct {
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;
    int32_t left_shift;     /* 20 */
    tg_requant_t input;     /* 0.5 */
    tg_requant_t output;
    tg_range_t activation;
    int32_t before;         /* product of the dimensions before the axis */
    int32_t depth;          /* the axis */
    int32_t after;          /* product of the dimensions after it */
    int32_t exclusive;
    int32_t reverse;
} tg_cumsum_params_t;

void tg_cumsum_s8(const tg_cumsum_params_t *params, const int8_t *input, int8_t *output);

/* ---- L2_NORMALIZATION: TFLM reference_integer_ops::L2Normalization (output scale 1/128, zp 0) -- */
typedef struct {
    int32_t input_zero_point;
    int32_t outer;          /* rows */
    int32_t depth;          /* the last dimension */
} tg_l2norm_params_t;

void tg_l2norm_s8(const tg_l2norm_params_t *params, const int8_t *input, int8_t *output);

/* ---- GATHER_ND: TFLM GatherNd<int8_t, int32_t>; an out-of-range slice is written as zeros ----- */
#define TG_GATHER_ND_MAX 5

typedef struct {
    int32_t slices;         /* index tuples */
    int32_t index_depth;    /* entries per tuple (<= TG_GATHER_ND_MAX) */
    int32_t slice_size;     /* elements copied per tuple */
    int32_t params_size;    /* elements of params */
    const int32_t *dim_strides;  /* index_depth element strides of params */
} tg_gather_nd_params_t;

void tg_gather_nd_s8(const tg_gather_nd_params_t *params, const int8_t *values, const int32_t *indices,
                     int8_t *output);

/* ---- row gather (SPACE_TO_BATCH_ND): output row r is input row sources[r], or pad_value bytes
 * where sources[r] < 0; rows are `depth` elements long. */
typedef struct {
    int32_t rows;
    int32_t depth;
    int32_t pad_value;
    const int32_t *sources;  /* element offset of each row in the input, -1: padding */
} tg_row_gather_params_t;

void tg_row_gather_s8(const tg_row_gather_params_t *params, const int8_t *input, int8_t *output);

/* ---- BATCH_MATMUL: TFLM reference_ops::BatchMatMul<int8_t, int32_t> -------------------------
 * out[b][r][c] = requant(sum_k (lhs(r, k) + lhs_offset) * (rhs(k, c) + rhs_offset)), three broadcast
 * batch dimensions (stride 0 where an operand broadcasts), adj_x / adj_y as element strides. */
typedef struct {
    int32_t lhs_offset;     /* -lhs zero point */
    int32_t rhs_offset;     /* -rhs zero point */
    int32_t output_offset;
    tg_requant_t output;    /* (lhs_scale * rhs_scale in float) / output_scale */
    int32_t rows;
    int32_t cols;
    int32_t depth;
    int32_t lhs_row_stride;
    int32_t lhs_depth_stride;
    int32_t rhs_depth_stride;
    int32_t rhs_col_stride;
    const int32_t *batch;   /* 3 batch extents, then 3 lhs batch strides, then 3 rhs batch strides */
} tg_batch_matmul_params_t;

void tg_batch_matmul_s8(const tg_batch_matmul_params_t *params, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output);

/* ---- TRANSPOSE_CONV: TFLM reference_integer_ops::TransposeConv (int8, int32 bias) ------------
 * Every input pixel scattered through the filter into int32 sums (scratch: one per output element,
 * tg_transpose_conv_s8_buffer_size), then bias, per-channel requantization and clamp. The filter's
 * zero point is not used, as in TFLM. */
typedef struct {
    int32_t input_offset;   /* -input zero point */
    int32_t output_offset;
    int32_t stride_h;
    int32_t stride_w;
    int32_t pad_h;          /* top / left padding, from the output size (ComputePaddingHeightWidth) */
    int32_t pad_w;
    tg_range_t activation;
} tg_transpose_conv_params_t;

void tg_transpose_conv_s8(const tg_transpose_conv_params_t *params, const tg_channel_requant_t *requant,
                          const tg_dims_t *input_dims, const int8_t *input, const tg_dims_t *filter_dims,
                          const int8_t *filter, const int32_t *bias, const tg_dims_t *output_dims,
                          int32_t *scratch, int8_t *output);

/* ---- float islands: TFLM's float32 reference kernels (NEG, RSQRT, ADD, SUB, MUL) -------------
 * Each output is one IEEE-754 operation (or sqrt then a division), correctly rounded on every target
 * (FPU or libgcc's soft float), so no FMA contraction can arise: no product feeds a sum. The
 * activation clamp is TFLM's ActivationFunctionWithMinMax, std::min(std::max(x, lo), hi). */
typedef struct {
    float min;
    float max;
} tg_range_f32_t;

enum { TG_F32_ADD = 0, TG_F32_SUB = 1, TG_F32_MUL = 2 };

/* sqrt of a float32, correctly rounded as IEEE-754 requires (what the FPU's or the C library's sqrtf
 * gives), computed on the bits: no libm. The 24-bit significand is widened, its integer square root
 * taken and rounded to nearest (a square root is never exactly halfway between two floats). */
typedef union {
    float f;
    uint32_t u;
} tg_f32_bits_t;

static inline float tg_sqrt_f32(float x)
{
    tg_f32_bits_t v = {x};
    const uint32_t sign = v.u >> 31;
    int32_t exponent = (int32_t)((v.u >> 23) & 0xFF);
    uint32_t mantissa = v.u & 0x7FFFFF;
    if (exponent == 0xFF) {                          /* NaN stays NaN, +inf stays, -inf is invalid */
        if (mantissa == 0 && sign) {
            v.u = 0xFFC00000u;
        }
        return v.f;
    }
    if (exponent == 0 && mantissa == 0) {            /* +-0 */
        return x;
    }
    if (sign) {                                      /* the default NaN, as x86 and ARM produce */
        v.u = 0xFFC00000u;
        return v.f;
    }
    if (exponent == 0) {                             /* subnormal: normalise */
        exponent = 1;
        while ((mantissa & 0x800000) == 0) {
            mantissa <<= 1;
            --exponent;
        }
    } else {
        mantissa |= 0x800000;
    }
    int32_t e = exponent - 127;                      /* x = mantissa * 2^(e - 23) */
    uint64_t m = mantissa;
    if (e & 1) {                                     /* make the exponent even */
        m <<= 1;
        e -= 1;
    }
    /* x = M * 2^(e - 46) with M = m << 23 in [2^46, 2^48): sqrt(x) = sqrt(M) * 2^(e/2 - 23), and
     * r = floor(sqrt(M)) has 24 bits. */
    const uint64_t big = m << 23;
    uint64_t r = 0;
    uint64_t rem = 0;
    for (int32_t i = 62; i >= 0; i -= 2) {           /* bitwise integer square root */
        rem = (rem << 2) | ((big >> i) & 3);
        const uint64_t trial = (r << 2) | 1;
        r <<= 1;
        if (rem >= trial) {
            rem -= trial;
            r |= 1;
        }
    }
    if (rem > r) {                                   /* above the halfway point (r + 1/2)^2 */
        ++r;
    }
    int32_t result_exponent = e / 2;                 /* r in [2^23, 2^24]: r * 2^(e/2 - 23) */
    if (r == ((uint64_t)1 << 24)) {
        r >>= 1;
        ++result_exponent;
    }
    v.u = ((uint32_t)(result_exponent + 127) << 23) | ((uint32_t)r & 0x7FFFFF);
    return v.f;
}

void tg_neg_f32(int32_t size, const float *input, float *output);

void tg_rsqrt_f32(int32_t size, const float *input, float *output);

void tg_binary_f32(int32_t operation, const tg_range_f32_t *activation, const tg_nary_broadcast_t *broadcast,
                   const float *input1, const float *input2, float *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_MISC_OPS_H */
