/* UNIDIRECTIONAL_SEQUENCE_LSTM 16x8: int16 activations, int8 weights, int64 biases, int16 cell state:
 * TFLM's EvalLstm<int16_t, int8_t, int16_t, int64_t>. */
#define TG_LSTM_ACT_T int16_t
#define TG_LSTM_BIAS_T int64_t
#define TG_LSTM_REQUANTIZE tg_requantize_s64
#define TG_LSTM_ACT_MIN (-32768)
#define TG_LSTM_ACT_MAX 32767
#include "tg_lstm_body.h"

void tg_lstm_s16(const tg_lstm_params_t *params, const int16_t *input, const int8_t *input_weights,
                 const int8_t *recurrent_weights, const int64_t *bias, int16_t *hidden_state,
                 int16_t *cell_state, int16_t *output, int16_t *scratch)
{
    tg_lstm_body(params, input, input_weights, recurrent_weights, bias, hidden_state, cell_state, output, scratch);
}
