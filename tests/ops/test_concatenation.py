"""CONCATENATION against TFLite Micro: every axis of ranks 1 to 6, 1 to 10 inputs, constant
inputs, and the models TFLM refuses (inputs quantized unlike the output, a fused activation,
more than 10 inputs)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.reference.tflm import TflmReference
from tinygen.testing.model_builder import ModelBuilder, random_int8, random_scale


def concat_model(seed: int, shape=(1, 4, 5, 3), axis=3, sizes=(3, 2), constant_inputs=(), activation="NONE",
                 input_quant=None) -> bytes:
    """Inputs equal `shape` except along `axis`, where they have `sizes`; input_quant overrides input 0's."""
    rng = np.random.default_rng(seed)
    scale, zp = random_scale(rng), int(rng.integers(-128, 128))
    rank = len(shape)
    b = ModelBuilder()
    inputs, graph_inputs = [], []
    for i, size in enumerate(sizes):
        in_shape = list(shape)
        in_shape[axis % rank] = size
        q_scale, q_zp = input_quant if (input_quant is not None and i == 0) else (scale, zp)
        data = random_int8(rng, in_shape) if i in constant_inputs else None
        t = b.tensor(in_shape, scale=q_scale, zero_point=q_zp, data=data)
        inputs.append(t)
        if data is None:
            graph_inputs.append(t)
    out_shape = list(shape)
    out_shape[axis % rank] = sum(sizes)
    y = b.tensor(out_shape, scale=scale, zero_point=zp)
    b.op("CONCATENATION", inputs, [y], axis=axis, fusedActivationFunction=activation)
    return b.build(graph_inputs, [y])


GRID = [
    dict(),
    dict(axis=-1),
    dict(axis=0, sizes=(1, 2)),
    dict(axis=1, sizes=(2, 1, 3)),
    dict(axis=2, sizes=(5, 5)),
    dict(axis=-3, sizes=(4, 1)),
    dict(shape=(7,), axis=0, sizes=(7, 1, 2)),
    dict(shape=(3, 4), axis=1, sizes=(4, 2)),
    dict(shape=(3, 4), axis=0, sizes=(1, 3)),
    dict(shape=(2, 3, 4), axis=1, sizes=(3, 3)),
    dict(shape=(2, 2, 3, 2, 3), axis=2, sizes=(1, 2)),
    dict(shape=(2, 1, 2, 3, 2, 2), axis=4, sizes=(1, 1, 2)),     # TFLM's 6-D maximum
    dict(sizes=(3,)),                                            # one input: a copy
    dict(sizes=(1,) * 10),                                       # TFLM's maximum of 10 inputs
    dict(axis=1, sizes=(2, 3, 1), constant_inputs=(1,)),         # a constant among the inputs
    dict(shape=(1, 1, 1, 8), axis=3, sizes=(8, 16)),             # e.g. a squeezed feature concat
]


@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_concatenation_grid(assert_bit_exact, case):
    assert_bit_exact(concat_model(seed=len(str(case)), **case), count=2)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), seed=st.integers(0, 2**31), rank=st.integers(1, 6), count=st.integers(1, 5))
def test_concatenation_random(assert_bit_exact, data, seed, rank, count):
    shape = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    axis = data.draw(st.integers(-rank, rank - 1))
    sizes = tuple(data.draw(st.integers(1, 3)) for _ in range(count))
    assert_bit_exact(concat_model(seed, shape, axis, sizes), count=1)


REFUSED = {
    "other-scale": dict(input_quant=(0.123, 0)),
    "other-zero-point": dict(input_quant="zero_point"),
    "relu": dict(activation="RELU"),
    "11-inputs": dict(sizes=(1,) * 11),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_concatenation_rejects_what_tflm_refuses(name):
    case = dict(REFUSED[name])
    if case.get("input_quant") == "zero_point":
        rng = np.random.default_rng(0)  # the model's own scale, with another zero point
        scale, zp = random_scale(rng), int(rng.integers(-128, 128))
        case["input_quant"] = (scale, zp + 1 if zp < 127 else zp - 1)
    model = concat_model(0, **case)
    with pytest.raises(UnsupportedModelError, match="CONCATENATION"):
        compile_bytes(model)
    with pytest.raises(RuntimeError):  # TFLM fails the model in Prepare
        TflmReference(model)
