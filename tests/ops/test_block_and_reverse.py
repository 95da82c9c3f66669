"""DEPTH_TO_SPACE, SPACE_TO_DEPTH, REVERSE_V2, BROADCAST_TO and PADV2 against TFLite Micro (strided
values): block sizes 1 to 4, batches, every contiguous set of reversed axes; and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.errors import UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder


def block_model(op: str, shape, block: int) -> bytes:
    n, h, w, c = shape
    out = (n, h * block, w * block, c // block // block) if op == "DEPTH_TO_SPACE" else \
        (n, h // block, w // block, c * block * block)
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-128)
    y = b.tensor(list(out), scale=0.4, zero_point=127)
    b.op(op, [x], [y], blockSize=block)
    return b.build([x], [y])


D2S = [((1, 2, 3, 4), 2), ((2, 3, 2, 18), 3), ((1, 2, 2, 32), 4), ((1, 3, 3, 5), 1)]
S2D = [((1, 4, 6, 3), 2), ((2, 6, 3, 2), 3), ((1, 8, 8, 1), 4), ((1, 3, 3, 5), 1)]


@pytest.mark.parametrize("shape, block", D2S, ids=[f"{s}-b{b}" for s, b in D2S])
def test_depth_to_space(assert_bit_exact, shape, block):
    assert_bit_exact(block_model("DEPTH_TO_SPACE", shape, block), count=2)


@pytest.mark.parametrize("shape, block", S2D, ids=[f"{s}-b{b}" for s, b in S2D])
def test_space_to_depth(assert_bit_exact, shape, block):
    assert_bit_exact(block_model("SPACE_TO_DEPTH", shape, block), count=2)


def reverse_model(shape, axes) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-128)
    a = b.tensor([len(axes)], dtype=np.int32, data=np.array(axes, np.int32))
    y = b.tensor(list(shape), scale=0.4, zero_point=127)
    b.op("REVERSE_V2", [x, a], [y])
    return b.build([x], [y])


REVERSES = [((7,), (0,)), ((3, 4), (1,)), ((3, 4), (0, 1)), ((2, 3, 4), (-1,)), ((2, 3, 4, 5), (1, 2)),
            ((2, 3, 4, 5), (3, 2, 1)), ((2, 1, 3, 2, 2), (0,))]


@pytest.mark.parametrize("shape, axes", REVERSES, ids=[f"{s}-{a}" for s, a in REVERSES])
def test_reverse(assert_bit_exact, shape, axes):
    assert_bit_exact(reverse_model(shape, axes), count=2)


def test_reverse_of_non_contiguous_axes_is_refused_like_tflm():
    with pytest.raises(UnsupportedModelError, match=r"REVERSE_V2: axes \[0, 2\] are not contiguous; TFLite Micro"):
        compile_bytes(reverse_model((2, 3, 4), (0, 2)))


def broadcast_to_model(shape, target, shape_dtype=np.int32) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-128)
    s = b.tensor([len(target)], dtype=shape_dtype, data=np.array(target, shape_dtype))
    y = b.tensor(list(target), scale=0.05, zero_point=-128)
    b.op("BROADCAST_TO", [x, s], [y])
    return b.build([x], [y])


BROADCASTS = [((3,), (4, 3)), ((1, 3), (2, 4, 3)), ((2, 1, 3), (2, 5, 3)), ((1,), (2, 3, 1, 2, 2)),
              ((4, 1, 1, 2), (4, 3, 2, 2))]


@pytest.mark.parametrize("shape, target", BROADCASTS, ids=[f"{s}->{t}" for s, t in BROADCASTS])
@pytest.mark.parametrize("shape_dtype", [np.int32, np.int64])
def test_broadcast_to(assert_bit_exact, shape, target, shape_dtype):
    assert_bit_exact(broadcast_to_model(shape, target, shape_dtype), count=2)


def test_padv2_uses_pads_kernel(assert_bit_exact):
    b = ModelBuilder()
    x = b.tensor([1, 3, 4, 2], scale=0.05, zero_point=-128)
    p = b.tensor([4, 2], dtype=np.int32, data=np.array([[0, 0], [1, 2], [2, 0], [0, 1]], np.int32))
    c = b.tensor([], scale=0.05, zero_point=-128, data=np.array(127, np.int8))
    y = b.tensor([1, 6, 6, 3], scale=0.05, zero_point=-128)
    b.op("PADV2", [x, p, c], [y])
    result = assert_bit_exact(b.build([x], [y]), count=2)
    assert result.compiled.graph.operators[0].kind == "PADV2"


def batch_to_space_model(shape, block, crops) -> bytes:
    spatial = len(block)
    n = shape[0] // int(np.prod(block))
    out_spatial = [d * bs - lo - hi for d, bs, (lo, hi) in zip(shape[1:1 + spatial], block, crops)]
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-128)
    bt = b.tensor([spatial], dtype=np.int32, data=np.array(block, np.int32))
    ct = b.tensor([spatial, 2], dtype=np.int32, data=np.array(crops, np.int32).reshape(spatial, 2))
    y = b.tensor([n, *out_spatial, *shape[1 + spatial:]], scale=0.05, zero_point=-128)
    b.op("BATCH_TO_SPACE_ND", [x, bt, ct], [y])
    return b.build([x], [y])


B2S = [((4, 2, 3, 2), (2, 2), ((0, 0), (0, 0))), ((8, 3, 3, 1), (2, 2), ((1, 0), (0, 1))),
       ((6, 2, 2, 3), (3, 2), ((1, 2), (1, 1))), ((4, 3, 2), (2,), ((1, 0),)), ((2, 2, 2, 2), (1, 2), ((0, 0), (1, 0)))]


@pytest.mark.parametrize("shape, block, crops", B2S, ids=[f"{s}-{b}-{c}" for s, b, c in B2S])
def test_batch_to_space(assert_bit_exact, shape, block, crops):
    assert_bit_exact(batch_to_space_model(shape, block, crops), count=2)
