"""Issue 10's second set (ops-a) against TFLite Micro, bit for bit on every tensor: ELU, RSQRT,
ADD_N, ZEROS_LIKE, the six comparisons feeding SELECT_V2, CUMSUM, L2_NORMALIZATION, GATHER_ND and
SPACE_TO_BATCH_ND. Several quantizations share one model (one compile) where the op allows it; zero
points at both int8 ends and all-min/all-max inputs are in every grid."""

from __future__ import annotations

import numpy as np
import pytest

from ops.test_activations import ALL_INT8
from tinygen.errors import TinygenError
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder

# (input (scale, zero point), output (scale, zero point)): equal, ratio > 1, < 1, zero points at the ends.
UNARY_QUANTS = [
    ((0.05, 0), (0.05, 0)),
    ((0.05, -20), (0.03, -128)),
    ((0.1, 127), (0.2, -100)),
    ((0.01, -128), (0.0013, 127)),
    ((0.09722702950239182, -13), (0.06151629611849785, -122)),
    ((1.5, 3), (0.7, 60)),
]


def unary_grid_model(op: str, quants=UNARY_QUANTS, shape=(1, 256)) -> bytes:
    """One `op` per quantization, each on its own input: every int8 value through each in one model."""
    b = ModelBuilder()
    inputs, outputs = [], []
    for (si, zi), (so, zo) in quants:
        x = b.tensor(list(shape), scale=si, zero_point=zi)
        y = b.tensor(list(shape), scale=so, zero_point=zo)
        b.op(op, [x], [y])
        inputs.append(x)
        outputs.append(y)
    return b.build(inputs, outputs)


def test_elu_every_value(assert_bit_exact):
    assert_bit_exact(unary_grid_model("ELU"), records=[[ALL_INT8] * len(UNARY_QUANTS)])


RSQRT_QUANTS = [((0.05, -128), (0.05, -128)), ((0.01, -128), (0.1, -100)), ((0.5, -100), (0.01, 0)),
                ((0.0004, -128), (0.5, -128)), ((2.0, -128), (0.002, -20))]


def test_rsqrt_every_value_at_or_above_the_zero_point(assert_bit_exact):
    """TFLM fails the invocation below the zero point: each input runs from its zero point up."""
    records = []
    for k in range(2):
        record = []
        for (_, zp), _ in RSQRT_QUANTS:
            values = np.arange(zp, 128, dtype=np.int32)
            values = np.resize(values if k == 0 else values[::-1], 256).astype(np.int8)
            record.append(values.reshape(1, 256))
        records.append(record)
    assert_bit_exact(unary_grid_model("RSQRT", RSQRT_QUANTS), records=records)


def _extremes(shape, rng) -> list[list[np.ndarray]]:
    """all-min, all-max, and uniform random: the records every grid below runs."""
    return [np.full(shape, -128, np.int8), np.full(shape, 127, np.int8),
            rng.integers(-128, 127, size=shape, endpoint=True).astype(np.int8)]


ADD_N_CASES = [  # (inputs, shape, input (scale, zp), output (scale, zp))
    (2, (2, 3, 5), (0.05, 0), (0.1, 0)),
    (3, (1, 40), (0.02, -128), (0.05, 127)),
    (4, (3, 7), (0.1, 127), (0.03, -128)),
]


def add_n_model(cases=ADD_N_CASES) -> bytes:
    b = ModelBuilder()
    inputs, outputs = [], []
    for count, shape, (si, zi), (so, zo) in cases:
        xs = [b.tensor(list(shape), scale=si, zero_point=zi) for _ in range(count)]
        y = b.tensor(list(shape), scale=so, zero_point=zo)
        b.op("ADD_N", xs, [y])
        inputs += xs
        outputs.append(y)
    return b.build(inputs, outputs)


def test_add_n(assert_bit_exact):
    rng = np.random.default_rng(1)
    shapes = [shape for count, shape, _, _ in ADD_N_CASES for _ in range(count)]
    per_shape = [_extremes(s, rng) for s in shapes]
    records = [[arrays[k] for arrays in per_shape] for k in range(3)]
    records.append([rng.integers(-128, 127, size=s, endpoint=True).astype(np.int8) for s in shapes])
    assert_bit_exact(add_n_model(), records=records)


def test_add_n_refusals():
    """TFLM requires equal input quantizations and an output multiplier below one."""
    b = ModelBuilder()
    x1, x2 = b.tensor([4], scale=0.1), b.tensor([4], scale=0.2)
    y = b.tensor([4], scale=0.1)
    b.op("ADD_N", [x1, x2], [y])
    with pytest.raises(TinygenError, match=r"#0 ADD_N \(inputs with different scales or zero points"):
        compile_bytes(b.build([x1, x2], [y]))
    with pytest.raises(TinygenError, match=r"operator #0 ADD_N: rescale factor"):
        compile_bytes(add_n_model([(2, (4,), (1.0, 0), (1e-7, 0))]))


def test_zeros_like(assert_bit_exact):
    b = ModelBuilder()
    x = b.tensor([2, 3, 5], scale=0.1, zero_point=-7)
    y = b.tensor([2, 3, 5], scale=0.1, zero_point=-7)
    i = b.tensor([7], dtype=np.int32)
    j = b.tensor([7], dtype=np.int32)
    b.op("ZEROS_LIKE", [x], [y])
    b.op("ZEROS_LIKE", [i], [j])
    model = b.build([x, i], [y, j])
    result = assert_bit_exact(model, records=[[np.full((2, 3, 5), 5, np.int8), np.arange(7, dtype=np.int32)]])
    assert result.tensors_compared >= 2


COMPARISONS = ["LESS", "GREATER", "EQUAL", "NOT_EQUAL", "LESS_EQUAL", "GREATER_EQUAL"]


def compare_select_model(shape1, shape2, q1, q2, out_q) -> bytes:
    """Each comparison of x1 with x2 picks, through SELECT_V2, x1 or x2 (stored values, broadcast)."""
    b = ModelBuilder()
    x1 = b.tensor(list(shape1), scale=q1[0], zero_point=q1[1])
    x2 = b.tensor(list(shape2), scale=q2[0], zero_point=q2[1])
    out_shape = list(np.broadcast_shapes(shape1, shape2))
    outputs = []
    for name in COMPARISONS:
        c = b.tensor(out_shape, dtype=np.bool_, name=f"{name.lower()}_cond")
        y = b.tensor(out_shape, scale=out_q[0], zero_point=out_q[1])
        b.op(name, [x1, x2], [c])
        b.op("SELECT_V2", [c, x1, x2], [y])
        outputs.append(y)
    return b.build([x1, x2], outputs)


COMPARE_CASES = [
    ((2, 3, 4), (2, 3, 4), (0.05, 0), (0.05, 0)),          # same quantization: stored values compare
    ((2, 3, 4), (2, 3, 4), (0.05, -20), (0.1, 30)),        # rescaled to a common scale first
    ((1, 2, 3, 4), (1, 1, 1, 4), (0.02, -128), (0.04, 127)),  # broadcast, zero points at the ends
    ((3, 1, 5), (1, 4, 1), (0.9, 5), (0.3, -7)),            # both broadcast
]


@pytest.mark.parametrize("shape1, shape2, q1, q2", COMPARE_CASES, ids=str)
def test_comparisons_feed_select(assert_bit_exact, shape1, shape2, q1, q2):
    rng = np.random.default_rng(2)
    r1, r2 = _extremes(shape1, rng), _extremes(shape2, rng)
    # Values equal after rescaling: x2 = (x1 - zp1) * s1 / s2 + zp2 where that is an integer.
    near = np.clip(np.round((r1[2].astype(np.float64) - q1[1]) * q1[0] / q2[0] + q2[1]), -128, 127).astype(np.int8)
    if shape1 == shape2:
        records = [[r1[0], r2[1]], [r1[1], r2[0]], [r1[2], r2[2]], [r1[2], near], [r1[1], r2[1]]]
    else:
        records = [[r1[0], r2[1]], [r1[1], r2[0]], [r1[2], r2[2]], [r1[1], r2[1]]]
    assert_bit_exact(compare_select_model(shape1, shape2, q1, q2, q1), records=records)


def test_select_broadcasts_its_condition(assert_bit_exact):
    b = ModelBuilder()
    a = b.tensor([1, 3, 1], scale=0.1, zero_point=4)
    z = b.tensor([1, 3, 1], scale=0.1, zero_point=-3)
    x = b.tensor([2, 1, 5], scale=0.1, zero_point=4)
    y = b.tensor([1, 3, 5], scale=0.2, zero_point=-128)
    c = b.tensor([1, 3, 1], dtype=np.bool_)
    out = b.tensor([2, 3, 5], scale=0.1, zero_point=4)
    b.op("GREATER", [a, z], [c])
    b.op("SELECT_V2", [c, x, y], [out])
    rng = np.random.default_rng(3)
    records = [[np.array([[[-128], [0], [127]]], np.int8), np.array([[[0], [0], [0]]], np.int8),
                rng.integers(-128, 127, (2, 1, 5), endpoint=True).astype(np.int8),
                rng.integers(-128, 127, (1, 3, 5), endpoint=True).astype(np.int8)]]
    assert_bit_exact(b.build([a, z, x, y], [out]), records=records)


def test_comparison_refuses_scales_from_one_up():
    """ComparisonsPrepare takes each input scale as a multiplier below one (TFLM aborts otherwise)."""
    with pytest.raises(TinygenError, match=r"operator #0 LESS, input 't0' scale: rescale factor 2.0"):
        compile_bytes(compare_select_model((4,), (4,), (2.0, 0), (0.5, 0), (0.5, 0)))


CUMSUM_OPTIONS = [(0, False, False), (1, False, False), (-1, True, False), (2, False, True), (1, True, True),
                  (-3, True, True)]


def cumsum_model(shape, in_q, out_q, options=CUMSUM_OPTIONS) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_q[0], zero_point=in_q[1])
    outputs = []
    for axis, exclusive, reverse in options:
        y = b.tensor(list(shape), scale=out_q[0], zero_point=out_q[1])
        ax = b.tensor([1], dtype=np.int32, data=[axis])
        b.op("CUMSUM", [x, ax], [y], exclusive=exclusive, reverse=reverse)
        outputs.append(y)
    return b.build([x], outputs)


@pytest.mark.parametrize("shape, in_q, out_q", [
    ((2, 3, 4), (0.05, 0), (0.2, 0)),
    ((3, 20, 2), (0.02, -128), (0.5, 127)),   # 20 extreme terms: the int32 running sum wraps, as in TFLM
    ((4, 2, 5), (0.1, 127), (0.1, -128)),
], ids=str)
def test_cumsum(assert_bit_exact, shape, in_q, out_q):
    rng = np.random.default_rng(4)
    assert_bit_exact(cumsum_model(shape, in_q, out_q), records=[[r] for r in _extremes(shape, rng)])


def l2norm_model(shapes_quants) -> bytes:
    b = ModelBuilder()
    inputs, outputs = [], []
    for shape, (si, zi), (so, zo) in shapes_quants:
        x = b.tensor(list(shape), scale=si, zero_point=zi)
        y = b.tensor(list(shape), scale=so, zero_point=zo)
        b.op("L2_NORMALIZATION", [x], [y])
        inputs.append(x)
        outputs.append(y)
    return b.build(inputs, outputs)


L2NORM_CASES = [((2, 16), (0.05, 0), (1 / 128, 0)), ((1, 2, 3, 8), (0.02, -128), (1 / 128, 0)),
                ((3, 1), (0.1, 127), (1 / 128, 0)), ((4, 300), (0.3, 5), (0.01, 9))]  # last: output quant ignored


def test_l2_normalization(assert_bit_exact):
    rng = np.random.default_rng(5)
    per_case = [_extremes(shape, rng) for shape, _, _ in L2NORM_CASES]
    records = [[arrays[k] for arrays in per_case] for k in range(3)]
    zp_rows = [np.full(shape, zi, np.int8) for shape, (_, zi), _ in L2NORM_CASES]  # every row at its zero point
    records.append(zp_rows)
    assert_bit_exact(l2norm_model(L2NORM_CASES), records=records)


def test_l2_normalization_refuses_a_fused_activation():
    b = ModelBuilder()
    x, y = b.tensor([2, 4], scale=0.1), b.tensor([2, 4], scale=1 / 128)
    b.op("L2_NORMALIZATION", [x], [y], fusedActivationFunction="RELU")
    with pytest.raises(TinygenError, match=r"#0 L2_NORMALIZATION \(fused activation 1; TFLite Micro requires none\)"):
        compile_bytes(b.build([x], [y]))


def test_gather_nd_constant_and_runtime_indices(assert_bit_exact):
    b = ModelBuilder()
    values = b.tensor([3, 4, 5], scale=0.1, zero_point=-128)
    const_idx = b.tensor([2, 2, 2], dtype=np.int32, data=[[[0, 1], [2, 3]], [[1, 0], [2, 0]]])
    out1 = b.tensor([2, 2, 5], scale=0.1, zero_point=-128)
    full_idx = b.tensor([4, 3], dtype=np.int32, data=[[0, 0, 0], [2, 3, 4], [1, 2, 3], [2, 0, 4]])
    out2 = b.tensor([4], scale=0.1, zero_point=-128)
    run_idx = b.tensor([3, 1], dtype=np.int32)
    out3 = b.tensor([3, 4, 5], scale=0.1, zero_point=-128)
    b.op("GATHER_ND", [values, const_idx], [out1])
    b.op("GATHER_ND", [values, full_idx], [out2])
    b.op("GATHER_ND", [values, run_idx], [out3])
    rng = np.random.default_rng(6)
    records = [[rng.integers(-128, 127, (3, 4, 5), endpoint=True).astype(np.int8), np.array([[2], [0], [2]], np.int32)],
               [np.full((3, 4, 5), 127, np.int8), np.array([[1], [1], [0]], np.int32)]]
    assert_bit_exact(b.build([values, run_idx], [out1, out2, out3]), records=records)


def test_gather_nd_refuses_constant_indices_out_of_range():
    b = ModelBuilder()
    values = b.tensor([3, 4], scale=0.1)
    idx = b.tensor([1, 2], dtype=np.int32, data=[[3, 0]])
    out = b.tensor([1], scale=0.1)
    b.op("GATHER_ND", [values, idx], [out])
    with pytest.raises(TinygenError, match=r"GATHER_ND: constant indices out of range"):
        compile_bytes(b.build([values], [out]))


def space_to_batch_model(cases) -> bytes:
    b = ModelBuilder()
    inputs, outputs = [], []
    for shape, block, pads, zp in cases:
        x = b.tensor(list(shape), scale=0.1, zero_point=zp)
        spatial = [(shape[1 + i] + pads[i][0] + pads[i][1]) // block[i] for i in range(len(block))]
        y = b.tensor([shape[0] * int(np.prod(block)), *spatial, shape[-1]], scale=0.1, zero_point=zp)
        bs = b.tensor([len(block)], dtype=np.int32, data=block)
        pd = b.tensor([len(block), 2], dtype=np.int32, data=pads)
        b.op("SPACE_TO_BATCH_ND", [x, bs, pd], [y])
        inputs.append(x)
        outputs.append(y)
    return b.build(inputs, outputs)


SPACE_TO_BATCH_CASES = [  # input shape, block, paddings, zero point
    ((1, 4, 4, 3), [2, 2], [[0, 0], [0, 0]], 0),
    ((2, 6, 3, 2), [2, 3], [[0, 0], [0, 0]], -128),
    ((1, 6, 3), [3], [[0, 0]], 127),                  # rank 3
]
PADDED_CASES = [
    ((2, 5, 3, 2), [2, 3], [[1, 0], [0, 3]], -50),
    ((1, 5, 3), [2], [[1, 2]], 127),
    ((1, 3, 2, 1), [3, 1], [[2, 1], [1, 1]], -128),
]


def _records(cases, rng):
    return [[rng.integers(-128, 127, s, endpoint=True).astype(np.int8) for s, _, _, _ in cases],
            [np.full(s, 127, np.int8) for s, _, _, _ in cases], [np.full(s, -128, np.int8) for s, _, _, _ in cases]]


def test_space_to_batch_nd(assert_bit_exact):
    assert_bit_exact(space_to_batch_model(SPACE_TO_BATCH_CASES), records=_records(SPACE_TO_BATCH_CASES, np.random.default_rng(7)))


def space_to_batch_numpy(x: np.ndarray, block, pads, pad_value: int) -> np.ndarray:
    """TensorFlow's definition: pad, split each spatial dim into (out, block), move the blocks to the batch."""
    x4 = x if x.ndim == 4 else x[:, :, None, :]
    block = list(block) + [1] * (2 - len(block))
    pads = list(pads) + [[0, 0]] * (2 - len(pads))
    padded = np.pad(x4, [(0, 0), tuple(pads[0]), tuple(pads[1]), (0, 0)], constant_values=pad_value)
    b, h, w, d = padded.shape
    t = padded.reshape(b, h // block[0], block[0], w // block[1], block[1], d).transpose(2, 4, 0, 1, 3, 5)
    out = t.reshape(block[0] * block[1] * b, h // block[0], w // block[1], d)
    return out if x.ndim == 4 else out[:, :, 0, :]


def test_space_to_batch_nd_padding_is_the_zero_point(tmp_path):
    """TFLM pads with a value its Prepare never sets (uninitialised persistent memory: 0 in a fresh
    arena, other bytes after earlier models; seen in this suite), so no result can match it. tinygen
    pads with the output zero point, as TFLite does; checked against TensorFlow's definition."""
    from tinygen.build.host import build_host_binary, run_host_binary

    compiled = compile_bytes(space_to_batch_model(PADDED_CASES))
    binary = build_host_binary(compiled.sources, tmp_path, compiled.input_bytes, compiled.output_bytes)
    records = _records(PADDED_CASES, np.random.default_rng(8))
    run = run_host_binary(binary, [[x.tobytes() for x in r] for r in records])
    for r, record in enumerate(records):
        for i, ((shape, block, pads, zp), x) in enumerate(zip(PADDED_CASES, record)):
            expected = space_to_batch_numpy(x, block, pads, zp)
            ours = np.frombuffer(run.outputs[r][i], dtype=np.int8).reshape(expected.shape)
            assert (ours == expected).all(), (r, i)


def test_space_to_batch_numpy_model_agrees_with_tflm_unpadded():
    """The definition above is TFLM's where TFLM is defined (no padding)."""
    from tinygen.reference.tflm import TflmReference

    records = _records(SPACE_TO_BATCH_CASES, np.random.default_rng(9))
    run = TflmReference(space_to_batch_model(SPACE_TO_BATCH_CASES)).run(records[0])
    for (shape, block, pads, zp), x, theirs in zip(SPACE_TO_BATCH_CASES, records[0], run.outputs):
        assert (space_to_batch_numpy(x, block, pads, zp) == np.asarray(theirs)).all()


BATCH_MATMUL_CASES = [  # lhs shape, rhs shape, adj_x, adj_y, rhs constant
    ((2, 3, 4), (2, 4, 5), False, False, False),
    ((1, 2, 3, 4), (2, 1, 5, 4), False, True, False),   # broadcast batches, adj_y
    ((3, 6, 2), (6, 3), True, False, True),             # adj_x, a constant rank-2 rhs (the converter's weights)
    ((2, 1, 2, 7, 3), (2, 3, 1, 2, 7), True, True, False),  # rank 5
]


@pytest.mark.parametrize("lhs_shape, rhs_shape, adj_x, adj_y, constant", BATCH_MATMUL_CASES, ids=str)
def test_batch_matmul(assert_bit_exact, lhs_shape, rhs_shape, adj_x, adj_y, constant):
    rng = np.random.default_rng(10)
    rows = lhs_shape[-1] if adj_x else lhs_shape[-2]
    cols = rhs_shape[-2] if adj_y else rhs_shape[-1]
    depth = lhs_shape[-2] if adj_x else lhs_shape[-1]
    batch = list(np.broadcast_shapes(lhs_shape[:-2], rhs_shape[:-2]))
    b = ModelBuilder()
    lhs = b.tensor(list(lhs_shape), scale=0.05, zero_point=-128)
    rhs_data = rng.integers(-128, 127, rhs_shape, endpoint=True).astype(np.int8) if constant else None
    rhs = b.tensor(list(rhs_shape), scale=0.02, zero_point=0 if constant else 127, data=rhs_data)
    out_scale = float(np.float32(0.05 * 0.02 * 74 * 73 * np.sqrt(depth) * 6 / 256))
    out = b.tensor(batch + [rows, cols], scale=out_scale, zero_point=3)
    b.op("BATCH_MATMUL", [lhs, rhs], [out], adjX=adj_x, adjY=adj_y)
    inputs = [lhs] if constant else [lhs, rhs]
    records = []
    for fill in (-128, 127, None):
        record = [_extremes(lhs_shape, rng)[2] if fill is None else np.full(lhs_shape, fill, np.int8)]
        if not constant:
            record.append(_extremes(rhs_shape, rng)[2] if fill is None else np.full(rhs_shape, -fill - 1, np.int8))
        records.append(record)
    assert_bit_exact(b.build(inputs, [out]), records=records)


TRANSPOSE_CONV_CASES = [  # input shape, filter (out_c, h, w), stride, padding, per-channel, bias, activation
    ((1, 4, 4, 3), (5, 3, 3), (2, 2), "SAME", True, True, "NONE"),
    ((1, 3, 5, 2), (4, 2, 3), (2, 1), "VALID", False, True, "RELU"),
    ((2, 3, 3, 4), (2, 3, 3), (1, 1), "SAME", True, False, "RELU6"),
    ((1, 2, 2, 8), (3, 4, 4), (3, 3), "VALID", True, True, "NONE"),
]


def _transpose_conv_out(size, filt, stride, padding):
    return size * stride if padding == "SAME" else (size - 1) * stride + filt


@pytest.mark.parametrize("in_shape, filt, stride, padding, per_channel, with_bias, act", TRANSPOSE_CONV_CASES, ids=str)
def test_transpose_conv(assert_bit_exact, in_shape, filt, stride, padding, per_channel, with_bias, act):
    from tinygen.testing.model_builder import accumulator_output_scale, random_bias, random_int8

    rng = np.random.default_rng(11)
    out_c, f_h, f_w = filt
    n, h, w, c = in_shape
    out_shape = [n, _transpose_conv_out(h, f_h, stride[0], padding), _transpose_conv_out(w, f_w, stride[1], padding), out_c]
    b = ModelBuilder()
    x = b.tensor(list(in_shape), scale=0.04, zero_point=-128 if per_channel else 127)
    scales = [float(np.float32(s)) for s in rng.uniform(0.002, 0.02, out_c)] if per_channel else 0.01
    f = b.tensor([out_c, f_h, f_w, c], scale=scales, zero_point=0, data=random_int8(rng, (out_c, f_h, f_w, c)))
    shape_t = b.tensor([4], dtype=np.int32, data=out_shape)
    ins = [shape_t, f, x]
    if with_bias:
        bias_scales = np.float32(0.04) * np.atleast_1d(np.asarray(scales, np.float32))
        ins.append(b.tensor([out_c], dtype=np.int32, scale=list(np.broadcast_to(bias_scales, (out_c,))),
                            data=random_bias(rng, out_c)))
    y = b.tensor(out_shape, scale=accumulator_output_scale(rng, 0.04, 0.01, f_h * f_w * c // 2), zero_point=-5)
    b.op("TRANSPOSE_CONV", ins, [y], padding=padding, strideH=stride[0], strideW=stride[1],
         fusedActivationFunction=act)
    records = [[r] for r in _extremes(in_shape, rng)]
    assert_bit_exact(b.build([x], [y]), records=records)


def float_island_model(shape=(2, 3, 16), activation="NONE") -> bytes:
    """int8 -> DEQUANTIZE -> NEG, MUL, ADD (a constant, broadcast), RSQRT, MUL, SUB -> QUANTIZE -> int8:
    the float middle of a layer normalisation, every float tensor compared bit for bit."""
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-3)
    f = b.tensor(list(shape), dtype=np.float32)
    b.op("DEQUANTIZE", [x], [f])
    n, sq, a, r, m, s = (b.tensor(list(shape), dtype=np.float32) for _ in range(6))
    eps = b.tensor([shape[-1]], dtype=np.float32, data=np.linspace(1e-3, 0.7, shape[-1], dtype=np.float32))
    b.op("NEG", [f], [n])
    b.op("MUL", [f, f], [sq])
    b.op("ADD", [sq, eps], [a], fusedActivationFunction=activation)
    b.op("RSQRT", [a], [r])
    b.op("MUL", [n, r], [m])
    b.op("SUB", [m, f], [s], fusedActivationFunction=activation)
    y = b.tensor(list(shape), scale=0.02, zero_point=5)
    b.op("QUANTIZE", [s], [y])
    return b.build([x], [y])


@pytest.mark.parametrize("activation", ["NONE", "RELU6"])
def test_float_island(assert_bit_exact, activation):
    rng = np.random.default_rng(13)
    records = [[r] for r in _extremes((2, 3, 16), rng)] + [[np.zeros((2, 3, 16), np.int8)]]
    result = assert_bit_exact(float_island_model(activation=activation), records=records)
    assert result.tensors_compared >= 8 * len(records)


def test_int8_neg_and_exp_are_refused_with_the_reason():
    b = ModelBuilder()
    x, y, z = b.tensor([4], scale=0.1), b.tensor([4], scale=0.1), b.tensor([4], scale=0.1)
    b.op("NEG", [x], [y])
    b.op("EXP", [y], [z])
    with pytest.raises(TinygenError, match=r"#0 NEG \(TFLite Micro's kernel computes float32 only\), #1 EXP "
                                           r"\(TFLite Micro's EXP computes float32 only"):
        compile_bytes(b.build([x], [z]))


SQRT_CHECK_C = r"""
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "tinygen/tg_misc_ops.h"
int main(void) {
    unsigned long bad = 0, checked = 0;
    for (unsigned long long u = 0; u < 0x100000000ull; u += 1021) {
        const uint32_t bits = (uint32_t)u;
        float x, ours, theirs;
        memcpy(&x, &bits, 4);
        ours = tg_sqrt_f32(x);
        theirs = sqrtf(x);
        ++checked;
        if (memcmp(&ours, &theirs, 4) != 0 && !(isnan(ours) && isnan(theirs))) ++bad;
    }
    printf("%lu %lu\n", checked, bad);
    return 0;
}
"""


def test_sqrt_f32_is_the_c_librarys_correctly_rounded_sqrtf(tmp_path):
    """tg_sqrt_f32 (no libm, for RSQRT's float island) against the host's sqrtf on 4.2M bit patterns
    spread over all of float32 (normals, subnormals, zeros, infinities, NaNs, negatives)."""
    import subprocess

    from tinygen.resources import RUNTIME_INCLUDE_DIR

    source = tmp_path / "sqrt_check.c"
    source.write_text(SQRT_CHECK_C)
    binary = tmp_path / "sqrt_check"
    subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", f"-I{RUNTIME_INCLUDE_DIR}", str(source),
                    "-lm", "-o", str(binary)], check=True)
    checked, bad = map(int, subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.split())
    assert checked > 4_000_000 and bad == 0


# --- long grids: many random cases per operator, each operator's cases in one model -------------

def _random_quant(rng, low=0.002, high=0.5):
    return (float(np.float32(np.exp(rng.uniform(np.log(low), np.log(high))))), int(rng.integers(-128, 128)))


def _random_records(rng, shapes, count=4):
    records = [[np.full(s, -128, np.int8) for s in shapes], [np.full(s, 127, np.int8) for s in shapes]]
    records += [[rng.integers(-128, 127, s, endpoint=True).astype(np.int8) for s in shapes] for _ in range(count)]
    return records


def _long_model(rng, op: str, cases: int):
    """`cases` random instances of `op`, each on its own inputs; returns (model, input shapes)."""
    b = ModelBuilder()
    inputs, outputs, shapes = [], [], []
    for _ in range(cases):
        rank = int(rng.integers(1, 5))
        shape = [int(d) for d in rng.integers(1, 6, rank)]
        qi, qo = _random_quant(rng), _random_quant(rng)
        if op in ("ELU", "L2_NORMALIZATION"):
            x = b.tensor(shape, scale=qi[0], zero_point=qi[1])
            y = b.tensor(shape, scale=qo[0] if op == "ELU" else 1 / 128, zero_point=qo[1] if op == "ELU" else 0)
            b.op(op, [x], [y])
            ins = [x]
        elif op == "ADD_N":
            n = int(rng.integers(2, 6))
            ins = [b.tensor(shape, scale=qi[0], zero_point=qi[1]) for _ in range(n)]
            y = b.tensor(shape, scale=float(np.float32(qi[0] * rng.uniform(0.5, 4))), zero_point=qo[1])
            b.op(op, ins, [y])
        elif op == "CUMSUM":
            x = b.tensor(shape, scale=qi[0], zero_point=qi[1])
            y = b.tensor(shape, scale=float(np.float32(qi[0] * rng.uniform(1, 8))), zero_point=qo[1])
            axis = int(rng.integers(-rank, rank))
            b.op(op, [x, b.tensor([1], dtype=np.int32, data=[axis])], [y],
                 exclusive=bool(rng.integers(2)), reverse=bool(rng.integers(2)))
            ins = [x]
        else:  # a comparison into SELECT_V2, with a broadcast second operand
            other = [d if rng.integers(2) else 1 for d in shape]
            q2 = (float(np.float32(min(0.9, qi[0] * rng.uniform(0.3, 3)))), int(rng.integers(-128, 128)))
            x1 = b.tensor(shape, scale=qi[0], zero_point=qi[1])
            x2 = b.tensor(other, scale=q2[0], zero_point=q2[1])
            c = b.tensor(shape, dtype=np.bool_)
            y = b.tensor(shape, scale=qi[0], zero_point=qi[1])
            b.op(COMPARISONS[int(rng.integers(len(COMPARISONS)))], [x1, x2], [c])
            b.op("SELECT_V2", [c, x1, b.tensor(shape, scale=qi[0], zero_point=qi[1], data=np.zeros(shape, np.int8))], [y])
            ins = [x1, x2]
            shapes.append(shape)
            shape = other
        inputs += ins
        outputs.append(y)
        shapes += [shape] * (len(ins) if op != "COMPARE" else 1)
    return b.build(inputs, outputs), shapes


@pytest.mark.long
@pytest.mark.parametrize("op", ["ELU", "ADD_N", "CUMSUM", "L2_NORMALIZATION", "COMPARE"])
@pytest.mark.parametrize("seed", range(5))
def test_long_random_grid(assert_bit_exact, op, seed):
    rng = np.random.default_rng(1000 + seed)
    model, shapes = _long_model(rng, op, cases=12)
    assert_bit_exact(model, records=_random_records(rng, shapes))


@pytest.mark.long
@pytest.mark.parametrize("seed", range(12))
def test_long_random_batch_matmul_and_transpose_conv(assert_bit_exact, seed):
    rng = np.random.default_rng(2000 + seed)
    adj_x, adj_y = bool(rng.integers(2)), bool(rng.integers(2))
    rows, cols, depth = (int(v) for v in rng.integers(1, 9, 3))
    batch = [int(v) for v in rng.integers(1, 4, int(rng.integers(0, 3)))]
    lhs_shape = batch + ([depth, rows] if adj_x else [rows, depth])
    rhs_batch = [d if rng.integers(2) else 1 for d in batch]
    rhs_shape = rhs_batch + ([cols, depth] if adj_y else [depth, cols])
    b = ModelBuilder()
    ql, qr = _random_quant(rng, 0.01, 0.1), _random_quant(rng, 0.01, 0.1)
    lhs, rhs = b.tensor(lhs_shape, scale=ql[0], zero_point=ql[1]), b.tensor(rhs_shape, scale=qr[0], zero_point=qr[1])
    from tinygen.testing.model_builder import accumulator_output_scale
    out = b.tensor(batch + [rows, cols], scale=accumulator_output_scale(rng, ql[0], qr[0], depth), zero_point=int(rng.integers(-20, 20)))
    b.op("BATCH_MATMUL", [lhs, rhs], [out], adjX=adj_x, adjY=adj_y)
    # A TRANSPOSE_CONV beside it.
    n, h, w, c = 1, int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 5))
    oc, fh, fw = (int(v) for v in rng.integers(1, 5, 3))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    padding = "SAME" if rng.integers(2) else "VALID"
    out_shape = [n, _transpose_conv_out(h, fh, sh, padding), _transpose_conv_out(w, fw, sw, padding), oc]
    x = b.tensor([n, h, w, c], scale=0.04, zero_point=int(rng.integers(-128, 128)))
    f = b.tensor([oc, fh, fw, c], scale=[float(np.float32(s)) for s in rng.uniform(0.002, 0.02, oc)],
                 data=rng.integers(-127, 127, (oc, fh, fw, c), endpoint=True).astype(np.int8))
    y = b.tensor(out_shape, scale=accumulator_output_scale(rng, 0.04, 0.01, fh * fw * c), zero_point=0)
    b.op("TRANSPOSE_CONV", [b.tensor([4], dtype=np.int32, data=out_shape), f, x], [y], padding=padding,
         strideH=sh, strideW=sw)
    assert_bit_exact(b.build([lhs, rhs, x], [out, y]), records=_random_records(rng, [lhs_shape, rhs_shape, [n, h, w, c]]))
