/* BATCH_MATMUL, int8: TFLM reference_ops::BatchMatMul (int32 accumulation, one per-tensor multiplier,
 * GetQuantizedConvolutionMultipler's), output clamped to int8. The sums are exact, so walking the
 * operands through strides instead of TFLM's transposed copies gives the same bits. */
#include "tinygen/tg_kernels.h"

void tg_batch_matmul_s8(const tg_batch_matmul_params_t *params, const int8_t *lhs, const int8_t *rhs,
                        int8_t *output)
{
    const int32_t *extent = params->batch;
    const int32_t *lhs_stride = params->batch + 3;
    const int32_t *rhs_stride = params->batch + 6;
    for (int32_t b0 = 0; b0 < extent[0]; ++b0)
    for (int32_t b1 = 0; b1 < extent[1]; ++b1)
    for (int32_t b2 = 0; b2 < extent[2]; ++b2) {
        const int8_t *l = lhs + b0 * lhs_stride[0] + b1 * lhs_stride[1] + b2 * lhs_stride[2];
        const int8_t *r = rhs + b0 * rhs_stride[0] + b1 * rhs_stride[1] + b2 * rhs_stride[2];
        for (int32_t row = 0; row < params->rows; ++row) {
            for (int32_t col = 0; col < params->cols; ++col) {
                int32_t total = 0;
                for (int32_t k = 0; k < params->depth; ++k) {
                    const int32_t a = (int32_t)l[row * params->lhs_row_stride + k * params->lhs_depth_stride]
                                      + params->lhs_offset;
                    const int32_t b = (int32_t)r[k * params->rhs_depth_stride + col * params->rhs_col_stride]
                                      + params->rhs_offset;
                    total = tg_fx_add(total, a * b);
                }
                const int32_t out = tg_requantize(total, params->output.multiplier, params->output.shift)
                                    + params->output_offset;
                *output++ = (int8_t)tg_clamp(out, INT8_MIN, INT8_MAX);
            }
        }
    }
}
