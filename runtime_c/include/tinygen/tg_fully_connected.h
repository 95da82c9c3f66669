/* tinygen runtime: FULLY_CONNECTED kernels. */
#ifndef TINYGEN_TG_FULLY_CONNECTED_H
#define TINYGEN_TG_FULLY_CONNECTED_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

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

/* The same results as tg_fully_connected_s8, faster (SMLAD on cores with the DSP extension), for
 * weights without zero point: params->filter_offset == 0. */
void tg_fully_connected_s8_fast(const tg_fc_params_t *params, const tg_channel_requant_t *requant,
                                int32_t batches, int32_t accum_depth, int32_t output_depth,
                                const int8_t *input, const int8_t *filter,
                                const int32_t *bias, /* may be NULL */
                                int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_FULLY_CONNECTED_H */
