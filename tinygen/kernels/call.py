"""KernelCall: one call of a C kernel, with every argument a typed constant or a tensor address."""

from __future__ import annotations

from dataclasses import dataclass

from tinygen.kernels.cvalues import CValue


@dataclass(frozen=True)
class KernelArg:
    name: str  # names the generated constant (op<i>_<name>) and documents the call
    value: CValue


@dataclass(frozen=True)
class Overlap:
    """The kernel's overlap contract for one (input, output) pair of pointer arguments.

    The kernel reads `input_arg` and writes `output_arg` in an order such that the output's bytes
    may overlap the input's, provided `address(output) - address(input) <= max_delta` (bytes;
    negative: the output must start that far below the input, a lag), and `>= min_delta` when
    that is given (in-place kernels that must sit exactly over their input: min = max = 0); and, with
    `multiple_of` > 1, only at max_delta less a whole number of `multiple_of` bytes (kernels that
    work a channel at a time: their writes must land on the same channel's input). It only applies
    when the call reads the input for the last time; otherwise the two may not share a byte.
    """

    input_arg: str
    output_arg: str
    max_delta: int
    min_delta: int | None = None
    multiple_of: int = 1

    def permits(self, delta: int) -> bool:
        return delta_permitted(delta, self.max_delta, self.min_delta, self.multiple_of)


def delta_permitted(delta: int, max_delta: int, min_delta: int | None, multiple_of: int) -> bool:
    """delta in [min_delta, max_delta], on the lattice max_delta - k * multiple_of (k >= 0)."""
    return (delta <= max_delta and (min_delta is None or delta >= min_delta)
            and (max_delta - delta) % multiple_of == 0)


@dataclass(frozen=True)
class KernelCall:
    op_index: int
    op_kind: str
    function: str
    args: tuple[KernelArg, ...]
    reads: tuple[int, ...]   # activation tensors the call reads
    writes: tuple[int, ...]  # activation tensors the call writes
    scratch_bytes: int = 0
    overlaps: tuple[Overlap, ...] = ()  # where the output may lie over an input (see Overlap)

    def arg(self, name: str) -> CValue:
        """The value of the argument called `name` (it must exist)."""
        return next(a.value for a in self.args if a.name == name)


@dataclass(frozen=True)
class Alias:
    """An operator that needs no code: its output shares the input's bytes (RESHAPE)."""

    op_index: int
    op_kind: str
    source: int
    target: int


Lowered = KernelCall | Alias
