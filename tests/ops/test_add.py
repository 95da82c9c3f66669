"""ADD (int8) against TFLite Micro: same shapes, broadcasting up to 6-D in either direction, fused
activations, one tensor given twice, constant inputs, and scales that stress the rescaling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder, random_int8, random_scale


def broadcast_shape(shape1, shape2) -> list[int]:
    rank = max(len(shape1), len(shape2))
    a = [1] * (rank - len(shape1)) + list(shape1)
    b = [1] * (rank - len(shape2)) + list(shape2)
    return [max(x, y) for x, y in zip(a, b)]


def binary_model(op: str, seed: int, shape1=(1, 8, 8, 16), shape2=None, activation="NONE", same_tensor=False,
                 constant=None, scales=None, zero_points=None, output_shape=None) -> bytes:
    """One ADD or MUL. constant: None, 1 or 2 (which input holds constant data).
    scales / zero_points: (input1, input2, output), random where None."""
    rng = np.random.default_rng(seed)
    shape2 = shape1 if shape2 is None else shape2
    if scales is None:
        s1, s2 = random_scale(rng, 0.01, 0.1), random_scale(rng, 0.01, 0.1)
        # An output scale at which most results land inside int8 without being tiny.
        so = s1 * s2 * rng.uniform(30, 150) if op == "MUL" else max(s1, s2) * rng.uniform(1, 3)
        scales = (s1, s2, float(np.float32(so)))
    s = scales
    z = zero_points or tuple(int(v) for v in rng.integers(-128, 128, size=3))
    b = ModelBuilder()
    x1 = b.tensor(list(shape1), scale=s[0], zero_point=z[0],
                  data=random_int8(rng, tuple(shape1)) if constant == 1 else None)
    if same_tensor:
        x2 = x1
    else:
        x2 = b.tensor(list(shape2), scale=s[1], zero_point=z[1],
                      data=random_int8(rng, tuple(shape2)) if constant == 2 else None)
    out_shape = list(output_shape) if output_shape is not None else broadcast_shape(shape1, shape2)
    y = b.tensor(out_shape, scale=s[2], zero_point=z[2])
    b.op(op, [x1, x2], [y], fusedActivationFunction=activation)
    graph_inputs = [t for t, c in ((x1, 1), (x2, 2)) if constant != c]
    return b.build(list(dict.fromkeys(graph_inputs)), [y])


GRID = [
    dict(),
    dict(activation="RELU"),
    dict(activation="RELU6"),
    dict(activation="RELU_N1_TO_1", scales=(0.01, 0.012, 0.01)),
    dict(shape1=(1, 32, 32, 16), activation="RELU"),        # a ResNet-8 residual block
    dict(shape2=(1, 1, 1, 16)),
    dict(shape2=(16,)),
    dict(shape1=(16,), shape2=(1, 8, 8, 16)),               # the first input broadcasts
    dict(shape1=(1, 8, 8, 16), shape2=(1,)),
    dict(shape1=(1, 8, 8, 16), shape2=()),                  # a rank-0 scalar
    dict(shape1=(2, 1, 5, 3), shape2=(1, 4, 1, 3)),          # both inputs broadcast
    dict(shape1=(1, 16), shape2=(16,)),                      # equal once padded: no broadcast
    dict(shape1=(3, 1, 2, 1, 4), shape2=(1, 5, 1, 3, 1)),    # rank 5
    dict(shape1=(2, 1, 3, 1, 4, 2), shape2=(1, 3, 3, 2, 1, 1)),  # rank 6
    dict(shape1=(7,), shape2=(7,)),
    dict(same_tensor=True),
    dict(same_tensor=True, activation="RELU"),
    dict(constant=2),
    dict(constant=2, shape2=(16,), activation="RELU"),
    dict(constant=1, shape1=(1, 1, 8, 16)),
    dict(scales=(0.05, 0.05, 0.05), zero_points=(0, 0, 0)),        # identical quantization
    dict(scales=(0.05, 0.05, 0.1), zero_points=(-128, 127, 0)),
    dict(scales=(0.001, 0.5, 0.02)),                                 # very unequal input scales
    dict(scales=(0.1, 0.1, 0.0005)),                                 # tiny output scale: saturates
    dict(scales=(0.02, 0.03, 50.0)),                                 # huge output scale
]


def case_id(case: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in case.items()).replace(" ", "") or "default"


@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_add_grid(assert_bit_exact, case):
    assert_bit_exact(binary_model("ADD", seed=len(str(case)), **case), count=2)


ALL_INT8 = np.arange(-128, 128, dtype=np.int8)
# Every pair of int8 values: input 1 as a column, input 2 as a row, broadcast to 256 x 256.
ALL_PAIRS = [ALL_INT8.reshape(256, 1), ALL_INT8.reshape(1, 256)]

PAIR_QUANTS = [
    ((0.05, 0.05, 0.1), (0, 0, 0)),
    ((0.01, 0.07, 0.06), (-128, 13, 90)),
    ((0.2, 0.003, 0.01), (127, -5, -20)),
    # Chosen so that computing TFLM's output multiplier in float32 instead of double changes an
    # output: the precision of CalculateOpDataAdd matters and is checked here.
    ((0.06890703737735748, 0.15566305816173553, 0.007640098687261343), (60, -95, 58)),
]


@pytest.mark.parametrize("scales, zero_points", PAIR_QUANTS, ids=str)
def test_add_every_pair_of_values(assert_bit_exact, scales, zero_points):
    model = binary_model("ADD", 0, shape1=(256, 1), shape2=(1, 256), scales=scales, zero_points=zero_points)
    assert_bit_exact(model, records=[ALL_PAIRS])


@st.composite
def broadcastable_shapes(draw):
    rank = draw(st.integers(0, 6))
    dims = [draw(st.integers(1, 5)) for _ in range(rank)]
    shape1 = [d if draw(st.booleans()) else 1 for d in dims]
    shape2 = [d if draw(st.booleans()) else 1 for d in dims]
    # Drop some leading dimensions of one input: rank broadcasting.
    return shape1[draw(st.integers(0, rank)):], shape2


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), shapes=broadcastable_shapes(),
       activation=st.sampled_from(["NONE", "RELU", "RELU6", "RELU_N1_TO_1"]),
       swap=st.booleans(), constant=st.sampled_from([None, None, 2]))
def test_add_random(assert_bit_exact, seed, shapes, activation, swap, constant):
    shape1, shape2 = shapes if not swap else shapes[::-1]
    assert_bit_exact(binary_model("ADD", seed, shape1=shape1, shape2=shape2, activation=activation,
                                  constant=constant), count=2, seed=seed % 1000)


def test_add_rejects_shapes_that_do_not_broadcast():
    with pytest.raises(InvalidModelError, match=r"ADD.*cannot be broadcast"):
        compile_bytes(binary_model("ADD", 0, shape1=(1, 4, 4, 3), shape2=(1, 4, 4, 2), output_shape=(1, 4, 4, 3)))


def test_add_rejects_a_wrong_output_shape():
    with pytest.raises(InvalidModelError, match=r"ADD: output 't2'"):
        compile_bytes(binary_model("ADD", 0, shape1=(1, 4, 4, 3), shape2=(3,), output_shape=(1, 4, 4, 1)))


def test_add_refuses_what_tflm_aborts_on():
    # An output scale below 2 * max input scale / 2^20 makes TFLM's output multiplier >= 1.
    with pytest.raises(UnsupportedModelError, match=r"ADD, output 't2'"):
        compile_bytes(binary_model("ADD", 0, scales=(0.5, 0.5, 1e-7)))
