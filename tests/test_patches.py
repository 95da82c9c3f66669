"""Patch-based execution (tinygen/schedule/patches.py): receptive fields, local padding at the image
borders, and patched runs that give TFLite Micro's bits on every tensor, the patched ones gathered."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tinygen.errors import PlanError
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.ir.ops import Padding
from tinygen.kernels.common import compute_out_size, compute_padding
from tinygen.passes.choose_kernels import KernelSet, choose_kernels
from tinygen.kernels.select import lower_graph
from tinygen.compiler import compile_bytes
from tinygen.schedule import patches
from tinygen.schedule.ir import Loop, Step, TraceGather
from tinygen.schedule.lower import build_schedule
from tinygen.schedule.patches import (
    AxisGeometry, PatchRequest, Span, make_plan, patch_facts, patch_schedule, patchable_chain, stage_min_delta,
)
from tinygen.testing.compare import compare_on_host
from tinygen.testing.model_builder import ModelBuilder, accumulator_output_scale, random_bias, random_int8, random_scale

from conftest import DIGITS_MODEL, mlperf_model


# ---- geometry ------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(size=st.integers(1, 40), kernel=st.integers(1, 7), stride=st.integers(1, 4), dilation=st.integers(1, 3),
       padding=st.sampled_from([Padding.SAME, Padding.VALID]), data=st.data())
def test_input_span_is_exactly_the_rows_the_taps_read(size, kernel, stride, dilation, padding, data):
    """For any output rows, the window holds every image row a tap reads (and, dilated, perhaps the
    rows between), and the local padding puts each tap on the same image row as the whole-tensor
    run: a tap falls outside the window exactly when it falls outside the image."""
    out = compute_out_size(padding, size, kernel, stride, dilation)
    assume(out >= 1)
    pad = compute_padding(stride, dilation, size, kernel, out)
    axis = AxisGeometry(kernel, stride, dilation, pad, size)
    o0 = data.draw(st.integers(0, out - 1))
    o1 = data.draw(st.integers(o0 + 1, out))
    read = {o * stride - pad + t * dilation for o in range(o0, o1) for t in range(kernel)}
    read = {r for r in read if 0 <= r < size}
    span = axis.input_span(Span(o0, o1))
    assume(read)  # rows wholly in the padding read nothing (make_plan refuses such patches)
    assert 0 <= span.start <= min(read) and max(read) < span.stop <= size
    local = axis.local_padding(Span(o0, o1), span)
    assert local >= 0
    for o in range(o0, o1):
        for t in range(kernel):
            whole = o * stride - pad + t * dilation
            in_window = (o - o0) * stride - local + t * dilation
            assert (0 <= whole < size) == (0 <= in_window < span.size)
            if 0 <= whole < size:
                assert whole == span.start + in_window


# ---- models ---------------------------------------------------------------------------------------


def chain_model(seed: int, in_hw=(20, 17), in_c=3, stem=(3, 3), stem_stride=2, stem_dilation=1, stem_padding="SAME",
                dw=(3, 3), dw_dilation=1, dw_stride=1, dw_padding="SAME", pool="AVERAGE_POOL_2D", pool_filter=(3, 2),
                pool_stride=(1, 2), pool_padding="SAME", extreme=False) -> bytes:
    """conv (RELU6) -> depthwise -> RELU -> pool -> 1x1 conv: every kind of call a patch stage runs."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()

    def weights(shape):
        w = random_int8(rng, shape)
        if extreme:  # whole filters at the int8 limits: accumulators far outside the usual range
            w[..., ::2] = 127
            w.flat[::5] = -127
        return w

    def bias(n):
        return random_bias(rng, n, magnitude=2_000_000 if extreme else 20000)

    scale = random_scale(rng)
    x = b.tensor([1, *in_hw, in_c], scale=scale, zero_point=int(rng.integers(-128, 128)))
    h = compute_out_size(Padding[stem_padding], in_hw[0], stem[0], stem_stride, stem_dilation)
    w = compute_out_size(Padding[stem_padding], in_hw[1], stem[1], stem_stride, stem_dilation)
    c1 = 8
    w_scale = random_scale(rng, 0.002, 0.02)
    s1 = accumulator_output_scale(rng, scale, w_scale, stem[0] * stem[1] * in_c)
    y1 = b.tensor([1, h, w, c1], scale=s1, zero_point=-128)
    wt = b.tensor([c1, *stem, in_c], scale=w_scale, data=weights((c1, *stem, in_c)))
    bt = b.tensor([c1], dtype=np.int32, scale=np.float32(scale) * np.float32(w_scale), data=bias(c1))
    b.op("CONV_2D", [x, wt, bt], [y1], padding=stem_padding, strideH=stem_stride, strideW=stem_stride,
         dilationHFactor=stem_dilation, dilationWFactor=stem_dilation, fusedActivationFunction="RELU6")

    h2 = compute_out_size(Padding[dw_padding], h, dw[0], dw_stride, dw_dilation)
    w2 = compute_out_size(Padding[dw_padding], w, dw[1], dw_stride, dw_dilation)
    dw_scales = [random_scale(rng, 0.002, 0.02) for _ in range(c1)]
    s2 = accumulator_output_scale(rng, s1, max(dw_scales), dw[0] * dw[1])
    y2 = b.tensor([1, h2, w2, c1], scale=s2, zero_point=int(rng.integers(-20, 20)))
    dwt = b.tensor([1, *dw, c1], scale=dw_scales, data=weights((1, *dw, c1)), quant_axis=3)
    dbt = b.tensor([c1], dtype=np.int32, scale=np.float32(s1) * np.asarray(dw_scales, np.float32), data=bias(c1))
    b.op("DEPTHWISE_CONV_2D", [y1, dwt, dbt], [y2], padding=dw_padding, strideH=dw_stride, strideW=dw_stride,
         dilationHFactor=dw_dilation, dilationWFactor=dw_dilation, depthMultiplier=1)

    s3 = random_scale(rng)
    y3 = b.tensor([1, h2, w2, c1], scale=s3, zero_point=int(rng.integers(-128, 0)))
    b.op("RELU", [y2], [y3])

    h4 = compute_out_size(Padding[pool_padding], h2, pool_filter[0], pool_stride[0], 1)
    w4 = compute_out_size(Padding[pool_padding], w2, pool_filter[1], pool_stride[1], 1)
    y4 = b.tensor([1, h4, w4, c1], scale=s3, zero_point=b.tensors[y3].quantization.zeroPoint[0])
    b.op(pool, [y3], [y4], padding=pool_padding, strideH=pool_stride[0], strideW=pool_stride[1],
         filterHeight=pool_filter[0], filterWidth=pool_filter[1])

    c5 = 6
    w5_scale = random_scale(rng, 0.002, 0.02)
    s5 = accumulator_output_scale(rng, s3, w5_scale, c1)
    y5 = b.tensor([1, h4, w4, c5], scale=s5, zero_point=int(rng.integers(-128, 128)))
    w5 = b.tensor([c5, 1, 1, c1], scale=w5_scale, data=weights((c5, 1, 1, c1)))
    b.op("CONV_2D", [y4, w5], [y5], padding="VALID", strideH=1, strideW=1)
    return b.build([x], [y5])


def extreme_records(graph, rng) -> list[list[np.ndarray]]:
    shape = graph.input_tensors()[0].shape
    checker = np.indices(shape).sum(axis=0) % 2
    return [[np.full(shape, 127, np.int8)], [np.full(shape, -128, np.int8)],
            [np.where(checker == 1, 127, -128).astype(np.int8)], [random_int8(rng, shape, -128, 127)]]


def _lowered(model_bytes: bytes):
    graph = parse_tflite(model_bytes, name="m")
    return graph, choose_kernels(graph, lower_graph(graph), KernelSet.OPTIMISED, frozenset())[0]  # the portable twins


def assert_patched_bit_exact(tmp_path, model_bytes: bytes, request: str, records=None,
                             kernel_set: KernelSet = KernelSet.OPTIMISED):
    result = compare_on_host(model_bytes, tmp_path / request.replace(":", "_"), records=records, count=2,
                             name="m", patch=PatchRequest.parse(request), kernel_set=kernel_set)
    assert result.compiled.patch is not None and result.compiled.patch.label == request
    loop = result.compiled.schedule.items[0]
    assert isinstance(loop, Loop) and len(loop.iterations) == len(result.compiled.patch.patches)
    assert any(isinstance(s, TraceGather) for iteration in loop.iterations for s in iteration)
    # every tensor of the model compared, the ones that exist only in patches included
    operators = len(result.compiled.graph.operators)
    assert result.tensors_compared == len(records or [0, 0]) * (operators + 1)
    assert not result.mismatches, "\n".join(result.mismatches[:10])
    return result


CHAINS = [
    dict(),
    dict(stem=(5, 5), stem_stride=2, stem_padding="VALID", in_hw=(23, 19), pool="MAX_POOL_2D"),
    dict(stem=(3, 3), stem_dilation=2, dw=(3, 3), dw_dilation=2, dw_padding="SAME", in_hw=(16, 21)),
    dict(dw=(5, 3), dw_stride=2, dw_padding="VALID", pool_filter=(2, 2), pool_stride=(2, 2), pool_padding="VALID",
         in_hw=(40, 37)),
    dict(stem=(1, 1), stem_stride=1, in_hw=(9, 9), in_c=5, pool_filter=(3, 3), pool_stride=(1, 1)),
]


@pytest.mark.parametrize("case", CHAINS, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
@pytest.mark.parametrize("grid", ["5:2x3", "5:3x1", "3:1x2"])
def test_patched_chain_bit_exact(tmp_path, case, grid):
    model = chain_model(seed=len(str(case)), extreme=True, **case)
    graph, _ = _lowered(model)
    assert_patched_bit_exact(tmp_path, model, grid, records=extreme_records(graph, np.random.default_rng(1)))


def test_every_output_pixel_its_own_patch(tmp_path):
    """The finest grid: the largest halos, every patch touching a border or none."""
    model = chain_model(seed=3, in_hw=(12, 10), extreme=True)
    graph, lowered = _lowered(model)
    last = patchable_chain(graph, lowered)[4].output_dims
    assert_patched_bit_exact(tmp_path, model, f"5:{last.h}x{last.w}", records=extreme_records(graph, np.random.default_rng(2)))


def test_reference_kernels_patched(tmp_path):
    model = chain_model(seed=11, extreme=True)
    assert_patched_bit_exact(tmp_path, model, "5:2x2", kernel_set=KernelSet.REFERENCE)


def test_wrong_border_padding_is_caught(tmp_path, monkeypatch):
    """The gathered comparison can fail: with the image's padding applied at every patch's border
    (what a patch must not do), the run no longer matches TFLM."""
    monkeypatch.setattr(patches.AxisGeometry, "local_padding", lambda self, out, inp: self.padding)
    model = chain_model(seed=5)
    result = compare_on_host(model, tmp_path / "wrong", count=1, name="m", patch=PatchRequest.parse("5:3x3"))
    assert result.mismatches


@pytest.mark.parametrize("grid", ["4:8x8", "8:4x1", "5:3x2"])
def test_vww_patched_bit_exact_on_host(tmp_path, grid):
    """Every tensor of VWW, patched three ways: a fine grid with column windows copied in and out,
    whole-width bands read and written in place, and a split after a stride-2 depthwise."""
    assert_patched_bit_exact(tmp_path, mlperf_model("vww").read_bytes(), grid)


# ---- choice ---------------------------------------------------------------------------------------


def test_auto_vww_fits_32k_with_its_input_within_the_overhead_budget():
    """The issue's target: VWW in <= 32,768 bytes, its 27,648-byte input counted."""
    model = mlperf_model("vww").read_bytes()
    whole = compile_bytes(model, name="m")
    patched = compile_bytes(model, name="m", patch=PatchRequest.parse("auto"))
    facts = patch_facts(patched.patch, patched.graph)
    assert patched.patch is not None and facts["mac_overhead"] <= 0.20
    assert patched.plan.arena_bytes <= 32768 < whole.plan.arena_bytes
    assert patched.plan.arena_bytes >= patched.plan.lower_bound_bytes
    # the stage's output lies over its input: they share bytes in the plan
    offsets = patched.plan.buffer_offsets()
    whole_in, whole_out = f"t{patched.graph.inputs[0]}", f"t{patched.patch.ops[-1].output_tensor}"
    assert offsets[whole_out] - offsets[whole_in] >= stage_min_delta(patched.patch)
    assert offsets[whole_out] < offsets[whole_in] + patched.graph.input_tensors()[0].nbytes
    # a tighter MAC budget never picks a plan that costs more
    tight = compile_bytes(model, name="m", patch=PatchRequest.parse("auto"), max_overhead=0.05)
    assert patch_facts(tight.patch, tight.graph)["mac_overhead"] <= 0.05


def test_auto_leaves_models_it_cannot_improve():
    model = (mlperf_model("vww").parents[0] / "ad01_int8.tflite").read_bytes()
    assert compile_bytes(model, name="m", patch=PatchRequest.parse("auto")).patch is None


@pytest.mark.long
def test_budget_spends_macs_beyond_the_overhead_budget_to_fit():
    fitted = compile_bytes(mlperf_model("vww").read_bytes(), name="m", arena_budget=32768,
                           patch=PatchRequest.parse("auto"), max_overhead=0.0)
    assert fitted.patch is not None and fitted.plan.arena_bytes <= 32768


@pytest.mark.parametrize("text", ["3", "3:2", "a:1x2", "0:1x1", "3:0x2"])
def test_bad_patch_requests(text):
    with pytest.raises(PlanError, match="--patch"):
        PatchRequest.parse(text)


def test_fixed_plans_out_of_range():
    graph, lowered = _lowered(chain_model(seed=1))
    chain = patchable_chain(graph, lowered)
    assert [op.call.function for op in chain][:5] == ["tg_conv_s8_fast", "tg_depthwise_conv_s8_fast", "tg_relu_s8",
                                                      "tg_avg_pool_s8", "tg_conv_s8_fast"]
    with pytest.raises(PlanError, match="split"):
        make_plan(chain, 9, 1, 2)
    with pytest.raises(PlanError, match="grid"):
        make_plan(chain, 5, 100, 1)


def test_patched_calls_cover_each_output_pixel_once():
    graph, lowered = _lowered(chain_model(seed=2))
    plan = make_plan(patchable_chain(graph, lowered), 5, 3, 2)
    last = plan.ops[-1].output_dims
    covered = np.zeros((last.h, last.w), int)
    for p in plan.patches:
        w = p.outputs[-1]
        covered[w.rows.start:w.rows.stop, w.cols.start:w.cols.stop] += 1
    assert (covered == 1).all()
    assert plan.macs >= plan.whole_macs
    schedule = patch_schedule(build_schedule(graph, lowered), plan)
    steps = [s for s in schedule.items[0].iterations[0] if isinstance(s, Step)]
    assert [s.call.function for s in steps] == [patches.COPY_FUNCTION, *(op.call.function for op in plan.ops),
                                                patches.COPY_FUNCTION]  # the windows copied in and out
    # the chain's intermediate tensors exist only in the workspace now
    assert all(schedule.tensor_view(op.output_tensor) is None for op in plan.ops[:-1])
    assert schedule.tensor_view(plan.ops[-1].output_tensor) is not None


@pytest.mark.parametrize("grid", ["5:2x3", "3:3x1"])
def test_patched_under_sanitizers_with_guards(tmp_path, grid):
    """AddressSanitizer and UBSan, with guard bytes around every buffer (the workspace too) checked
    after each call and the arena poisoned outside the buffers live at each step."""
    result = compare_on_host(chain_model(seed=3, extreme=True), tmp_path / "san", count=2, name="m",
                             patch=PatchRequest.parse(grid), sanitize=True, guard_bytes=16)
    assert result.compiled.patch is not None and result.tensors_compared > 0
    assert not result.mismatches, "\n".join(result.mismatches[:10])


def test_kws_patched_bit_exact_on_host(tmp_path):
    """KWS's 10x4 stride-2 first convolution with its asymmetric SAME padding, then depthwise
    blocks, with each 5x1 band of the seventh call's output a patch."""
    assert_patched_bit_exact(tmp_path, mlperf_model("kws").read_bytes(), "7:5x5")


@pytest.mark.parametrize("grid", ["4:2x2", "5:4x4", "4:1x3"])
def test_digits_residual_patched_bit_exact_on_host(tmp_path, grid):
    """The example model's residual block (conv -> depthwise -> 1x1 conv, ADDed to the first
    conv's output) runs in patches: the ADD reads the part of the wider window the depthwise
    needed, copied out of the workspace; on the example's own sample digits."""
    samples = np.load(DIGITS_MODEL.parent / "sample_inputs.npy")[:3]
    records = [[s] for s in samples]
    assert_patched_bit_exact(tmp_path, DIGITS_MODEL.read_bytes(), grid, records=records)


def test_auto_patches_the_digits_example():
    whole = compile_bytes(DIGITS_MODEL.read_bytes(), name="m")
    patched = compile_bytes(DIGITS_MODEL.read_bytes(), name="m", patch=PatchRequest.parse("auto"))
    assert patched.patch is not None and patched.plan.arena_bytes < whole.plan.arena_bytes


def test_a_split_inside_a_residual_block_is_refused():
    graph, lowered = _lowered(DIGITS_MODEL.read_bytes())
    with pytest.raises(PlanError, match="needed after operator #2"):
        compile_bytes(DIGITS_MODEL.read_bytes(), name="m", patch=PatchRequest.parse("3:2x2"))
    assert len(patchable_chain(graph, lowered)) >= 5


def pad_block_model(seed: int, in_hw=(15, 14), pads=((1, 2), (0, 1)), extreme=True) -> bytes:
    """conv -> PAD of rows and columns (as Keras' ZeroPadding2D before a stride-2 depthwise) ->
    depthwise 3x3 stride 2 VALID -> 1x1 conv ADDed to a 1x1 conv of the same padded-block input."""
    rng = np.random.default_rng(seed)
    b = ModelBuilder()
    c = 8

    def conv(x, in_c, out_c, k, stride, padding, in_scale, depthwise=False):
        w_scale = random_scale(rng, 0.002, 0.02)
        shape = (1, k, k, out_c) if depthwise else (out_c, k, k, in_c)
        w = random_int8(rng, shape)
        if extreme:
            w.flat[::3] = 127
        out_scale = accumulator_output_scale(rng, in_scale, w_scale, k * k * (1 if depthwise else in_c))
        wt = b.tensor(list(shape), scale=w_scale, data=w, quant_axis=3 if depthwise else 0)
        bt = b.tensor([out_c], dtype=np.int32, scale=np.float32(in_scale) * np.float32(w_scale),
                      data=random_bias(rng, out_c, magnitude=2_000_000 if extreme else 20000))
        h = compute_out_size(Padding[padding], b.tensors[x].shape[1], k, stride, 1)
        w_ = compute_out_size(Padding[padding], b.tensors[x].shape[2], k, stride, 1)
        y = b.tensor([1, h, w_, out_c], scale=out_scale, zero_point=int(rng.integers(-100, 100)))
        if depthwise:
            b.op("DEPTHWISE_CONV_2D", [x, wt, bt], [y], padding=padding, strideH=stride, strideW=stride,
                 depthMultiplier=1, fusedActivationFunction="RELU6")
        else:
            b.op("CONV_2D", [x, wt, bt], [y], padding=padding, strideH=stride, strideW=stride,
                 fusedActivationFunction="RELU6")
        return y, out_scale

    scale = random_scale(rng)
    x = b.tensor([1, *in_hw, 3], scale=scale, zero_point=int(rng.integers(-128, 128)))
    y1, s1 = conv(x, 3, c, 3, 1, "SAME", scale)
    padded_hw = (in_hw[0] + sum(pads[0]), in_hw[1] + sum(pads[1]))
    y2 = b.tensor([1, *padded_hw, c], scale=s1, zero_point=b.tensors[y1].quantization.zeroPoint[0])
    paddings = b.tensor([4, 2], dtype=np.int32, data=np.array([[0, 0], list(pads[0]), list(pads[1]), [0, 0]]))
    b.op("PAD", [y1, paddings], [y2])
    y3, s3 = conv(y2, c, c, 3, 2, "VALID", s1, depthwise=True)
    y4, s4 = conv(y3, c, 6, 1, 1, "VALID", s3)
    y5, _ = conv(y3, c, 6, 1, 1, "VALID", s3)
    y6 = b.tensor(list(b.tensors[y4].shape), scale=random_scale(rng), zero_point=int(rng.integers(-50, 50)))
    b.op("ADD", [y4, y5], [y6])
    return b.build([x], [y6])


@pytest.mark.parametrize("grid", ["6:2x2", "3:5x4"])
def test_pad_and_branches_patched_bit_exact_on_host(tmp_path, grid):
    """PAD inside a stage (its rows and columns a 1x1 window with the padding as border), and two
    branches from one tensor joined by an ADD."""
    model = pad_block_model(seed=4)
    graph, _ = _lowered(model)
    assert_patched_bit_exact(tmp_path, model, grid, records=extreme_records(graph, np.random.default_rng(3)))
