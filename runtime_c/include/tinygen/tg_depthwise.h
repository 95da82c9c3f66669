/* tinygen runtime: DEPTHWISE_CONV_2D kernels. */
#ifndef TINYGEN_TG_DEPTHWISE_H
#define TINYGEN_TG_DEPTHWISE_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (kernels of this family are declared here) */

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_DEPTHWISE_H */
