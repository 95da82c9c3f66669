"""The DSP extension's in-place variants (tinygen/kernels/variants_dsp.py) and the wide variants'
overlap contracts (tinygen/kernels/overlap.py):

- on the host (tg_simd.h's portable path, also under UBSan): each placed at the tightest distance
  its contract allows from its input, and apart, bit-exact with TFLite Micro on random and extreme
  inputs; a placement one step beyond the in-place contract is refused by the plan's check;
- chains of 1x1 / depthwise / 1x1 convolutions with extreme values (zero points at -128 and 127,
  weights at -128/-127/127, accumulators within a few products of the int32 limits, right shifts
  1..23 and a dead channel), where the default pipeline runs the in-place DSP variants: bit-exact on
  the host and, in QEMU, on mps2-an386's DSP path (the test disassembles the firmware);
- the KWS arena (8,064 B) is kept with the DSP variants in place.
"""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ops.test_conv import conv_model
from ops.test_depthwise import dw_model
from ops.test_fully_connected import fc_model
from test_inplace import ALIGNMENT, check_tight, extreme_records, run_tight_on_board, tight_compile
from test_variants import INT32_MAX, INT32_MIN, WIDE_REALS, extreme_model
from tinygen.boards.catalog import load_board
from tinygen.jobs import run_on_board
from tinygen.kernels.call import KernelCall
from tinygen.passes.choose_kernels import KernelSet
from tinygen.kernels.overlap import window_walk_delta
from tinygen.kernels.cvalues import Dims, NullPtr
from tinygen.plan.arena import check_no_overlap
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.kernels.variants import round_up
from tinygen.kernels.variants_dsp import packed_weights, packed_why_not, pair_packed_weights
from tinygen.compiler import compile_bytes, estimated_flash
from tinygen.testing.compare import compare_on_host
from tinygen.testing.model_builder import ModelBuilder

from conftest import kernel_functions, mlperf_model

DSP = frozenset({"dsp"})
PAIR_FC = "tg_fully_connected_s8_dsp_pair"
PAIR_FC_INPLACE = "tg_fully_connected_s8_dsp_pair_inplace"
SCRATCH_FREE = frozenset({"tg_fully_connected_s8_dsp", "tg_fully_connected_s8_dsp_narrow",
                          "tg_fully_connected_s8_dsp_packed", "tg_fully_connected_s8_dsp_packed8", PAIR_FC})


def assert_clean_under_sanitizers(tmp_path, model: bytes, exclude: frozenset[str], function: str) -> None:
    """The one-layer model with `function` (the others in exclude refused), built on the host with
    ASan + UBSan: bit-exact with TFLM on its random and extreme records, and nothing reported."""
    compiled = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=exclude)
    assert kernel_functions(compiled.lowered) == [function]
    result = compare_on_host(model, tmp_path, records=extreme_records(compiled), compiled=compiled, sanitize=True)
    assert result.tensors_compared > 0
    assert not result.mismatches, "\n".join(result.mismatches[:10])


def pointwise_extreme_model(seed: int, in_zp: int, out_zp: int) -> bytes:
    """A 1x1 convolution (an FC over its pixels) with extreme values: the chain's last layer alone."""
    return chain_model(seed, (in_zp, in_zp, in_zp, out_zp), hw=(3, 5), layers=("conv",))


def packed_extreme_model(seed: int, kind: str, depth: int, in_zp: int, out_zp: int, rows: int = 8,
                         uniform: bool = False, near_limit: bool = True, batches: int = 2,
                         dead_channel: bool = False) -> bytes:
    """An FC (`batches` rows of input), a 1x1 convolution (3x5 pixels) or a 3x3 one ("conv3x3": 5x6 pixels,
    SAME padding) of depth input channels whose weights the packed layouts take at their limits: even
    rows from -128/-127/127, odd rows from -127/127 (-128 there would leave the packed pair's int16
    beside a negative weight), rows 1 and 3 all 127 and all -127, so an odd row's sum over an all-min
    or all-max input reaches +-128 * 127 * taps (within 24 bits up to 516 taps); biases within a few
    products of the int32 limits (near_limit; else small, so that fewer outputs saturate); `rows` channels at WIDE_REALS' multipliers (repeated),
    or all at its first (uniform: a per-tensor layer's epilogue); dead_channel: channel 4's multiplier
    0 (its weight scale 1e-30: QuantizeMultiplier's shift below -31), its output the offset alone."""
    rng = np.random.default_rng(seed)
    reals = [WIDE_REALS[0]] * rows if uniform else (WIDE_REALS * 2)[:rows]
    channels, in_scale = len(reals), 0.05
    out_scale, w_scales = _scales(in_scale, reals)
    if dead_channel:
        w_scales[4] = 1e-30
    taps = depth * (9 if kind == "conv3x3" else 1)
    weights = np.where((np.arange(channels) % 2 == 1)[:, None],
                       rng.choice(np.array([-127, 127], dtype=np.int8), size=(channels, taps)),
                       rng.choice(np.array([-128, -127, 127], dtype=np.int8), size=(channels, taps)))
    weights[1], weights[3] = 127, -127  # all-min or all-max inputs take these odd rows' sums to the edge
    worst = taps * 128 * 255
    bias = np.where(np.arange(channels) % 2 == 0, INT32_MAX - worst - 1, INT32_MIN + worst + 1).astype(np.int32)
    if not near_limit:
        bias = rng.integers(-1000, 1000, size=channels).astype(np.int32)
    b = ModelBuilder()
    shape = [batches, depth] if kind == "fc" else [1, 5, 6, depth] if kind == "conv3x3" else [1, 3, 5, depth]
    x = first = b.tensor(shape, scale=in_scale, zero_point=in_zp)
    w_shape = [channels, depth] if kind == "fc" else [channels, 3, 3, depth] if kind == "conv3x3" \
        else [channels, 1, 1, depth]
    w = b.tensor(w_shape, scale=w_scales, zero_point=0, data=weights.reshape(w_shape), quant_axis=0)
    bias_t = b.tensor([channels], dtype=np.int32, zero_point=0, data=bias,
                      scale=np.float32(in_scale) * np.asarray(w_scales, dtype=np.float32))
    y = b.tensor([*shape[:-1], channels], scale=out_scale, zero_point=out_zp)
    if kind == "fc":
        b.op("FULLY_CONNECTED", [x, w, bias_t], [y])
    else:
        b.op("CONV_2D", [x, w, bias_t], [y], padding="SAME" if kind == "conv3x3" else "VALID", strideH=1,
             strideW=1)
    return b.build([first], [y])


# --- the wide variants over their input (the tightest placement their contract allows) -------------

WIDE_CONV_CASES = [
    dict(kernel=(1, 1), in_c=16, out_c=16, in_hw=(5, 4)),
    dict(kernel=(1, 1), in_c=16, out_c=9, in_hw=(5, 4), batch=2),
    dict(stride=(2, 2), padding="SAME", out_c=8),  # with 4 output channels its three-channel window does not pay
    dict(kernel=(10, 4), in_hw=(49, 10), in_c=1, out_c=8, stride=(2, 2), padding="SAME"),
    dict(in_c=7, out_c=8, kernel=(3, 3), padding="SAME", in_hw=(6, 9)),
]


@pytest.mark.parametrize("case", WIDE_CONV_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_wide_conv_over_its_input(tmp_path, case):
    compiled = check_tight(tmp_path, conv_model(3, **case), KernelSet.OPTIMISED, features=DSP,
                           expect="tg_conv_s8_wide",  # 1x1: else the scratch-free FC
                           exclude=SCRATCH_FREE | STACK1K | {PAIR, PAIR_PACKED, DSP_CONV})
    if case.get("kernel") == (1, 1) and case["in_c"] == case["out_c"]:
        assert compiled.plan.allowances[0].max_delta == 0  # the column is the pixel: exactly in place


PAIR = "tg_conv_s8_wide_pair"
PAIR_PACKED = "tg_conv_s8_wide_pair_packed"
# The two-pixel wide conv: odd pixel counts (the last pixel alone), dilation, padding on every side,
# pairs that straddle rows (odd widths), several batches; odd input depths (value-by-value im2col:
# KWS's 10x4 stem over one channel, three channels strided and dilated), columns on the kernel's stack
# (up to 256 B) and in the arena.
WIDE_PAIR_CASES = [
    dict(kernel=(1, 1), in_c=16, out_c=16, in_hw=(5, 4), stride=(2, 2)),  # 1x1 stride 1: the scratch-free FC's
    dict(kernel=(1, 1), in_c=16, out_c=9, in_hw=(5, 3), batch=2, padding="VALID", stride=(1, 2)),
    dict(in_c=8, stride=(2, 2), padding="SAME", in_hw=(7, 9)),
    dict(in_c=6, out_c=8, kernel=(3, 3), padding="SAME", in_hw=(6, 9)),
    dict(in_c=2, out_c=5, kernel=(3, 2), padding="VALID", in_hw=(5, 7), dilation=(2, 2)),
    dict(kernel=(10, 4), in_hw=(49, 10), in_c=1, out_c=8, stride=(2, 2), padding="SAME"),
    dict(in_c=3, out_c=8, stride=(2, 2), padding="SAME", in_hw=(9, 7)),
    dict(in_c=3, out_c=6, kernel=(3, 3), padding="SAME", in_hw=(7, 8), dilation=(2, 1)),
    dict(in_c=7, out_c=8, kernel=(3, 3), padding="SAME", in_hw=(6, 9)),  # columns of 272 B: on the stack
    dict(in_c=30, out_c=4, kernel=(3, 3), padding="VALID", in_hw=(6, 7)),  # 1,088 B: in the arena
    # odd depths with dilation.w 1: window rows padded to an even count (f_w * c 9 and 15), the inside
    # pixels widened word by word; VALID, so the last window's padded row would read past the input's
    # end (value by value there); dilation.w 2 (rows not padded, value by value)
    dict(in_c=3, out_c=8, kernel=(3, 3), padding="VALID", in_hw=(5, 6)),
    dict(in_c=3, out_c=4, kernel=(5, 5), padding="SAME", in_hw=(7, 6), stride=(2, 1), batch=2),
    dict(in_c=5, out_c=8, kernel=(3, 3), padding="VALID", in_hw=(6, 5), dilation=(2, 1)),
    dict(in_c=3, out_c=8, kernel=(3, 3), padding="SAME", in_hw=(6, 9), dilation=(1, 2)),
]


@pytest.mark.parametrize("case", WIDE_PAIR_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_wide_pair_conv_over_its_input(tmp_path, case):
    check_tight(tmp_path, conv_model(3, **case), KernelSet.OPTIMISED, features=DSP, expect=PAIR,
                exclude=ONLY_PAIR_PACKED - {PAIR} | {PAIR_PACKED})


DSP_CONV = "tg_conv_s8_dsp"
# The scratch-free conv: depths a multiple of 4, partial channel blocks, every padding side,
# stride 2, dilation (a run per tap), several batches, a clamping activation.
DSP_CONV_CASES = [
    dict(in_c=8, out_c=6, kernel=(3, 3), padding="SAME", in_hw=(6, 9)),
    dict(in_c=4, out_c=8, stride=(2, 2), padding="SAME", in_hw=(7, 8), activation="RELU6"),
    dict(in_c=4, out_c=5, kernel=(3, 2), padding="SAME", in_hw=(7, 7), dilation=(2, 2), batch=2),
    dict(kernel=(1, 1), in_c=16, out_c=12, stride=(2, 2), in_hw=(5, 6)),
]
# Everything else the registry offers for these convolutions, left out to test the one named.
# the pairs' entries with 1 KiB of columns on their stack (taken where the arena refuses the columns)
STACK1K = frozenset({f"{PAIR}_stack1k", f"{PAIR_PACKED}_stack1k"})
ONLY_DSP_CONV = SCRATCH_FREE | STACK1K | {"tg_conv_s8_wide", "tg_conv_s8_fast", PAIR, PAIR_PACKED}


@pytest.mark.parametrize("case", DSP_CONV_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_dsp_conv_over_its_input(tmp_path, case):
    check_tight(tmp_path, conv_model(3, **case), KernelSet.OPTIMISED, features=DSP, expect=DSP_CONV,
                exclude=ONLY_DSP_CONV)


# Extreme values (weights at -128/-127/127, accumulators within a few products of the int32 limits,
# zero points at the ends, right shifts 1..23, a dead channel) through each conv variant.
EXTREME_CONVS = {DSP_CONV: ONLY_DSP_CONV,
                 PAIR: SCRATCH_FREE | STACK1K | {"tg_conv_s8_wide", "tg_conv_s8_fast", DSP_CONV, PAIR_PACKED}}


@pytest.mark.parametrize("zero_points", [(-128, 127), (127, -128)])
@pytest.mark.parametrize("function", sorted(EXTREME_CONVS))
def test_conv_variants_with_extreme_values(tmp_path, function, zero_points):
    model = extreme_model("conv", 7, *zero_points, reals=WIDE_REALS, in_c=8)
    check_tight(tmp_path, model, KernelSet.OPTIMISED, features=DSP, expect=function, exclude=EXTREME_CONVS[function])


@pytest.mark.long  # ~60 s: every kernel built with ASan + UBSan
@pytest.mark.parametrize("function", sorted(EXTREME_CONVS))
def test_conv_variants_are_clean_under_sanitizers(tmp_path, function):
    assert_clean_under_sanitizers(tmp_path, extreme_model("conv", 7, -128, 127, reals=WIDE_REALS, in_c=8),
                                  EXTREME_CONVS[function], function)


@pytest.mark.qemu
@pytest.mark.parametrize("kernels, function", [(KernelSet.OPTIMISED, f"{PAIR}_rows"), (KernelSet.OPTIMISED, DSP_CONV),
                                               (KernelSet.FASTEST, PAIR)])
def test_conv_variants_on_the_m4(tmp_path, monkeypatch, kernels, function):
    """One extreme conv with 32 channels over 32: the default build runs the pair a window row at a time
    (its whole columns, 1,152 B, would not fit its stack and would raise a one-layer arena), or, with
    that refused, the scratch-free variant; the fastest build the two-pixel one with whole columns (the
    cheaper with that many channels); bit-exact with TFLM on the DSP path."""
    if function == DSP_CONV:
        from tinygen import compiler

        chosen = compiler.board_variant
        monkeypatch.setattr(compiler, "board_variant", lambda graph, call, features, refused=frozenset():
                            chosen(graph, call, features, refused | ROWS))
    model_bytes = extreme_model("conv", 7, -128, 127, reals=WIDE_REALS * 4, in_c=32)
    model = tmp_path / "conv.tflite"
    model.write_bytes(model_bytes)
    board = load_board("mps2-an386")
    compiled = compile_bytes(model_bytes, board=board, kernel_set=kernels)
    assert kernel_functions(compiled.lowered) == [function]
    records = np.stack([r[0] for r in extreme_records(compiled)])
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, records)
    report = run_on_board(model, "mps2-an386", tmp_path / "build", inputs_file=inputs, timeout_s=120,
                          kernel_set=kernels)
    assert report.bit_exact, report
    elf = next((tmp_path / "build").rglob("*.elf"))
    disassembly = subprocess.run([f"{board.toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    # the pair's driver, its dot inlined; the rows entry's dot out of line
    name = {PAIR: f"{PAIR}_run", f"{PAIR}_rows": f"{PAIR}_row_block"}.get(function, function)
    body = disassembly.split(f"<{name}>:")[1].split("\n\n")[0]
    assert "\tsmlad\t" in body and ("\tsxtab16\t" in body or "\tldrd\t" in body)


ONLY_PAIR_PACKED = SCRATCH_FREE | STACK1K | {"tg_conv_s8_wide", "tg_conv_s8_fast", DSP_CONV, PAIR}
# The packed pair at its layout's limits: odd rows' sums near 24 bits (56 channels x 9 taps), the
# zero points at both ends (the padding's int16 value), 8 and 12 rows (a block of four rows whose
# packed words are all odd rows' -127/127), an odd pixel count.
PAIR_PACKED_EXTREMES = {
    "conv3x3-56": lambda: packed_extreme_model(21, "conv3x3", 56, -128, 127),
    "conv3x3-8-rows12": lambda: packed_extreme_model(22, "conv3x3", 8, 127, -128, rows=12),
    "conv3x3-6": lambda: packed_extreme_model(23, "conv3x3", 6, 0, -5),
    "conv3x3-56-small-bias": lambda: packed_extreme_model(24, "conv3x3", 56, -128, 127, near_limit=False),
    "conv3x3-8-rows12-small-bias": lambda: packed_extreme_model(25, "conv3x3", 8, 127, -128, rows=12,
                                                                near_limit=False),
    # a channel whose multiplier is 0 (zero weights and the multiplier 2^30 in the pair's data)
    "conv3x3-8-dead": lambda: packed_extreme_model(26, "conv3x3", 8, -128, 127, near_limit=False, dead_channel=True),
}


@pytest.mark.parametrize("case", WIDE_PAIR_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_wide_pair_packed_conv_over_its_input(tmp_path, case):
    check_tight(tmp_path, conv_model(3, **case), KernelSet.OPTIMISED, features=DSP, expect=PAIR_PACKED,
                exclude=ONLY_PAIR_PACKED)


@pytest.mark.parametrize("name", sorted(PAIR_PACKED_EXTREMES))
def test_wide_pair_packed_at_its_limits(tmp_path, name):
    check_tight(tmp_path, PAIR_PACKED_EXTREMES[name](), KernelSet.OPTIMISED, features=DSP, expect=PAIR_PACKED,
                exclude=ONLY_PAIR_PACKED)


@pytest.mark.long  # ~30 s: every kernel built with ASan + UBSan
def test_wide_pair_packed_is_clean_under_sanitizers(tmp_path):
    assert_clean_under_sanitizers(tmp_path, PAIR_PACKED_EXTREMES["conv3x3-56"](), ONLY_PAIR_PACKED, PAIR_PACKED)


ODD_DEPTH_STEMS = {
    # KWS's shape, smaller: one channel, window rows of 4 values
    "kws-10x4": lambda: conv_model(4, kernel=(10, 4), in_hw=(21, 10), in_c=1, out_c=12, stride=(2, 2), padding="SAME"),
    # three channels: window rows of 9 values padded to 10 (inside: eight in the asm step, then a
    # pair); VALID, so the last window's padded row would read past the input's end
    "rgb-3x3": lambda: conv_model(5, kernel=(3, 3), in_hw=(7, 9), in_c=3, out_c=8, padding="VALID"),
    # VWW's stem, smaller: stride 2, SAME (the padding only after the last row and column)
    "rgb-3x3-s2": lambda: conv_model(6, kernel=(3, 3), in_hw=(10, 12), in_c=3, out_c=8, stride=(2, 2),
                                     padding="SAME"),
}


@pytest.mark.qemu
@pytest.mark.parametrize("function, in_c", [(f, c) for f in (PAIR, PAIR_PACKED) for c in (4, 8, 16)]
                         + [(f"{PAIR}_stack1k", 16)])
def test_wide_pair_loops_by_the_depth_on_the_m4(tmp_path, monkeypatch, function, in_c):
    """The pair's loop takes one, two or four blocks of four k per iteration, the most the depth divides
    into (3x3 windows of 4, 8 and 16 channels: 9, 18 and 36 blocks): each bit-exact on the DSP path;
    with 16 channels (576 B of columns) also through the _stack1k entry, its columns on its stack."""
    model = conv_model(7, in_c=in_c, out_c=8, kernel=(3, 3), padding="SAME", in_hw=(5, 5))
    others = (ONLY_PAIR_PACKED | {PAIR, PAIR_PACKED}) - {function}
    tight = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=others)
    assert kernel_functions(tight.lowered) == [function]
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    body = disassembly.split(f"<{function.removesuffix('_stack1k')}_run>:")[1].split("\n\n")[0]
    # the loops' groups (eight SMLAD each), inlined at the driver's four calls of the dot: the full
    # blocks with the clamp, in the USAT form, with neither, and a last block of fewer rows
    assert body.count("\tsmlad\t") == 4 * 8 * 2 * (1 + 2 + 4)


@pytest.mark.qemu
@pytest.mark.parametrize("stem", sorted(ODD_DEPTH_STEMS))
@pytest.mark.parametrize("function", [PAIR, PAIR_PACKED])
def test_wide_pair_over_an_odd_depth_on_the_m4(tmp_path, monkeypatch, function, stem):
    """Odd-depth stems: the inside windows' rows widened word by word, the others value by value, and
    the columns on the kernel's stack, bit-exact on the DSP path, tightest placement."""
    model = ODD_DEPTH_STEMS[stem]()
    others = (ONLY_PAIR_PACKED if function == PAIR_PACKED else ONLY_PAIR_PACKED - {PAIR} | {PAIR_PACKED})
    tight = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=others)
    assert kernel_functions(tight.lowered) == [function]
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    symbols = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}nm", str(elf)],
                             capture_output=True, text=True, check=True).stdout
    assert f"{function}_on_stack" in symbols


@pytest.mark.qemu
@pytest.mark.parametrize("function", [PAIR, PAIR_PACKED])
def test_both_pairs_with_a_dead_channel_on_the_m4(tmp_path, monkeypatch, function):
    """The two-pixel epilogue's high multiply without a mask: a dead channel's data normalized at
    generation (zero weights and biases, the multiplier 2^30), bit-exact with TFLM on the DSP path."""
    model = PAIR_PACKED_EXTREMES["conv3x3-8-dead"]()
    others = ONLY_PAIR_PACKED if function == PAIR_PACKED else ONLY_PAIR_PACKED - {PAIR} | {PAIR_PACKED}
    tight = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=others)
    assert kernel_functions(tight.lowered) == [function]
    call = next(c for c in tight.lowered if isinstance(c, KernelCall))
    assert tuple(call.arg("channels").values.reshape(-1, 5)[4]) == (0, -2**31, 1, 1, 0)
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    assert "\tsmmlar\t" in disassembly.split(f"<{function}_run>:")[1].split("\n\n")[0]


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["conv3x3-56", "conv3x3-56-small-bias", "conv3x3-8-rows12-small-bias", "random"])
def test_wide_pair_packed_on_the_m4(tmp_path, monkeypatch, name):
    """The packed pair's asm over its input at the tightest placement, at the layout's limits and with
    random weights (an odd pixel count, two blocks of rows): bit-exact with TFLM on the DSP path."""
    model = (conv_model(3, in_c=6, out_c=8, kernel=(3, 3), padding="SAME", in_hw=(5, 9)) if name == "random"
             else PAIR_PACKED_EXTREMES[name]())
    tight = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=ONLY_PAIR_PACKED)
    assert kernel_functions(tight.lowered) == [PAIR_PACKED]
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    body = disassembly.split(f"<{PAIR_PACKED}_run>:")[1].split("\n\n")[0]  # the driver, its dot inlined
    assert "\tsmlad\t" in body and "\tsxtb16\t" in body and "\tldrd\t" in body  # the asm, not the portable C


def test_wide_pair_packed_weights_hold_both_rows_of_each_pair():
    """Each word's halves are (v_k0, v_k1) of one row pair, v = 256 * odd + even: its SXTB16 bytes are
    the even row's weights, its int16 halves the pair's packed values."""
    rows = np.random.default_rng(5).integers(-127, 128, size=(6, 10)).astype(np.int8)
    words = pair_packed_weights(rows).values.view(np.uint32).astype(np.int64).reshape(2, 3, 2, 2)  # [block][kb][kpair][pair]
    padded = np.zeros((8, 12), dtype=np.int64)
    padded[:6, :10] = rows
    for block, kb, kpair, pair in np.ndindex(words.shape):
        word = int(words[block, kb, kpair, pair])
        even, odd = padded[4 * block + 2 * pair], padded[4 * block + 2 * pair + 1]
        for half in (0, 1):
            k = 4 * kb + 2 * kpair + half
            value = (word >> (16 * half)) & 0xFFFF
            assert value - (value >> 15 << 16) == 256 * odd[k] + even[k]
            assert np.int8(np.uint8((word >> (16 * half)) & 0xFF)) == even[k]


def test_wide_pair_leaves_1x1_stride_1_to_the_scratch_free_fc():
    compiled = tight_compile(conv_model(3, kernel=(1, 1), in_c=16, out_c=16, in_hw=(5, 4)), KernelSet.OPTIMISED,
                             False, features=DSP, exclude=frozenset({"tg_conv_s8_wide", DSP_CONV}))
    # its weights allow packing, its depths four rows and two pixels at a time
    assert kernel_functions(compiled.lowered) == [PAIR_FC]


@pytest.mark.parametrize("in_c, on_stack", [(1, True), (5, True), (7, False), (9, False)])
def test_wide_pair_keeps_small_columns_on_its_stack(in_c, on_stack):
    """Two columns of at most 256 B go on the kernel's stack (no scratch argument, no arena bytes);
    larger ones in the arena. An odd depth's window rows take an even number of values (3 x 5 -> 16:
    192 B; 3 x 7 -> 22: 272 B)."""
    model = conv_model(3, in_c=in_c, out_c=8, kernel=(3, 3), padding="SAME", in_hw=(6, 9))
    compiled = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP,
                             exclude=ONLY_PAIR_PACKED - {PAIR} | {PAIR_PACKED})
    call = next(c for c in compiled.lowered if isinstance(c, KernelCall))
    assert call.function == PAIR
    scratch = next(a.value for a in call.args if a.name == "scratch")
    assert isinstance(scratch, NullPtr) == on_stack
    assert call.scratch_bytes == (0 if on_stack else 4 * round_up(3 * round_up(3 * in_c, 2), 4))


@pytest.mark.parametrize("in_c, taken", [(16, True), (27, True), (29, False), (5, False)])
def test_wide_pair_stack1k_takes_columns_up_to_1_kib(in_c, taken):
    """The pair's _stack1k entry: columns of 257 B to 1 KiB (16 channels: 576 B; 3 x 27 -> 82: 992 B) on
    its stack, no scratch argument; 3 x 29 -> 88 (1,056 B) and 3 x 5 (192 B) are not its."""
    model = conv_model(3, in_c=in_c, out_c=8, kernel=(3, 3), padding="SAME", in_hw=(6, 9))
    compiled = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP,
                             exclude=(ONLY_PAIR_PACKED | {PAIR_PACKED}) - {f"{PAIR}_stack1k"})
    call = next(c for c in compiled.lowered if isinstance(c, KernelCall))
    assert (call.function == f"{PAIR}_stack1k") == taken
    if taken:
        assert isinstance(call.arg("scratch"), NullPtr) and call.scratch_bytes == 0


def test_kws_stem_runs_the_pair_with_its_columns_on_the_stack():
    compiled = compile_bytes(mlperf_model("kws").read_bytes(), board=load_board("mps2-an386"))
    stem = next(c for c in compiled.lowered if isinstance(c, KernelCall))
    assert stem.function == PAIR and stem.scratch_bytes == 0
    assert compiled.plan.arena_bytes == 8064  # the columns on the stack, the lines depthwise's ring too


@pytest.mark.parametrize("case", [dict(in_c=8), dict(in_c=8, stride=(2, 2)), dict(in_c=12, padding="VALID", in_hw=(8, 7))],
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_wide_depthwise_over_its_input(tmp_path, case):
    check_tight(tmp_path, dw_model(5, **case), KernelSet.OPTIMISED, features=DSP, expect="tg_depthwise_conv_s8_wide",
                exclude=frozenset({LINES_DW, PLANE_DW}))


def test_wide_fully_connected_over_its_input(tmp_path):
    check_tight(tmp_path, fc_model(13, batches=3, depth=37, units=7, per_channel=True), KernelSet.OPTIMISED,
                features=DSP, expect="tg_fully_connected_s8_wide", exclude=SCRATCH_FREE)  # else the faster scratch-free FC


# --- the scratch-free FC / 1x1 conv (int16 weights, or int8 split at run time) ------------------

PACKED8 = "tg_fully_connected_s8_dsp_packed8"
FC_DSP_LAYOUTS = ("tg_fully_connected_s8_dsp", "tg_fully_connected_s8_dsp_narrow", "tg_fully_connected_s8_dsp_packed",
                  PACKED8)
FC_DSP = {function: frozenset({"tg_fully_connected_s8_wide", "tg_conv_s8_wide", PAIR_FC, *FC_DSP_LAYOUTS}) - {function}
          for function in FC_DSP_LAYOUTS}
FC_DSP_MODELS = {
    "fc-depth37": lambda: fc_model(13, batches=3, depth=37, units=7, per_channel=True),
    "pointwise": lambda: conv_model(13, kernel=(1, 1), in_hw=(5, 4), in_c=19, out_c=9),
    "fc-extreme": lambda: extreme_model("fc", 5, -128, 127, reals=WIDE_REALS),
    "pointwise-extreme": lambda: pointwise_extreme_model(6, 127, -128),
    # at the packed layout's limits: an odd row's sum near 24 bits (depth 515: 128 blocks and a tail of
    # 3), an odd number of blocks (37: 9 and 1)
    "fc-packed-515": lambda: packed_extreme_model(7, "fc", 515, -128, 127),
    "pointwise-packed-37": lambda: packed_extreme_model(8, "pointwise", 37, 127, -128),
    # depths of whole runs of 8, 4 and 2 blocks (512, 48, 40) and 12 rows: the four-row DSP path's
    # loop-only runs; with 8 rows, the eight-row layout's
    "fc-packed-512": lambda: packed_extreme_model(9, "fc", 512, -128, 127, rows=12),
    "pointwise-packed-48": lambda: packed_extreme_model(10, "pointwise", 48, 127, -128, rows=12),
    "fc-packed-40": lambda: packed_extreme_model(11, "fc", 40, 0, -5, rows=12),
    "fc-packed8-512": lambda: packed_extreme_model(9, "fc", 512, -128, 127),
    "pointwise-packed8-48": lambda: packed_extreme_model(10, "pointwise", 48, 127, -128),
    "fc-packed8-40": lambda: packed_extreme_model(11, "fc", 40, 0, -5),
    "fc-packed8-96": lambda: packed_extreme_model(13, "fc", 96, 127, -128),  # runs of 8 blocks (512: of 16)
    # one multiplier for every channel: the eight-row runs' per-tensor epilogue (params.uniform)
    "fc-packed8-uniform-128": lambda: packed_extreme_model(12, "fc", 128, -128, 127, rows=16, uniform=True),
}
# The packed layout refuses the -128 weights of the extreme models beside negative ones (int16 pairs).
PACKED_REFUSED = {"fc-extreme", "pointwise-extreme"}
# The models for the packed layouts' loop-only runs (PACKED_RUNS) are the packed variants' alone; the
# eight-row layout takes those with 8 rows (the others' depths or rows are not multiples of 8).
FC_DSP_CASES = [(name, function) for name in sorted(FC_DSP_MODELS) for function in sorted(FC_DSP)
                if not (function.endswith(("_packed", "_packed8")) and name in PACKED_REFUSED)
                and not (name.endswith(("-512", "-48", "-40", "-128", "-96")) and not function.endswith(("_packed", "_packed8")))
                and (function == PACKED8) == ("packed8" in name)]


@pytest.mark.parametrize("name, function", FC_DSP_CASES)
def test_fully_connected_dsp_over_its_input(tmp_path, name, function):
    check_tight(tmp_path, FC_DSP_MODELS[name](), KernelSet.OPTIMISED, features=DSP, exclude=FC_DSP[function],
                expect=function)


def _packed_dot(rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """tg_fully_connected_s8_dsp_packed's arithmetic on packed_weights (tg_fc_dsp.h's portable path):
    per word SMLAD with the word and with its SXTB16, modulo 2^32; the odd rows from the difference."""
    words = packed_weights(rows).values.astype(np.int64).reshape(-1, round_up(rows.shape[1], 4) // 4, 2, 2)
    halves = lambda v: (((v & 0xFFFF) ^ 0x8000) - 0x8000, (((v >> 16) & 0xFFFF) ^ 0x8000) - 0x8000)  # noqa: E731
    bytes_even = lambda h: ((h & 0xFF) ^ 0x80) - 0x80  # noqa: E731  (SXTB16: each half's low byte)
    xs = np.zeros(round_up(rows.shape[1], 4), dtype=np.int64)
    xs[:x.size] = x
    xq = xs.reshape(-1, 4)
    out = []
    for block in words:  # [kb][pair][even/odd word]
        sums = np.zeros((2, 2), dtype=np.int64)  # [pair][packed, even row]
        for kb, quad in enumerate(block):
            for pair in range(2):
                for parity, word in enumerate(quad[pair]):
                    lo, hi = halves(word)
                    x_lo, x_hi = xq[kb][parity], xq[kb][parity + 2]
                    sums[pair] += (x_lo * lo + x_hi * hi, x_lo * bytes_even(lo) + x_hi * bytes_even(hi))
        for packed, even in sums % (1 << 32):
            difference = int(packed - even) % (1 << 32)
            out += [even, (difference - (1 << 32) if difference >= 1 << 31 else difference) >> 8]
    return np.array(out[:rows.shape[0]])


@pytest.mark.parametrize("depth", [1, 37, 516])
def test_packed_weights_give_both_rows_of_a_pair(depth):
    rng = np.random.default_rng(depth)
    rows = rng.integers(-128, 128, size=(7, depth)).astype(np.int8)
    rows[1::2] = np.where(rows[1::2] == -128, -127, rows[1::2])
    rows[1], rows[3] = 127, -127
    assert packed_why_not(rows) is None
    for x in (np.full(depth, -128), np.full(depth, 127), rng.integers(-128, 128, size=depth)):
        exact = rows.astype(np.int64) @ x
        assert (_packed_dot(rows, x) % (1 << 32) == exact % (1 << 32)).all()


def test_packed_weights_refuse_what_they_cannot_hold():
    fits = np.full((2, 516), 127, dtype=np.int8)
    assert packed_why_not(fits) is None
    assert "24 bits" in packed_why_not(np.full((2, 517), 127, dtype=np.int8))
    pair = np.array([[-1, 0], [-128, 0]], dtype=np.int8)  # 256 * -128 - 1 leaves int16
    assert "int16" in packed_why_not(pair)
    assert packed_why_not(np.array([[1, 0], [-128, 0]], dtype=np.int8)) is None  # 256 * -128 + 1 fits


def test_copied_windows_allow_more_than_the_reference_walk():
    """A kernel that copies each window before writing (the wide conv) may overlap more than one that
    reads while it writes (the reference): a 1x1 convolution exactly in place."""
    dims = Dims(1, 5, 4, 16)
    reading = window_walk_delta(dims, dims, 1, 1, 1, 1, 0, 0, 1)
    copied = window_walk_delta(dims, dims, 1, 1, 1, 1, 0, 0, 1, copied=True)
    assert (reading, copied) == (-16, 0)


# --- the in-place DSP variants over their input -------------------------------------------------

INPLACE_DW_CASES = [
    dict(in_hw=(6, 7), in_c=8),                      # two passes of 4 channels; a ring of 9 pixels, or 3 rows
    dict(in_hw=(25, 5), in_c=64),                    # KWS's shape
    dict(in_hw=(7, 6), in_c=12, kernel=(5, 5)),      # padding 2: lag 2 rows and 2 pixels; 5 rows, 2 ahead
    dict(in_hw=(5, 4), in_c=8, batch=2),
    dict(in_hw=(6, 5), in_c=4, kernel=(3, 1), activation="RELU6"),
    dict(in_hw=(6, 7), in_c=8, zero_points=(-128, 127)),  # the padding's zero point at both ends
    dict(in_hw=(6, 7), in_c=8, zero_points=(127, -128)),
    # the 3x3 row loop's clamp, and a channel whose multiplier is 0 (normalized at generation)
    dict(in_hw=(5, 6), in_c=8, activation="RELU6", dead_channel=5, zero_points=(-128, 127)),
]
ROWS_DW = "tg_depthwise_conv_s8_inplace_dsp_rows"
LINES_DW = "tg_depthwise_conv_s8_lines_dsp"  # the 3x3 one channel at a time (tests/test_variants_dsp_lines.py)
PLANE_DW = "tg_depthwise_conv_s8_plane_dsp"  # the same over a whole plane (tests/test_variants_dsp_plane.py)
# The two four-channel in-place DSP depthwise variants: the ring of padded rows (chosen where its
# scratch fits), and the ring of lag + 1 pixels (the rows variant refused); the lines and plane
# kernels refused.
INPLACE_DW_VARIANTS = {ROWS_DW: frozenset({LINES_DW, PLANE_DW}),
                       "tg_depthwise_conv_s8_inplace_dsp": frozenset({ROWS_DW, LINES_DW, PLANE_DW})}


@pytest.mark.parametrize("function", sorted(INPLACE_DW_VARIANTS))
@pytest.mark.parametrize("case", INPLACE_DW_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_depthwise_in_place_dsp(tmp_path, case, function):
    compiled = check_tight(tmp_path, dw_model(11, **case), KernelSet.OPTIMISED, inplace=True, features=DSP,
                           expect=function, exclude=INPLACE_DW_VARIANTS[function])
    placed = {p.buffer.key: p.offset for p in compiled.plan.placements}
    a = compiled.plan.allowances[0]
    assert placed[a.input] == placed[a.output]  # exactly over its input


@pytest.mark.qemu
@pytest.mark.parametrize("case", [INPLACE_DW_CASES[0], INPLACE_DW_CASES[2], INPLACE_DW_CASES[5], INPLACE_DW_CASES[6],
                                  INPLACE_DW_CASES[7]],
                         ids=["3x3", "5x5", "zp-128", "zp127", "relu6-dead-channel"])
def test_depthwise_in_place_dsp_rows_on_the_m4(tmp_path, monkeypatch, case):
    """The rows variant's asm (3x3) and its C (5x5) exactly over their input on the M4, extreme records
    too, and padding of the input's zero point at -128 and 127."""
    model = dw_model(11, **case)
    tight = tight_compile(model, KernelSet.OPTIMISED, True, features=DSP, exclude=frozenset({LINES_DW, PLANE_DW}))
    assert ROWS_DW in kernel_functions(tight.lowered)
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    rows = next(part for part in disassembly.split("\n\n") if re.search(r"<rows3x3(\.[a-z]+\.\d+)*>:", part))
    assert "\tsmlabb\t" in rows and "\tsxtb16\t" in rows  # the DSP path, not the portable C


PACKED_INPLACE = "tg_fully_connected_s8_dsp_packed_inplace"
PACKED8_INPLACE = "tg_fully_connected_s8_dsp_packed8_inplace"


@pytest.mark.parametrize("name", ["random", "extreme-37"])
def test_pointwise_in_place_runs_the_packed_fc(tmp_path, name):
    """A 1x1 convolution over its own input runs the packed FC pixel by pixel (each pixel copied
    first): bit-exact at the tightest placement its contract allows, at the packed layout's limits too."""
    model = (conv_model(13, kernel=(1, 1), in_hw=(5, 4), in_c=16, out_c=12) if name == "random"
             else packed_extreme_model(8, "pointwise", 37, 127, -128))
    check_tight(tmp_path, model, KernelSet.OPTIMISED, inplace=True, features=DSP, expect=PACKED_INPLACE,
                exclude=frozenset({PAIR_FC_INPLACE}))


def test_pointwise_in_place_runs_the_wide_conv_where_packing_is_refused(tmp_path):
    check_tight(tmp_path, pointwise_extreme_model(6, 127, -128), KernelSet.OPTIMISED, inplace=True, features=DSP,
                expect="tg_conv_s8_wide")


PACKED_INPLACE_M4 = {
    "random": lambda: conv_model(13, kernel=(1, 1), in_hw=(5, 4), in_c=16, out_c=12),  # a missing copy shows here
    "extreme-zp127": lambda: packed_extreme_model(9, "pointwise", 37, 127, -128),
    "extreme-zp-128": lambda: packed_extreme_model(9, "pointwise", 37, -128, 127),
    # eight rows at a time (output and input depths multiples of 8): the eight-row layout in place
    "random-8": lambda: conv_model(13, kernel=(1, 1), in_hw=(5, 4), in_c=16, out_c=16),
    "extreme8-zp127": lambda: packed_extreme_model(9, "pointwise", 40, 127, -128),
}


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(PACKED_INPLACE_M4))
def test_pointwise_in_place_packed_on_the_m4(tmp_path, monkeypatch, name):
    """A 1x1 convolution in place with the packed FC, its output at the tightest distance from its
    input the contract allows: bit-exact with TFLM on the DSP path, typical and extreme values (the
    build takes this plan: the default pipeline keeps a one-layer model's input out of place)."""
    model_bytes = PACKED_INPLACE_M4[name]()
    tight = tight_compile(model_bytes, KernelSet.OPTIMISED, True, features=DSP, exclude=frozenset({PAIR_FC_INPLACE}))
    function = PACKED8_INPLACE if name in ("random-8", "extreme8-zp127") else PACKED_INPLACE
    assert kernel_functions(tight.lowered) == [function]
    elf = run_tight_on_board(tmp_path, monkeypatch, model_bytes, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    run = next(part for part in disassembly.split("\n\n")  # the DSP path's loop, not the portable C
               if re.search(r"<tg_fc_packed%s_runs\d(\.[a-z]+\.\d+)*>:" % ("8" if function == PACKED8_INPLACE else ""), part))
    assert "\tsmlad\t" in run and "\tsxtb16\t" in run


def test_in_place_dsp_refuses_any_other_overlap():
    model = dw_model(11, in_hw=(6, 7), in_c=8)
    for refused in INPLACE_DW_VARIANTS.values():
        compiled = tight_compile(model, KernelSet.OPTIMISED, True, features=DSP, exclude=refused)
        assert set(INPLACE_DW_VARIANTS) & set(kernel_functions(compiled.lowered))
        check_no_overlap(compiled.plan)
        beyond = tight_compile(model, KernelSet.OPTIMISED, True, delta_change=-ALIGNMENT, features=DSP,
                               exclude=refused)
        with pytest.raises(AssertionError, match="beyond their kernel's overlap contract"):
            check_no_overlap(beyond.plan)


def test_in_place_dsp_refuses_what_it_cannot_do():
    """Stride 2 (the output is smaller): the four-channel in-place variants refuse it, the portable
    in-place kernel runs, or the plane kernel, which takes stride 2."""
    model = dw_model(11, in_hw=(6, 7), in_c=8, stride=(2, 2))
    compiled = tight_compile(model, KernelSet.OPTIMISED, True, features=DSP, exclude=frozenset({PLANE_DW}))
    assert kernel_functions(compiled.lowered) == ["tg_depthwise_conv_s8_inplace"]
    assert kernel_functions(tight_compile(model, KernelSet.OPTIMISED, True, features=DSP).lowered) == [PLANE_DW]


# --- extreme values through the default pipeline ---------------------------------------------------

def _scales(in_scale: float, reals: list[float]) -> tuple[float, list[float]]:
    """An output scale and per-channel weight scales that give each channel its real multiplier."""
    out_scale = in_scale * 0.01 / reals[0]
    return out_scale, [r * out_scale / in_scale if r > 0 else 1e-11 for r in reals]


def chain_model(seed: int, zero_points: tuple[int, int, int, int], hw=(6, 7), reals=WIDE_REALS,
                kernel=(3, 3), near_limit=True, activation="NONE", layers=("conv", "dw", "conv")) -> bytes:
    """1x1 conv -> depthwise (SAME, stride 1) -> 1x1 conv, all channels len(reals): the depthwise and
    the last conv read their inputs for the last time, so the default runs them in place. Weights at
    -128/-127/127; with near_limit the biases bring the accumulators within a few products of the
    int32 limits; zero_points: the four tensors'."""
    rng = np.random.default_rng(seed)
    channels = len(reals)
    b = ModelBuilder()
    scale = 0.05
    x = b.tensor([1, *hw, channels], scale=scale, zero_point=zero_points[0])
    first = x
    for layer, (kind, zp) in enumerate(zip(layers, zero_points[1:])):
        extreme = layer or len(layers) == 1
        out_scale, w_scales = _scales(scale, reals if extreme else [0.3] * channels)
        shape = [channels, 1, 1, channels] if kind == "conv" else [1, *kernel, channels]
        taps = channels if kind == "conv" else kernel[0] * kernel[1]
        weights = rng.choice(np.array([-128, -127, 127], dtype=np.int8), size=shape)
        w = b.tensor(shape, scale=w_scales, zero_point=0, data=weights, quant_axis=0 if kind == "conv" else 3)
        worst = taps * 128 * 255
        if near_limit and extreme:
            bias = np.where(np.arange(channels) % 2 == 0, INT32_MAX - worst - 1, INT32_MIN + worst + 1)
        else:
            bias = rng.integers(-20000, 20000, size=channels)
        bias_t = b.tensor([channels], dtype=np.int32, zero_point=0, data=bias.astype(np.int32),
                          scale=np.float32(scale) * np.asarray(w_scales, dtype=np.float32))
        y = b.tensor([1, *hw, channels], scale=out_scale, zero_point=zp)
        if kind == "conv":
            b.op("CONV_2D", [x, w, bias_t], [y], padding="SAME", strideH=1, strideW=1,
                 fusedActivationFunction=activation)
        else:
            b.op("DEPTHWISE_CONV_2D", [x, w, bias_t], [y], padding="SAME", strideH=1, strideW=1, depthMultiplier=1,
                 fusedActivationFunction=activation)
        x, scale = y, out_scale
    return b.build([first], [x])


CHAINS = {
    "zp-128": dict(zero_points=(-128, -128, -128, 127)),
    "zp127": dict(zero_points=(127, 127, 127, -128)),
    "relu6-5x5": dict(zero_points=(3, -100, 50, -7), near_limit=False, activation="RELU6", kernel=(5, 5),
                      hw=(10, 7)),
}
# The in-place depthwise each chain runs: 3x3 (6x7), the plane kernel; 5x5, the ring of lag + 1 pixels.
CHAIN_DEPTHWISE = {"zp-128": PLANE_DW, "zp127": PLANE_DW, "relu6-5x5": "tg_depthwise_conv_s8_inplace_dsp"}


def _in_place_dsp(model: bytes, name: str) -> None:
    compiled = compile_bytes(model)
    expected = [CHAIN_DEPTHWISE[name], "tg_conv_s8_wide"]
    assert kernel_functions(compiled.lowered)[1:] == expected, kernel_functions(compiled.lowered)
    largest = max(p.buffer.size for p in compiled.plan.placements)
    assert compiled.plan.arena_bytes < 2 * largest  # the in-place calls run over their input


def _chain_on_host(tmp_path, name: str, sanitize: bool) -> None:
    model = chain_model(5, **CHAINS[name])
    _in_place_dsp(model, name)
    compiled = compile_bytes(model)
    result = compare_on_host(model, tmp_path, records=extreme_records(compiled), compiled=compiled, sanitize=sanitize)
    assert result.tensors_compared > 0
    assert not result.mismatches, "\n".join(result.mismatches[:10])


@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chain_with_extreme_values_on_the_host(tmp_path, name):
    _chain_on_host(tmp_path, name, sanitize=False)


@pytest.mark.long  # ~90 s: every kernel built with ASan + UBSan (test_sanitizers runs KWS's in the default suite)
@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chain_is_clean_under_sanitizers(tmp_path, name):
    _chain_on_host(tmp_path, name, sanitize=True)


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["zp-128", pytest.param("relu6-5x5", marks=pytest.mark.long)])
def test_chain_with_extreme_values_on_the_m4(tmp_path, name):
    model_bytes = chain_model(5, **CHAINS[name])
    _in_place_dsp(model_bytes, name)
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(model_bytes)
    records = np.stack([r[0] for r in extreme_records(compile_bytes(model_bytes))])
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, records)
    report = run_on_board(model, "mps2-an386", tmp_path / "build", inputs_file=inputs, timeout_s=120)
    assert report.bit_exact, report
    elf = next((tmp_path / "build").rglob("*.elf"))
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    if CHAIN_DEPTHWISE[name] == PLANE_DW:
        body = next(part for part in disassembly.split("\n\n") if re.search(r"<channel_plane_s1(\.[a-z]+\.\d+)*>:", part))
        assert "\tsmlad\t" in body and "\tsmlatb\t" in body  # the DSP path, not the portable C
    else:
        # the whole-tensor entry calls the one over a range of channels (all of them): the DSP code is there
        body = disassembly.split("<tg_depthwise_conv_s8_inplace_dsp_channels>:")[1].split("\n\n")[0]
        assert "\tsmlabb\t" in body and "\tsxtb16\t" in body  # the DSP path, not the portable C


@pytest.mark.qemu
@pytest.mark.parametrize("name, flash_left, function", [
    ("fc-extreme", None, "tg_fully_connected_s8_dsp"),
    ("pointwise-extreme", 160, "tg_fully_connected_s8_dsp_narrow"),
    pytest.param("pointwise-extreme", None, "tg_fully_connected_s8_dsp", marks=pytest.mark.long),
    pytest.param("fc-extreme", 160, "tg_fully_connected_s8_dsp_narrow", marks=pytest.mark.long),
    ("fc-packed-515", None, "tg_fully_connected_s8_dsp_packed"),
    ("pointwise-packed-37", None, "tg_fully_connected_s8_dsp_packed"),
    ("fc-packed-512", None, "tg_fully_connected_s8_dsp_packed"),
    ("pointwise-packed-48", None, "tg_fully_connected_s8_dsp_packed"),
    ("fc-packed-40", None, "tg_fully_connected_s8_dsp_packed"),
    ("fc-packed8-512", None, PACKED8),
    ("pointwise-packed8-48", None, PACKED8),
    ("fc-packed8-40", None, PACKED8),
    ("fc-packed8-96", None, PACKED8),
    ("fc-packed8-uniform-128", None, PACKED8),
], ids=["fc-int16", "pointwise-int8", "pointwise-int16", "fc-int8", "fc-packed", "pointwise-packed",
        "fc-packed-runs8", "pointwise-packed-runs4", "fc-packed-runs2", "fc-packed8-runs16", "pointwise-packed8-runs4",
        "fc-packed8-runs2", "fc-packed8-runs8", "fc-packed8-runs32-uniform"])
def test_fully_connected_dsp_on_the_m4(tmp_path, monkeypatch, name, flash_left, function):
    """The extreme FC and 1x1 conv with the scratch-free one-row variants (the wide one's scratch would
    raise a one-layer model's arena; the two-row pair, tested below, refused): int16 weights where the
    packed layout refuses their -128s; a flash budget 160 B over the model leaves the layer its int8
    weights (the narrow variant's per-channel words fit, the widened weights do not); the packed
    layout by default at its limits."""
    refuse_the_pair_fc(monkeypatch)
    model_bytes = FC_DSP_MODELS[name]()
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(model_bytes)
    board = load_board("mps2-an386")
    flash_budget = None if flash_left is None else estimated_flash(parse_tflite(model_bytes), board) + flash_left
    compiled = compile_bytes(model_bytes, board=board, flash_budget=flash_budget)
    assert kernel_functions(compiled.lowered) == [function]
    records = np.stack([r[0] for r in extreme_records(compiled)])
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, records)
    report = run_on_board(model, "mps2-an386", tmp_path / "build", inputs_file=inputs, timeout_s=120,
                          flash_budget=flash_budget)
    assert report.bit_exact, report
    elf = next((tmp_path / "build").rglob("*.elf"))
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    body = disassembly.split(f"<{function}>:")[1].split("\n\n")[0]
    if function != PACKED8:  # the eight-row kernel calls its runs for every depth: their bodies below
        assert "\tsmlad\t" in body and "\tsxtb16\t" in body
    if name in PACKED_RUNS:  # the loop-only runs of blocks for this depth are in the firmware, and called
        run = f"tg_fc_packed{'8' if function == PACKED8 else ''}_runs{PACKED_RUNS[name]}"
        assert f"<{run}" in disassembly and run in body
        run_body = next(part for part in disassembly.split("\n\n") if f"<{run}" in part.split(">:")[0])
        assert "\tsmlad\t" in run_body and "\tsxtb16\t" in run_body


def refuse_the_pair_fc(monkeypatch) -> None:
    """compiler._choose_variants without tg_fully_connected_s8_dsp_pair (and its in-place name)."""
    from tinygen import compiler

    chosen = compiler.board_variant
    monkeypatch.setattr(compiler, "board_variant", lambda graph, call, features, refused=frozenset():
                        chosen(graph, call, features, refused | {PAIR_FC, PAIR_FC_INPLACE}))


# The depths whose packed FCs take the loop-only runs of 8, 4 or 2 blocks (tg_fc_dsp.h).
PACKED_RUNS = {"fc-packed-512": 8, "pointwise-packed-48": 4, "fc-packed-40": 2,
               "fc-packed8-512": 16, "pointwise-packed8-48": 4, "fc-packed8-40": 2, "fc-packed8-96": 8,
               "fc-packed8-uniform-128": "32_uniform"}


def test_kws_keeps_its_arena_with_the_dsp_variants():
    compiled = compile_bytes(mlperf_model("kws").read_bytes(), board=load_board("mps2-an386"))
    functions = kernel_functions(compiled.lowered)
    assert functions.count(LINES_DW) == 4  # its ring on its stack
    assert functions.count(PAIR_FC_INPLACE) == 4 and functions[0] == PAIR  # the first conv, its columns on the stack
    assert compiled.plan.arena_bytes == 8064


# --- the pair FC: two rows (pixels) per weight load -----------------------------------------------

PAIR_FC_MODELS = {
    # runs of 32, 16, 8, 4 and 2 groups of two k (depths 64, 32, 16, 8, 12); odd row counts (3, 15, 5)
    "fc-64-batches3": lambda: fc_model(21, batches=3, depth=64, units=8, per_channel=True),
    "pointwise-32-odd-pixels": lambda: conv_model(22, kernel=(1, 1), in_hw=(5, 3), in_c=32, out_c=12),
    "pointwise-16-relu6": lambda: conv_model(23, kernel=(1, 1), in_hw=(4, 4), in_c=16, out_c=8, activation="RELU6"),
    "fc-8-batches5": lambda: fc_model(24, batches=5, depth=8, units=4, per_channel=True, activation="RELU"),
    "pointwise-12-batch2": lambda: conv_model(25, kernel=(1, 1), in_hw=(3, 3), in_c=12, out_c=4, batch=2),
    # the packed layout's limits: an odd row's sum near 24 bits (516: 258 groups, runs of 2), zero
    # points at -128 and 127, biases near the int32 limits or small
    "fc-packed-516": lambda: packed_extreme_model(31, "fc", 516, -128, 127),
    "fc-packed-516-small-bias": lambda: packed_extreme_model(32, "fc", 516, 127, -128, near_limit=False, batches=3),
    "pointwise-packed-64": lambda: packed_extreme_model(33, "pointwise", 64, 127, -128, rows=12),
    "pointwise-packed-64-small-bias": lambda: packed_extreme_model(34, "pointwise", 64, -128, 127, near_limit=False),
    # a channel whose multiplier is 0: zero weights and the multiplier 2^30 in the pair's data
    "pointwise-packed-64-dead": lambda: packed_extreme_model(35, "pointwise", 64, 127, -128, dead_channel=True),
    "fc-packed-64-dead-small-bias": lambda: packed_extreme_model(36, "fc", 64, -128, 127, near_limit=False,
                                                                 dead_channel=True),
    # a column of 512 B: in the arena, not on the kernel's stack
    "pointwise-128": lambda: conv_model(26, kernel=(1, 1), in_hw=(3, 2), in_c=128, out_c=8),
}
ONLY_PAIR_FC = SCRATCH_FREE - {PAIR_FC} | {"tg_fully_connected_s8_wide", "tg_conv_s8_wide", DSP_CONV}


@pytest.mark.parametrize("name", sorted(PAIR_FC_MODELS))
def test_pair_fc_over_its_input(tmp_path, name):
    """Bit-exact with TFLM on the host (tg_simd.h's portable path), at the tightest placement its
    contract allows and apart."""
    check_tight(tmp_path, PAIR_FC_MODELS[name](), KernelSet.OPTIMISED, features=DSP, exclude=ONLY_PAIR_FC,
                expect=PAIR_FC)


@pytest.mark.parametrize("name", ["pointwise-32-odd-pixels", "pointwise-packed-64", "pointwise-packed-64-small-bias"])
def test_pair_fc_in_place(tmp_path, name):
    """The in-place 1x1 convolution with the pair: output row b over input row b, both rows copied first."""
    check_tight(tmp_path, PAIR_FC_MODELS[name](), KernelSet.OPTIMISED, inplace=True, features=DSP,
                expect=PAIR_FC_INPLACE, exclude=frozenset({PACKED_INPLACE, PACKED8_INPLACE, "tg_conv_s8_wide"}))


@pytest.mark.parametrize("name, on_stack", [("pointwise-packed-64", True), ("pointwise-128", False)])
def test_pair_fc_keeps_columns_of_256_bytes_on_its_stack(name, on_stack):
    compiled = tight_compile(PAIR_FC_MODELS[name](), KernelSet.OPTIMISED, False, features=DSP, exclude=ONLY_PAIR_FC)
    call = next(c for c in compiled.lowered if isinstance(c, KernelCall) and c.function == PAIR_FC)
    assert isinstance(call.arg("column"), NullPtr) == on_stack
    assert call.scratch_bytes == (0 if on_stack else 4 * 128)


def test_pair_fc_refuses_one_row_and_depths_off_four():
    for model in (fc_model(3, batches=1, depth=64, units=8), fc_model(3, batches=2, depth=62, units=8),
                  fc_model(3, batches=2, depth=64, units=6)):
        compiled = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP)
        assert PAIR_FC not in kernel_functions(compiled.lowered)


@pytest.mark.long  # ~30 s: every kernel built with ASan + UBSan
def test_pair_fc_is_clean_under_sanitizers(tmp_path):
    assert_clean_under_sanitizers(tmp_path, PAIR_FC_MODELS["fc-packed-516"](), ONLY_PAIR_FC, PAIR_FC)


# name -> (in place, the run of groups its depth takes)
PAIR_FC_M4 = {
    "fc-packed-516": (False, 2),
    "pointwise-packed-64-dead": (True, 32),
    "fc-packed-64-dead-small-bias": (False, 32),
    "pointwise-packed-64": (True, 32),
    "pointwise-packed-64-small-bias": (False, 32),
    "pointwise-16-relu6": (True, 8),
    "fc-8-batches5": (False, 4),
    "pointwise-32-odd-pixels": (False, 16),
    "pointwise-128": (False, 32),
}


@pytest.mark.qemu
@pytest.mark.parametrize("name", sorted(PAIR_FC_M4))
def test_pair_fc_on_the_m4(tmp_path, monkeypatch, name):
    """The pair's asm (loop and epilogue) at the tightest placement, in place or not, at the packed
    layout's limits, with a clamp, odd row counts and a column in the arena: bit-exact with TFLM on the
    DSP path (the test disassembles the run its depth takes)."""
    inplace, run = PAIR_FC_M4[name]
    model = PAIR_FC_MODELS[name]()
    others = ONLY_PAIR_FC | {PACKED_INPLACE, PACKED8_INPLACE}
    tight = tight_compile(model, KernelSet.OPTIMISED, inplace, features=DSP, exclude=others)
    assert kernel_functions(tight.lowered) == [PAIR_FC_INPLACE if inplace else PAIR_FC]
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    body = next(part for part in disassembly.split("\n\n") if re.search(rf"<pair_runs{run}(\.[a-z]+\.\d+)*>:", part))
    assert "\tsmlad\t" in body and "\tsmmlar\t" in body and "\tldrd\t" in body  # the asm, not the portable C


# The block loop's USAT form (output offset -128, no clamp: BLOCKS_ASM) at each run of groups:
# depth -> (seed, run); 15 pixels, so an odd last row too; near_limit, so sums at both saturations.
PAIR_FC_USAT_M4 = {8: (41, 4), 16: (42, 8), 32: (43, 16), 64: (44, 32), 516: (45, 2)}


@pytest.mark.qemu
@pytest.mark.parametrize("depth", sorted(PAIR_FC_USAT_M4))
def test_pair_fc_usat_block_loop_on_the_m4(tmp_path, monkeypatch, depth):
    """Every block of a row pair in one asm, the outputs in the USAT form (test_pair_fc_on_the_m4 takes
    the signed forms, plain and clamped, through the same asm): bit-exact with TFLM at the
    packed layout's limits, tightest placement, each run of groups (the test finds USAT in the run)."""
    seed, run = PAIR_FC_USAT_M4[depth]
    model = packed_extreme_model(seed, "pointwise", depth, 127, -128)
    tight = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=ONLY_PAIR_FC)
    assert kernel_functions(tight.lowered) == [PAIR_FC]
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    body = next(part for part in disassembly.split("\n\n") if re.search(rf"<pair_runs{run}(\.[a-z]+\.\d+)*>:", part))
    assert "\tusat\t" in body


def test_pair_fc_gives_a_dead_channel_zero_weights_and_a_normalized_multiplier():
    compiled = tight_compile(PAIR_FC_MODELS["pointwise-packed-64-dead"](), KernelSet.OPTIMISED, False, features=DSP,
                             exclude=ONLY_PAIR_FC)
    call = next(c for c in compiled.lowered if isinstance(c, KernelCall) and c.function == PAIR_FC)
    words = call.arg("channels").values.reshape(-1, 5)
    assert (words[:, 1] < 0).all()  # every doubled multiplier's sign bit: no mask in the high multiply
    assert tuple(words[4]) == (0, -2**31, 1, 1, 0)


# --- the pairs' _rows entries: a window row at a time, where whole columns would pass 1 KiB ------------

ROWS = frozenset({f"{PAIR}_rows", f"{PAIR_PACKED}_rows"})
PAIR_ROWS_CASES = {
    # IC's 16x16 layers: 3x3 over 32 channels (whole columns 1,152 B); odd pixel counts, a partial block
    "3x3-32": dict(in_c=32, out_c=8, in_hw=(5, 5)),
    "3x3-32-six-channels": dict(in_c=32, out_c=6, in_hw=(3, 5)),
    "3x3-32-stride2": dict(in_c=32, out_c=8, in_hw=(7, 6), stride=(2, 2)),
    "3x3-32-dilation2": dict(in_c=32, out_c=4, in_hw=(7, 7), dilation=(2, 2)),
    "5x3-24-batch2-relu6": dict(in_c=24, out_c=12, in_hw=(6, 5), kernel=(5, 3), batch=2, activation="RELU6"),
}


def _pair_rows_model(name: str) -> bytes:
    case = {"kernel": (3, 3), "padding": "SAME", **PAIR_ROWS_CASES[name]}
    return conv_model(9, **case)


def _only(function: str) -> frozenset[str]:
    return (ONLY_PAIR_PACKED | {PAIR, PAIR_PACKED} | STACK1K | ROWS) - {function}


@pytest.mark.parametrize("function", sorted(ROWS))
@pytest.mark.parametrize("name", sorted(PAIR_ROWS_CASES))
def test_pair_rows_over_its_input(tmp_path, name, function):
    check_tight(tmp_path, _pair_rows_model(name), KernelSet.OPTIMISED, features=DSP, expect=function,
                exclude=_only(function))


@pytest.mark.qemu
@pytest.mark.parametrize("function", sorted(ROWS))
@pytest.mark.parametrize("name", ["3x3-32", "3x3-32-six-channels", "3x3-32-dilation2", "5x3-24-batch2-relu6"])
def test_pair_rows_on_the_m4(tmp_path, monkeypatch, name, function):
    """The _rows entries' window rows (each through the pair's asm dot, the sums kept between rows)
    bit-exact on the DSP path with the extreme records."""
    model = _pair_rows_model(name)
    tight = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=_only(function))
    assert kernel_functions(tight.lowered) == [function]
    elf = run_tight_on_board(tmp_path, monkeypatch, model, tight, "mps2-an386")
    disassembly = subprocess.run([f"{load_board('mps2-an386').toolchain.prefix}objdump", "-d", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    body = disassembly.split(f"<{function.removesuffix('_rows')}_row_block>:")[1].split("\n\n")[0]
    assert "\tsmlad\t" in body


@pytest.mark.long  # ~30 s: every kernel built with ASan + UBSan
@pytest.mark.parametrize("function", sorted(ROWS))
def test_pair_rows_is_clean_under_sanitizers(tmp_path, function):
    assert_clean_under_sanitizers(tmp_path, _pair_rows_model("5x3-24-batch2-relu6"), _only(function), function)


@pytest.mark.parametrize("case, reason", [
    (dict(in_c=16), "columns within 1024 B"),            # 576 B: the _stack1k entry's
    (dict(in_c=48), "a window row's columns over 512 B"),
    (dict(in_c=32, out_c=68), "more than 64 output channels"),
    (dict(in_c=30, kernel=(5, 5)), "window rows not whole blocks of four k"),
    (dict(in_c=128, kernel=(1, 3), padding="SAME"), "a window of one row"),
])
def test_pair_rows_refuses_what_it_cannot_do(case, reason):
    model = conv_model(3, **{"kernel": (3, 3), "padding": "SAME", "out_c": 8, "in_hw": (5, 5), **case})
    choices = compile_bytes(model, board=load_board("mps2-an386")).choices
    notes = [note for c in choices for f, note in c.considered if f == f"{PAIR}_rows"]
    assert notes and all(reason in note for note in notes), notes


def test_ic_runs_its_16x16_3x3_layer_a_window_row_at_a_time():
    compiled = compile_bytes(mlperf_model("ic").read_bytes(), board=load_board("mps2-an386"), flash_budget=169_084)
    assert f"{PAIR}_rows" in kernel_functions(compiled.lowered) or f"{PAIR_PACKED}_rows" in kernel_functions(
        compiled.lowered)
    assert "tg_conv_s8_dsp" not in kernel_functions(compiled.lowered)


def _qadd(x: int, y: int) -> int:
    return max(INT32_MIN, min(INT32_MAX, x + y))


@given(st.integers(INT32_MIN, INT32_MAX) | st.sampled_from([INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1,
                                                            INT32_MAX]),
       st.integers(1, 31))
def test_usat_form_gives_the_signed_forms_outputs(high, shift):
    """The asm epilogues' USAT form (output offset -128, int8's whole range: tg_wide_epilogue_t's
    unsigned_bytes) against the signed form, on the high multiply's result `high`: the rounding without
    the -1 for a negative sum, USAT to [0, 255], less 128, is SSAT(shifted - 128) with the -1."""
    rounding = 1 << (shift - 1)
    signed = max(-128, min(127, (_qadd(high, rounding + (-1 if high < 0 else 0)) >> shift) - 128))
    unsigned = max(0, min(255, _qadd(high, rounding) >> shift)) - 128
    assert unsigned == signed
