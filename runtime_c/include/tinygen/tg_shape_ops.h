/* tinygen runtime: PAD, CONCATENATION and MEAN kernels. */
#ifndef TINYGEN_TG_SHAPE_OPS_H
#define TINYGEN_TG_SHAPE_OPS_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- PAD ---------------------------------------------------------------------------------- */
#define TG_PAD_RANK 5 /* TFLM's PadKernelMaxDimensionCount: shapes are extended to 5 dims */

typedef struct {
    const int32_t *input_dims;  /* TG_PAD_RANK entries, leading dims 1 */
    const int32_t *before;      /* TG_PAD_RANK entries: elements added before each dim */
    const int32_t *after;       /* TG_PAD_RANK entries: elements added after each dim */
    int32_t pad_value;          /* stored int8 value written into the padding */
} tg_pad_params_t;

/* Input values are copied unchanged: TFLM does not requantize PAD's input. */
void tg_pad_s8(const tg_pad_params_t *params, const int8_t *input, int8_t *output);

/* ---- CONCATENATION ------------------------------------------------------------------------ */
/* One call copies one input into its slice of the output: the output is outer_size blocks of
 * output_block bytes, and this input fills input_block bytes at output_offset in each block.
 * TFLM requires every input to share the output's quantization, so bytes are copied unchanged. */
typedef struct {
    int32_t outer_size;
    int32_t input_block;
    int32_t output_block;
    int32_t output_offset;
} tg_concat_params_t;

void tg_concatenation_s8(const tg_concat_params_t *params, const int8_t *input, int8_t *output);

/* ---- MEAN --------------------------------------------------------------------------------- */
#define TG_MEAN_MAX_RANK 6

typedef struct {
    int32_t rank;               /* <= TG_MEAN_MAX_RANK */
    const int32_t *dims;        /* input dims, `rank` entries */
    const int32_t *reduced;     /* 1 where the dim is averaged over, `rank` entries */
    int32_t count;              /* number of input elements averaged into each output */
    int32_t input_zero_point;
    int32_t output_zero_point;
    tg_requant_t requant;       /* input_scale / output_scale / count, folded as TFLM does */
} tg_mean_params_t;

/* Outputs are written in the order of the kept dims, whether or not the model keeps dims. */
void tg_mean_s8(const tg_mean_params_t *params, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_SHAPE_OPS_H */
