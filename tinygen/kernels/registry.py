"""Which lowering turns each operator type into kernel calls.

A lowering is a function (graph, operator) -> tuple of KernelCall/Alias. Modules register theirs
with @lowering(OpAttrsType); kernels/select.py imports every such module and applies them.
"""

from __future__ import annotations

from collections.abc import Callable

from tinygen.ir.graph import Graph, Operator
from tinygen.ir.ops import OpAttrs
from tinygen.kernels.call import Lowered

Lowering = Callable[[Graph, Operator], tuple[Lowered, ...]]

_LOWERINGS: dict[type[OpAttrs], Lowering] = {}


def lowering(attrs_type: type[OpAttrs]) -> Callable[[Lowering], Lowering]:
    def register(fn: Lowering) -> Lowering:
        if attrs_type in _LOWERINGS:
            raise RuntimeError(f"two lowerings registered for {attrs_type.OP_NAME}")
        _LOWERINGS[attrs_type] = fn
        return fn
    return register


def lowering_for(attrs_type: type[OpAttrs]) -> Lowering | None:
    return _LOWERINGS.get(attrs_type)


def registered_ops() -> tuple[str, ...]:
    return tuple(sorted(t.OP_NAME for t in _LOWERINGS))
