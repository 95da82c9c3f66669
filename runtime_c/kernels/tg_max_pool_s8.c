/* MAX_POOL_2D, int8: TFLM reference_integer_ops::MaxPool. */
#define TG_POOL_ELEMENT_T int8_t
#define TG_POOL_ELEMENT_MIN INT8_MIN
#define TG_MAX_POOL_FUNCTION tg_max_pool_s8
#include "tg_pool_body.h"
