"""Validation no stricter than TFLite Micro (issue 10, item 4): for each rule, a model TFLM accepts
is compiled and computed bit-exact, and a model TFLM refuses is refused by tinygen with the reason.

`tflm_refusal` asks TFLM itself (its interpreter's Prepare messages on fd 2), so every case here
states what TFLM does, not what we believe it does.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.reference.tflm import TflmReference
from tinygen.testing.model_builder import ModelBuilder, random_bias


def tflm_refusal(model: bytes) -> str | None:
    """None when TFLM prepares the model; else the first line TFLM reported on stderr."""
    from tinygen.quantize import tflm_refusal as refusal

    return refusal(model)


CONV_OPTIONS = dict(padding="SAME", strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1)


def conv_with_bias(kind: str, bias_axis: int = 0, bias_scales: bool = True, filter_axis: int | None = None,
                   filter_zero_points=None, filter_scales=(0.011, 0.023, 0.017, 0.031), seed: int = 0) -> bytes:
    """CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED over 4 channels, with a 1-D int32 bias quantized
    per channel along `bias_axis` (the converter sometimes copies the filter's axis 3 onto it)."""
    rng = np.random.default_rng(seed)
    channels, in_scale = 4, 0.05
    b = ModelBuilder()
    if kind == "FULLY_CONNECTED":
        x = b.tensor([2, 6], scale=in_scale, zero_point=-128)
        w_shape, default_axis, y_shape = [channels, 6], 0, [2, channels]
    elif kind == "CONV_2D":
        x = b.tensor([1, 5, 5, 3], scale=in_scale, zero_point=-128)
        w_shape, default_axis, y_shape = [channels, 3, 3, 3], 0, [1, 5, 5, channels]
    else:
        x = b.tensor([1, 5, 5, channels], scale=in_scale, zero_point=127)
        w_shape, default_axis, y_shape = [1, 3, 3, channels], 3, [1, 5, 5, channels]
    scales = list(filter_scales)
    zps = list(filter_zero_points) if filter_zero_points is not None else [0] * len(scales)
    weights = rng.integers(-127, 127, size=w_shape, endpoint=True)
    weights.flat[:2] = (-128, 127)  # the extremes, not only uniform values
    w = b.tensor(w_shape, scale=scales, zero_point=zps, data=weights, name="filter",
                 quant_axis=default_axis if filter_axis is None else filter_axis)
    bias_scale = [in_scale * s for s in scales] if bias_scales else None
    bias = b.tensor([channels], dtype=np.int32, scale=bias_scale, quant_axis=bias_axis,
                    data=random_bias(rng, channels), name="bias")
    y = b.tensor(y_shape, scale=0.09, zero_point=-3)
    options = {} if kind == "FULLY_CONNECTED" else dict(CONV_OPTIONS)
    if kind == "DEPTHWISE_CONV_2D":
        options["depthMultiplier"] = 1
    b.op(kind, [x, w, bias], [y], **options)
    return b.build([x], [y])


KINDS = ["CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("bias_axis", [3, 1, 0])
def test_per_channel_bias_naming_another_dimension_is_accepted(assert_bit_exact, kind, bias_axis):
    """A 1-D per-channel bias whose quantized_dimension is not 0: TFLM never reads it, so it runs."""
    model = conv_with_bias(kind, bias_axis=bias_axis)
    assert tflm_refusal(model) is None
    assert_bit_exact(model, count=3)


@pytest.mark.parametrize("scales, axis", [((0.01, 0.02, 0.03), 0), ((0.01, 0.02, 0.03, 0.04), 1),
                                          ((0.01, 0.02, 0.03, 0.04), 4)])
def test_filter_scales_not_matching_their_dimension_are_refused_like_tflm(scales, axis):
    model = conv_with_bias("CONV_2D", filter_scales=scales, filter_axis=axis)
    assert tflm_refusal(model) is not None
    with pytest.raises(InvalidModelError, match=rf"operator #0 CONV_2D: tensor 1 'filter' has {len(scales)} "
                                                rf"per-channel scales on axis {axis} .*; TFLite Micro needs one per"):
        compile_bytes(model)


def test_filter_axis_outside_the_shape_is_refused():
    """Axis -1: TFLM reads dims->data[-1] (the rank, 4, by accident equal to the scale count) and
    accepts; an out-of-bounds read is no behaviour to match, so tinygen refuses it."""
    model = conv_with_bias("CONV_2D", filter_axis=-1)
    with pytest.raises(InvalidModelError, match=r"4 per-channel scales on axis -1 of shape \[4, 3, 3, 3\]"):
        compile_bytes(model)


@pytest.mark.parametrize("kind, zero_points", [("CONV_2D", (5,)), ("CONV_2D", (0, 3, -2, 0)),
                                               ("DEPTHWISE_CONV_2D", (7,)), ("DEPTHWISE_CONV_2D", (2, 2, 2, 2))])
def test_conv_filter_zero_points_are_ignored_as_tflm_does(assert_bit_exact, kind, zero_points):
    """TFLM's int8 (depthwise) convolutions take no filter offset: it runs such models, ignoring the
    filter's zero points; so does tinygen, with the same bits."""
    scales = (0.011, 0.023, 0.017, 0.031)[:len(zero_points)]
    model = conv_with_bias(kind, filter_scales=scales, filter_zero_points=zero_points)
    assert tflm_refusal(model) is None
    assert_bit_exact(model, count=3)


@pytest.mark.parametrize("zero_points", [(5,), (3, 3, 3, 3)])
def test_fully_connected_filter_zero_point_is_used_as_tflm_does(assert_bit_exact, zero_points):
    scales = (0.011, 0.023, 0.017, 0.031)[:len(zero_points)]
    model = conv_with_bias("FULLY_CONNECTED", filter_scales=scales, filter_zero_points=zero_points)
    assert tflm_refusal(model) is None
    assert_bit_exact(model, count=3)


def test_gelu_is_refused_because_tflm_has_no_kernel():
    b = ModelBuilder()
    x = b.tensor([1, 8], scale=0.05)
    y = b.tensor([1, 8], scale=0.05)
    b.op("GELU", [x], [y])
    model = b.build([x], [y])
    assert tflm_refusal(model) is not None
    with pytest.raises(UnsupportedModelError, match=r"1 unsupported operator\(s\): #0 GELU \(TFLite Micro has no kernel for it\)"):
        compile_bytes(model)


def test_zero_sized_tensor_is_refused_like_tflm():
    b = ModelBuilder()
    x = b.tensor([1, 8], scale=0.05)
    y = b.tensor([0, 8], scale=0.05)
    b.op("RELU", [x], [y])
    model = b.build([x], [y])
    assert tflm_refusal(model) is not None
    with pytest.raises(UnsupportedModelError, match=r"has shape \[0, 8\], with no elements"):
        compile_bytes(model)


# --- every graph-level rule of passes/validate.py against TFLM (issue 10, item 4) -------------------
#
# TFLM checks none of these: its interpreter prepares and invokes every model below. Each is refused
# by tinygen because TFLM's result is not determined by the model and its inputs (it reads arena
# bytes nothing wrote, or divides by a scale that is zero, negative, NaN, infinite or denormal), so
# there is nothing to be bit-exact with. The tests record both facts, so that a TFLM that starts
# refusing one, or a rule that stops refusing it, is noticed.

def _mutated_chain(case: str) -> bytes:
    """test_validation's RELU -> RELU6 -> HARD_SWISH -> QUANTIZE chain, broken one way."""
    from test_validation import _ops, _set_scale, chain
    from tinygen.testing import fuzz

    model = chain()
    sub, ops = model.subgraphs[0], _ops(model)
    if case == "reads a later result":
        ops[1], ops[2] = ops[2], ops[1]
    elif case == "reads its own output":
        ops[1].inputs = np.array([2], np.int32)
    elif case == "written twice":
        ops[2].outputs = np.array([2], np.int32)
    elif case == "writes a graph input":
        ops[1].outputs = np.array([0], np.int32)
    elif case == "output never computed":
        sub.operators = ops[:3]
    elif case == "input listed twice":
        sub.inputs = np.array([0, 0], np.int32)
    elif case.startswith("scale "):
        _set_scale(model, 2, [float(case.removeprefix("scale "))])
    else:
        raise ValueError(case)
    return fuzz.pack(model)


def _tflm_invokes(model: bytes) -> bool:
    import tflite

    from tinygen.reference.tflm import TflmReference

    reference = TflmReference(model)
    count = tflite.Model.GetRootAsModel(model, 0).Subgraphs(0).InputsLength()
    details = [reference.input_details(k) for k in range(count)]
    run = reference.run([np.zeros(d["shape"], d["dtype"]) for d in details])
    return len(run.outputs) > 0


@pytest.mark.parametrize("case, reason", [
    ("reads a later result", r"reads tensor 2 't2' before operator #2 writes it"),
    ("reads its own output", r"reads its own output tensor 2 't2'"),
    ("written twice", r"tensor 2 't2' is written twice"),
    ("writes a graph input", r"writes graph input tensor 0 't0'"),
    ("output never computed", r"graph output tensor 4 't4' is never computed"),
    ("input listed twice", r"tensor 0 't0' is listed twice as a graph input"),
    ("scale 0", r"tensor 2 't2' has an invalid quantization scale 0.0"),
    ("scale -0.1", r"tensor 2 't2' has an invalid quantization scale -0.1"),
    ("scale nan", r"tensor 2 't2' has an invalid quantization scale nan"),
    ("scale inf", r"tensor 2 't2' has an invalid quantization scale inf"),
    ("scale 1e-40", r"tensor 2 't2' has quantization scale 9.99.*e-41; scales must be normal"),
])
def test_undefined_in_tflm_is_refused_in_one_line(case, reason):
    model = _mutated_chain(case)
    assert tflm_refusal(model) is None and _tflm_invokes(model)  # TFLM runs it, on undefined values
    with pytest.raises(InvalidModelError, match=reason) as refused:
        compile_bytes(model)
    assert "\n" not in refused.value.one_line()


def test_int8_zero_point_outside_its_type_is_refused_though_tflm_runs_it():
    """A deliberate divergence, for the lead to rule on: TFLM keeps zero points in int32 and runs an
    int8 tensor with zero point 128; the TFLite quantization spec puts them in the type's range, and
    tinygen refuses it in one line."""
    from test_validation import _set_scale, chain
    from tinygen.testing import fuzz

    model = chain()
    _set_scale(model, 1, [0.08], [128])
    data = fuzz.pack(model)
    assert tflm_refusal(data) is None and _tflm_invokes(data)
    with pytest.raises(InvalidModelError, match=r"tensor 1 't1' has zero point 128, outside \[-128, 127\]"):
        compile_bytes(data)


def _relu_of_rank(rank: int) -> bytes:
    shape = [1] * (rank - 2) + [2, 4]
    b = ModelBuilder()
    x = b.tensor(shape, scale=0.05, zero_point=-5)
    y = b.tensor(shape, scale=0.05, zero_point=-5)
    b.op("RELU", [x], [y])
    return b.build([x], [y])


def test_rank_six_runs_like_tflm(assert_bit_exact):
    model = _relu_of_rank(6)
    assert tflm_refusal(model) is None
    assert_bit_exact(model, count=2)


@pytest.mark.xfail(strict=True, raises=UnsupportedModelError,
                   reason="tinygen's tensors hold at most 6 dimensions (tg_tensor_info); TFLM runs rank-7 "
                          "elementwise operators")
def test_rank_seven_elementwise_runs_like_tflm(assert_bit_exact):
    model = _relu_of_rank(7)
    assert tflm_refusal(model) is None and _tflm_invokes(model)
    assert_bit_exact(model, count=2)


def test_unsupported_operators_are_all_named_at_once_with_index_and_type():
    """Item 7: one line naming every operator tinygen cannot compile, with its index and type, and
    why where the reason is not simply a missing kernel."""
    b = ModelBuilder()
    x = b.tensor([1, 8], scale=0.05)
    a = b.tensor([1, 8], scale=0.05)
    c = b.tensor([1, 8], scale=0.05)
    d = b.tensor([1, 8], scale=0.05)
    e = b.tensor([1, 8], scale=0.05)
    b.op("RELU", [x], [a])
    b.op("GELU", [a], [c])
    b.op("NEG", [c], [d])
    b.op("GELU", [d], [e])
    model = b.build([x], [e])
    with pytest.raises(UnsupportedModelError) as refused:
        compile_bytes(model)
    line = refused.value.one_line()
    assert "\n" not in line
    assert "3 unsupported operator(s): #1 GELU (TFLite Micro has no kernel for it), #2 NEG (" in line
    assert "#3 GELU (TFLite Micro has no kernel for it)" in line and "#0" not in line
