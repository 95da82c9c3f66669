"""Kernel choice: where an optimised twin computes the same bits, call it instead of the reference.

The lowerings emit runtime_c's reference kernels, each shaped after TFLM's. This stage swaps a call
for its twin (same arguments, same results, faster) when the twin's conditions hold. The twins are
written once in C: on a core with the DSP extension they use SMLAD, elsewhere (the host included)
plain C computing the same bits. tests/ops runs every kernel grid with both sets against TFLM.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from enum import Enum

from tinygen.kernels.call import KernelCall, Lowered
from tinygen.kernels.cvalues import ChannelRequant, CValue, Dims


class KernelSet(str, Enum):
    OPTIMISED = "optimised"   # the default: twins wherever they apply
    REFERENCE = "reference"   # the reference kernels only (to rule a twin out when debugging)


def _arg(call: KernelCall, name: str) -> CValue:
    return next(a.value for a in call.args if a.name == name)


def _conv_twin(call: KernelCall) -> str | None:
    input_dims, filter_dims = _arg(call, "input_dims"), _arg(call, "filter_dims")
    assert isinstance(input_dims, Dims) and isinstance(filter_dims, Dims)
    return "tg_conv_s8_fast" if filter_dims.c == input_dims.c else None  # ungrouped only


def _depthwise_twin(call: KernelCall) -> str | None:
    return "tg_depthwise_conv_s8_fast" if _arg(call, "params").depth_multiplier == 1 else None


def _fully_connected_twin(call: KernelCall) -> str | None:
    return "tg_fully_connected_s8_fast" if _arg(call, "params").filter_offset == 0 else None


# reference function -> the twin's name for this call, or None where it does not apply
_TWINS: dict[str, Callable[[KernelCall], str | None]] = {
    "tg_conv_s8": _conv_twin,
    "tg_depthwise_conv_s8": _depthwise_twin,
    "tg_fully_connected_s8": _fully_connected_twin,
}


def choose_kernels(lowered: tuple[Lowered, ...], kernel_set: KernelSet) -> tuple[Lowered, ...]:
    if kernel_set is KernelSet.REFERENCE:
        return lowered
    return tuple(_with_twin(item) if isinstance(item, KernelCall) else item for item in lowered)


def _with_twin(call: KernelCall) -> KernelCall:
    twin = _TWINS.get(call.function, lambda _: None)(call)
    if twin is None or not _quantize_multiplier_range(_arg(call, "requant")):
        return call
    return dataclasses.replace(call, function=twin)


def _quantize_multiplier_range(requant: CValue) -> bool:
    """The twins' requantization (tg_dot_requantize) takes what QuantizeMultiplier gives: multipliers
    in [0, 2^31 - 1], shifts in [-31, 30]. Always so today; checked so that it stays a guarantee."""
    assert isinstance(requant, ChannelRequant)
    multipliers, shifts = requant.multiplier.values, requant.shift.values
    return bool((multipliers >= 0).all() and (shifts >= -31).all() and (shifts <= 30).all())
