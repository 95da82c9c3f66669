"""SVDF (int8, with int16 or int8 state), bit-exact with TFLite Micro over several invocations in a
row: the state each one leaves is compared too (tinygen/plan/state.py keeps it between calls)."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.reference.tflm import TflmReference
from tinygen.testing.model_builder import ModelBuilder, random_int8, random_scale


def svdf_model(rng: np.random.Generator, batches: int, input_size: int, units: int, rank: int, memory: int,
               state_dtype=np.int16, input_zp: int = 0, output_zp: int = 0, state_zp: int = 0,
               extreme: bool = False, activation: str = "NONE") -> bytes:
    filters = units * rank
    b = ModelBuilder()
    in_scale, feature_scale = random_scale(rng), random_scale(rng, 0.002, 0.02)
    wide = state_dtype == np.int16
    # Scales that keep the state and the output spread over their ranges (std ~ a tenth of each
    # range), not saturated: a random int8 dot product of n terms has std ~ sqrt(n) * 74 * 73.
    state_std, time_std = (3000.0, 18900.0) if wide else (30.0, 74.0)
    state_scale = float(np.float32(in_scale * feature_scale * np.sqrt(input_size) * 5400 / state_std))
    time_scale = random_scale(rng, 0.002, 0.02)
    state_range = 32767 if wide else 127
    out_scale = float(np.float32(state_scale * time_scale * np.sqrt(memory * rank) * state_std * time_std / 30))
    bias_scale = float(np.float32(state_scale) * np.float32(time_scale))
    x = b.tensor([batches, input_size], scale=in_scale, zero_point=input_zp)
    feature = random_int8(rng, (filters, input_size), -128 if extreme else -127, 127)
    if extreme:
        feature[0] = -128
    wf = b.tensor([filters, input_size], scale=feature_scale, data=feature)
    time = rng.integers(-state_range - 1, state_range, size=(filters, memory), endpoint=True).astype(state_dtype)
    wt = b.tensor([filters, memory], dtype=state_dtype, scale=time_scale, data=time)
    bias = b.tensor([units], dtype=np.int32, scale=bias_scale,
                    data=rng.integers(-20000, 20000, size=units, endpoint=True).astype(np.int32))
    state = b.tensor([batches, memory * filters], dtype=state_dtype, scale=state_scale, zero_point=state_zp)
    b.tensors[state].isVariable = True
    y = b.tensor([batches, units], scale=out_scale, zero_point=output_zp)
    b.op("SVDF", [x, wf, wt, bias, state], [y], rank=rank, fusedActivationFunction=activation)
    return b.build([x], [y])


def records(rng: np.random.Generator, batches: int, input_size: int, count: int, extreme: bool = False):
    out = [[rng.integers(-128, 127, size=(batches, input_size), endpoint=True).astype(np.int8)] for _ in range(count)]
    if extreme:
        out[1][0][:] = -128
        out[2][0][:] = 127
    return out


def reference_outputs(model: bytes, recs) -> np.ndarray:
    reference = TflmReference(model)
    return np.concatenate([reference.run(r).outputs[0].ravel() for r in recs])


@pytest.mark.parametrize("batches,input_size,units,rank,memory,state_dtype,zps", [
    (1, 16, 4, 1, 8, np.int16, (0, 0, 0)),
    (2, 10, 3, 2, 5, np.int16, (-7, 11, 0)),
    (1, 12, 5, 2, 4, np.int8, (3, -4, 9)),
])
def test_svdf_grid_several_invocations(assert_bit_exact, batches, input_size, units, rank, memory, state_dtype, zps):
    rng = np.random.default_rng(batches * 100 + input_size + memory)
    model = svdf_model(rng, batches, input_size, units, rank, memory, state_dtype, *zps)
    # More invocations than the memory holds: the state shifts all the way through.
    result = assert_bit_exact(model, records=records(rng, batches, input_size, memory + 2))
    states = [t for t in range(len(result.compiled.graph.tensors)) if result.compiled.graph.tensor(t).variable]
    assert states and result.tensors_compared >= 2 * (memory + 2)
    # Not a saturated test: the outputs cover many values.
    outputs = reference_outputs(model, records(np.random.default_rng(0), batches, input_size, memory + 2))
    assert len(np.unique(outputs)) > 4


def test_svdf_extreme_values(assert_bit_exact):
    """-128 weights and inputs held at both ends of int8, with a relu the int8 kernel ignores (as TFLM)."""
    rng = np.random.default_rng(7)
    model = svdf_model(rng, 1, 8, 2, 2, 3, np.int16, 5, -3, 0, extreme=True, activation="RELU")
    assert_bit_exact(model, records=records(rng, 1, 8, 6, extreme=True))


@pytest.mark.long
def test_svdf_long_grid(assert_bit_exact):
    rng = np.random.default_rng(1)
    for _ in range(24):
        batches, units, rank = int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 4))
        input_size, memory = int(rng.integers(1, 40)), int(rng.integers(1, 12))
        state_dtype = np.int16 if rng.random() < 0.7 else np.int8
        zps = tuple(int(z) for z in rng.integers(-20, 20, size=3)) if state_dtype == np.int8 else \
            (int(rng.integers(-20, 20)), int(rng.integers(-20, 20)), 0)
        model = svdf_model(rng, batches, input_size, units, rank, memory, state_dtype, *zps)
        assert_bit_exact(model, records=records(rng, batches, input_size, memory + 3))
