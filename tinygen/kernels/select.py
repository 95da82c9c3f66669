"""Lower a whole graph: every operator through its registered lowering, in execution order."""

from __future__ import annotations

from tinygen.errors import TinygenError, UnsupportedModelError
from tinygen.ir.graph import Graph
from tinygen.kernels.call import Lowered
from tinygen.kernels.registry import lowering_for

# Importing these modules registers their lowerings.
from tinygen.kernels import (  # noqa: F401,E402
    activations, concatenation, conv, depthwise, elementwise, fully_connected, hard_swish, logistic, mean, pad,
    pooling, quantize, reshape, softmax,
)
from tinygen.kernels import binary, data_movement, log_softmax, pointwise, reduce, resize, strided_slice  # noqa: F401,E402  (issue 10: ops engineer)
from tinygen.kernels import misc_ops  # noqa: F401,E402  (issue 10: ops-a)
from tinygen.kernels import lstm, resource, svdf  # noqa: F401,E402  (issue 10: ops-b, stateful operators)


def lower_graph(graph: Graph) -> tuple[Lowered, ...]:
    missing = [f"#{op.index} {op.kind}" for op in graph.operators if lowering_for(type(op.attrs)) is None]
    if missing:
        raise UnsupportedModelError(f"no kernel yet for operator(s): {', '.join(missing)}")
    lowered: list[Lowered] = []
    for op in graph.operators:
        try:
            lowered.extend(lowering_for(type(op.attrs))(graph, op))
        except TinygenError as exc:
            # Shared helpers (activation ranges, multipliers) do not know the operator: name it.
            if f"operator #{op.index} " in str(exc):
                raise
            raise type(exc)(f"operator #{op.index} {op.kind}: {exc}") from None
    return tuple(lowered)
