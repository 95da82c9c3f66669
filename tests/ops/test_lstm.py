"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8 activations and weights, int16 cell state) bit-exact with
TFLite Micro on every tensor, its hidden and cell states included, over several invocations in a row."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.reference.tflm import TflmReference
from tinygen.testing.model_builder import ModelBuilder


def _quantized(rng: np.random.Generator, shape, std: float) -> tuple[np.ndarray, float]:
    real = rng.normal(0.0, std, size=shape)
    scale = float(np.float32(np.abs(real).max() / 127.0))
    return np.clip(np.round(real / scale), -127, 127).astype(np.int8), scale


def lstm_model(rng: np.random.Generator, batches: int, time_steps: int, input_size: int, state_size: int,
               time_major: bool = False, input_zp: int = 0, hidden_zp: int = 0, cell_power: int = -11,
               cell_clip: float = 0.0, extreme: bool = False, act=np.int8) -> bytes:
    b = ModelBuilder()
    shape = [time_steps, batches, input_size] if time_major else [batches, time_steps, input_size]
    act_max = float(np.iinfo(act).max + 1)
    in_scale = float(np.float32(4.0 / act_max))
    x = b.tensor(shape, dtype=act, scale=in_scale, zero_point=input_zp)
    inputs = [x]
    weight_scales = []
    for gate in range(4):
        w, s = _quantized(rng, (state_size, input_size), 1.0 / np.sqrt(input_size))
        if extreme and gate == 1:
            w[0, :] = -128
        weight_scales.append(s)
        inputs.append(b.tensor([state_size, input_size], scale=s, data=w))
    hidden_scale = float(np.float32(1.0 / act_max))
    for gate in range(4):
        w, s = _quantized(rng, (state_size, state_size), 1.0 / np.sqrt(state_size))
        inputs.append(b.tensor([state_size, state_size], scale=s, data=w))
    inputs += [-1, -1, -1]
    for gate in range(4):
        bias_scale = float(np.float32(in_scale * weight_scales[gate]))
        real = rng.normal(1.0 if gate == 1 else 0.0, 0.5, size=state_size)
        bias_type = np.int32 if act == np.int8 else np.int64
        inputs.append(b.tensor([state_size], dtype=bias_type, scale=bias_scale,
                               data=np.round(real / bias_scale).astype(bias_type)))
    inputs += [-1, -1]
    hidden = b.tensor([batches, state_size], dtype=act, scale=hidden_scale, zero_point=hidden_zp)
    cell = b.tensor([batches, state_size], dtype=np.int16, scale=float(2.0 ** cell_power))
    b.tensors[hidden].isVariable = True
    b.tensors[cell].isVariable = True
    inputs += [hidden, cell, -1, -1, -1, -1]
    out_shape = shape[:2] + [state_size]
    y = b.tensor(out_shape, dtype=act, scale=hidden_scale, zero_point=hidden_zp)
    b.op("UNIDIRECTIONAL_SEQUENCE_LSTM", inputs, [y], fusedActivationFunction="TANH",
         timeMajor=time_major, cellClip=cell_clip)
    return b.build([x], [y])


def lstm_records(rng: np.random.Generator, model: bytes, count: int, extreme: bool = False):
    details = TflmReference(model).input_details(0)
    shape, dtype = tuple(details["shape"]), np.dtype(details["dtype"])
    info = np.iinfo(dtype)
    out = [[rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)] for _ in range(count)]
    if extreme:
        out[0][0][:] = info.max
        out[1][0][:] = info.min
    return out


@pytest.mark.parametrize("batches,time_steps,input_size,state_size,time_major,zps,cell_power,clip", [
    (1, 4, 6, 5, False, (0, 0), -11, 0.0),
    (2, 3, 5, 4, True, (-3, 7), -12, 0.0),
    (2, 2, 3, 6, False, (5, -9), -10, 3.0),
])
def test_lstm_grid_several_invocations(assert_bit_exact, batches, time_steps, input_size, state_size, time_major,
                                       zps, cell_power, clip):
    rng = np.random.default_rng(batches * 1000 + time_steps * 100 + input_size * 10 + state_size)
    model = lstm_model(rng, batches, time_steps, input_size, state_size, time_major, *zps, cell_power, clip)
    records = lstm_records(rng, model, 3)
    result = assert_bit_exact(model, records=records)
    graph = result.compiled.graph
    assert sum(1 for t in graph.tensors if t.variable) == 2
    outputs = np.concatenate([TflmReference(model).run(r).outputs[0].ravel() for r in records])
    assert len(np.unique(outputs)) > 8  # not saturated


def test_lstm_extreme_values(assert_bit_exact):
    rng = np.random.default_rng(3)
    model = lstm_model(rng, 1, 5, 4, 3, False, 0, 0, -13, 1.0, extreme=True)
    assert_bit_exact(model, records=lstm_records(rng, model, 3, extreme=True))


@pytest.mark.parametrize("time_major,clip", [(False, 0.0), (True, 4.0)])
def test_lstm_16x8(assert_bit_exact, time_major, clip):
    """int16 input, hidden state and output, int64 biases (TFLM's 16x8 LSTM)."""
    rng = np.random.default_rng(21 + time_major)
    model = lstm_model(rng, 2, 3, 5, 4, time_major, 0, 0, -11, clip, act=np.int16)
    result = assert_bit_exact(model, records=lstm_records(rng, model, 3, extreme=True))
    assert [c.function for c in result.compiled.lowered] == ["tg_lstm_s16"]


@pytest.mark.long
def test_lstm_long_grid(assert_bit_exact):
    rng = np.random.default_rng(2)
    for _ in range(16):
        batches, time_steps = int(rng.integers(1, 4)), int(rng.integers(1, 8))
        input_size, state_size = int(rng.integers(1, 24)), int(rng.integers(1, 20))
        model = lstm_model(rng, batches, time_steps, input_size, state_size, bool(rng.integers(0, 2)),
                           int(rng.integers(-20, 20)), int(rng.integers(-20, 20)), int(rng.integers(-14, -9)),
                           float(rng.choice([0.0, 2.0, 8.0])))
        assert_bit_exact(model, records=lstm_records(rng, model, 4))
