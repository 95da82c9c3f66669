/* MAX_POOL_2D, int16: TFLM reference_integer_ops::MaxPool. */
#define TG_POOL_ELEMENT_T int16_t
#define TG_POOL_ELEMENT_MIN INT16_MIN
#define TG_MAX_POOL_FUNCTION tg_max_pool_s16
#include "tg_pool_body.h"
