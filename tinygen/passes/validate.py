"""Graph-level checks, run by the reader on every imported Graph before anything is lowered.

The reader checks each tensor and operator on its own; what only the whole graph shows is checked
here: the operators form a straight-line program in which every value is defined once, before it is
read. A model breaking that (an operator reading what a later one writes, two operators writing one
tensor, a graph output nothing computes) would compile to C that reads uninitialised or
overwritten arena bytes. Then the numbers of every tensor the program uses: sizes, quantization
TFLM can take, finite float constants. Each refusal is a TinygenError naming the tensor / operator.
"""

from __future__ import annotations

import numpy as np

from tinygen.errors import InvalidModelError, PlanError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import NO_TENSOR, DType, Graph, Tensor

# Offsets and sizes are C ints in the generated code; no board has anywhere near this much RAM.
MAX_ACTIVATION_BYTES = 2**31 - 1

# The smallest normal float32. TFLM divides by scales and takes their ratios in float and double;
# a denormal scale turns those into infinities and its fixed-point multipliers overflow.
MIN_SCALE = float(np.finfo(np.float32).tiny)

# The most dimensions a tensor may have: TFLM's RuntimeShape and tinygen's tg_tensor_info hold six.
MAX_RANK = 6

# Zero points a tensor of each type can hold; other types get TFLM's int32 field.
_ZERO_POINT_RANGES = {DType.INT8: (-128, 127), DType.UINT8: (0, 255), DType.INT16: (-32768, 32767)}
_INT32_RANGE = (-(2**31), 2**31 - 1)

# The element types the C API can describe for a graph input or output (TG_DTYPE_* in tg_model.h).
_IO_DTYPES = (DType.INT8, DType.UINT8, DType.INT16, DType.INT32, DType.FLOAT32)

def _label(t: Tensor) -> str:
    return f"tensor {t.index} '{t.name}'"


def _first(values: tuple[int, ...], count: int = 4) -> str:
    return str(list(values[:count]))[:-1] + (", ...]" if len(values) > count else "]")


def validate_graph(graph: Graph) -> Graph:
    """Raise a TinygenError if the graph is not a valid straight-line program; return it unchanged."""
    _check_graph_io(graph)
    written = _check_dataflow(graph)
    _check_graph_outputs(graph, written)
    used = _used_tensors(graph)
    _check_sizes(used)
    for t in used:
        _check_quantization(t)
        _check_constant_values(t)
    _check_filter_channels(graph)
    return graph


def _check_graph_io(graph: Graph) -> None:
    seen: set[int] = set()
    for i in graph.inputs:
        if i in seen:
            raise InvalidModelError(f"{_label(graph.tensor(i))} is listed twice as a graph input")
        seen.add(i)
    for i in (*graph.inputs, *graph.outputs):
        t = graph.tensor(i)
        if t.dtype not in _IO_DTYPES:
            raise UnsupportedModelError(
                f"graph input or output {_label(t)} is {t.dtype.value}; the C API passes "
                + ", ".join(d.value for d in _IO_DTYPES))


def _check_dataflow(graph: Graph) -> dict[int, int]:
    """Every operator reads graph inputs, constants or earlier results, and writes fresh tensors.

    Returns tensor index -> the operator that writes it.
    """
    inputs = set(graph.inputs)
    written: dict[int, int] = {}
    for op in graph.operators:
        where = f"operator #{op.index} {op.kind}"
        for i in op.inputs:
            if i == NO_TENSOR or i in inputs or i in written or graph.tensor(i).is_constant:
                continue
            if graph.tensor(i).variable:  # state: holds the previous invocation's values
                continue
            if i in op.outputs:
                raise InvalidModelError(f"{where} reads its own output {_label(graph.tensor(i))}")
            later = next((o.index for o in graph.operators if i in o.outputs), None)
            if later is not None:
                raise InvalidModelError(
                    f"{where} reads {_label(graph.tensor(i))} before operator #{later} writes it "
                    f"(operators must come in execution order, without cycles)")
            raise InvalidModelError(
                f"{where} reads {_label(graph.tensor(i))}, which is no graph input, no constant and no operator's output")
        for i in op.outputs:
            t = graph.tensor(i)
            if i in written:
                raise InvalidModelError(f"{_label(t)} is written twice: by operator #{written[i]} and by {where}")
            if i in inputs:
                raise InvalidModelError(f"{where} writes graph input {_label(t)}")
            if t.is_constant:
                raise InvalidModelError(f"{where} writes constant {_label(t)}")
            written[i] = op.index
    return written


def _check_graph_outputs(graph: Graph, written: dict[int, int]) -> None:
    for i in graph.outputs:
        if i not in written and i not in graph.inputs:
            raise InvalidModelError(f"graph output {_label(graph.tensor(i))} is never computed by any operator")


def _used_tensors(graph: Graph) -> list[Tensor]:
    used = dict.fromkeys([*graph.inputs, *graph.outputs])
    for op in graph.operators:
        used.update(dict.fromkeys(i for i in (*op.inputs, *op.outputs) if i != NO_TENSOR))
    return [graph.tensor(i) for i in used]


def _check_sizes(used: list[Tensor]) -> None:
    total = 0
    for t in used:
        if len(t.shape) > MAX_RANK:
            raise UnsupportedModelError(f"{_label(t)} has rank {len(t.shape)}; at most {MAX_RANK} dimensions are supported")
        if 0 in t.shape:
            # A zero-sized tensor computes nothing; kernels and the planner assume at least one element.
            raise UnsupportedModelError(f"{_label(t)} has shape {list(t.shape)}, with no elements")
        if not t.is_constant:
            total += t.nbytes
    if total > MAX_ACTIVATION_BYTES:
        raise PlanError(f"the activation tensors take {total} bytes together, more than the 2 GiB tinygen addresses")


def _check_quantization(t: Tensor) -> None:
    """Numbers TFLM's Prepare functions would overflow on or silently misread."""
    q = t.quant
    if q is None:
        return
    for s in q.scales:
        if not s >= MIN_SCALE:  # also catches NaN
            raise InvalidModelError(
                f"{_label(t)} has quantization scale {s!r}; scales must be normal positive float32 values (>= {MIN_SCALE:.3g})")
    low, high = _ZERO_POINT_RANGES.get(t.dtype, _INT32_RANGE)
    for zp in q.zero_points:
        if not low <= zp <= high:
            raise InvalidModelError(f"{_label(t)} has zero point {zp}, outside [{low}, {high}] of its type {t.dtype.value}")
    # Per-channel zero points other than 0 are not refused: TFLM runs them (its int8 convolutions
    # ignore a filter's zero points, FULLY_CONNECTED uses the first), and the lowerings do the same.


def _check_constant_values(t: Tensor) -> None:
    if t.data is not None and t.dtype is DType.FLOAT32 and not np.isfinite(t.data).all():
        raise InvalidModelError(f"{_label(t)} is a float32 constant holding NaN or infinity")


# Operators whose kernels read a per-channel filter's quantized_dimension (TFLM's
# PopulateConvolutionQuantizationParams): only there must the scales match that dimension.
_PER_CHANNEL_FILTER_OPS = (ops.Conv2D, ops.DepthwiseConv2D, ops.FullyConnected)


def _check_filter_channels(graph: Graph) -> None:
    """A per-channel filter has one scale per entry of its quantized dimension, as TFLM checks.

    Other tensors' quantized_dimension is never read by TFLM (a 1-D bias may name axis 3, its
    filter's channel axis), so it is not checked for them."""
    for op in graph.operators:
        if not isinstance(op.attrs, _PER_CHANNEL_FILTER_OPS) or len(op.inputs) < 2:
            continue
        flt = graph.tensor(op.inputs[1])
        q = flt.quant
        if q is None or not q.per_channel:
            continue
        if not 0 <= q.axis < len(flt.shape) or flt.shape[q.axis] != len(q.scales):
            raise InvalidModelError(
                f"operator #{op.index} {op.kind}: {_label(flt)} has {len(q.scales)} per-channel scales on axis "
                f"{q.axis} of shape {list(flt.shape)}; TFLite Micro needs one per entry of that dimension")
