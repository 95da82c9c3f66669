"""QUANTIZE (float32 -> int8, int8 -> int8) and DEQUANTIZE (int8 -> float32) against TFLite Micro,
float tensors compared by their bytes, plus whole float-in/float-out models.

TFLM's float32 -> int8 divides in float and rounds halves away from zero: the crafted inputs below
land exactly on halves after a float division (some of them only in float, not in double).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.build.host import build_host_binary, run_host_binary
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder, accumulator_output_scale, random_bias, random_int8

ALL_INT8 = np.arange(-128, 128, dtype=np.int8).reshape(1, 256)


def quantize_model(shape=(1, 64), out_quant=(0.0123, 0), in_quant=None) -> bytes:
    """QUANTIZE from float32 (in_quant None) or from int8 quantized as in_quant."""
    b = ModelBuilder()
    if in_quant is None:
        x = b.tensor(list(shape), dtype=np.float32)
    else:
        x = b.tensor(list(shape), scale=in_quant[0], zero_point=in_quant[1])
    y = b.tensor(list(shape), scale=out_quant[0], zero_point=out_quant[1])
    b.op("QUANTIZE", [x], [y])
    return b.build([x], [y])


def dequantize_model(shape=(1, 256), in_quant=(0.1234567, -7)) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_quant[0], zero_point=in_quant[1])
    y = b.tensor(list(shape), dtype=np.float32)
    b.op("DEQUANTIZE", [x], [y])
    return b.build([x], [y])


def half_way_inputs(scale: float, count: int = 64) -> np.ndarray:
    """float32 x with x / scale (a float32 division) exactly k + 0.5, for k across the int8 range.

    Nearby floats are searched, so some quotients are halves only after rounding to float: a
    double division would round them the other way.
    """
    s = np.float32(scale)
    values = []
    for k in np.linspace(-140, 140, count).astype(int):
        target = np.float32(k + 0.5)
        x = np.float32(target * s)
        for _ in range(64):
            q = x / s
            if q == target:
                values.append(x)
                break
            x = np.nextafter(x, np.float32(np.inf) if q < target else np.float32(-np.inf))
    return np.array(values, dtype=np.float32)


def special_inputs(scale: float) -> np.ndarray:
    s = np.float32(scale)
    return np.array([0.0, -0.0, 1e-40, -1e-40, s * 0.49999997, s * 0.5, -s * 0.5, s * 1000, -s * 1000,
                     s * 1e6, -s * 1e6, 127 * s, -128 * s, 3.0, -3.0], dtype=np.float32)


FLOAT_QUANTS = [
    (0.0123, 0),
    (0.5, 3),
    (0.02, -128),
    (1 / 255, -128),      # an image input in [0, 1]
    (0.0078125, 0),       # a power of two: exact divisions
    (0.001, 100),         # most of [-3, 3] saturates
    (0.1, 127),
]


@pytest.mark.parametrize("quant", FLOAT_QUANTS, ids=str)
def test_quantize_float_random(assert_bit_exact, quant):
    assert_bit_exact(quantize_model(shape=(1, 8, 8, 3), out_quant=quant), count=3)


@pytest.mark.parametrize("quant", FLOAT_QUANTS, ids=str)
def test_quantize_float_halves_and_edges(assert_bit_exact, quant):
    values = np.concatenate([half_way_inputs(quant[0]), special_inputs(quant[0])])
    assert_bit_exact(quantize_model(shape=(1, values.size), out_quant=quant), records=[[values.reshape(1, -1)]])


def test_half_way_inputs_include_float_only_halves():
    values = half_way_inputs(0.0123)
    exact = values.astype(np.float64) / float(np.float32(0.0123))
    assert values.size > 40 and np.any(exact != np.round(exact * 2) / 2)


REQUANT_CASES = [
    ((0.05, 0), (0.05, 0)),        # identity: multiplier 2^30, shift 1
    ((0.05, 10), (0.05, -20)),     # same scale, other zero point
    ((0.05, 10), (0.1, -3)),       # ratio 0.5
    ((0.05, -128), (0.0173, 5)),   # ratio > 1
    ((0.3, 7), (0.001, 0)),        # huge ratio: saturates
    ((0.0011, -50), (0.37, 100)),  # tiny ratio
]


@pytest.mark.parametrize("in_quant, out_quant", REQUANT_CASES, ids=str)
def test_requantize_int8(assert_bit_exact, in_quant, out_quant):
    model = quantize_model(shape=(1, 256), in_quant=in_quant, out_quant=out_quant)
    assert_bit_exact(model, records=[[ALL_INT8]])


@pytest.mark.parametrize("quant", [(0.1234567, -7), (0.5, 0), (1e-8, 127), (1000.0, -128), (0.0039215689, -128)],
                         ids=str)
def test_dequantize(assert_bit_exact, quant):
    assert_bit_exact(dequantize_model(in_quant=quant), records=[[ALL_INT8]])


def float_fc_model(seed: int = 0, depth: int = 16, units: int = 8) -> bytes:
    """float32 -> QUANTIZE -> FULLY_CONNECTED (int8) -> DEQUANTIZE -> float32."""
    rng = np.random.default_rng(seed)
    in_scale, w_scale = 3.0 / 127, 0.01
    out_scale = accumulator_output_scale(rng, in_scale, w_scale, depth)
    b = ModelBuilder()
    x = b.tensor([1, depth], dtype=np.float32, name="input_f32")
    q = b.tensor([1, depth], scale=in_scale, zero_point=-1)
    w = b.tensor([units, depth], scale=w_scale, zero_point=0, data=random_int8(rng, (units, depth)))
    bias = b.tensor([units], dtype=np.int32, scale=float(np.float32(in_scale) * np.float32(w_scale)),
                    data=random_bias(rng, units))
    y = b.tensor([1, units], scale=out_scale, zero_point=4)
    out = b.tensor([1, units], dtype=np.float32, name="output_f32")
    b.op("QUANTIZE", [x], [q])
    b.op("FULLY_CONNECTED", [q, w, bias], [y], fusedActivationFunction="RELU")
    b.op("DEQUANTIZE", [y], [out])
    return b.build([x], [out])


def float_add_model(seed: int = 0) -> bytes:
    """float32 -> QUANTIZE -> ADD (constant) -> QUANTIZE (int8 -> int8) -> DEQUANTIZE -> float32."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 8], dtype=np.float32)
    q = b.tensor([1, 4, 4, 8], scale=0.025, zero_point=3)
    c = b.tensor([8], scale=0.01, zero_point=-2, data=random_int8(rng, (8,)))
    s = b.tensor([1, 4, 4, 8], scale=0.04, zero_point=-5)
    r = b.tensor([1, 4, 4, 8], scale=0.03, zero_point=10)
    out = b.tensor([1, 4, 4, 8], dtype=np.float32)
    b.op("QUANTIZE", [x], [q])
    b.op("ADD", [q, c], [s], fusedActivationFunction="RELU6")
    b.op("QUANTIZE", [s], [r])
    b.op("DEQUANTIZE", [r], [out])
    return b.build([x], [out])


def test_float_model_with_fully_connected(assert_bit_exact):
    result = assert_bit_exact(float_fc_model(), count=5)
    assert result.tensors_compared == 5 * 4  # three intermediates and the float output, per input


def test_float_model_with_add_and_requantize(assert_bit_exact):
    assert_bit_exact(float_add_model(), count=3)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(scale=st.floats(1e-3, 2.0), zero_point=st.integers(-128, 127), seed=st.integers(0, 1000))
def test_quantize_float_random_quantization(assert_bit_exact, scale, zero_point, seed):
    rng = np.random.default_rng(seed)
    values = np.concatenate([half_way_inputs(scale, 16), rng.uniform(-3, 3, 32).astype(np.float32)])
    assert_bit_exact(quantize_model(shape=(1, values.size), out_quant=(scale, zero_point)),
                     records=[[values.reshape(1, -1)]])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(in_scale=st.floats(1e-3, 1.0), out_scale=st.floats(1e-3, 1.0),
       in_zp=st.integers(-128, 127), out_zp=st.integers(-128, 127), dequantize=st.booleans())
def test_requantize_and_dequantize_random(assert_bit_exact, in_scale, out_scale, in_zp, out_zp, dequantize):
    if dequantize:
        model = dequantize_model(in_quant=(in_scale, in_zp))
    else:
        model = quantize_model(shape=(1, 256), in_quant=(in_scale, in_zp), out_quant=(out_scale, out_zp))
    assert_bit_exact(model, records=[[ALL_INT8]])


def test_quantize_saturates_beyond_int32(tmp_path: Path):
    """Quotients outside int32 are undefined behaviour in TFLM (x86 gives INT32_MIN, so 1e12
    becomes -128 there); tinygen saturates them and maps NaN to the zero point."""
    compiled = compile_bytes(quantize_model(shape=(1, 6), out_quant=(0.5, 3)))
    binary = build_host_binary(compiled.sources, tmp_path, compiled.input_bytes, compiled.output_bytes, trace=False)
    values = np.array([[1e12, -1e12, np.inf, -np.inf, np.nan, 2e9]], dtype=np.float32)
    run = run_host_binary(binary, [[values.tobytes()]], trace=False)
    assert np.frombuffer(run.outputs[0][0], dtype=np.int8).tolist() == [127, -128, 127, -128, 3, 127]
