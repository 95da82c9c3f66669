"""SUB, MAXIMUM and MINIMUM (int8) against TFLite Micro: same shapes and broadcasting in either
direction, fused activations, scales that stress SUB's float rescaling, zero points at both int8
ends, extreme values; MAXIMUM/MINIMUM compare stored values whatever the quantization."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ops.test_add import binary_model, broadcast_shape
from tinygen.errors import UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder

SUB_GRID = [
    dict(),
    dict(activation="RELU"),
    dict(activation="RELU6"),
    dict(activation="RELU_N1_TO_1", scales=(0.01, 0.012, 0.01)),
    dict(shape2=(1, 1, 1, 16)),
    dict(shape2=(16,)),
    dict(shape1=(16,), shape2=(1, 8, 8, 16)),
    dict(shape1=(2, 1, 3, 1, 4, 5), shape2=(3, 2, 1, 5)),       # 6-D broadcast
    dict(same_tensor=True),                                     # x - x
    dict(constant=2),
    dict(constant=1, shape1=(1, 1, 1, 16)),
    dict(scales=(0.1, 0.001, 0.05)),                            # very different input scales
    dict(scales=(0.02, 0.02, 0.02), zero_points=(-128, 127, -128)),
    dict(scales=(0.3, 0.7, 0.011), zero_points=(127, -128, 127)),
]


@pytest.mark.parametrize("case", SUB_GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_sub_grid(assert_bit_exact, case):
    assert_bit_exact(binary_model("SUB", seed=len(str(case)), **case), count=2)


def test_sub_extremes(assert_bit_exact):
    model = binary_model("SUB", seed=3, shape1=(4, 4), scales=(0.05, 0.08, 0.1), zero_points=(-128, 127, 0))
    a = np.resize(np.array([-128, 127, 0, -1], np.int8), (4, 4))
    b = np.resize(np.array([127, -128, -128, 127, 0], np.int8), (4, 4))
    assert_bit_exact(model, records=[[a, b], [b, a]])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**31), rank=st.integers(1, 4), data=st.data())
def test_sub_random_broadcast(assert_bit_exact, seed, rank, data):
    shape = [data.draw(st.integers(1, 4)) for _ in range(rank)]
    shape2 = [d if data.draw(st.booleans()) else 1 for d in shape]
    assert_bit_exact(binary_model("SUB", seed, shape1=tuple(shape), shape2=tuple(shape2)), count=1)


def max_min_model(op: str, shape1, shape2, quant1=(0.05, -3), quant2=(0.05, -3), quant_out=(0.05, -3)) -> bytes:
    b = ModelBuilder()
    x1 = b.tensor(list(shape1), scale=quant1[0], zero_point=quant1[1])
    x2 = b.tensor(list(shape2), scale=quant2[0], zero_point=quant2[1])
    y = b.tensor(broadcast_shape(shape1, shape2), scale=quant_out[0], zero_point=quant_out[1])
    b.op(op, [x1, x2], [y])
    return b.build([x1, x2], [y])


SHAPES = [((2, 3, 4), (2, 3, 4)), ((2, 3, 4), (4,)), ((1,), (3, 5)), ((2, 1, 4, 1), (3, 1, 5)),
          ((2, 1, 3, 1, 2), (1, 4, 1, 2, 1))]


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
@pytest.mark.parametrize("shape1, shape2", SHAPES, ids=[f"{a}-{b}" for a, b in SHAPES])
def test_maximum_minimum_grid(assert_bit_exact, op, shape1, shape2):
    assert_bit_exact(max_min_model(op, shape1, shape2), count=2)


@pytest.mark.parametrize("op", ["MAXIMUM", "MINIMUM"])
def test_maximum_minimum_compare_stored_values_across_quantizations(assert_bit_exact, op):
    model = max_min_model(op, (3, 4), (3, 4), (0.05, -128), (0.9, 127), (0.01, 0))
    a = np.resize(np.array([-128, 127, 0, -1, 5], np.int8), (3, 4))
    b = np.resize(np.array([127, -128, 0, 3], np.int8), (3, 4))
    assert_bit_exact(model, records=[[a, b]])


def test_maximum_rank_6_is_refused():
    with pytest.raises(UnsupportedModelError, match=r"MAXIMUM: output .* rank 6; TFLite Micro's kernel takes up to 5"):
        compile_bytes(max_min_model("MAXIMUM", (1, 2, 1, 2, 1, 2), (2,)))


def prelu_model(shape, alpha_shape, alpha_values=None, quants=((0.05, -3), (0.01, 0), (0.04, 5)),
                constant_alpha=True) -> bytes:
    rng = np.random.default_rng(len(shape) + len(alpha_shape))
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=quants[0][0], zero_point=quants[0][1])
    data = alpha_values if alpha_values is not None else rng.integers(-128, 128, size=alpha_shape).astype(np.int8)
    a = b.tensor(list(alpha_shape), scale=quants[1][0], zero_point=quants[1][1],
                 data=np.asarray(data, np.int8).reshape(alpha_shape) if constant_alpha else None)
    y = b.tensor(broadcast_shape(shape, alpha_shape), scale=quants[2][0], zero_point=quants[2][1])
    b.op("PRELU", [x, a], [y])
    return b.build([x] if constant_alpha else [x, a], [y])


PRELUS = [((1, 4, 4, 3), (1, 1, 3)), ((1, 4, 4, 3), (3,)), ((2, 5), (2, 5)), ((1, 3, 3, 2), (1, 3, 3, 2)),
          ((4, 6), (1,))]


@pytest.mark.parametrize("shape, alpha_shape", PRELUS, ids=[f"{s}-{a}" for s, a in PRELUS])
def test_prelu_grid(assert_bit_exact, shape, alpha_shape):
    assert_bit_exact(prelu_model(shape, alpha_shape), count=2)


@pytest.mark.parametrize("quants", [((0.05, 127), (0.02, -128), (0.03, -128)), ((0.2, -128), (0.5, 127), (0.01, 0))],
                         ids=str)
def test_prelu_extremes(assert_bit_exact, quants):
    model = prelu_model((2, 4), (4,), alpha_values=[-128, 127, 0, 1], quants=quants)
    x = np.array([[-128, 127, 0, -1], [5, -5, 127, -128]], np.int8)
    assert_bit_exact(model, records=[[x]])


def test_prelu_with_alpha_as_an_input(assert_bit_exact):
    assert_bit_exact(prelu_model((1, 3, 3, 4), (1, 1, 4), constant_alpha=False), count=2)


def test_int8_neg_is_refused_as_tflm_has_only_a_float_kernel():
    b = ModelBuilder()
    x = b.tensor([1, 8], scale=0.05)
    y = b.tensor([1, 8], scale=0.05)
    b.op("NEG", [x], [y])
    with pytest.raises(UnsupportedModelError, match=r"#0 NEG \(TFLite Micro's kernel computes float32 only"):
        compile_bytes(b.build([x], [y]))


def squared_difference_model(shape1, shape2, quants) -> bytes:
    b = ModelBuilder()
    x1 = b.tensor(list(shape1), scale=quants[0][0], zero_point=quants[0][1])
    x2 = b.tensor(list(shape2), scale=quants[1][0], zero_point=quants[1][1])
    y = b.tensor(broadcast_shape(shape1, shape2), scale=quants[2][0], zero_point=quants[2][1])
    b.op("SQUARED_DIFFERENCE", [x1, x2], [y])
    return b.build([x1, x2], [y])


SQD = [((2, 3, 4), (2, 3, 4), ((0.05, 0), (0.05, 0), (0.02, -128))),
       ((1, 4, 4, 8), (8,), ((0.05, -3), (0.08, 10), (0.1, -128))),          # LayerNorm's (x - mean)^2
       ((1, 4, 4, 8), (1, 4, 4, 1), ((0.02, 127), (0.02, -128), (0.5, -128))),
       ((3, 5), (1,), ((0.1, -128), (0.001, 0), (0.001, -100))),
       ((6,), (6,), ((0.3, 5), (0.7, -5), (2.0, 0)))]


@pytest.mark.parametrize("shape1, shape2, quants", SQD, ids=[f"{a}-{b}" for a, b, _ in SQD])
def test_squared_difference(assert_bit_exact, shape1, shape2, quants):
    assert_bit_exact(squared_difference_model(shape1, shape2, quants), count=3)


def test_squared_difference_extremes(assert_bit_exact):
    model = squared_difference_model((2, 4), (2, 4), ((0.05, 127), (0.05, -128), (0.3, -128)))
    a = np.array([[-128, 127, 0, -1], [127, -128, 5, 6]], np.int8)
    assert_bit_exact(model, records=[[a, a[::-1].copy()], [a, a]])
