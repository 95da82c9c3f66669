"""PAD against TFLite Micro: ranks 1 to 5, padding on any dimension, the output zero point or a
constant_values input (PADV2 style) as pad value, and input/output quantizations that differ
(TFLM copies stored values without requantizing)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder, random_scale


def pad_model(seed: int, shape=(1, 4, 5, 3), paddings=((0, 0), (1, 1), (2, 1), (0, 0)), constant=None,
              same_quant=True, constant_quant=None, paddings_dtype=np.int32) -> bytes:
    rng = np.random.default_rng(seed)
    scale, zp = random_scale(rng), int(rng.integers(-128, 128))
    out_scale, out_zp = (scale, zp) if same_quant else (random_scale(rng), int(rng.integers(-128, 128)))
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=scale, zero_point=zp)
    p = b.tensor([len(shape), 2], dtype=paddings_dtype, data=np.array(paddings, dtype=paddings_dtype).reshape(-1, 2))
    inputs = [x, p]
    if constant is not None:
        c_scale, c_zp = constant_quant if constant_quant is not None else (out_scale, out_zp)
        inputs.append(b.tensor([], scale=c_scale, zero_point=c_zp, data=np.array(constant, dtype=np.int8)))
    out_shape = [d + lo + hi for d, (lo, hi) in zip(shape, paddings)]
    y = b.tensor(out_shape, scale=out_scale, zero_point=out_zp)
    b.op("PAD", inputs, [y])
    return b.build([x], [y])


GRID = [
    dict(),
    dict(paddings=((0, 0), (1, 0), (0, 1), (2, 3))),                       # channels padded too
    dict(paddings=((1, 2), (0, 0), (0, 0), (0, 0))),                       # batch padded
    dict(shape=(6,), paddings=((2, 3),)),
    dict(shape=(3, 4), paddings=((0, 1), (3, 0))),
    dict(shape=(2, 3, 4), paddings=((1, 1), (0, 2), (1, 0))),
    dict(shape=(2, 2, 3, 2, 3), paddings=((1, 0), (0, 1), (1, 1), (2, 0), (0, 1))),  # TFLM's 5-D maximum
    dict(paddings=((0, 0), (0, 0), (0, 0), (0, 0))),                       # a plain copy
    dict(constant=-77),                                                    # PADV2-style constant_values
    dict(constant=127, shape=(2, 3), paddings=((1, 1), (1, 1))),
    dict(same_quant=False),                                                # stored values copied unchanged
    dict(same_quant=False, constant=5),
]


@pytest.mark.parametrize("case", GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_pad_grid(assert_bit_exact, case):
    assert_bit_exact(pad_model(seed=len(str(case)), **case), count=2)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), seed=st.integers(0, 2**31), rank=st.integers(1, 5), with_constant=st.booleans())
def test_pad_random(assert_bit_exact, data, seed, rank, with_constant):
    shape = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    paddings = tuple((data.draw(st.integers(0, 3)), data.draw(st.integers(0, 3))) for _ in range(rank))
    constant = data.draw(st.integers(-128, 127)) if with_constant else None
    assert_bit_exact(pad_model(seed, shape, paddings, constant), count=1)


def test_pad_rejects_rank_6_like_tflm():
    with pytest.raises(UnsupportedModelError, match="PAD: input .* rank 6; TFLite Micro pads up to 5"):
        compile_bytes(pad_model(0, shape=(1, 1, 1, 1, 2, 2), paddings=((0, 0),) * 5 + ((1, 1),)))


def test_pad_rejects_int64_paddings_like_tflm():
    with pytest.raises(UnsupportedModelError, match="PAD: paddings .* int64; TFLite Micro needs int32"):
        compile_bytes(pad_model(0, paddings_dtype=np.int64))


@pytest.mark.parametrize("constant_quant", [(0.5, 0), (None, 0)], ids=["other-scale", "unquantized"])
def test_pad_rejects_constant_with_other_quantization(constant_quant):
    with pytest.raises(InvalidModelError, match="PAD: constant_values .* must have the quantization of output"):
        compile_bytes(pad_model(0, constant=3, constant_quant=constant_quant))


def mirror_pad_model(shape, paddings, mode: str) -> bytes:
    from tinygen.testing.model_builder import schema
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-128)
    p = b.tensor([len(shape), 2], dtype=np.int32, data=np.array(paddings, np.int32).reshape(-1, 2))
    y = b.tensor([d + lo + hi for d, (lo, hi) in zip(shape, paddings)], scale=0.05, zero_point=-128)
    b.op("MIRROR_PAD", [x, p], [y], mode=getattr(schema.MirrorPadMode, mode))
    return b.build([x], [y])


MIRROR = [((5,), ((2, 3),)), ((1, 4, 5, 3), ((0, 0), (1, 1), (2, 2), (0, 0))), ((3, 4), ((2, 0), (0, 3))),
          ((2, 3, 4), ((1, 1), (2, 2), (3, 3))), ((2, 3, 2, 3, 2), ((0, 1), (1, 0), (1, 1), (0, 2), (1, 0)))]


@pytest.mark.parametrize("mode", ["REFLECT", "SYMMETRIC"])
@pytest.mark.parametrize("shape, paddings", MIRROR, ids=[f"{s}-{p}" for s, p in MIRROR])
def test_mirror_pad(assert_bit_exact, shape, paddings, mode):
    if mode == "REFLECT" and any(max(lo, hi) >= d for d, (lo, hi) in zip(shape, paddings)):
        pytest.fail("grid case invalid for REFLECT")  # keep the grid honest
    assert_bit_exact(mirror_pad_model(shape, paddings, mode), count=2)


def test_mirror_pad_too_large_is_refused():
    with pytest.raises(InvalidModelError, match=r"MIRROR_PAD: paddings \[3, 0\] of dimension 0 \(size 3\) are too large for REFLECT"):
        compile_bytes(mirror_pad_model((3, 4), ((3, 0), (0, 0)), "REFLECT"))
