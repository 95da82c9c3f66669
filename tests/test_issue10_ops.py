"""Issue 10's new operators together in one model: bit-exact with TFLite Micro on the host under
AddressSanitizer + UndefinedBehaviorSanitizer (arena poisoned but for the live buffers), and on
the emulated board (mps2-an386 in QEMU) through `tinygen run`."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_in_qemu
from test_guards import GUARD

from tinygen.testing.compare import compare_on_host
from tinygen.testing.model_builder import ModelBuilder

Q = dict(scale=0.05, zero_point=-3)


def _ints(b: ModelBuilder, values) -> int:
    return b.tensor([len(values)], dtype=np.int32, data=np.array(values, np.int32))


def every_new_op_model() -> bytes:
    """NCHW input -> TRANSPOSE -> RESIZE_NEAREST_NEIGHBOR -> STRIDED_SLICE -> SLICE -> SPLIT ->
    SUB / MAXIMUM / MINIMUM -> LEAKY_RELU -> ABS -> SPACE_TO_DEPTH -> DEPTH_TO_SPACE -> REVERSE_V2 ->
    PACK -> UNPACK -> SPLIT_V -> SQUEEZE -> EXPAND_DIMS -> LOG_SOFTMAX, and a second branch; one output
    per branch end."""
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 6], **Q)                                     # N, C, H, W
    t = b.tensor([1, 4, 6, 4], **Q)
    b.op("TRANSPOSE", [x, _ints(b, [0, 2, 3, 1])], [t])
    r = b.tensor([1, 8, 12, 4], **Q)
    b.op("RESIZE_NEAREST_NEIGHBOR", [t, _ints(b, [8, 12])], [r], halfPixelCenters=True)
    ss = b.tensor([1, 8, 6, 4], **Q)
    b.op("STRIDED_SLICE", [r, _ints(b, [0, 0, 0, 0]), _ints(b, [1, 8, 12, 4]), _ints(b, [1, 1, 2, 1])], [ss])
    sl = b.tensor([1, 8, 6, 4], **Q)
    b.op("SLICE", [ss, _ints(b, [0, 0, 0, 0]), _ints(b, [-1, -1, -1, -1])], [sl])
    halves = [b.tensor([1, 8, 6, 2], **Q) for _ in range(2)]
    b.op("SPLIT", [_ints(b, [3]), sl], halves, numSplits=2)
    d = b.tensor([1, 8, 6, 2], scale=0.08, zero_point=10)
    b.op("SUB", halves, [d], fusedActivationFunction="NONE")
    mx = b.tensor([1, 8, 6, 2], **Q)
    b.op("MAXIMUM", halves, [mx])
    mn = b.tensor([1, 8, 6, 2], **Q)
    b.op("MINIMUM", [mx, halves[1]], [mn])
    lr = b.tensor([1, 8, 6, 2], scale=0.06, zero_point=-20)
    b.op("LEAKY_RELU", [d], [lr], alpha=0.1)
    ab = b.tensor([1, 8, 6, 2], scale=0.04, zero_point=-128)
    b.op("ABS", [lr], [ab])
    s2d = b.tensor([1, 4, 3, 8], scale=0.04, zero_point=-128)
    b.op("SPACE_TO_DEPTH", [ab], [s2d], blockSize=2)
    d2s = b.tensor([1, 8, 6, 2], scale=0.04, zero_point=-128)
    b.op("DEPTH_TO_SPACE", [s2d], [d2s], blockSize=2)
    rev = b.tensor([1, 8, 6, 2], scale=0.04, zero_point=-128)
    b.op("REVERSE_V2", [d2s, _ints(b, [1, 2])], [rev])
    packed = b.tensor([1, 8, 6, 2, 2], **Q)
    b.op("PACK", [mn, mx], [packed], valuesCount=2, axis=3)
    parts = [b.tensor([1, 8, 6, 2], **Q) for _ in range(2)]
    b.op("UNPACK", [packed], parts, num=2, axis=4)
    pieces = [b.tensor([1, 8, 1, 2], **Q), b.tensor([1, 8, 5, 2], **Q)]
    b.op("SPLIT_V", [parts[0], _ints(b, [1, -1]), _ints(b, [2])], pieces, numSplits=2)
    sq = b.tensor([8, 1, 2], **Q)
    b.op("SQUEEZE", [pieces[0]], [sq], squeezeDims=[0])
    ex = b.tensor([8, 2], **Q)
    b.op("RESHAPE", [sq, _ints(b, [8, 2])], [ex])
    ed = b.tensor([8, 1, 2], **Q)
    b.op("EXPAND_DIMS", [ex, _ints(b, [1])], [ed])
    ls = b.tensor([8, 1, 2], scale=16.0 / 256, zero_point=127)
    b.op("LOG_SOFTMAX", [ed], [ls])
    # A second branch from the transposed input: bilinear resize, PRELU, TANH, SQUARED_DIFFERENCE,
    # BROADCAST_TO, PADV2, GATHER and the reductions.
    rb = b.tensor([1, 7, 9, 4], **Q)
    b.op("RESIZE_BILINEAR", [t, _ints(b, [7, 9])], [rb], halfPixelCenters=True)
    alpha = b.tensor([4], scale=0.01, zero_point=3, data=np.array([-128, 127, 20, -5], np.int8))
    pr = b.tensor([1, 7, 9, 4], scale=0.07, zero_point=-1)
    b.op("PRELU", [rb, alpha], [pr])
    th = b.tensor([1, 7, 9, 4], scale=1 / 128, zero_point=0)
    b.op("TANH", [pr], [th])
    sd = b.tensor([1, 7, 9, 4], scale=0.02, zero_point=-128)
    b.op("SQUARED_DIFFERENCE", [th, b.tensor([4], scale=1 / 128, zero_point=0, data=np.array([0, 64, -64, 127], np.int8))], [sd])
    bt = b.tensor([2, 7, 9, 4], scale=0.02, zero_point=-128)
    b.op("BROADCAST_TO", [sd, _ints(b, [2, 7, 9, 4])], [bt])
    pv = b.tensor([2, 9, 9, 4], scale=0.02, zero_point=-128)
    pads = b.tensor([4, 2], dtype=np.int32, data=np.array([[0, 0], [1, 1], [0, 0], [0, 0]], np.int32))
    b.op("PADV2", [bt, pads, b.tensor([], scale=0.02, zero_point=-128, data=np.array(5, np.int8))], [pv])
    ga = b.tensor([2, 3, 9, 4], scale=0.02, zero_point=-128)
    b.op("GATHER", [pv, _ints(b, [8, 0, 4])], [ga], axis=1)
    sm = b.tensor([2, 4], scale=0.5, zero_point=0)
    b.op("SUM", [ga, _ints(b, [1, 2])], [sm], keepDims=False)
    mx2 = b.tensor([2, 9], scale=0.02, zero_point=-128)
    b.op("REDUCE_MAX", [ga, _ints(b, [1, 3])], [mx2], keepDims=False)
    am = b.tensor([2], dtype=np.int32)
    b.op("ARG_MAX", [mx2, _ints(b, [1])], [am])
    return b.build([x], [rev, ls, pieces[1], parts[1], sm, am])


def test_every_new_op_model_is_bit_exact_and_clean_under_sanitizers(tmp_path):
    # These operators have no optimised twins: the default kernel set is the reference one.
    result = compare_on_host(every_new_op_model(), tmp_path, count=2, sanitize=True, guard_bytes=GUARD)
    assert result.tensors_compared > 20
    assert not result.mismatches, "\n".join(result.mismatches[:5])


@pytest.mark.qemu
def test_every_new_op_model_runs_bit_exact_in_qemu(tmp_path):
    path = tmp_path / "issue10_ops.tflite"
    path.write_bytes(every_new_op_model())
    run_in_qemu(path, tmp_path / "out", seed=5)
