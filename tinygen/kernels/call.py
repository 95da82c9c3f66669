"""KernelCall: one call of a C kernel, with every argument a typed constant or a tensor address."""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.kernels.cvalues import CValue


@dataclass(frozen=True)
class KernelArg:
    name: str  # names the generated constant (op<i>_<name>) and documents the call
    value: CValue


@dataclass(frozen=True)
class KernelCall:
    op_index: int
    op_kind: str
    function: str
    args: tuple[KernelArg, ...]
    reads: tuple[int, ...]   # activation tensors the call reads
    writes: tuple[int, ...]  # activation tensors the call writes
    scratch_bytes: int = 0
    traced: bool = True  # False: what it writes is part of a tensor (a patch), traced elsewhere


@dataclass(frozen=True)
class Alias:
    """An operator that needs no code: its output shares the input's bytes (RESHAPE)."""

    op_index: int
    op_kind: str
    source: int
    target: int


@dataclass(frozen=True)
class TraceGather:
    """Trace builds only: copy a patch's part of a tensor into that tensor's whole copy
    (a TraceBuffer), so it can be compared with TFLM's once every patch has run."""

    op_index: int
    op_kind: str
    function: str
    args: tuple[KernelArg, ...]


@dataclass(frozen=True)
class TracePoint:
    """Trace the whole tensor here: from the arena, or from its gathered copy (gathered=True)."""

    op_index: int
    op_kind: str
    tensor: int
    gathered: bool


Lowered = KernelCall | Alias | TraceGather | TracePoint
