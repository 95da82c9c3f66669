/* tinygen runtime: shapes and quantization parameters shared by all kernels.
 *
 * Kernels take dims and quantization as structs (as CMSIS-NN does), so a call site in generated
 * code reads as a list of named constants. Activation tensors are NHWC; conv filters are
 * OHWI (n = output channels, c = input channels); fully-connected weights are [out][in].
 */
#ifndef TINYGEN_TG_TYPES_H
#define TINYGEN_TG_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int32_t n;
    int32_t h;
    int32_t w;
    int32_t c;
} tg_dims_t;

typedef struct {
    int32_t h;
    int32_t w;
} tg_hw_t;

/* Output clamp from the fused activation, in the output's quantized domain. */
typedef struct {
    int32_t min;
    int32_t max;
} tg_range_t;

/* real ~= multiplier * 2^(shift - 31); shift > 0 shifts left (TFLM's convention). */
typedef struct {
    int32_t multiplier;
    int32_t shift;
} tg_requant_t;

/* Per output channel requantization. per_channel == 0: element 0 applies to every channel. */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
    int32_t per_channel;
} tg_channel_requant_t;

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_TYPES_H */
