"""SUM, REDUCE_MAX and REDUCE_MIN lowerings, int8, on MEAN's machinery (kernels/mean.py); ARG_MAX and
ARG_MIN (int8 in, int32 out: the only output TFLM supports).

SUM is TFLM's QuantizedMeanOrSum with compute_sum: MEAN's kernel with the plain input/output scale
multiplier (no 1/count folded in). REDUCE_MAX/MIN compare stored values (ReduceGeneric), and TFLM
requires the output to have the input's scale and zero point, so nothing is rescaled.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from tinygen.errors import InvalidModelError
from tinygen.ir import ops
from tinygen.ir.graph import Graph, Operator
from tinygen.ir.quant import quantize_multiplier
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.common import elementwise_call, quantized
from tinygen.kernels.cvalues import CStruct, Requant
from tinygen.kernels.data_movement import int8_operands
from tinygen.kernels.mean import lower_mean
from tinygen.kernels.registry import lowering


def _mean_call(graph: Graph, op: Operator) -> KernelCall:
    """MEAN's checks and parameters for this operator (its attrs are MEAN's)."""
    int8_operands(op, graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0]))
    (call,) = lower_mean(graph, op)
    return call


def _with_params(call: KernelCall, function: str, params) -> KernelCall:
    args = tuple(KernelArg(a.name, params) if a.name == "params" else a for a in call.args)
    return dataclasses.replace(call, function=function, args=args)


@lowering(ops.Sum)
def lower_sum(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    call = _mean_call(graph, op)
    in_scale, _ = quantized(op, graph.tensor(op.inputs[0]))
    out_scale, _ = quantized(op, graph.tensor(op.outputs[0]))
    # PrepareMeanOrSumHelper: QuantizeMultiplier(double(input_scale) / double(output_scale)).
    m = quantize_multiplier(float(np.float32(in_scale)) / float(np.float32(out_scale)))
    params = dataclasses.replace(call.args[0].value, requant=Requant(m.multiplier, m.shift))
    return (_with_params(call, "tg_mean_s8", params),)


def _reduce_extreme(graph: Graph, op: Operator, function: str) -> tuple[KernelCall, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    in_q, out_q = quantized(op, inp), quantized(op, out)
    if np.float32(in_q[0]) != np.float32(out_q[0]) or in_q[1] != out_q[1]:
        raise InvalidModelError(
            f"operator #{op.index} {op.kind}: output '{out.name}' (scale {out_q[0]}, zero point {out_q[1]}) differs "
            f"from input '{inp.name}' (scale {in_q[0]}, zero point {in_q[1]}); TFLite Micro requires them equal")
    call = _mean_call(graph, op)
    return (_with_params(call, function, call.args[0].value),)


@lowering(ops.ReduceMax)
def lower_reduce_max(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _reduce_extreme(graph, op, "tg_reduce_max_s8")


@lowering(ops.ReduceMin)
def lower_reduce_min(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _reduce_extreme(graph, op, "tg_reduce_min_s8")


@dataclass(frozen=True)
class ArgExtremeParams(CStruct):
    C_TYPE: ClassVar[str] = "tg_arg_extreme_params_t"
    outer_size: int
    axis_size: int
    inner_size: int


def _arg_extreme(graph: Graph, op: Operator, function: str) -> tuple[KernelCall, ...]:
    inp, out = graph.tensor(op.inputs[0]), graph.tensor(op.outputs[0])
    rank = len(inp.shape)
    axis = op.attrs.axis + rank if op.attrs.axis < 0 else op.attrs.axis
    if not 0 <= axis < rank:
        raise InvalidModelError(f"operator #{op.index} {op.kind}: axis {op.attrs.axis} of a rank-{rank} input")
    expected = inp.shape[:axis] + inp.shape[axis + 1:]
    if out.num_elements != math.prod(expected):
        raise InvalidModelError(f"operator #{op.index} {op.kind}: output '{out.name}' has shape {list(out.shape)}, "
                                f"but its input gives {list(expected)}")
    params = ArgExtremeParams(outer_size=math.prod(inp.shape[:axis]), axis_size=inp.shape[axis],
                              inner_size=math.prod(inp.shape[axis + 1:]))
    return (elementwise_call(op, function, "params", params, inp, out, with_size=False),)


@lowering(ops.ArgMax)
def lower_arg_max(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _arg_extreme(graph, op, "tg_arg_max_s8")


@lowering(ops.ArgMin)
def lower_arg_min(graph: Graph, op: Operator) -> tuple[KernelCall, ...]:
    return _arg_extreme(graph, op, "tg_arg_min_s8")
