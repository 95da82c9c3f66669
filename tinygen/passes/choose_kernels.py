"""Kernel choice: where a variant computes the same bits faster on the board, call it instead.

The lowerings emit runtime_c's reference kernels, each shaped after TFLM's. This stage asks the
registry of variants (tinygen/kernels/variants.py) for the cheapest one whose conditions hold on
the board's ISA features, and swaps the call for it. tests/ops runs every kernel grid with both
sets against TFLM.
"""

from __future__ import annotations

import dataclasses
from enum import Enum

from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelCall, Lowered
from tinygen.boards.catalog import DEFAULT_BOARD, load_board
from tinygen.kernels.variants import Choice, choose_variant, registered_variants


class KernelSet(str, Enum):
    OPTIMISED = "optimised"   # the default: variants wherever they apply
    REFERENCE = "reference"   # the reference kernels only (to rule a variant out when debugging)
    FASTEST = "fastest"       # the board's variants wherever they apply, even where they raise the arena


def default_isa_features() -> frozenset[str]:
    """The ISA features of tinygen's default board, for callers that name no board."""
    return frozenset(load_board(DEFAULT_BOARD).core.isa_features)


def choose_kernels(graph: Graph, lowered: tuple[Lowered, ...], kernel_set: KernelSet,
                   isa_features: frozenset[str] | None = None) -> tuple[tuple[Lowered, ...], tuple[Choice, ...]]:
    """The calls with their variants for a board with isa_features (default: the default board's),
    and why each call got its kernel."""
    if kernel_set is KernelSet.REFERENCE:
        return lowered, ()
    if isa_features is None:
        isa_features = default_isa_features()
    chosen: list[Lowered] = []
    choices: list[Choice] = []
    for item in lowered:
        if isinstance(item, KernelCall):
            item, choice = choose_variant(graph, item, isa_features)
            choices.append(choice)
        chosen.append(item)
    return tuple(chosen), tuple(choices)


def twin_reference(function: str) -> str | None:
    """The reference kernel a `_fast` twin replaces (the twins take its arguments unchanged), else None."""
    return next((v.replaces for v in registered_variants() if v.function == function and not v.needs
                 and v.function.endswith("_fast")), None)


def board_variant(graph: Graph, call: KernelCall, isa_features: frozenset[str],
                  exclude: frozenset[str] = frozenset()) -> tuple[KernelCall, Choice] | None:
    """The registry's choice for a call that holds a `_fast` twin (or its reference), on a board with
    isa_features, without the variants in exclude; None where the call has no reference kernel in the registry."""
    reference = twin_reference(call.function) or call.function
    if not any(v.replaces == reference for v in registered_variants()):
        return None
    return choose_variant(graph, dataclasses.replace(call, function=reference, overlaps=()), isa_features, exclude)
