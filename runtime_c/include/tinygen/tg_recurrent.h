/* tinygen runtime: operators with state kept between invocations (SVDF). */
#ifndef TINYGEN_TG_RECURRENT_H
#define TINYGEN_TG_RECURRENT_H

#include "tinygen/tg_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- SVDF ----------------------------------------------------------------------------------- */
typedef struct {
    int32_t batches;
    int32_t input_size;
    int32_t filters;            /* units * rank */
    int32_t units;
    int32_t rank;
    int32_t memory;             /* time steps kept per filter */
    int32_t input_zero_point;
    int32_t state_zero_point;
    int32_t output_zero_point;
    int32_t feature_multiplier; /* input x feature weights -> state */
    int32_t feature_shift;
    int32_t output_multiplier;  /* state x time weights -> output */
    int32_t output_shift;
} tg_svdf_params_t;

/* TFLM's EvalIntegerSvdfReference. input: [batches][input_size], weights_feature:
 * [filters][input_size], weights_time: [filters][memory], bias: [units], state (kept between calls):
 * [batches][filters][memory], output: [batches][units]. scratch: (batches * filters + batches *
 * units) int32 values. The _s16 kernel keeps int16 state and time weights, the _s8 one int8. */
void tg_svdf_s8_s16(const tg_svdf_params_t *params, const int8_t *input, const int8_t *weights_feature,
                    const int16_t *weights_time, const int32_t *bias, int16_t *state,
                    int8_t *output, int32_t *scratch);
void tg_svdf_s8_s8(const tg_svdf_params_t *params, const int8_t *input, const int8_t *weights_feature,
                   const int8_t *weights_time, const int32_t *bias, int8_t *state,
                   int8_t *output, int32_t *scratch);

/* ---- resource variables (READ_VARIABLE, ASSIGN_VARIABLE) ----------------------------------- */
void tg_copy_bytes(int32_t size, const void *source, void *destination);

/* ---- int16 nonlinearities (TFLM reference_integer_ops::Logistic / Tanh on int16) ------------- */
/* input_multiplier 0 means a power-of-two input scale: 3 << input_left_shift, as TFLM. */
void tg_logistic_s16(int32_t input_multiplier, int32_t input_left_shift, int32_t size,
                     const int16_t *input, int16_t *output);
void tg_tanh_s16(int32_t input_multiplier, int32_t input_left_shift, int32_t size,
                 const int16_t *input, int16_t *output);

/* ---- UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations, int8 weights, int16 cell state ----------- */
/* Gates in the order input, forget, cell, output. */
typedef struct {
    int32_t batches;
    int32_t time_steps;
    int32_t input_size;
    int32_t state_size;
    int32_t time_major;             /* input [time][batch][input], else [batch][time][input] */
    int32_t input_offset;           /* -input zero point */
    int32_t hidden_offset;          /* -hidden state zero point (the recurrent input) */
    int32_t hidden_zero_point;      /* of the hidden state written */
    int32_t input_weights_offset[4];     /* -zero point of each gate's input weights */
    int32_t recurrent_weights_offset[4];
    tg_requant_t input_fc[4];       /* input x weights -> the gates' int16 (scale 2^-12) */
    tg_requant_t recurrent_fc[4];
    int32_t cell_gate_sigmoid;      /* the cell gate's activation: 0 tanh, 1 sigmoid */
    tg_requant_t forget_mul;        /* forget gate x cell -> cell */
    tg_requant_t input_mul;         /* input gate x cell gate -> cell */
    tg_requant_t output_mul;        /* output gate x tanh(cell) -> hidden (int8) */
    int32_t tanh_multiplier;        /* tanh of the cell state, from its scale's power of two */
    int32_t tanh_left_shift;
    int32_t cell_clip;              /* quantized; 0: no clipping */
} tg_lstm_params_t;

/* TFLM's integer EvalLstm (8x8->16). input_weights: the four gates' [state][input] weights one after
 * another, recurrent_weights: [state][state] each, bias: [state] int32 each. hidden_state [batch][state]
 * int8 and cell_state [batch][state] int16 are kept between calls. scratch: 4 * state_size int16. */
void tg_lstm_s8(const tg_lstm_params_t *params, const int8_t *input, const int8_t *input_weights,
                const int8_t *recurrent_weights, const int32_t *bias, int8_t *hidden_state,
                int16_t *cell_state, int8_t *output, int16_t *scratch);
/* The 16x8 LSTM: int16 input, hidden state and output, int64 biases (tg_requantize_s64 in tg_int16.h). */
void tg_lstm_s16(const tg_lstm_params_t *params, const int16_t *input, const int8_t *input_weights,
                 const int8_t *recurrent_weights, const int64_t *bias, int16_t *hidden_state,
                 int16_t *cell_state, int16_t *output, int16_t *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TG_RECURRENT_H */
