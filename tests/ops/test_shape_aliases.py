"""SQUEEZE and EXPAND_DIMS cost no code: their output aliases the input (as RESHAPE), checked
against TFLite Micro inside a chain so that the aliased bytes are read by a real kernel."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.kernels.call import Alias
from tinygen.testing.model_builder import ModelBuilder


def alias_chain(op: str, shape, out_shape, **options) -> bytes:
    """RELU -> op -> RELU6: the alias sits between two kernels."""
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-4)
    r = b.tensor(list(shape), scale=0.05, zero_point=-4)
    b.op("RELU", [x], [r])
    inputs = [r]
    if op == "EXPAND_DIMS":
        inputs.append(b.tensor([1], dtype=np.int32, data=np.array([options.pop("axis")], np.int32)))
    m = b.tensor(list(out_shape), scale=0.05, zero_point=-4)
    b.op(op, inputs, [m], **options)
    y = b.tensor(list(out_shape), scale=0.05, zero_point=-4)
    b.op("RELU6", [m], [y])
    return b.build([x], [y])


CASES = [
    ("SQUEEZE", (1, 1, 1, 8), (1, 8), dict(squeezeDims=[1, 2])),
    ("SQUEEZE", (1, 3, 1, 4), (3, 4), dict()),
    ("EXPAND_DIMS", (2, 5), (2, 1, 5), dict(axis=1)),
    ("EXPAND_DIMS", (2, 5), (2, 5, 1), dict(axis=-1)),
]


@pytest.mark.parametrize("op, shape, out_shape, options", CASES, ids=[f"{c[0]}-{c[1]}->{c[2]}" for c in CASES])
def test_shape_only_ops_alias_their_input(assert_bit_exact, op, shape, out_shape, options):
    result = assert_bit_exact(alias_chain(op, shape, out_shape, **options), count=2)
    assert any(isinstance(item, Alias) and item.op_kind == op for item in result.compiled.lowered)
