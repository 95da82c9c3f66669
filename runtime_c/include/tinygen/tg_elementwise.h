/* tinygen runtime: ADD, MUL, RELU, RELU6, QUANTIZE and DEQUANTIZE kernels. */
#ifndef TINYGEN_TG_ELEMENTWISE_H
#define TINYGEN_TG_ELEMENTWISE_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (kernels of this family are declared here) */

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_ELEMENTWISE_H */
