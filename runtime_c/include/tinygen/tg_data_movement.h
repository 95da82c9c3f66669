/* tinygen runtime: kernels that move int8 values without computing on them (TRANSPOSE, slicing,
 * resizing, gathering). Stored values are not requantized: TFLM does not requantize these either. */
#ifndef TINYGEN_TG_DATA_MOVEMENT_H
#define TINYGEN_TG_DATA_MOVEMENT_H

#include "tinygen/tg_shape_ops.h"
#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- strided copy (TRANSPOSE, SLICE, STRIDED_SLICE, ...) ----------------------------------- */
#define TG_COPY_RANK 6 /* shapes are extended at the front to 6 dims, as TFLM's RuntimeShape */

/* The output is written in order; its element [i0..i5] is input[offset + sum(ik * strides[k])].
 * A stride may be 0 or negative (broadcast, reversal); the generator keeps every read in bounds. */
typedef struct {
    const int32_t *output_dims;   /* TG_COPY_RANK entries, leading dims 1 */
    const int32_t *input_strides; /* TG_COPY_RANK entries, in elements */
    int32_t input_offset;         /* input element that output element 0 reads */
} tg_strided_copy_params_t;

void tg_strided_copy_s8(const tg_strided_copy_params_t *params, const int8_t *input, int8_t *output);

/* ---- RESIZE_NEAREST_NEIGHBOR --------------------------------------------------------------- */
/* The source row/column of every output row/column is computed at generation time with TFLM's
 * float arithmetic (GetNearestNeighbor); the kernel only copies depth-long pixels. */
typedef struct {
    tg_dims_t input;          /* NHWC */
    int32_t output_h;
    int32_t output_w;
    const int32_t *source_y;  /* output_h entries */
    const int32_t *source_x;  /* output_w entries */
} tg_resize_nearest_params_t;

void tg_resize_nearest_s8(const tg_resize_nearest_params_t *params, const int8_t *input, int8_t *output);

/* ---- REDUCE_MAX / REDUCE_MIN: TFLM ReduceGeneric on stored values --------------------------- */
/* The parameters are MEAN's (tg_mean_params_t: merged dims and which are reduced); count, the zero
 * points and requant are unused, as TFLM requires the input's quantization on the output. */
void tg_reduce_max_s8(const tg_mean_params_t *params, const int8_t *input, int8_t *output);

void tg_reduce_min_s8(const tg_mean_params_t *params, const int8_t *input, int8_t *output);

/* ---- ARG_MAX / ARG_MIN: TFLM reference_ops::ArgMinMax -------------------------------------- */
/* The input as [outer][axis_size][inner]; each output is the index of the first extreme value. */
typedef struct {
    int32_t outer_size;
    int32_t axis_size;
    int32_t inner_size;
} tg_arg_extreme_params_t;

void tg_arg_max_s8(const tg_arg_extreme_params_t *params, const int8_t *input, int32_t *output);

void tg_arg_min_s8(const tg_arg_extreme_params_t *params, const int8_t *input, int32_t *output);

/* ---- GATHER: TFLM gather.cc ------------------------------------------------------------------- */
/* The input as [batch][outer][axis_size][inner], positions as [batch][coord_size]; the output as
 * [batch][outer][coord_size][inner]. A position outside [0, axis_size) (TFLM reads out of bounds
 * there) is clamped into it, so the kernel never leaves the input. */
typedef struct {
    int32_t batch_size;
    int32_t outer_size;
    int32_t axis_size;
    int32_t coord_size;
    int32_t inner_size;
} tg_gather_params_t;

void tg_gather_s8(const tg_gather_params_t *params, const int8_t *input, const int32_t *positions, int8_t *output);

/* ---- RESIZE_BILINEAR: TFLM reference_ops::ResizeBilinearInteger ------------------------------ */
/* For every output row: the two source rows and the weight (in 1/1024) of the lower one's
 * distance, computed at generation time as ComputeInterpolationValuesInteger does; likewise for
 * columns. The weights may leave [0, 1024] at the borders (half-pixel centers): TFLM keeps them. */
typedef struct {
    tg_dims_t input;          /* NHWC */
    int32_t output_h;
    int32_t output_w;
    const int32_t *y0;        /* output_h entries */
    const int32_t *y1;
    const int32_t *y_weight;  /* input_y - 1024 * y0 */
    const int32_t *x0;        /* output_w entries */
    const int32_t *x1;
    const int32_t *x_weight;  /* input_x - 1024 * x0 */
} tg_resize_bilinear_params_t;

void tg_resize_bilinear_s8(const tg_resize_bilinear_params_t *params, const int8_t *input, int8_t *output);

/* ---- separable gather (MIRROR_PAD, BATCH_TO_SPACE_ND) ------------------------------------------- */
/* Output element [i0..i5] is input[tables[start[0] + i0] + ... + tables[start[5] + i5]]: each
 * dimension's table holds, per output index, the input element offset it contributes. */
typedef struct {
    const int32_t *output_dims;  /* TG_COPY_RANK entries, leading dims 1 */
    const int32_t *table_start;  /* TG_COPY_RANK entries: where each dimension's table begins */
    const int32_t *tables;       /* output_dims[d] entries per dimension, concatenated */
} tg_separable_gather_params_t;

void tg_separable_gather_s8(const tg_separable_gather_params_t *params, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_DATA_MOVEMENT_H */
