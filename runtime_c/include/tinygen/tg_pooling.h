/* tinygen runtime: AVERAGE_POOL_2D and MAX_POOL_2D kernels. */
#ifndef TINYGEN_TG_POOLING_H
#define TINYGEN_TG_POOLING_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- AVERAGE_POOL_2D, MAX_POOL_2D --------------------------------------------------------- */
/* TFLM requires the input and output quantization to be the same, so pooling works directly on
 * the stored int8 values: no offsets, no requantization, only the fused-activation clamp. */
typedef struct {
    tg_hw_t stride;
    tg_hw_t padding;   /* top/left padding, as TFLM's ComputePaddingHeightWidth */
    tg_hw_t filter;
    tg_range_t activation;
} tg_pool_params_t;

/* Averages only the window elements inside the image, rounding half away from zero. */
void tg_avg_pool_s8(const tg_pool_params_t *params,
                    const tg_dims_t *input_dims, const int8_t *input,
                    const tg_dims_t *output_dims, int8_t *output);

void tg_max_pool_s8(const tg_pool_params_t *params,
                    const tg_dims_t *input_dims, const int8_t *input,
                    const tg_dims_t *output_dims, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_POOLING_H */
