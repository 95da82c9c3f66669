"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR lowerings: TFLM's source-pixel arithmetic done
here, at generation time.

For nearest neighbour TFLM computes each source row and column in float32 (GetNearestNeighbor);
the same float32 steps are taken with numpy, and the C kernel only copies pixels along the
resulting tables. For bilinear (int8: ResizeBilinearInteger) the source rows, columns and their
1/1024 weights are integer arithmetic, tabulated here; the kernel does the per-pixel sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.kernels.call import KernelCall
from tinygen.kernels.common import elementwise_call, require_shape
from tinygen.kernels.cvalues import ConstArray, CStruct, Dims
from tinygen.kernels.data_movement import int8_operands
from tinygen.kernels.registry import lowering


@dataclass(frozen=True)
class ResizeNearestParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_resize_nearest_params_t"
    input: Dims
    output_h: int
    output_w: int
    source_y: ConstArray
    source_x: ConstArray


def _round_half_away(x: np.float32) -> int:
    """TfLiteRound (std::round) of a float32: exact in double, ties away from zero."""
    value = float(x)
    return int(math.copysign(math.floor(abs(value) + 0.5), value))


def nearest_sources(input_size: int, output_size: int, align_corners: bool, half_pixel_centers: bool) -> np.ndarray:
    """TFLM's GetNearestNeighbor for every output position, with its float32 operations."""
    f32 = np.float32
    if align_corners and output_size > 1:
        scale = f32(input_size - 1) / f32(output_size - 1)
    else:
        scale = f32(input_size) / f32(output_size)
    offset = f32(0.5) if half_pixel_centers else f32(0.0)
    sources = []
    for i in range(output_size):
        x = (f32(i) + offset) * scale
        value = _round_half_away(x) if align_corners else math.floor(float(x))
        value = min(value, input_size - 1)
        if half_pixel_centers:
            value = max(0, value)
        sources.append(value)
    return np.array(sources, dtype=np.int32)


@lowering(ops.ResizeNearestNeighbor)
def lower_resize_nearest(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.ResizeNearestNeighbor = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    if len(inp.shape) != 4:
        # TFLM's Prepare: TF_LITE_ENSURE_EQ(NumDimensions(input), 4).
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: input '{inp.name}' has rank {len(inp.shape)}; TFLite Micro needs 4")
    out_h, out_w = attrs.size
    if out_h < 1 or out_w < 1:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: size {list(attrs.size)} is not positive")
    n, h, w, c = inp.shape
    # TFLM writes size[0] x size[1] pixels whatever the output's shape: they must agree.
    require_shape(op, out, (n, out_h, out_w, c))
    params = ResizeNearestParams(
        input=Dims(n=n, h=h, w=w, c=c),
        output_h=out_h,
        output_w=out_w,
        source_y=ConstArray("int32_t", nearest_sources(h, out_h, attrs.align_corners, attrs.half_pixel_centers)),
        source_x=ConstArray("int32_t", nearest_sources(w, out_w, attrs.align_corners, attrs.half_pixel_centers)),
    )
    return (elementwise_call(op, "tg_resize_nearest_s8", "params", params, inp, out, with_size=False),)


# --- RESIZE_BILINEAR ------------------------------------------------------------------------------

@dataclass(frozen=True)
class ResizeBilinearParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_resize_bilinear_params_t"
    input: Dims
    output_h: int
    output_w: int
    y0: ConstArray
    y1: ConstArray
    y_weight: ConstArray
    x0: ConstArray
    x1: ConstArray
    x_weight: ConstArray


def _c_div(a: int, b: int) -> int:
    """C's integer division (truncates toward zero)."""
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def bilinear_sources(input_size: int, output_size: int, align_corners: bool,
                     half_pixel_centers: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(lower, upper, weight) per output position: TFLM's scale_10 and ComputeInterpolationValuesInteger."""
    if align_corners and output_size > 1:
        scale_10 = _c_div(1024 * (input_size - 1) + _c_div(output_size - 1, 2), output_size - 1)
    else:
        scale_10 = _c_div(1024 * input_size + _c_div(output_size, 2), output_size)
    lower, upper, weight = [], [], []
    for i in range(output_size):
        scaled = i * scale_10 + _c_div(scale_10, 2) - 512 if half_pixel_centers else i * scale_10
        low = max(_c_div(scaled, 1024), 0)
        lower.append(low)
        upper.append(min(_c_div(scaled + 1023, 1024), input_size - 1))
        weight.append(scaled - 1024 * low)
    return tuple(np.array(v, dtype=np.int32) for v in (lower, upper, weight))


@lowering(ops.ResizeBilinear)
def lower_resize_bilinear(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    attrs: ops.ResizeBilinear = op.attrs
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    int8_operands(op, inp, out)
    if len(inp.shape) != 4:
        raise UnsupportedModelError(
            f"operator #{op.index} {op.kind}: input '{inp.name}' has rank {len(inp.shape)}; TFLite Micro needs 4")
    out_h, out_w = attrs.size
    if out_h < 1 or out_w < 1:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: size {list(attrs.size)} is not positive")
    n, h, w, c = inp.shape
    require_shape(op, out, (n, out_h, out_w, c))
    y0, y1, wy = bilinear_sources(h, out_h, attrs.align_corners, attrs.half_pixel_centers)
    x0, x1, wx = bilinear_sources(w, out_w, attrs.align_corners, attrs.half_pixel_centers)
    params = ResizeBilinearParams(
        input=Dims(n=n, h=h, w=w, c=c), output_h=out_h, output_w=out_w,
        y0=ConstArray("int32_t", y0), y1=ConstArray("int32_t", y1), y_weight=ConstArray("int32_t", wy),
        x0=ConstArray("int32_t", x0), x1=ConstArray("int32_t", x1), x_weight=ConstArray("int32_t", wx),
    )
    return (elementwise_call(op, "tg_resize_bilinear_s8", "params", params, inp, out, with_size=False),)
