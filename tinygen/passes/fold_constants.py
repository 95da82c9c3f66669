"""Shape arithmetic folded at import: operators whose result is known before the model runs.

Exported models compute RESHAPE targets at run time: SHAPE of a static tensor, then STRIDED_SLICE,
PACK or CONCATENATION of int32 vectors, or FILL with constant dims and value. With static shapes
every such value is a constant, so the operator is replaced by a constant tensor holding it and
costs no code. TFLM computes the same values at run time; nothing downstream can tell apart a
folded tensor from one written by a kernel, except that it is in flash.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from tinygen.ir import ops
from tinygen.ir.graph import NO_TENSOR, DType, Tensor
from tinygen.kernels.strided_slice import eval_indices

# Operators folded when every input is a constant and every output is an integer vector.
_INTEGER_DTYPES = (DType.INT32, DType.INT64)


def folded_outputs(attrs: ops.OpAttrs, inputs: tuple[int, ...], outputs: tuple[int, ...],
                   tensors: list[Tensor]) -> dict[int, np.ndarray] | None:
    """Output tensor index -> its constant value, or None when the operator must run."""
    if len(outputs) != 1:
        return None
    out = tensors[outputs[0]]
    value = _value(attrs, [tensors[i] for i in inputs if i != NO_TENSOR], out)
    if value is None or value.size != out.num_elements:
        return None
    return {out.index: np.array(value, dtype=out.dtype.numpy).reshape(out.shape)}  # 0-d stays 0-d


def _value(attrs: ops.OpAttrs, inputs: list[Tensor], out: Tensor) -> np.ndarray | None:
    if isinstance(attrs, ops.Shape):  # the input's data is irrelevant: its shape is static
        return np.array(inputs[0].shape, dtype=np.int64) if out.dtype in _INTEGER_DTYPES else None
    if any(t.data is None for t in inputs):
        return None
    data = [np.asarray(t.data) for t in inputs]
    if isinstance(attrs, ops.Fill):
        if out.dtype is not inputs[1].dtype:
            return None
        return np.full(tuple(int(d) for d in data[0].reshape(-1)), data[1].reshape(-1)[0])
    if out.dtype not in _INTEGER_DTYPES or any(t.dtype not in _INTEGER_DTYPES for t in inputs):
        return None
    if isinstance(attrs, ops.StridedSlice):
        dims, steps, offset = eval_indices(attrs, inputs[0].shape)
        index = offset + sum(np.arange(d).reshape((-1,) + (1,) * (len(dims) - k - 1)) * s
                             for k, (d, s) in enumerate(zip(dims, steps)))
        return data[0].reshape(-1)[np.asarray(index).reshape(-1)]
    if isinstance(attrs, ops.Pack):
        axis = attrs.axis + len(out.shape) if attrs.axis < 0 else attrs.axis
        return np.stack(data, axis=axis)
    if isinstance(attrs, ops.Concatenation):
        return np.concatenate([d.reshape(t.shape) for d, t in zip(data, inputs)], axis=attrs.axis)
    if isinstance(attrs, (ops.Reshape, ops.Squeeze, ops.ExpandDims)):
        return data[0]
    return None


def as_constant(tensor: Tensor, value: np.ndarray) -> Tensor:
    value.setflags(write=False)
    return dataclasses.replace(tensor, data=value)
