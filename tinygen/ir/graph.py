"""The typed, immutable intermediate representation of a model.

A Graph holds tensors (shape, dtype, quantization, constant data) and operators in execution order.
Operators carry one frozen attrs dataclass per op type (see ops.py), never a dict of parameters.
Passes build new Graphs with `dataclasses.replace`; nothing here is edited in place.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tinygen.ir.ops import OpAttrs


class DType(enum.Enum):
    INT8 = "int8"
    UINT8 = "uint8"
    INT16 = "int16"
    INT32 = "int32"
    INT64 = "int64"
    FLOAT32 = "float32"
    BOOL = "bool"

    @property
    def numpy(self) -> np.dtype:
        return np.dtype(self.value)

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    @property
    def c_type(self) -> str:
        return _C_TYPES[self]


_C_TYPES = {
    DType.INT8: "int8_t",
    DType.UINT8: "uint8_t",
    DType.INT16: "int16_t",
    DType.INT32: "int32_t",
    DType.INT64: "int64_t",
    DType.FLOAT32: "float",
    DType.BOOL: "uint8_t",
}


@dataclass(frozen=True)
class Quantization:
    """Affine quantization: real = scale * (q - zero_point), per tensor or per channel.

    Scales are the float32 values stored in the model (held as Python floats, exactly).
    """

    scales: tuple[float, ...]
    zero_points: tuple[int, ...]
    axis: int = 0

    @property
    def per_channel(self) -> bool:
        return len(self.scales) > 1

    @property
    def scale(self) -> float:
        """The per-tensor scale; the first channel's for per-channel tensors."""
        return self.scales[0]

    @property
    def zero_point(self) -> int:
        return self.zero_points[0]


@dataclass(frozen=True, eq=False)
class Tensor:
    index: int
    name: str
    shape: tuple[int, ...]
    dtype: DType
    quant: Quantization | None = None
    # Constant contents (weights, biases, shape vectors): a read-only array of `shape`, or None.
    data: np.ndarray | None = field(default=None, repr=False)
    # A variable tensor (an SVDF's or LSTM's state): kept between invocations in the model's state
    # memory, outside the arena; never constant (its buffer in the file only initialises it in TFLite).
    variable: bool = False

    @property
    def is_constant(self) -> bool:
        return self.data is not None

    @property
    def num_elements(self) -> int:
        n = 1
        for d in self.shape:
            n *= d
        return n

    @property
    def nbytes(self) -> int:
        return self.num_elements * self.dtype.itemsize


# Marks an optional operator input that the model leaves out (TFLite writes -1).
NO_TENSOR = -1


@dataclass(frozen=True)
class Operator:
    index: int
    attrs: OpAttrs
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    @property
    def kind(self) -> str:
        return self.attrs.OP_NAME


@dataclass(frozen=True, eq=False)
class Graph:
    name: str
    sha256: str
    tensors: tuple[Tensor, ...]
    operators: tuple[Operator, ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]

    def tensor(self, index: int) -> Tensor:
        return self.tensors[index]

    def input_tensors(self) -> tuple[Tensor, ...]:
        return tuple(self.tensors[i] for i in self.inputs)

    def output_tensors(self) -> tuple[Tensor, ...]:
        return tuple(self.tensors[i] for i in self.outputs)

    def producers(self) -> dict[int, int]:
        """Tensor index -> index of the operator that writes it."""
        return {t: op.index for op in self.operators for t in op.outputs}

    def activation_tensors(self) -> tuple[Tensor, ...]:
        """Every non-constant tensor an operator reads or writes, plus the graph's inputs/outputs."""
        used: set[int] = set(self.inputs) | set(self.outputs)
        for op in self.operators:
            used.update(t for t in op.inputs if t != NO_TENSOR)
            used.update(op.outputs)
        return tuple(self.tensors[i] for i in sorted(used) if not self.tensors[i].is_constant)
