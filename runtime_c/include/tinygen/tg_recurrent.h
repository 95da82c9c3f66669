/* tinygen runtime: operators with state kept between invocations (SVDF). */
#ifndef TINYGEN_TG_RECURRENT_H
#define TINYGEN_TG_RECURRENT_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SVDF ----------------------------------------------------------------------------------- */
typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t filters;            /* units * rank */
    int32_t units;
    int32_t rank;
    int32_t memory;             /* time steps kept per filter */
    int32_t input_zero_point;
    int32_t state_zero_point;
    int32_t output_zero_point;
    int32_t feature_multiplier; /* input x feature weights -> state */
    int32_t feature_shift;
    int32_t output_multiplier;  /* state x time weights -> output */
    int32_t output_shift;
} tg_svdf_params_t;

/* TFLM's EvalIntegerSvdfReference. input: [batches][input_size], weights_feature:
 * [filters][input_size], weights_time: [filters][memory], bias: [units], state (kept between calls):
 * [batches][filters][memory], output: [batches][units]. scratch: (batches * filters + batches *
 * units) int32 values. The _s16 kernel keeps int16 state and time weights, the _s8 one int8. */
void tg_svdf_s8_s16(const tg_svdf_params_t *params, const int8_t *input, const int8_t *weights_feature,
                    const int16_t *weights_time, const int32_t *bias, int16_t *state,
                    int8_t *output, int32_t *scratch);
void tg_svdf_s8_s8(const tg_svdf_params_t *params, const int8_t *input, const int8_t *weights_feature,
                   const int8_t *weights_time, const int32_t *bias, int8_t *state,
                   int8_t *output, int32_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_RECURRENT_H */
