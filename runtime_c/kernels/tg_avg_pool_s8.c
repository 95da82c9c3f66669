/* AVERAGE_POOL_2D, int8: TFLM reference_integer_ops::AveragePool. */
#define TG_POOL_ELEMENT_T int8_t
#define TG_POOL_ELEMENT_MIN INT8_MIN
#define TG_AVG_POOL_FUNCTION tg_avg_pool_s8
#include "tg_pool_body.h"
