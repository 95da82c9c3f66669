"""Seed models for fuzzing: small valid models covering every operator tinygen compiles.

Chains exercise the graph-level mutations; single-operator models let a damaged number reach that
operator's own arithmetic instead of being refused by whichever operator computes it first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tinygen.testing.model_builder import ModelBuilder


def _chain_seed() -> bytes:
    """QUANTIZE, CONV_2D, DEPTHWISE_CONV_2D, MAX/AVERAGE_POOL_2D, RESHAPE, FULLY_CONNECTED, SOFTMAX, DEQUANTIZE."""
    rng = np.random.default_rng(1)
    b = ModelBuilder()
    x = b.tensor([1, 6, 6, 2], dtype=np.float32)
    q = b.tensor([1, 6, 6, 2], scale=0.02, zero_point=-3)
    w1 = b.tensor([4, 3, 3, 2], scale=[0.01, 0.02, 0.015, 0.01], data=rng.integers(-127, 128, (4, 3, 3, 2)))
    b1 = b.tensor([4], dtype=np.int32, scale=[0.0002, 0.0004, 0.0003, 0.0002], data=rng.integers(-500, 500, 4))
    c = b.tensor([1, 6, 6, 4], scale=0.05, zero_point=-128)
    w2 = b.tensor([1, 3, 3, 4], scale=[0.01] * 4, quant_axis=3, data=rng.integers(-127, 128, (1, 3, 3, 4)))
    d = b.tensor([1, 3, 3, 4], scale=0.06, zero_point=5)
    p = b.tensor([1, 2, 2, 4], scale=0.06, zero_point=5)
    a = b.tensor([1, 1, 1, 4], scale=0.06, zero_point=5)
    shape = b.tensor([2], dtype=np.int32, data=np.array([1, 4]))
    r = b.tensor([1, 4], scale=0.06, zero_point=5)
    w3 = b.tensor([3, 4], scale=0.02, data=rng.integers(-127, 128, (3, 4)))
    b3 = b.tensor([3], dtype=np.int32, scale=0.0012, data=rng.integers(-100, 100, 3))
    f = b.tensor([1, 3], scale=0.1, zero_point=0)
    s = b.tensor([1, 3], scale=1 / 256, zero_point=-128)
    y = b.tensor([1, 3], dtype=np.float32)
    b.op("QUANTIZE", [x], [q])
    b.op("CONV_2D", [q, w1, b1], [c], padding="SAME", strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1,
         fusedActivationFunction="RELU")
    b.op("DEPTHWISE_CONV_2D", [c, w2], [d], padding="SAME", strideH=2, strideW=2, dilationHFactor=1,
         dilationWFactor=1, depthMultiplier=1)
    b.op("MAX_POOL_2D", [d], [p], padding="VALID", strideH=1, strideW=1, filterHeight=2, filterWidth=2)
    b.op("AVERAGE_POOL_2D", [p], [a], padding="VALID", strideH=1, strideW=1, filterHeight=2, filterWidth=2)
    b.op("RESHAPE", [a, shape], [r], newShape=[1, 4])
    b.op("FULLY_CONNECTED", [r, w3, b3], [f], fusedActivationFunction="RELU6")
    b.op("SOFTMAX", [f], [s], beta=1.0)
    b.op("DEQUANTIZE", [s], [y])
    return b.build([x], [y])


def _elementwise_seed() -> bytes:
    """PAD, ADD (broadcast), MUL, CONCATENATION, MEAN, LOGISTIC."""
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 3], scale=0.05, zero_point=0)
    pads = b.tensor([4, 2], dtype=np.int32, data=np.array([[0, 0], [1, 1], [1, 1], [0, 0]]))
    p = b.tensor([1, 6, 6, 3], scale=0.05, zero_point=0)
    k = b.tensor([1, 1, 1, 3], scale=0.05, zero_point=0, data=np.array([[[[3, -7, 20]]]]))
    a = b.tensor([1, 6, 6, 3], scale=0.05, zero_point=0)
    m = b.tensor([1, 6, 6, 3], scale=0.05, zero_point=0)
    c = b.tensor([1, 6, 6, 6], scale=0.05, zero_point=0)
    axes = b.tensor([2], dtype=np.int32, data=np.array([1, 2]))
    mean = b.tensor([1, 1, 1, 6], scale=0.04, zero_point=2)
    y = b.tensor([1, 1, 1, 6], scale=1 / 256, zero_point=-128)
    b.op("PAD", [x, pads], [p])
    b.op("ADD", [p, k], [a], fusedActivationFunction="RELU")
    b.op("MUL", [a, p], [m])
    b.op("CONCATENATION", [m, a], [c], axis=3)
    b.op("MEAN", [c, axes], [mean], keepDims=True)
    b.op("LOGISTIC", [mean], [y])
    return b.build([x], [y])


def _activation_seed() -> bytes:
    """RELU, RELU6, HARD_SWISH, and a QUANTIZE int8 -> int8."""
    b = ModelBuilder()
    x = b.tensor([2, 8], scale=0.1, zero_point=3)
    r = b.tensor([2, 8], scale=0.08, zero_point=-128)
    r6 = b.tensor([2, 8], scale=0.08, zero_point=-128)
    h = b.tensor([2, 8], scale=0.05, zero_point=-20)
    y = b.tensor([2, 8], scale=0.03, zero_point=7)
    b.op("RELU", [x], [r])
    b.op("RELU6", [r], [r6])
    b.op("HARD_SWISH", [r6], [h])
    b.op("QUANTIZE", [h], [y])
    return b.build([x], [y])


def _single_op_seed(op: str, out_quant=(0.05, 0), **options) -> bytes:
    """One operator reading the graph input: its scale arithmetic meets damaged numbers first hand."""
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 8], scale=0.1, zero_point=3)
    inputs = [x]
    out_shape = [1, 4, 4, 8]
    if op == "FULLY_CONNECTED":
        inputs.append(b.tensor([5, 8], scale=0.02, data=np.arange(40).reshape(5, 8) - 20))
        out_shape = [16, 5]
    elif op == "ADD":
        inputs.append(b.tensor([1, 1, 1, 8], scale=0.07, zero_point=-2, data=np.arange(8).reshape(1, 1, 1, 8)))
    y = b.tensor(out_shape, scale=out_quant[0], zero_point=out_quant[1])
    b.op(op, inputs, [y], **options)
    return b.build([x], [y])


def builder_seeds() -> dict[str, bytes]:
    return {
        "chain": _chain_seed(), "elementwise": _elementwise_seed(), "activations": _activation_seed(),
        "relu6": _single_op_seed("RELU6"), "hard_swish": _single_op_seed("HARD_SWISH"),
        "logistic": _single_op_seed("LOGISTIC", (1 / 256, -128)),
        "softmax": _single_op_seed("SOFTMAX", (1 / 256, -128), beta=1.0),
        "fc_relu6": _single_op_seed("FULLY_CONNECTED", (0.2, -10), fusedActivationFunction="RELU6"),
        "add": _single_op_seed("ADD", (0.1, 1), fusedActivationFunction="RELU_N1_TO_1"),
    }


def file_seeds(paths: Sequence[Path]) -> dict[str, bytes]:
    return {Path(p).stem: Path(p).read_bytes() for p in paths}
