/* tinygen runtime: AVERAGE_POOL_2D and MAX_POOL_2D kernels. */
#ifndef TINYGEN_TG_POOLING_H
#define TINYGEN_TG_POOLING_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (kernels of this family are declared here) */

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_POOLING_H */
