/* The body both SVDF kernels share; the including file defines TG_SVDF_STATE_T (int16_t or int8_t),
 * the type of the state and of the time weights. Private to tg_svdf_s8_s16.c and tg_svdf_s8_s8.c. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

/* int32 sums that wrap as TFLM's do on the hardware, without C's undefined behaviour. */
static inline int32_t tg_svdf_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}

static inline void tg_svdf_body(const tg_svdf_params_t *p, const int8_t *input, const int8_t *weights_feature,
                                const TG_SVDF_STATE_T *weights_time, const int32_t *bias,
                                TG_SVDF_STATE_T *state, int8_t *output, int32_t *scratch)
{
    const int32_t state_size = p->batches * p->filters * p->memory;
    const int32_t state_min = sizeof(TG_SVDF_STATE_T) == 2 ? -32768 : -128;
    const int32_t state_max = sizeof(TG_SVDF_STATE_T) == 2 ? 32767 : 127;
    int32_t *filter_sums = scratch;                                 /* [batches][filters] */
    int32_t *unit_sums = scratch + p->batches * p->filters;         /* [batches][units] */

    /* The whole state moves one step left; each filter's newest slot is then rewritten. */
    for (int32_t i = 0; i + 1 < state_size; ++i) {
        state[i] = state[i + 1];
    }
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *in = input + b * p->input_size;
        TG_SVDF_STATE_T *newest = state + b * p->filters * p->memory + (p->memory - 1);
        for (int32_t f = 0; f < p->filters; ++f) {
            const int8_t *w = weights_feature + f * p->input_size;
            int32_t dot = 0;
            for (int32_t c = 0; c < p->input_size; ++c) {
                dot = tg_svdf_add(dot, (int32_t)w[c] * ((int32_t)in[c] - p->input_zero_point));
            }
            dot = tg_clamp(tg_requantize(dot, p->feature_multiplier, p->feature_shift), state_min, state_max);
            newest[f * p->memory] = (TG_SVDF_STATE_T)(p->state_zero_point + dot);
        }
    }
    /* Each filter's memory against its time weights. */
    for (int32_t b = 0; b < p->batches; ++b) {
        const TG_SVDF_STATE_T *s = state + b * p->filters * p->memory;
        const TG_SVDF_STATE_T *t = weights_time;
        for (int32_t f = 0; f < p->filters; ++f) {
            int32_t sum = 0;
            for (int32_t m = 0; m < p->memory; ++m) {
                sum = tg_svdf_add(sum, (int32_t)*t++ * ((int32_t)*s++ - p->state_zero_point));
            }
            filter_sums[b * p->filters + f] = sum;
        }
    }
    /* Bias, then each unit's rank filters summed, rescaled to int8 (TFLM applies no activation here). */
    for (int32_t b = 0; b < p->batches; ++b) {
        const int32_t *sums = filter_sums + b * p->filters;
        for (int32_t u = 0; u < p->units; ++u) {
            int32_t acc = bias[u];
            for (int32_t r = 0; r < p->rank; ++r) {
                acc = tg_svdf_add(acc, *sums++);
            }
            unit_sums[b * p->units + u] = acc;
        }
    }
    for (int32_t i = 0; i < p->batches * p->units; ++i) {
        const int32_t x = tg_requantize(unit_sums[i], p->output_multiplier, p->output_shift) + p->output_zero_point;
        output[i] = (int8_t)tg_clamp(x, -128, 127);
    }
}
