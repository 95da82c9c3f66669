/* The body of both integer LSTM kernels: TFLM's EvalLstm (lstm_eval.h), one row (batch entry, time
 * step) at a time; the batches are independent, so this gives TFLM's bits in time-major order too.
 * The including file defines TG_LSTM_ACT_T (int8_t or int16_t: input, hidden state, output),
 * TG_LSTM_BIAS_T (int32_t or int64_t: the gates' bias and accumulator), TG_LSTM_REQUANTIZE (the
 * accumulator's MultiplyByQuantizedMultiplier) and TG_LSTM_ACT_MIN/MAX. Private to tg_lstm_s*.c. */
#include "tinygen/tg_fixedpoint.h"
#include "tinygen/tg_kernels.h"

static int16_t sat16(int32_t x)
{
    return (int16_t)tg_clamp(x, -32768, 32767);
}

/* gate[s] = int16(requant(sum_i (w[s][i] + w_offset) * (x[i] + x_offset) [+ bias[s]])) */
static void gate_fc(int32_t state_size, int32_t depth, const TG_LSTM_ACT_T *x, int32_t x_offset, const int8_t *w,
                    int32_t w_offset, const TG_LSTM_BIAS_T *bias, tg_requant_t rq, int16_t *out)
{
    for (int32_t s = 0; s < state_size; ++s) {
        const int8_t *row = w + s * depth;
        TG_LSTM_BIAS_T acc = 0;
        for (int32_t i = 0; i < depth; ++i) {
            /* int32 products; the sums wrap as TFLM's do on hardware, without C's undefined behaviour */
            const int32_t product = ((int32_t)row[i] + w_offset) * ((int32_t)x[i] + x_offset);
            acc = (TG_LSTM_BIAS_T)((uint64_t)acc + (uint64_t)(int64_t)product);
        }
        if (bias != NULL) {
            acc = (TG_LSTM_BIAS_T)((uint64_t)acc + (uint64_t)(int64_t)bias[s]);
        }
        out[s] = sat16(TG_LSTM_REQUANTIZE(acc, rq.multiplier, rq.shift));
    }
}

static void gate(const tg_lstm_params_t *p, int32_t g, const TG_LSTM_ACT_T *x, const TG_LSTM_ACT_T *h,
                 const int8_t *input_weights, const int8_t *recurrent_weights, const TG_LSTM_BIAS_T *bias,
                 int16_t *out, int16_t *tmp, int32_t sigmoid)
{
    const int32_t n = p->state_size;
    gate_fc(n, p->input_size, x, p->input_offset, input_weights + g * n * p->input_size,
            p->input_weights_offset[g], bias + g * n, p->input_fc[g], out);
    gate_fc(n, n, h, p->hidden_offset, recurrent_weights + g * n * n, p->recurrent_weights_offset[g], NULL,
            p->recurrent_fc[g], tmp);
    for (int32_t s = 0; s < n; ++s) {
        out[s] = sat16((int32_t)out[s] + tmp[s]);
    }
    if (sigmoid) {
        tg_logistic_s16(0, 0, n, out, out);
    } else {
        tg_tanh_s16(0, 0, n, out, out);   /* the gates' scale is 2^-12: no shift */
    }
}

static int32_t mul16(int16_t a, int16_t b, tg_requant_t rq)
{
    return tg_requantize((int32_t)a * b, rq.multiplier, rq.shift);
}

static inline void tg_lstm_body(const tg_lstm_params_t *params, const TG_LSTM_ACT_T *input,
                                const int8_t *input_weights, const int8_t *recurrent_weights,
                                const TG_LSTM_BIAS_T *bias, TG_LSTM_ACT_T *hidden_state, int16_t *cell_state,
                                TG_LSTM_ACT_T *output, int16_t *scratch)
{
    const tg_lstm_params_t *p = params;
    const int32_t n = p->state_size;
    int16_t *forget = scratch, *in_gate = scratch + n, *cell_gate = scratch + 2 * n, *tmp = scratch + 3 * n;
    for (int32_t b = 0; b < p->batches; ++b) {
        TG_LSTM_ACT_T *h = hidden_state + b * n;
        int16_t *c = cell_state + b * n;
        for (int32_t t = 0; t < p->time_steps; ++t) {
            const int32_t row = p->time_major ? t * p->batches + b : b * p->time_steps + t;
            const TG_LSTM_ACT_T *x = input + row * p->input_size;
            gate(p, 1, x, h, input_weights, recurrent_weights, bias, forget, tmp, 1);
            gate(p, 0, x, h, input_weights, recurrent_weights, bias, in_gate, tmp, 1);
            gate(p, 2, x, h, input_weights, recurrent_weights, bias, cell_gate, tmp, p->cell_gate_sigmoid);
            for (int32_t s = 0; s < n; ++s) {
                const int32_t kept = tg_clamp(mul16(forget[s], c[s], p->forget_mul), -32768, 32767);
                const int32_t added = tg_clamp(mul16(in_gate[s], cell_gate[s], p->input_mul), -32768, 32767);
                int32_t updated = tg_clamp(kept + added, -32768, 32767);
                if (p->cell_clip > 0) {
                    updated = tg_clamp(updated, -p->cell_clip, p->cell_clip);
                }
                c[s] = (int16_t)updated;
            }
            int16_t *out_gate = in_gate;   /* reused, as TFLM does */
            gate(p, 3, x, h, input_weights, recurrent_weights, bias, out_gate, tmp, 1);
            tg_tanh_s16(p->tanh_multiplier, p->tanh_left_shift, n, c, tmp);
            TG_LSTM_ACT_T *out = output + row * n;
            for (int32_t s = 0; s < n; ++s) {
                const int32_t y = mul16(tmp[s], out_gate[s], p->output_mul) + p->hidden_zero_point;
                h[s] = (TG_LSTM_ACT_T)tg_clamp(y, TG_LSTM_ACT_MIN, TG_LSTM_ACT_MAX);
            }
            for (int32_t s = 0; s < n; ++s) {
                out[s] = h[s];
            }
        }
    }
}
