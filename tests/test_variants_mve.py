"""The Helium (MVE) variants (tinygen/kernels/variants_mve.py, runtime_c/kernels/*_mve*):

- their generation-time data (interleaved int8 rows, depthwise blocks, per-block epilogue words) used
  as the C kernels use them;
- chosen only on a board with "mve" (mps3-an547), in place of the wide (DSP) variants there;
- bit-exact with TFLite Micro on op grids (odd channel counts and depths for the tails, padding,
  strides, dilation, batches) and extreme values (zero points at +-128, weights at the ends,
  accumulators near the int32 limits, multipliers at both ends of QuantizeMultiplier's range with
  right shifts 0..31 and a dead channel): on the host, where the same code runs its plain-C lanes under
  ASan + UBSan, and in QEMU on mps3-an547, where it runs the Helium instructions (the test
  disassembles the firmware for VMLADAV and VQRDMULH).
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from ops.test_add import binary_model
from ops.test_conv import conv_model
from ops.test_depthwise import dw_model
from ops.test_fully_connected import fc_model
from test_inplace import run_tight_on_board, tight_compile
from test_variants import REALS, WIDE_REALS, extreme_model
from tinygen.boards.catalog import load_board
from tinygen.jobs import run_on_board
from tinygen.kernels.call import KernelCall
from tinygen.passes.choose_kernels import KernelSet
from tinygen.kernels.variants_mve import MVE_ROWS, mve_channels, mve_depthwise_weights, mve_weights
from tinygen.compiler import compile_bytes
from tinygen.testing.compare import compare_on_host
from tinygen.ir.quant import FixedPointMultiplier, multiply_by_quantized_multiplier

from conftest import kernel_functions, mlperf_model

BOARD = "mps3-an547"


def mve_functions(model: bytes, kernel_set: KernelSet = KernelSet.FASTEST, board: str = BOARD) -> list[str]:
    return kernel_functions(compile_bytes(model, kernel_set=kernel_set, board=load_board(board)).lowered)


def test_mve_weights_are_the_rows_in_blocks_of_four_by_sixteen():
    rng = np.random.default_rng(0)
    rows = rng.integers(-128, 128, size=(7, 37)).astype(np.int8)
    packed = mve_weights(rows).values.astype(np.int64)
    depth_padded = 48
    assert packed.size == 8 * depth_padded
    x = rng.integers(-128, 128, size=37).astype(np.int64)
    column = np.zeros(depth_padded, dtype=np.int64)
    column[:37] = x
    # tg_mve_dot4x1: per block of four rows, per 16 k, row 0's 16 bytes, row 1's, row 2's, row 3's
    acc = np.zeros(8, dtype=np.int64)
    at = 0
    for block in range(2):
        for chunk in range(depth_padded // 16):
            for r in range(MVE_ROWS):
                acc[4 * block + r] += packed[at:at + 16] @ column[16 * chunk:16 * chunk + 16]
                at += 16
    assert (acc[:7] == rows.astype(np.int64) @ x).all() and acc[7] == 0


def test_mve_depthwise_weights_are_four_channels_per_tap():
    rows = np.arange(-30, 33).astype(np.int8).reshape(7, 9)  # [channel][tap]
    packed = mve_depthwise_weights(rows).values.reshape(2, 9, 4)  # [block][tap][lane]
    assert (packed[0, :, :].T == rows[:4]).all()
    assert (packed[1, :, :3].T == rows[4:]).all() and (packed[1, :, 3] == 0).all()


def test_mve_epilogue_words_are_per_block_of_four_channels():
    """bias', multiplier, left shift, -right shift (and the depthwise's pad correction) per block."""
    from tinygen.frontend.tflite_reader import parse_tflite
    from tinygen.kernels.select import lower_graph
    from tinygen.kernels.variants import ConvArgs, typed_args

    graph = parse_tflite(conv_model(3, in_c=3, out_c=6, kernel=(1, 1)))
    (call,) = lower_graph(graph)
    a = typed_args(call, ConvArgs)
    rows = graph.tensor(a.filter.tensor).data.reshape(6, -1)
    words = mve_channels(graph, a.bias, rows, a.params.input_offset, a.requant, pad_correction=True).values
    blocks = words.reshape(2, 5, 4)  # [block][word][lane]
    bias = np.asarray(graph.tensor(a.bias.tensor).data, dtype=np.int64)
    folded = bias + a.params.input_offset * rows.astype(np.int64).sum(axis=1)
    shifts = np.broadcast_to(a.requant.shift.values, (6,))
    got = blocks.transpose(1, 0, 2).reshape(5, 8)[:, :6]
    assert (got[0] == folded).all()
    assert (got[1] == np.broadcast_to(a.requant.multiplier.values, (6,))).all()
    assert (got[2] == np.maximum(shifts, 0)).all() and (got[3] == np.minimum(shifts, 0)).all()
    assert (got[4] == bias - folded).all()
    assert (blocks[1, :, 2:] == 0).all()  # the channels completing the last block


def test_the_mve_add_is_a_twin_of_tg_add_s8():
    model = binary_model("ADD", 3)
    assert mve_functions(model) == ["tg_add_s8_mve"] and mve_functions(model, board="mps2-an386") == ["tg_add_s8_table_wide"]
    assert mve_functions(binary_model("ADD", 3, shape2=(1, 1, 1, 16))) == ["tg_add_broadcast_s8"]


def test_the_mve_variants_need_the_mve_feature():
    """mps3-an547 (Cortex-M55) has "mve": its calls get the Helium variants, ahead of the wide (DSP)
    ones it also could take (a depthwise over a 9x9 map the plane by plane one, over a 4x4 map with 32
    channels the four-channel one); the Cortex-M4 keeps its DSP variants."""
    cases = [(conv_model(0, in_c=4, out_c=6), "tg_conv_s8_mve", "tg_conv_s8_dsp"),
             (dw_model(0, in_c=8), "tg_depthwise_conv_s8_planes_mve", "tg_depthwise_conv_s8_plane_dsp"),
             (dw_model(0, in_hw=(4, 4), in_c=32), "tg_depthwise_conv_s8_mve", "tg_depthwise_conv_s8_plane_dsp"),
             (dw_model(0, in_hw=(20, 9), in_c=8, stride=(2, 2)), "tg_depthwise_conv_s8_mve",
              "tg_depthwise_conv_s8_wide"),  # a plane of 21 rows: past the plane kernel's 16
             (fc_model(0), "tg_fully_connected_s8_mve", "tg_fully_connected_s8_dsp_packed")]
    for model, on_the_m55, on_the_m4 in cases:
        assert mve_functions(model) == [on_the_m55]
        assert mve_functions(model, board="mps2-an386") == [on_the_m4]
    assert mve_functions(conv_model(0, in_c=4, out_c=6, groups=2)) == ["tg_conv_s8"]
    assert mve_functions(dw_model(0, in_c=4, multiplier=2)) == ["tg_depthwise_conv_s8"]


def test_mve_takes_every_shift_quantize_multiplier_gives():
    """The Helium epilogue is exact for right shifts 0..31 (the wide variants' SMMLAR + QADD are not)."""
    model = extreme_model("conv", 3, -128, 127, reals=REALS)
    assert mve_functions(model) == ["tg_conv_s8_mve"]
    assert mve_functions(model, board="mps2-an386") == ["tg_conv_s8_fast"]


def test_the_requantization_sequence_is_tflms_at_the_edges():
    """The epilogue's lane arithmetic (tg_mve_requantize's plain-C lanes are the instructions'
    definitions) against TFLM's MultiplyByQuantizedMultiplier, at the int32 edges, every shift."""
    def lanes(x: int, m: int, shift: int) -> int:
        left, right = max(shift, 0), -min(shift, 0)
        a = ((x << left) + 2**31) % 2**32 - 2**31  # VSHL wraps
        high = INT32_MAX if a == m == INT32_MIN else (2 * a * m + 2**31) >> 32  # VQRDMULH
        if right and high < 0:  # VAND with -e, VSHR #31, VQADD
            high = max(high - 1, INT32_MIN)
        return (high + (1 << (right - 1))) >> right if right else high  # VRSHL by -e

    def tflm(x: int, m: int, shift: int) -> int:
        return multiply_by_quantized_multiplier(x, FixedPointMultiplier(m, shift))

    rng = np.random.default_rng(7)
    xs = [INT32_MIN, INT32_MIN + 1, -(2**30), -1, 0, 1, 2**30, INT32_MAX - 1, INT32_MAX]
    xs += [int(v) for v in rng.integers(INT32_MIN, INT32_MAX, size=40, endpoint=True)]
    multipliers = [0, 2**30, 2**30 + 1, 1518500250, INT32_MAX - 1, INT32_MAX]
    for shift in range(-31, 31):
        for m in multipliers:
            for x in xs:
                if shift > 0 and not INT32_MIN <= x * 2**shift <= INT32_MAX:
                    continue  # TFLM's x * (1 << shift) would overflow (undefined there; both wrap in practice)
                assert lanes(x, m, shift) == tflm(x, m, shift), (x, m, shift)
    # exact ties below zero, where VRSHL alone would round up and gemmlowp rounds away from zero
    for right in range(1, 30):  # 2x stays an int32
        x = -(3 << (right - 1))  # -1.5 * 2^e, from a multiplier of 2^30 and x * 2
        assert lanes(2 * x, 2**30, -right) == tflm(2 * x, 2**30, -right) == -2


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

# The grids: tails in every dimension the kernels vectorise (out channels % 4, depth % 16, channels % 4),
# padding on every side, strides, dilation, batches.
GRID = {
    "conv_3x3_same": lambda: conv_model(21, in_hw=(7, 6), in_c=7, out_c=7, kernel=(3, 3), padding="SAME"),
    "conv_stem_stride2": lambda: conv_model(22, in_hw=(10, 9), in_c=3, out_c=8, kernel=(3, 3), stride=(2, 2)),
    "conv_dilated": lambda: conv_model(23, in_hw=(9, 9), in_c=5, out_c=5, kernel=(3, 3), padding="SAME",
                                       dilation=(2, 2)),
    "conv_1x1": lambda: conv_model(24, in_hw=(5, 3), in_c=33, out_c=9, kernel=(1, 1)),
    "conv_1x1_stride2": lambda: conv_model(25, in_hw=(6, 6), in_c=16, out_c=18, kernel=(1, 1), stride=(2, 2)),
    "depthwise_3x3": lambda: dw_model(26, in_hw=(6, 5), in_c=12, kernel=(3, 3)),
    "depthwise_odd": lambda: dw_model(27, in_hw=(7, 8), in_c=11, dilation=(2, 1)),
    # 19 rows: the plane kernel (DSP, on the M55 too) refuses it, the Helium one runs
    "depthwise_stride2": lambda: dw_model(28, in_hw=(19, 7), in_c=6, kernel=(3, 3), stride=(2, 2)),
    "fc": lambda: fc_model(29, batches=3, depth=37, units=7, per_channel=True),
    "fc_deep": lambda: fc_model(30, batches=1, depth=161, units=13),
    # ADD's twin: a tail of 3 elements, zero points at the ends, an input scale above the output's
    "add_tail": lambda: binary_model("ADD", 31, shape1=(1, 5, 3, 5), activation="RELU",
                                     zero_points=(-128, 127, -128)),
    "add_scales": lambda: binary_model("ADD", 32, shape1=(2, 4, 4, 3), scales=(0.5, 0.001, 0.02),
                                       zero_points=(127, -128, 5)),
}
EXTREME = {
    "conv_extreme": lambda: extreme_model("conv", 3, -128, 127, reals=REALS),
    "dw_extreme": lambda: extreme_model("dw", 4, 127, -128, reals=REALS),
    "fc_extreme": lambda: extreme_model("fc", 5, -128, -128, reals=REALS),
    "conv_relu6": lambda: extreme_model("conv", 6, 3, -100, reals=WIDE_REALS, near_limit=False, activation="RELU6"),
    # multipliers above 1: left shifts 1 and 2, which the GEMM's epilogue applies only where a channel has one
    "conv_left_shifts": lambda: extreme_model("conv", 8, -128, 127, reals=[1.5, 3.0, 0.4999, 2**-31, 0.7, 0.0]),
}


@pytest.mark.parametrize("name", sorted(GRID) + sorted(EXTREME))
def test_mve_variants_are_bit_exact_on_the_host(tmp_path, name):
    """The plain-C lanes of the same kernels, ASan + UBSan, every tensor against TFLM."""
    model = {**GRID, **EXTREME}[name]()
    compiled = compile_bytes(model, kernel_set=KernelSet.FASTEST, board=load_board(BOARD))
    assert any(f.endswith("_mve") for f in kernel_functions(compiled.lowered))
    result = compare_on_host(model, tmp_path / "host", count=3, seed=1, sanitize=True, compiled=compiled)
    assert result.tensors_compared > 0
    assert not result.mismatches, "\n".join(result.mismatches[:10])


def _run_on_m55(tmp_path, model: bytes, name: str, kernel_set: KernelSet = KernelSet.FASTEST) -> str:
    path = tmp_path / f"{name}.tflite"
    path.write_bytes(model)
    report = run_on_board(path, BOARD, tmp_path / "build", random_count=3, timeout_s=120, kernel_set=kernel_set)
    assert report.bit_exact, report
    elf = next((tmp_path / "build").rglob("*.elf"))
    return subprocess.run(["arm-none-eabi-objdump", "-d", "-m", "armv8.1-m.main", str(elf)], capture_output=True,
                          text=True, check=True).stdout


def _mixed_model() -> bytes:
    """A stem conv, a depthwise with odd channels, two 1x1 convs joined by an ADD, and a fully connected
    layer in one model."""
    from tinygen.testing.model_builder import ModelBuilder

    rng = np.random.default_rng(41)
    b = ModelBuilder()

    def weights(shape, axis):
        return b.tensor(shape, scale=list(rng.uniform(0.002, 0.02, size=shape[axis])), zero_point=0,
                        data=rng.integers(-127, 128, size=shape).astype(np.int8), quant_axis=axis)

    def bias(n, scale=1e-4):
        return b.tensor([n], dtype=np.int32, scale=[scale] * n, zero_point=0,
                        data=rng.integers(-3000, 3000, size=n).astype(np.int32))

    x = b.tensor([1, 11, 10, 3], scale=0.04, zero_point=-128)
    h1 = b.tensor([1, 6, 5, 13], scale=0.05, zero_point=-7)
    b.op("CONV_2D", [x, weights([13, 3, 3, 3], 0), bias(13)], [h1], padding="SAME", strideH=2, strideW=2,
         fusedActivationFunction="RELU")
    h2 = b.tensor([1, 6, 5, 13], scale=0.06, zero_point=5)
    b.op("DEPTHWISE_CONV_2D", [h1, weights([1, 3, 3, 13], 3), bias(13)], [h2], padding="SAME", strideH=1,
         strideW=1, depthMultiplier=1)
    h3a = b.tensor([1, 6, 5, 21], scale=0.08, zero_point=-3)
    b.op("CONV_2D", [h2, weights([21, 1, 1, 13], 0), bias(21)], [h3a], padding="VALID", strideH=1, strideW=1)
    h3b = b.tensor([1, 6, 5, 21], scale=0.05, zero_point=9)
    b.op("CONV_2D", [h1, weights([21, 1, 1, 13], 0), bias(21)], [h3b], padding="VALID", strideH=1, strideW=1)
    h3 = b.tensor([1, 6, 5, 21], scale=0.08, zero_point=-3)
    b.op("ADD", [h3a, h3b], [h3])  # a residual join: 630 elements, a tail of 2
    flat = b.tensor([1, 630], scale=0.08, zero_point=-3)
    b.op("RESHAPE", [h3], [flat], newShape=[1, 630])
    y = b.tensor([1, 10], scale=0.3, zero_point=2)
    b.op("FULLY_CONNECTED", [flat, weights([10, 630], 0), bias(10)], [y])
    return b.build([x], [y])


@pytest.mark.qemu
@pytest.mark.parametrize("name", ["mixed", "conv_extreme", "dw_extreme", "conv_left_shifts", "conv_3x3_same",
                                  "conv_1x1", "fc"])
def test_mve_variants_are_bit_exact_on_the_cortex_m55(tmp_path, name):
    """In QEMU on mps3-an547: the Helium instructions, every output against TFLM (the GEMM's assembly
    over pairs of pixels and a lone last one, whole and partial blocks of rows, depth tails of 15 and 1,
    left shifts and none)."""
    model = _mixed_model() if name == "mixed" else {**GRID, **EXTREME}[name]()
    if name == "mixed":
        assert {"tg_conv_s8_mve", "tg_depthwise_conv_s8_planes_mve", "tg_fully_connected_s8_mve",
                "tg_add_s8_mve"} <= set(mve_functions(model))
    disassembly = _run_on_m55(tmp_path, model, name)
    assert "_mve>:" in disassembly
    assert "\tvmladava.s8\t" in disassembly or "\tvmlava.s8\t" in disassembly or name == "dw_extreme"
    assert "\tvmladav.s8\t" in disassembly or "\tvmlav.s8\t" in disassembly or name == "dw_extreme"
    assert "\tvqrdmulh.s32\t" in disassembly and "\tvrshl.s32\t" in disassembly


@pytest.mark.qemu
def test_four_channel_depthwise_extreme_on_the_cortex_m55(tmp_path, monkeypatch):
    """tg_depthwise_conv_s8_mve (the one small maps with many channels get; the plane by plane one
    left out here), extreme values and windows over the padding on every side, in QEMU."""
    model_bytes = EXTREME["dw_extreme"]()
    tight = tight_compile(model_bytes, KernelSet.OPTIMISED, False, features=frozenset({"mve"}),
                          exclude=frozenset({"tg_depthwise_conv_s8_planes_mve"}))
    assert kernel_functions(tight.lowered) == ["tg_depthwise_conv_s8_mve"]
    elf = run_tight_on_board(tmp_path, monkeypatch, model_bytes, tight, BOARD)
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", "-m", "armv8.1-m.main", str(elf)],
                                 capture_output=True, text=True, check=True).stdout
    assert "<tg_depthwise_conv_s8_mve>:" in disassembly and "\tvqrdmulh.s32\t" in disassembly


@pytest.mark.qemu
@pytest.mark.long
@pytest.mark.parametrize("name", sorted(GRID) + sorted(EXTREME))
def test_mve_grid_is_bit_exact_on_the_cortex_m55(tmp_path, name):
    _run_on_m55(tmp_path, {**GRID, **EXTREME}[name](), name)


@pytest.mark.qemu
@pytest.mark.long
@pytest.mark.parametrize("key", ["ad", "ic", "kws", "vww"])
@pytest.mark.parametrize("kernel_set", [KernelSet.OPTIMISED, KernelSet.FASTEST])
def test_mlperf_models_are_bit_exact_on_the_cortex_m55(tmp_path, key, kernel_set):
    calls = mve_functions(mlperf_model(key).read_bytes(), kernel_set)
    assert any(f.endswith("_mve") for f in calls)
    _run_on_m55(tmp_path, mlperf_model(key).read_bytes(), key, kernel_set)


def test_bench_writes_the_m55_section_beside_the_m4_report():
    """`tinygen bench -b mps3-an547 --write BENCHMARKS.md` adds (then replaces) its own section; the
    Cortex-M4 report and the figures block the regression guard reads stay as they were."""
    from test_bench import REPO, _row
    from tinygen.bench import ANCHORS, merge_section, recorded_figures, render_board_section, section_markers

    original = (REPO / "BENCHMARKS.md").read_text(encoding="utf-8")
    rows = [_row(a, 1_000_000 + i, None) for i, a in enumerate(ANCHORS)]
    section = render_board_section(rows, BOARD, "tinygen bench --board mps3-an547 --write BENCHMARKS.md")
    assert "| 1,000,002 | 1,816,153 | 0.55 | ≤ 0.70: met |" in section  # KWS: ≤ 0.7x TFLM + CMSIS-NN's MVE path
    assert "| 1,000,001 | 4,912,115 | 0.20 | ≤ 0.70: met |" in section  # IC
    once = merge_section(original, BOARD, section)
    start, end = section_markers(BOARD)
    assert once.count(start) == 1 and once.index(start) < once.index("## Figures for tools")
    assert recorded_figures(once) == recorded_figures(original)
    rows = [_row(a, 2_000_000, None) for a in ANCHORS]
    twice = merge_section(once, BOARD, render_board_section(rows, BOARD, "tinygen bench"))
    assert twice.count(start) == 1 and "| 2,000,000 | 150,289 | 13.31 | ≤ 0.70: missed, 19.01x the target |" in twice
    assert recorded_figures(twice) == recorded_figures(original)
    assert twice.replace(twice[twice.index(start):twice.index(end)], "") == \
        once.replace(once[once.index(start):once.index(end)], "")
