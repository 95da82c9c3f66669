"""UNIDIRECTIONAL_SEQUENCE_LSTM lowering: TFLM's integer LSTMs (int8 or int16 activations, int8
weights, int16 cell state), its hidden and cell states kept between invocations (plan/state.py).

TFLM's Prepare (lstm_eval_common.cc) fixes the gates' int16 scale at 2^-12 (Q3.12, the input of
the sigmoid and tanh) and their outputs' at 2^-15; every multiplier below follows from those."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import DType, Graph, Operator, Tensor
from tinygen.ir.quant import FixedPointMultiplier, conv_tensor_multiplier, quantize_multiplier
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import activation_reads, quantized, require_shape
from tinygen.kernels.cvalues import ConstArray, CStruct, Requant, ScratchRef, TensorRef
from tinygen.kernels.registry import lowering

GATE_INPUT_SCALE = 2.0 ** -12   # Q3.12
GATE_OUTPUT_SCALE = 2.0 ** -15  # Q0.15
# TFLite's input positions: per gate (input, forget, cell, output) its input weights, recurrent
# weights and bias; then the states.
INPUT_WEIGHTS, RECURRENT_WEIGHTS, BIASES = (1, 2, 3, 4), (5, 6, 7, 8), (12, 13, 14, 15)
HIDDEN_STATE, CELL_STATE = 18, 19


def _requant(m: FixedPointMultiplier) -> Requant:
    return Requant(m.multiplier, m.shift)


@dataclass(frozen=True)
class LstmParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_lstm_params_t"
    batches: int
    time_steps: int
    input_size: int
    state_size: int
    time_major: int
    input_offset: int
    hidden_offset: int
    hidden_zero_point: int
    input_weights_offset: tuple[int, ...]
    recurrent_weights_offset: tuple[int, ...]
    input_fc: tuple[Requant, ...]
    recurrent_fc: tuple[Requant, ...]
    cell_gate_sigmoid: int
    forget_mul: Requant
    input_mul: Requant
    output_mul: Requant
    tanh_multiplier: int
    tanh_left_shift: int
    cell_clip: int


def _mul_multiplier(scale1: float, scale2: float, output_scale: float) -> Requant:
    """CreateInterGateMulParams: the product and ratio in double."""
    return _requant(quantize_multiplier(float(np.float32(scale1)) * float(np.float32(scale2))
                                          / float(np.float32(output_scale))))


def _tanh_shift(cell_scale: float) -> tuple[int, int]:
    """lstm_internal::Tanh: the cell state's scale as a power of two (CheckedLog2 rounds it)."""
    power = round(math.log2(float(np.float32(cell_scale))))
    left_shift = 15 + power - 3
    if left_shift < 0:
        return 3, -left_shift
    return 0, left_shift


@lowering(ops.UnidirectionalSequenceLstm)
def lower_lstm(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.UnidirectionalSequenceLstm = op.attrs
    t = [graph.tensor(i) if i >= 0 else None for i in op.inputs]
    inp, hidden, cell, out = t[0], t[HIDDEN_STATE], t[CELL_STATE], graph.tensor(op.outputs[0])
    if len(inp.shape) != 3:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: input '{inp.name}' has shape {list(inp.shape)}, "
                                "expected rank 3")
    time_steps, batches = inp.shape[:2] if attrs.time_major else inp.shape[1::-1]
    input_size = inp.shape[2]
    state_size = t[INPUT_WEIGHTS[0]].shape[0]
    for i in INPUT_WEIGHTS:
        require_shape(op, t[i], (state_size, input_size))
    for i in RECURRENT_WEIGHTS:
        require_shape(op, t[i], (state_size, state_size))
    for i in BIASES:
        require_shape(op, t[i], (state_size,))
    for state in (hidden, cell):
        if state.num_elements != batches * state_size:
            raise InvalidModelError(f"operator #{op.index} {op.kind}: state '{state.name}' has shape "
                                    f"{list(state.shape)}, expected {batches * state_size} elements")
    require_shape(op, out, (*inp.shape[:2], state_size))

    in_scale, in_zp = quantized(op, inp)
    hidden_scale, hidden_zp = quantized(op, hidden)
    cell_scale, _ = quantized(op, cell)

    def fc(x_scale: float, w: Tensor) -> Requant:
        return _requant(conv_tensor_multiplier(x_scale, w.quant.scale, GATE_INPUT_SCALE))

    tanh_multiplier, tanh_shift = _tanh_shift(cell_scale)
    clip = 0
    if attrs.cell_clip > 0:
        clip = int(min(max(float(np.float32(attrs.cell_clip)) / float(np.float32(cell_scale)), -32768.0), 32767.0))
    params = LstmParams(
        batches=batches, time_steps=time_steps, input_size=input_size, state_size=state_size,
        time_major=int(attrs.time_major), input_offset=-in_zp, hidden_offset=-hidden_zp, hidden_zero_point=hidden_zp,
        input_weights_offset=tuple(-t[i].quant.zero_point for i in INPUT_WEIGHTS),
        recurrent_weights_offset=tuple(-t[i].quant.zero_point for i in RECURRENT_WEIGHTS),
        input_fc=tuple(fc(in_scale, t[i]) for i in INPUT_WEIGHTS),
        recurrent_fc=tuple(fc(hidden_scale, t[i]) for i in RECURRENT_WEIGHTS),
        cell_gate_sigmoid=int(attrs.cell_gate_sigmoid),
        forget_mul=_mul_multiplier(GATE_OUTPUT_SCALE, cell_scale, cell_scale),
        input_mul=_mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, cell_scale),
        output_mul=_mul_multiplier(GATE_OUTPUT_SCALE, GATE_OUTPUT_SCALE, hidden_scale),
        tanh_multiplier=tanh_multiplier, tanh_left_shift=tanh_shift, cell_clip=clip,
    )
    # The four gates' weights and biases as one array each (their tensors are then not emitted).
    input_weights = np.concatenate([np.asarray(t[i].data).ravel() for i in INPUT_WEIGHTS]).astype(np.int8)
    recurrent_weights = np.concatenate([np.asarray(t[i].data).ravel() for i in RECURRENT_WEIGHTS]).astype(np.int8)
    wide = inp.dtype is DType.INT16  # 16x8: int64 biases and accumulators
    bias = np.concatenate([np.asarray(t[i].data).ravel() for i in BIASES]).astype(np.int64 if wide else np.int32)
    call = KernelCall(
        op_index=op.index,
        op_kind=op.kind,
        function="tg_lstm_s16" if wide else "tg_lstm_s8",
        args=(
            KernelArg("params", params),
            KernelArg("input", TensorRef(inp.index)),
            KernelArg("input_weights", ConstArray("int8_t", input_weights)),
            KernelArg("recurrent_weights", ConstArray("int8_t", recurrent_weights)),
            KernelArg("bias", ConstArray("int64_t" if wide else "int32_t", bias)),
            # The states live outside the arena (plan/state.py).
            KernelArg("hidden_state", TensorRef(hidden.index)),
            KernelArg("cell_state", TensorRef(cell.index)),
            KernelArg("output", TensorRef(out.index)),
            KernelArg("scratch", ScratchRef()),
        ),
        reads=activation_reads(inp),
        writes=(out.index,),
        scratch_bytes=4 * state_size * 2,
    )
    return (call,)
