"""SHAPE and FILL (and the int32 shape arithmetic between them and a RESHAPE) fold into constants
at import: no code, and the RESHAPE they feed computes what TFLite Micro computes."""

from __future__ import annotations

import numpy as np

from tinygen.kernels.call import KernelCall
from tinygen.testing.model_builder import ModelBuilder

Q = dict(scale=0.05, zero_point=-3)


def _ints(b: ModelBuilder, values) -> int:
    return b.tensor([len(values)], dtype=np.int32, data=np.array(values, np.int32))


def shape_chain_model() -> bytes:
    """The exporters' flatten: RELU -> SHAPE -> STRIDED_SLICE (batch) -> PACK [batch, -1] -> RESHAPE -> RELU."""
    b = ModelBuilder()
    x = b.tensor([2, 3, 4, 5], **Q)
    r = b.tensor([2, 3, 4, 5], **Q)
    b.op("RELU", [x], [r])
    shape = b.tensor([4], dtype=np.int32)
    b.op("SHAPE", [r], [shape])
    batch = b.tensor([], dtype=np.int32)
    b.op("STRIDED_SLICE", [shape, _ints(b, [0]), _ints(b, [1]), _ints(b, [1])], [batch], shrinkAxisMask=1)
    target = b.tensor([2], dtype=np.int32)
    b.op("PACK", [batch, b.tensor([], dtype=np.int32, data=np.array(-1, np.int32))], [target], valuesCount=2, axis=0)
    flat = b.tensor([2, 60], **Q)
    b.op("RESHAPE", [r, target], [flat])
    y = b.tensor([2, 60], **Q)
    b.op("RELU", [flat], [y])
    return b.build([x], [y])


def fill_model() -> bytes:
    """ADD of the input and a FILL of constant dims and value (an int8 constant after folding)."""
    b = ModelBuilder()
    x = b.tensor([2, 3], **Q)
    filled = b.tensor([2, 3], **Q)
    b.op("FILL", [_ints(b, [2, 3]), b.tensor([], data=np.array(17, np.int8), **Q)], [filled])
    y = b.tensor([2, 3], scale=0.1, zero_point=0)
    b.op("ADD", [x, filled], [y], fusedActivationFunction="NONE")
    return b.build([x], [y])


def test_shape_arithmetic_feeding_a_reshape_is_folded(assert_bit_exact):
    result = assert_bit_exact(shape_chain_model(), count=2)
    kinds = [op.kind for op in result.compiled.graph.operators]
    assert kinds == ["RELU", "RESHAPE", "RELU"]
    assert all(c.op_kind == "RELU" for c in result.compiled.lowered if isinstance(c, KernelCall))


def test_fill_is_folded_into_a_constant(assert_bit_exact):
    result = assert_bit_exact(fill_model(), count=2)
    assert [op.kind for op in result.compiled.graph.operators] == ["ADD"]
