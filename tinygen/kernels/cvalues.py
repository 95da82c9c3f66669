"""Typed values that become C constants in generated code.

A kernel's parameters are a dataclass mirroring its C struct (`C_TYPE` names the struct), so the
generator never builds C from loose strings or dicts: codegen/cformat.py renders these values.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar, Union

import numpy as np


@dataclass(frozen=True)
class CStruct:
    """Base of dataclasses that mirror a C struct field for field."""

    C_TYPE: ClassVar[str] = ""

    def fields(self) -> list[tuple[str, "CValue"]]:
        return [(f.name, getattr(self, f.name)) for f in dataclasses.fields(self)]


@dataclass(frozen=True, eq=False)
class ConstArray:
    """A constant array placed in flash; a struct field or argument of this type is its address."""

    c_type: str  # element type: int8_t, int16_t, int32_t, float
    values: np.ndarray


@dataclass(frozen=True)
class TensorRef:
    """The address of a model tensor: in the arena for activations, in flash for constants."""

    tensor: int


@dataclass(frozen=True)
class ScratchRef:
    """The address of this call's scratch buffer in the arena (size in KernelCall.scratch_bytes)."""


@dataclass(frozen=True)
class NullPtr:
    pass


CValue = Union[int, float, CStruct, ConstArray, TensorRef, ScratchRef, NullPtr]

# --- structs shared by many kernels: runtime_c/include/tinygen/tg_types.h --------------------


@dataclass(frozen=True)
class Dims(CStruct):
    C_TYPE: ClassVar[str] = "tg_dims_t"
    n: int
    h: int
    w: int
    c: int


@dataclass(frozen=True)
class HW(CStruct):
    C_TYPE: ClassVar[str] = "tg_hw_t"
    h: int
    w: int


@dataclass(frozen=True)
class Range(CStruct):
    C_TYPE: ClassVar[str] = "tg_range_t"
    min: int
    max: int


@dataclass(frozen=True)
class Requant(CStruct):
    C_TYPE: ClassVar[str] = "tg_requant_t"
    multiplier: int
    shift: int


@dataclass(frozen=True)
class ChannelRequant(CStruct):
    C_TYPE: ClassVar[str] = "tg_channel_requant_t"
    multiplier: ConstArray
    shift: ConstArray
    per_channel: int
