/* Private to the SOFTMAX kernels: one row of TFLM's reference_ops::Softmax for int8 input, shared
 * by the int8- and int16-output variants (TFLM's template over OutputT). */
#ifndef TINYGEN_TG_SOFTMAX_ROW_H
#define TINYGEN_TG_SOFTMAX_ROW_H

#include "tinygen/tg_fixedpoint_math.h"
#include "tinygen/tg_nonlinear.h"

/* exp() takes the scaled difference in Q5.26: differences down to -32 before beta * scale, so
 * that exp(-16) and below, which no longer count, still fit. The sum of exps is in Q12.19. */
#define TG_SOFTMAX_DIFF_INTEGER_BITS 5
#define TG_SOFTMAX_ACCUM_INTEGER_BITS 12

typedef struct {
    int32_t max_in_row;
    int32_t reciprocal;  /* 1 / (sum of exps), Q0.31, scaled into [1/2, 1) */
    int32_t exponent;    /* right shift from reciprocal * exp to the output's steps */
} tg_softmax_row_t;

/* exp((x - max) * beta * input_scale) in Q0.31, for a difference the caller checked >= diff_min. */
static inline int32_t tg_softmax_exp(const tg_softmax_params_t *params, int32_t input_diff)
{
    const int32_t scaled_diff =
        tg_requantize_greater_than_one(input_diff, params->input_multiplier, params->input_left_shift);
    return tg_fx_exp_on_negative_values(scaled_diff, TG_SOFTMAX_DIFF_INTEGER_BITS);
}

static inline tg_softmax_row_t tg_softmax_row_prepare(const tg_softmax_params_t *params, int32_t depth,
                                                      const int8_t *in, int32_t output_bits)
{
    tg_softmax_row_t row;
    row.max_in_row = INT8_MIN;
    for (int32_t c = 0; c < depth; ++c) {
        row.max_in_row = in[c] > row.max_in_row ? in[c] : row.max_in_row;
    }
    int32_t sum_of_exps = 0;
    for (int32_t c = 0; c < depth; ++c) {
        const int32_t input_diff = (int32_t)in[c] - row.max_in_row;
        if (input_diff >= params->diff_min) {
            /* A plain int32 add as in TFLM: it wraps only for >= 4096 maximal elements. */
            sum_of_exps = tg_fx_add(sum_of_exps, tg_fx_rescale(tg_softmax_exp(params, input_diff), 0,
                                                               TG_SOFTMAX_ACCUM_INTEGER_BITS));
        }
    }
    int32_t num_bits_over_unit;
    row.reciprocal = tg_fx_get_reciprocal(sum_of_exps, TG_SOFTMAX_ACCUM_INTEGER_BITS, &num_bits_over_unit);
    row.exponent = num_bits_over_unit + 31 - output_bits;
    return row;
}

/* The output for one element; out_min is also the output zero point (probability 0). */
static inline int32_t tg_softmax_row_output(const tg_softmax_params_t *params, const tg_softmax_row_t *row,
                                            int8_t x, int32_t out_min, int32_t out_max)
{
    const int32_t input_diff = (int32_t)x - row->max_in_row;
    if (input_diff < params->diff_min) {
        return out_min;
    }
    int32_t unsat_output = 0;
    /* TFLM stops with TFLITE_CHECK(exponent <= 31) when the sum of exps reaches 2^(39 - output
     * bits), i.e. 512 elements equal to the row maximum for int8 output. Every output then
     * rounds to 0 mathematically; that is what this kernel returns instead of stopping. */
    if (row->exponent <= 31) {
        unsat_output = tg_rounding_divide_by_pot(tg_fx_mul(row->reciprocal, tg_softmax_exp(params, input_diff)),
                                                 row->exponent);
    }
    return tg_clamp(unsat_output + out_min, out_min, out_max);
}

#endif /* TINYGEN_TG_SOFTMAX_ROW_H */
