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


@dataclass(frozen=True)
class Alias:
    """An operator that needs no code: its output shares the input's bytes (RESHAPE)."""

    op_index: int
    op_kind: str
    source: int
    target: int


Lowered = KernelCall | Alias
