/* tinygen runtime: PAD, CONCATENATION and MEAN kernels. */
#ifndef TINYGEN_TG_SHAPE_OPS_H
#define TINYGEN_TG_SHAPE_OPS_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* (kernels of this family are declared here) */

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_SHAPE_OPS_H */
