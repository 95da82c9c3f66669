"""What the importer refuses: graphs that are not straight-line programs, numbers TFLM cannot take,
weights whose size contradicts their shape, and outputs whose shape their inputs do not give.

Each refusal is a TinygenError whose one line names the tensor (and operator) at fault.
"""

from __future__ import annotations

import math
import time
import warnings

import numpy as np
import pytest

from tinygen.errors import (
    InvalidModelError,
    PlanError,
    TinygenError,
    UnsupportedModelError,
)
from tinygen.compiler import compile_bytes
from tinygen.testing import fuzz, fuzz_seeds
from tinygen.testing.model_builder import ModelBuilder

schema = fuzz.schema


def chain() -> schema.ModelT:
    """RELU t0->t1, RELU6 t1->t2, HARD_SWISH t2->t3, QUANTIZE t3->t4; input t0, output t4."""
    return fuzz.unpack(fuzz_seeds.builder_seeds()["activations"])


def compile_model(model: schema.ModelT):
    return compile_bytes(fuzz.pack(model))


def test_the_unchanged_chain_compiles():
    assert len(compile_model(chain()).graph.operators) == 4


# --- graph level: every value defined once, before it is read -------------------------------------

def _ops(model):
    return model.subgraphs[0].operators


def test_operator_reading_a_later_result():
    model = chain()
    ops = _ops(model)
    ops[1], ops[2] = ops[2], ops[1]
    with pytest.raises(InvalidModelError, match=r"operator #1 HARD_SWISH reads tensor 2 't2' before operator #2 writes it"):
        compile_model(model)


def test_operator_reading_its_own_output():
    model = chain()
    _ops(model)[1].inputs = np.array([2], np.int32)
    with pytest.raises(InvalidModelError, match=r"operator #1 RELU6 reads its own output tensor 2 't2'"):
        compile_model(model)


def test_cycle_between_two_operators():
    model = chain()
    _ops(model)[0].inputs = np.array([2], np.int32)  # RELU reads RELU6's output, RELU6 reads RELU's
    with pytest.raises(InvalidModelError, match=r"operator #0 RELU reads tensor 2 't2' before operator #1 writes it"):
        compile_model(model)


def test_tensor_written_twice():
    model = chain()
    _ops(model)[2].outputs = np.array([2], np.int32)  # HARD_SWISH writes RELU6's output again
    with pytest.raises(InvalidModelError, match=r"tensor 2 't2' is written twice: by operator #1 and by operator #2"):
        compile_model(model)


def test_operator_writing_a_graph_input():
    model = chain()
    _ops(model)[1].outputs = np.array([0], np.int32)
    with pytest.raises(InvalidModelError, match=r"operator #1 RELU6 writes graph input tensor 0 't0'"):
        compile_model(model)


def test_operator_writing_a_constant():
    model = fuzz.unpack(fuzz_seeds.builder_seeds()["add"])  # ADD(t0, constant t1) -> t2
    _ops(model)[0].outputs = np.array([1], np.int32)
    with pytest.raises(InvalidModelError, match=r"operator #0 ADD writes constant tensor 1 't1'"):
        compile_model(model)


def test_operator_reading_a_tensor_nothing_defines():
    model = chain()
    sub = model.subgraphs[0]
    orphan = schema.TensorT()
    orphan.shape, orphan.type, orphan.buffer, orphan.name = np.array([2, 8], np.int32), schema.TensorType.INT8, 0, b"orphan"
    orphan.quantization = sub.tensors[2].quantization
    sub.tensors.append(orphan)
    _ops(model)[2].inputs = np.array([5], np.int32)
    with pytest.raises(InvalidModelError, match=r"operator #2 HARD_SWISH reads tensor 5 'orphan', which is no graph input"):
        compile_model(model)


def test_graph_output_never_computed():
    model = chain()
    model.subgraphs[0].operators = _ops(model)[:3]  # QUANTIZE, the writer of output t4, removed
    with pytest.raises(InvalidModelError, match=r"graph output tensor 4 't4' is never computed"):
        compile_model(model)


def test_graph_input_listed_twice():
    model = chain()
    model.subgraphs[0].inputs = np.array([0, 0], np.int32)
    with pytest.raises(InvalidModelError, match=r"tensor 0 't0' is listed twice as a graph input"):
        compile_model(model)


@pytest.mark.parametrize("side, dtype", [("inputs", schema.TensorType.INT64), ("outputs", schema.TensorType.BOOL)])
def test_graph_io_of_a_type_the_c_api_cannot_pass(side, dtype):
    """Was a KeyError in codegen (found by the long fuzz run): an extra, unused int64 graph input."""
    model = chain()
    sub = model.subgraphs[0]
    extra = schema.TensorT()
    extra.shape, extra.type, extra.buffer, extra.name = np.array([1, 4], np.int32), dtype, 0, b"extra"
    sub.tensors.append(extra)
    setattr(sub, side, np.append(getattr(sub, side), 5).astype(np.int32))
    with pytest.raises(UnsupportedModelError, match=r"graph input or output tensor 5 'extra' is (int64|bool); the C API"):
        compile_model(model)


def test_intermediate_tensor_as_extra_output_is_fine(assert_bit_exact):
    """Not everything unusual is wrong: an intermediate result may also be a graph output."""
    model = chain()
    model.subgraphs[0].outputs = np.array([4, 2], np.int32)
    assert_bit_exact(fuzz.pack(model))


def test_zero_sized_tensor():
    model = chain()
    model.subgraphs[0].tensors[2].shape = np.array([2, 0], np.int32)
    with pytest.raises(UnsupportedModelError, match=r"tensor 2 't2' has shape \[2, 0\], with no elements"):
        compile_model(model)


@pytest.mark.parametrize("rank", [7, 9])
def test_rank_beyond_six_is_refused(rank):
    """TFLM's RuntimeShape and the C API's tg_tensor_info hold six dimensions (found by atheris)."""
    model = chain()
    for t in model.subgraphs[0].tensors:
        t.shape = np.array([1] * (rank - len(t.shape)) + list(t.shape), np.int32)
    with pytest.raises(UnsupportedModelError, match=rf"tensor 0 't0' has rank {rank}; at most 6 dimensions"):
        compile_model(model)


def test_rank_six_compiles(assert_bit_exact):
    model = chain()
    for t in model.subgraphs[0].tensors:
        t.shape = np.array([1] * (6 - len(t.shape)) + list(t.shape), np.int32)
    assert_bit_exact(fuzz.pack(model))


def test_activations_beyond_two_gib_are_refused_without_allocating():
    """float32 [2^28] -> int8 -> float32: 2.25 GiB of activations; refused from the sizes alone."""
    b = ModelBuilder()
    n = 1 << 28
    x = b.tensor([n], dtype=np.float32)
    q = b.tensor([n], scale=0.1)
    y = b.tensor([n], dtype=np.float32)
    b.op("QUANTIZE", [x], [q])
    b.op("DEQUANTIZE", [q], [y])
    with pytest.raises(PlanError, match=r"activation tensors take 2415919104 bytes together"):
        compile_bytes(b.build([x], [y]))


def test_too_many_operators_are_refused_before_planning():
    """The arena planner is quadratic: 20,000 operators would keep it busy for minutes."""
    b = ModelBuilder()
    tensors = [b.tensor([1, 8], scale=0.1) for _ in range(4098)]
    for i in range(4097):
        b.op("RELU", [tensors[i]], [tensors[i + 1]])
    model = b.build([tensors[0]], [tensors[-1]])
    started = time.monotonic()
    with pytest.raises(UnsupportedModelError, match=r"has 4097 operators; tinygen compiles at most 4096"):
        compile_bytes(model)
    assert time.monotonic() - started < 2


# --- numbers: quantization parameters TFLM accepts ---------------------------------------------------

def _set_scale(model, tensor: int, scales, zero_points=None) -> None:
    q = model.subgraphs[0].tensors[tensor].quantization
    q.scale = np.array(scales, np.float32)
    q.zeroPoint = np.array(zero_points if zero_points is not None else [0] * len(scales), np.int64)


@pytest.mark.parametrize("scale", [0.0, -0.0, -0.1, math.nan, math.inf, -math.inf, 1e-40, 1e-45])
def test_bad_scale(scale):
    model = chain()
    _set_scale(model, 2, [scale])
    with pytest.raises(InvalidModelError, match=r"tensor 2 't2' has (quantization scale|an invalid quantization scale)"):
        compile_model(model)


def test_smallest_normal_scale_is_accepted_by_validation():
    """2^-126 is a valid float32 scale; what the operators make of it is their own check."""
    model = fuzz.unpack(fuzz_seeds.builder_seeds()["relu6"])
    _set_scale(model, 0, [2.0**-126], [3])
    # RELU6 cannot express 6.0 at that scale in int32 (TFLM: undefined behaviour); refused, no crash.
    with pytest.raises(UnsupportedModelError, match=r"operator #0 RELU6: input 't0' scale .* puts 6.0 outside int32"):
        compile_model(model)


@pytest.mark.parametrize("zero_point", [128, -129, 255, 2**31, -(2**40)])
def test_int8_zero_point_out_of_range(zero_point):
    model = chain()
    _set_scale(model, 1, [0.08], [zero_point])
    with pytest.raises(InvalidModelError, match=rf"tensor 1 't1' has zero point {zero_point}, outside \[-128, 127\]"):
        compile_model(model)


def test_int16_zero_point_range():
    """SOFTMAX's int16 output takes zero point -32768 (TFLM requires it); -32769 fits no int16."""
    def model(zp: int) -> bytes:
        b = ModelBuilder()
        x = b.tensor([1, 10], scale=0.1)
        y = b.tensor([1, 10], dtype=np.int16, scale=1 / 65536, zero_point=zp)
        b.op("SOFTMAX", [x], [y], beta=1.0)
        return b.build([x], [y])

    compile_bytes(model(-32768))
    with pytest.raises(InvalidModelError, match=r"tensor 1 't1' has zero point -32769, outside \[-32768, 32767\]"):
        compile_bytes(model(-32769))


def _per_channel_conv(filter_zero_points=(0, 0), scales=(0.01, 0.02), axis=0, filter_shape=(2, 3, 3, 1)) -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 1], scale=0.05)
    w = b.tensor(list(filter_shape), scale=list(scales), zero_point=list(filter_zero_points), quant_axis=axis,
                 data=np.ones(filter_shape), name="filter")
    y = b.tensor([1, 4, 4, filter_shape[0]], scale=0.05)
    b.op("CONV_2D", [x, w], [y], padding="SAME", strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1)
    return b.build([x], [y])


def test_per_channel_filter_compiles():
    """Non-zero filter zero points are accepted as TFLM accepts them: see test_validation_tflm.py."""
    compile_bytes(_per_channel_conv())
    compile_bytes(_per_channel_conv(filter_zero_points=(0, 3)))


@pytest.mark.parametrize("scales, axis", [((0.01, 0.02, 0.03), 0), ((0.01, 0.02), 3), ((0.01, 0.02), 4), ((0.01, 0.02), -1)])
def test_per_channel_count_must_match_the_channel_dimension(scales, axis):
    zero_points = (0,) * len(scales)
    with pytest.raises(InvalidModelError, match=rf"CONV_2D: tensor 1 'filter' has {len(scales)} per-channel scales on axis {axis}"):
        compile_bytes(_per_channel_conv(filter_zero_points=zero_points, scales=scales, axis=axis))


def test_zero_point_count_must_match_scale_count():
    model = chain()
    _set_scale(model, 1, [0.08], [0, 0])
    with pytest.raises(InvalidModelError, match=r"tensor 1 't1' has 1 scales but 2 zero points"):
        compile_model(model)


# Extreme but valid scales on every operator that does scale arithmetic: refused or compiled, never a
# crash or a numpy warning (which the CLI would print as a second line).
TINY, HUGE = 2.0**-126, 3.4028235e38


def _op_model(op: str, in_scale: float, out_scale: float, other_scale: float = 0.05, **options) -> bytes:
    b = ModelBuilder()
    quant_int8_out = op not in ("DEQUANTIZE",)
    x = b.tensor([1, 2, 2, 8], scale=in_scale)
    inputs = [x]
    out_shape = [1, 2, 2, 8]
    if op in ("ADD", "MUL"):
        inputs.append(b.tensor([1, 2, 2, 8], scale=other_scale))
    elif op == "FULLY_CONNECTED":
        inputs.append(b.tensor([3, 8], scale=other_scale, data=np.ones((3, 8))))
        out_shape = [4, 3]
    elif op == "CONV_2D":
        inputs.append(b.tensor([3, 1, 1, 8], scale=other_scale, data=np.ones((3, 1, 1, 8))))
        out_shape = [1, 2, 2, 3]
    elif op == "MEAN":
        inputs.append(b.tensor([1], dtype=np.int32, data=np.array([3])))
        out_shape = [1, 2, 2]
    y = b.tensor(out_shape, dtype=np.int8 if quant_int8_out else np.float32, scale=out_scale if quant_int8_out else None,
                 zero_point=-128 if op in ("LOGISTIC", "SOFTMAX") else 0)
    b.op(op, inputs, [y], **options)
    return b.build([i for i in inputs if i == x or op in ("ADD", "MUL")], [y])


SCALE_OPS = [("RELU", {}), ("RELU6", {}), ("HARD_SWISH", {}), ("LOGISTIC", {}), ("SOFTMAX", {"beta": 1.0}),
             ("QUANTIZE", {}), ("DEQUANTIZE", {}), ("MEAN", {"keepDims": False}),
             ("ADD", {"fusedActivationFunction": "RELU6"}), ("MUL", {"fusedActivationFunction": "RELU"}),
             ("FULLY_CONNECTED", {"fusedActivationFunction": "RELU_N1_TO_1"}),
             ("CONV_2D", {"padding": "SAME", "strideH": 1, "strideW": 1, "dilationHFactor": 1, "dilationWFactor": 1,
                          "fusedActivationFunction": "RELU6"})]


@pytest.mark.parametrize("op, options", SCALE_OPS, ids=[op for op, _ in SCALE_OPS])
def test_extreme_scales_never_crash(op, options):
    outcomes = set()
    for in_scale in (TINY, 1.0, HUGE):
        for out_scale in (TINY, 1 / 256, HUGE):
            for other in (TINY, HUGE):
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    try:
                        compile_bytes(_op_model(op, in_scale, out_scale, other, **options))
                        outcomes.add("compiled")
                    except TinygenError as exc:
                        assert f"operator #0 {op}" in str(exc) or "tensor" in str(exc), str(exc)
                        outcomes.add("refused")
    assert outcomes


# --- weights whose size contradicts their shape -------------------------------------------------------

@pytest.mark.parametrize("delta", [-1, 1, -36])
def test_weights_size_must_match_shape(delta):
    model = fuzz.unpack(_per_channel_conv())
    buf = model.buffers[model.subgraphs[0].tensors[1].buffer]
    buf.data = np.zeros(len(buf.data) + delta, np.uint8) if len(buf.data) + delta > 0 else np.zeros(1, np.uint8)
    with pytest.raises(InvalidModelError, match=r"tensor 1 'filter' holds \d+ bytes, but its shape \[2, 3, 3, 1\] of int8 needs 18"):
        compile_model(model)


def test_int32_bias_size_must_match_shape():
    model = fuzz.unpack(fuzz_seeds.builder_seeds()["chain"])
    bias = model.subgraphs[0].tensors[3]  # [4] int32: 16 bytes
    model.buffers[bias.buffer].data = np.zeros(15, np.uint8)
    with pytest.raises(InvalidModelError, match=r"tensor 3 't3' holds 15 bytes, but its shape \[4\] of int32 needs 16"):
        compile_model(model)


# --- shapes: every lowering checks its output against what its inputs give ---------------------------

SEEDS = fuzz_seeds.builder_seeds()
OPERATOR_CASES = [(name, i) for name in ("chain", "elementwise", "activations")
                  for i in range(len(fuzz.unpack(SEEDS[name]).subgraphs[0].operators))]


@pytest.mark.parametrize("seed, op_index", OPERATOR_CASES)
def test_every_operator_checks_its_output_shape(seed, op_index):
    """One more element along the output's last axis: the operator that writes it refuses."""
    model = fuzz.unpack(SEEDS[seed])
    op = model.subgraphs[0].operators[op_index]
    out = model.subgraphs[0].tensors[int(op.outputs[0])]
    out.shape = np.array([*out.shape[:-1], out.shape[-1] + 1], np.int32)
    with pytest.raises(InvalidModelError) as info:
        compile_model(model)
    assert f"operator #{op_index} " in str(info.value) and f"'{out.name.decode()}'" in str(info.value), str(info.value)
