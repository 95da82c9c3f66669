/* LOG_SOFTMAX, int8: TFLM reference_ops::LogSoftmaxQuantized<int8_t> (gemmlowp fixed point). */
#include "tinygen/tg_fixedpoint_math.h"
#include "tinygen/tg_kernels.h"

enum {
    kInputIntegerBits = 5,         /* differences in Q5.26: exp(-16) is negligible */
    kAccumulationIntegerBits = 12, /* the sum of exps cannot overflow in 2^12 terms */
    kOutputIntegerBits = 4,
};

void tg_log_softmax_s8(const tg_log_softmax_params_t *params, int32_t outer_size, int32_t depth,
                       const int8_t *input, int8_t *output)
{
    for (int32_t row = 0; row < outer_size; ++row) {
        const int8_t *in = input + row * depth;
        int8_t *out = output + row * depth;
        int32_t max_in_row = INT8_MIN;
        for (int32_t c = 0; c < depth; ++c) {
            max_in_row = in[c] > max_in_row ? in[c] : max_in_row;
        }

        int32_t sum_of_exps_q12 = 0;
        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = in[c] - max_in_row;
            if (diff >= params->diff_min) {
                const int32_t diff_q5 = tg_requantize(diff, params->input_multiplier, params->input_left_shift);
                const int32_t exp_q0 = tg_fx_exp_on_negative_values(diff_q5, kInputIntegerBits);
                sum_of_exps_q12 = tg_fx_add(sum_of_exps_q12, tg_fx_rescale(exp_q0, 0, kAccumulationIntegerBits));
            }
        }

        const int32_t log_sum_of_exps_q5 =
            tg_fx_log_x_for_x_greater_than_or_equal_to_1(sum_of_exps_q12, kAccumulationIntegerBits, kInputIntegerBits);
        /* The smallest Q5.26 value plus the log: below it an output would leave int8. */
        const int32_t shifted_log_sum_of_exps_q5 = tg_fx_add(log_sum_of_exps_q5, INT32_MIN);
        const int32_t reversed = tg_requantize(shifted_log_sum_of_exps_q5, params->reverse_scaling_divisor,
                                               -params->reverse_scaling_right_shift);
        const int32_t adjusted_diff_min = reversed > params->diff_min - 1 ? reversed : params->diff_min - 1;

        for (int32_t c = 0; c < depth; ++c) {
            const int32_t diff = in[c] - max_in_row;
            if (diff > adjusted_diff_min) { /* > here, >= above: as TFLM */
                const int32_t diff_q5 = tg_requantize(diff, params->input_multiplier, params->input_left_shift);
                const int32_t value = tg_rounding_divide_by_pot(tg_fx_sub(diff_q5, log_sum_of_exps_q5),
                                                                31 - kInputIntegerBits - kOutputIntegerBits) + INT8_MAX;
                out[c] = (int8_t)tg_clamp(value, INT8_MIN, INT8_MAX);
            } else {
                out[c] = INT8_MIN;
            }
        }
    }
}
