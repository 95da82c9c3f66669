"""Issue 10's second set of operators (ops-a) together in one model: bit-exact with TFLite Micro on
the host under AddressSanitizer + UndefinedBehaviorSanitizer (arena poisoned but for the live
buffers), and on the emulated board (mps2-an386 in QEMU) through `tinygen run`."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_in_qemu
from test_guards import GUARD

from tinygen.testing.compare import compare_on_host
from tinygen.testing.model_builder import ModelBuilder, accumulator_output_scale, random_int8

X = dict(scale=0.05, zero_point=-3)
E = dict(scale=0.04, zero_point=10)


def _ints(b: ModelBuilder, values, shape=None) -> int:
    array = np.array(values, np.int32)
    return b.tensor(list(shape or array.shape), dtype=np.int32, data=array)


def every_ops_a_model(float_island: bool = True) -> bytes:
    """x -> ELU, RELU -> RSQRT, ADD_N -> six comparisons -> six SELECT_V2 (one condition broadcast)
    -> ADD_N -> CUMSUM -> L2_NORMALIZATION -> SPACE_TO_BATCH_ND -> BATCH_MATMUL -> TRANSPOSE_CONV ->
    GATHER_ND; ZEROS_LIKE feeds the selects; and a float island (NEG, MUL, ADD, RSQRT, MUL, SUB in
    float32 between DEQUANTIZE and QUANTIZE). Random inputs are valid for every operator (RSQRT reads
    a RELU's output: never below its zero point)."""
    rng = np.random.default_rng(12)
    b = ModelBuilder()
    shape = [1, 4, 4, 8]
    x = b.tensor(shape, **X)
    e, r, rs = b.tensor(shape, **E), b.tensor(shape, **X), b.tensor(shape, **E)
    b.op("ELU", [x], [e])
    b.op("RELU", [x], [r])
    b.op("RSQRT", [r], [rs])
    an = b.tensor(shape, scale=0.08, zero_point=-5)
    b.op("ADD_N", [e, rs, e], [an])
    z = b.tensor(shape, **X)
    b.op("ZEROS_LIKE", [x], [z])
    threshold = b.tensor([8], scale=0.05, zero_point=0, data=random_int8(rng, (8,)))
    selected = []
    for name, other in [("LESS", x), ("GREATER", threshold), ("EQUAL", z), ("NOT_EQUAL", x),
                        ("LESS_EQUAL", threshold), ("GREATER_EQUAL", x)]:
        c = b.tensor(shape, dtype=np.bool_, name=f"{name.lower()}")
        s = b.tensor(shape, **X)
        b.op(name, [an, other], [c])
        b.op("SELECT_V2", [c, an, z], [s])
        selected.append(s)
    total = b.tensor(shape, scale=0.2, zero_point=7)
    b.op("ADD_N", selected, [total])
    cs = b.tensor(shape, scale=0.3, zero_point=-20)
    b.op("CUMSUM", [total, _ints(b, [2])], [cs], exclusive=True, reverse=True)
    l2 = b.tensor(shape, scale=1 / 128, zero_point=0)
    b.op("L2_NORMALIZATION", [cs], [l2])
    s2b = b.tensor([4, 2, 2, 8], scale=1 / 128, zero_point=0)
    b.op("SPACE_TO_BATCH_ND", [l2, _ints(b, [2, 2]), _ints(b, [[0, 0], [0, 0]])], [s2b])
    w = b.tensor([8, 6], scale=0.02, zero_point=0, data=random_int8(rng, (8, 6)))
    bm = b.tensor([4, 2, 2, 6], scale=accumulator_output_scale(rng, 1 / 128, 0.02, 8), zero_point=2)
    b.op("BATCH_MATMUL", [s2b, w], [bm])
    f = b.tensor([3, 3, 3, 6], scale=[0.01, 0.02, 0.015], zero_point=0, data=random_int8(rng, (3, 3, 3, 6)))
    tc_scale = accumulator_output_scale(rng, 0.05, 0.015, 27)
    tc = b.tensor([4, 4, 4, 3], scale=tc_scale, zero_point=-1)
    b.op("TRANSPOSE_CONV", [_ints(b, [4, 4, 4, 3]), f, bm], [tc], padding="SAME", strideH=2, strideW=2)
    gn = b.tensor([2, 4, 3], scale=tc_scale, zero_point=-1)
    b.op("GATHER_ND", [tc, _ints(b, [[0, 1], [3, 2]])], [gn])
    if not float_island:
        return b.build([x], [gn, l2])
    # A float island: DEQUANTIZE -> NEG, MUL, ADD, RSQRT, MUL, SUB -> QUANTIZE.
    f, n, sq, a, r2, m, d = (b.tensor(shape, dtype=np.float32) for _ in range(7))
    eps = b.tensor([8], dtype=np.float32, data=np.linspace(1e-3, 0.5, 8, dtype=np.float32))
    b.op("DEQUANTIZE", [x], [f])
    b.op("NEG", [f], [n])
    b.op("MUL", [f, f], [sq])
    b.op("ADD", [sq, eps], [a])
    b.op("RSQRT", [a], [r2])
    b.op("MUL", [n, r2], [m])
    b.op("SUB", [m, f], [d], fusedActivationFunction="RELU6")
    q = b.tensor(shape, scale=0.03, zero_point=-100)
    b.op("QUANTIZE", [d], [q])
    return b.build([x], [gn, l2, q])


def test_every_ops_a_op_is_bit_exact_and_clean_under_sanitizers(tmp_path):
    result = compare_on_host(every_ops_a_model(), tmp_path, count=2, sanitize=True, guard_bytes=GUARD)
    assert result.tensors_compared > 20
    assert not result.mismatches, "\n".join(result.mismatches[:5])


@pytest.mark.qemu
def test_every_ops_a_op_runs_bit_exact_in_qemu(tmp_path):
    path = tmp_path / "issue10_ops_a.tflite"
    path.write_bytes(every_ops_a_model())
    run_in_qemu(path, tmp_path / "out", seed=5)
