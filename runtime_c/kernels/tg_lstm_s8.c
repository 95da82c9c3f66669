/* UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations and weights, int16 cell state: TFLM's EvalLstm
 * <int8_t, int8_t, int16_t, int32_t>. */
#define TG_LSTM_ACT_T int8_t
#define TG_LSTM_BIAS_T int32_t
#define TG_LSTM_REQUANTIZE tg_requantize
#define TG_LSTM_ACT_MIN (-128)
#define TG_LSTM_ACT_MAX 127
#include "tg_lstm_body.h"

void tg_lstm_s8(const tg_lstm_params_t *params, const int8_t *input, const int8_t *input_weights,
                const int8_t *recurrent_weights, const int32_t *bias, int8_t *hidden_state,
                int16_t *cell_state, int8_t *output, int16_t *scratch)
{
    tg_lstm_body(params, input, input_weights, recurrent_weights, bias, hidden_state, cell_state, output, scratch);
}
