"""Kernel choice: variants replace reference kernels only where they compute the same bits, chosen
by the board's ISA features, and on the board they do (the wide variants' DSP path on the Cortex-M4
and M7, the _fast twins' portable C on the M3).

The host grids in tests/ops check both kernel sets against TFLM (conftest's assert_bit_exact); the
host has no DSP instructions, so here the same edge cases run in QEMU.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess

import numpy as np
import pytest

from ops.test_conv import conv_model
from ops.test_depthwise import dw_model
from ops.test_fully_connected import fc_model
from test_bad_input import tinygen
from tinygen.boards.catalog import load_board
from tinygen.jobs import run_on_board
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.cvalues import ConstArray, ScratchRef
from tinygen.kernels.variants import ConvArgs, FullyConnectedArgs, registered_variants, typed_args
from tinygen.passes.choose_kernels import KernelSet, choose_kernels
from tinygen.kernels.select import lower_graph
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder

from conftest import DIGITS_MODEL as DIGITS, kernel_functions, mlperf_model
from test_variants import WIDE_REALS, extreme_model


def functions(model: bytes, kernel_set: KernelSet = KernelSet.FASTEST, board: str | None = None) -> list[str]:
    """The kernels chosen, by default arena aside: a one-layer model's arena always grows by a variant's scratch."""
    compiled = compile_bytes(model, kernel_set=kernel_set, board=load_board(board) if board else None)
    return [c.function for c in compiled.lowered if isinstance(c, KernelCall)]


def test_the_boards_isa_chooses_the_variant():
    """The wide variants need the DSP extension (the default board, a Cortex-M4, has it); the _fast
    twins are portable C; a grouped convolution keeps the reference."""
    assert functions(conv_model(0, in_c=8, out_c=16)) == ["tg_conv_s8_wide_pair"]
    assert functions(conv_model(0, in_c=8, out_c=16), board="mps2-an386") == ["tg_conv_s8_wide_pair"]
    # two columns of 1,152 B would go to the arena: the default build keeps the arena, without scratch
    assert functions(conv_model(0, in_c=32, out_c=16), KernelSet.OPTIMISED) == ["tg_conv_s8_dsp"]
    # 288 B: on the stack of the pair's entry for up to 1 KiB, where the arena would grow
    assert functions(conv_model(0, in_c=8, out_c=16), KernelSet.OPTIMISED) == ["tg_conv_s8_wide_pair_stack1k"]
    # 224 B: on the pair's stack, so the arena does not grow
    assert functions(conv_model(0, in_c=6, out_c=6), KernelSet.OPTIMISED) == ["tg_conv_s8_wide_pair"]
    # an odd depth: the pair's window rows padded to even counts, widened word by word
    assert functions(conv_model(0, in_c=3, out_c=6), board="mps2-an386") == ["tg_conv_s8_wide_pair"]
    assert functions(conv_model(0, in_c=4, out_c=6), board="mps2-an385") == ["tg_conv_s8_fast"]  # Cortex-M3
    assert functions(conv_model(0, in_c=4, out_c=6, groups=2)) == ["tg_conv_s8"]


def test_depthwise_variants_need_depth_multiplier_one():
    assert functions(dw_model(0, in_c=8)) == ["tg_depthwise_conv_s8_plane_dsp"]  # 3x3, stride 1, SAME, 9x9
    assert functions(dw_model(0, in_c=8, stride=(2, 2))) == ["tg_depthwise_conv_s8_plane_dsp"]
    assert functions(dw_model(0, in_c=8, in_hw=(20, 20))) == ["tg_depthwise_conv_s8_lines_dsp"]  # 22 rows of plane
    assert functions(dw_model(0, in_c=8, in_hw=(18, 8), stride=(2, 2))) == ["tg_depthwise_conv_s8_wide"]
    assert functions(dw_model(0, in_c=8), board="mps2-an385") == ["tg_depthwise_conv_s8_fast"]
    assert functions(dw_model(0, in_c=4, multiplier=2)) == ["tg_depthwise_conv_s8"]


def test_fully_connected_variants_need_weights_without_zero_point():
    assert functions(fc_model(0)) == ["tg_fully_connected_s8_dsp_packed"]  # scratch-free, the int8 weights packed in pairs
    assert functions(fc_model(0), board="mps2-an385") == ["tg_fully_connected_s8_fast"]
    b = ModelBuilder()
    x = b.tensor([1, 8], scale=0.05, zero_point=3)
    w = b.tensor([4, 8], scale=0.01, zero_point=5, data=np.arange(32, dtype=np.int8).reshape(4, 8))
    y = b.tensor([1, 4], scale=0.2)
    b.op("FULLY_CONNECTED", [x, w], [y])
    assert functions(b.build([x], [y])) == ["tg_fully_connected_s8"]


def test_reference_set_has_no_variants():
    assert functions(conv_model(0), KernelSet.REFERENCE) == ["tg_conv_s8"]
    assert functions(fc_model(0), KernelSet.REFERENCE) == ["tg_fully_connected_s8"]
    assert functions(dw_model(0), KernelSet.REFERENCE) == ["tg_depthwise_conv_s8"]


@pytest.mark.parametrize("key", ["ad", "ic", "kws", "vww"])
def test_mlperf_models_use_the_wide_variants_on_the_m4(key):
    calls = functions(mlperf_model(key).read_bytes(), KernelSet.OPTIMISED)
    assert any(f.endswith(("_wide", "_dsp_packed", "_dsp_packed8")) for f in calls)  # AD: the packed scratch-free FC only
    assert not {"tg_conv_s8", "tg_depthwise_conv_s8", "tg_fully_connected_s8"} & set(calls)


def test_wide_variants_carry_their_own_data():
    """The wide conv's call: weights packed to int16 (rows padded to 4, depth to a multiple of 4), the
    per-channel epilogue words with the folded bias, and scratch for one im2col column (made by the
    registry's variant itself: an odd depth with few rows is the pair's or the twin's now)."""
    graph = parse_tflite(conv_model(0, in_c=3, out_c=5, kernel=(3, 3)))
    (reference,) = lower_graph(graph)
    wide = next(v for v in registered_variants() if v.function == "tg_conv_s8_wide" and v.replaces == "tg_conv_s8")
    call = wide.make(graph, reference, typed_args(reference, ConvArgs))
    assert call.function == "tg_conv_s8_wide"
    args = {a.name: a.value for a in call.args}
    assert args["filter"].c_type == "int32_t" and args["filter"].values.size == 8 * 28 // 2
    assert args["channels"].values.shape == (8, 5)
    assert call.scratch_bytes == 2 * 28 and isinstance(args["scratch"], ScratchRef)


# The twins' edge cases: channel pairs and an odd one, runs not a multiple of 4, padding, whole rows;
# and the DSP instruction each twin's inner loop is built on.
EDGE_MODELS = {
    "conv": (lambda: conv_model(11, in_hw=(7, 6), in_c=7, out_c=7, kernel=(3, 3), padding="SAME"), "smlad"),
    "conv_stem": (lambda: conv_model(12, in_hw=(10, 10), in_c=3, out_c=8, kernel=(3, 3), stride=(2, 2)), "smlad"),
    "conv_pointwise": (lambda: conv_model(15, in_hw=(5, 3), in_c=12, out_c=9, kernel=(1, 1)), "smlad"),
    "fc": (lambda: fc_model(13, batches=2, depth=37, units=7, per_channel=True), "smlad"),
    "depthwise": (lambda: dw_model(14, in_hw=(7, 8), in_c=11, dilation=(2, 1)), "smlabb"),
    # 3x3 stride 1: the lines kernel, one channel at a time (SMLAD, SMLATB, SMLABT)
    "depthwise_3x3": (lambda: dw_model(16, in_hw=(6, 5), in_c=12, kernel=(3, 3)), "smlatb"),
    # the 3x3 loop's clamp and a channel whose multiplier is 0 (normalized at generation)
    "depthwise_3x3_relu6_dead": (lambda: dw_model(17, in_hw=(6, 7), in_c=12, kernel=(3, 3), activation="RELU6",
                                                  dead_channel=6, zero_points=(-128, 127)), "smlatb"),
    # the four-channel wide depthwise's 3x3 interior loop (stride 2, a plane of 19 rows: too tall for the
    # plane kernel's 16)
    "depthwise_3x3_stride2": (lambda: dw_model(18, in_hw=(18, 8), in_c=12, kernel=(3, 3), stride=(2, 2),
                                               activation="RELU6", zero_points=(-128, 127)), "smlabb"),
    # the plane kernel's stride-2 pair (a 9x8 image)
    "depthwise_3x3_stride2_plane": (lambda: dw_model(18, in_hw=(9, 8), in_c=12, kernel=(3, 3), stride=(2, 2),
                                                     activation="RELU6", zero_points=(-128, 127)), "smlabt"),
    # extreme values (tests/test_variants.py): accumulators near the int32 limits, zero points at the
    # ends, right shifts 1..23 and a dead channel, run by the wide variants on the DSP path
    "conv_extreme": (lambda: extreme_model("conv", 3, -128, -128, reals=WIDE_REALS), "smlad"),
    "depthwise_extreme": (lambda: extreme_model("dw", 4, 127, -128, reals=WIDE_REALS), "smlatb"),
    "fc_extreme": (lambda: extreme_model("fc", 5, -128, 127, reals=WIDE_REALS), "smlad"),
    # RELU6's clamp, four outputs at once on the DSP path (SSUB8 + SEL)
    "fc_relu6": (lambda: extreme_model("fc", 6, 3, -100, reals=WIDE_REALS, near_limit=False, activation="RELU6"),
                 "smlad"),
}


# Where __ARM_FEATURE_DSP is set (M4, M7, M33, M55) the twins take the DSP path; the M3 and RV32 cores
# run their portable C. (mps2-an521 builds the same image as mps2-an505.)
DSP_BOARDS = {"mps2-an386", "mps2-an500", "mps2-an505", "mps3-an547"}
ARM_DSP_INSTRUCTIONS = ("smlad", "smlabb", "smlatt", "sxtb16", "sxtab16")


# One board per ISA path in the default suite (M4 DSP, M55 Helium, RISC-V); the sibling Cortex-M boards
# (M7, M3 without DSP, M33) with -m long (the suite's time).
VARIANT_BOARDS = [pytest.param(b, marks=(pytest.mark.long,) if b in ("mps2-an500", "mps2-an385", "mps2-an505") else ())
                  for b in ("mps2-an386", "mps2-an500", "mps2-an385", "mps2-an505", "mps3-an547", "riscv32-virt")]


@pytest.mark.qemu
@pytest.mark.parametrize("board", VARIANT_BOARDS)
@pytest.mark.parametrize("name", sorted(EDGE_MODELS))
def test_variants_are_bit_exact_on_the_board(tmp_path, name, board):
    make_model, dsp_instruction = EDGE_MODELS[name]
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(make_model())
    report = run_on_board(model, board, tmp_path / "build", random_count=3, timeout_s=120, kernel_set=KernelSet.FASTEST)
    assert report.bit_exact, report
    elf = next((tmp_path / "build").rglob("*.elf"))
    objdump = f"{load_board(board).toolchain.prefix}objdump"
    disassembly = subprocess.run([objdump, "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    if board == "mps3-an547":  # the Cortex-M55 runs the Helium variants (tests/test_variants_mve.py)...
        assert "_mve>:" in disassembly
    elif board in DSP_BOARDS:  # the Cortex-M4, M7 and M33 run the wide variants' DSP path...
        # the scratch-free DSP FC takes 1x1 convs, the pair odd depths
        assert any(f"{kind}>:" in disassembly for kind in ("_wide", "_dsp", "_dsp_packed", "_wide_pair_run"))
        assert f"\t{dsp_instruction}\t" in disassembly
    elif board == "riscv32-virt":  # ...RV32 runs the register-blocked variants (tests/test_variants_rv.py)...
        assert "_rv>:" in disassembly and "_wide>:" not in disassembly
    else:  # ...the Cortex-M3 has no DSP instructions: the _fast twins' portable C
        assert "_fast>:" in disassembly and "_wide>:" not in disassembly
        assert not any(f"\t{i}\t" in disassembly for i in ARM_DSP_INSTRUCTIONS)


def test_cli_kernels_option_switches_the_set_and_the_build_is_not_reused(tmp_path):
    out = tmp_path / "fw"
    sources = {}
    for kernel_set in ("optimised", "fastest", "reference"):
        proc = tinygen("build", str(DIGITS), "-o", str(out), "--kernels", kernel_set)
        assert proc.returncode == 0, proc.stderr
        sources[kernel_set] = (out / "model" / "digits_cnn_int8.c").read_text()
    # optimised: the wide conv after the patch stage now fits (its overlap contract puts its output over
    # its input, kernels/overlap.py); fastest takes every variant
    wide_conv = re.compile(r"tg_conv_s8_(wide|wide_pair|dsp)\(")  # the one- or two-pixel wide conv, or no scratch
    assert wide_conv.search(sources["optimised"]) and "tg_fully_connected_s8_dsp_packed(" in sources["optimised"]
    assert wide_conv.search(sources["fastest"]) and "tg_fully_connected_s8_dsp_packed(" in sources["fastest"]
    assert "_wide(" not in sources["reference"] and "tg_conv_s8(" in sources["reference"]


def test_variants_need_what_quantize_multiplier_gives():
    """tg_dot_requantize assumes multipliers >= 0 and shifts in [-31, 30]; a call outside keeps the reference."""
    graph = parse_tflite(conv_model(0, out_c=8))
    (call,) = lower_graph(graph)
    assert choose_kernels(graph, (call,), KernelSet.OPTIMISED)[0][0].function == "tg_conv_s8_wide_pair"
    for multiplier, shift in ((-5, -3), (2**30, -32), (2**30, 31)):
        requant = dataclasses.replace(
            next(a.value for a in call.args if a.name == "requant"),
            multiplier=ConstArray("int32_t", np.full(8, multiplier)), shift=ConstArray("int32_t", np.full(8, shift)))
        odd = dataclasses.replace(call, args=tuple(KernelArg(a.name, requant) if a.name == "requant" else a
                                                   for a in call.args))
        chosen, (choice,) = choose_kernels(graph, (odd,), KernelSet.OPTIMISED)
        assert chosen[0].function == "tg_conv_s8"
        assert "QuantizeMultiplier" in choice.describe()


def test_typed_arguments_refuse_a_call_of_another_shape():
    graph = parse_tflite(fc_model(0))
    (call,) = lower_graph(graph)
    assert typed_args(call, FullyConnectedArgs).accum_depth == 32
    with pytest.raises(TypeError):
        typed_args(call, ConvArgs)
    with pytest.raises(TypeError):
        typed_args(dataclasses.replace(call, args=(KernelArg("params", 3),) + call.args[1:]), FullyConnectedArgs)


def test_inspect_shows_the_chosen_kernels():
    kernels = {}
    for kernel_set in ("optimised", "fastest", "reference"):
        proc = tinygen("inspect", str(DIGITS), "--json", "--kernels", kernel_set, "--patch", "none")
        assert proc.returncode == 0, proc.stderr
        kernels[kernel_set] = [op["kernel"] for op in json.loads(proc.stdout)["operators"]]
    assert kernels["fastest"][:2] == ["tg_conv_s8_wide_pair", "tg_depthwise_conv_s8_plane_dsp"]
    assert kernels["reference"][:2] == ["tg_conv_s8", "tg_depthwise_conv_s8"]
    assert kernels["optimised"][7] == "tg_fully_connected_s8_dsp_packed"
    proc = tinygen("inspect", str(DIGITS), "--json")  # --patch auto: the first four operators run per patch
    why = json.loads(proc.stdout)["operators"][0]["why"]
    assert "tg_conv_s8_fast: ~" in why and "tg_conv_s8_wide: ~" in why and "patch stage" in why


def test_inspect_says_why_a_board_without_dsp_gets_the_twins():
    proc = tinygen("inspect", str(DIGITS), "--json", "--board", "mps2-an385")
    assert proc.returncode == 0, proc.stderr
    first = json.loads(proc.stdout)["operators"][0]
    assert first["kernel"] == "tg_conv_s8_fast" and "tg_conv_s8_wide: needs dsp" in first["why"]


def test_the_default_keeps_a_variant_only_where_the_arena_does_not_grow():
    """The portable twins' arena (a board without DSP) is the default's on the M4; --kernels fastest
    takes the wide conv after the patch stage too, and its scratch raises the arena."""
    model = DIGITS.read_bytes()
    m3 = compile_bytes(model, board=load_board("mps2-an385"))
    m4 = compile_bytes(model)
    fastest = compile_bytes(model, kernel_set=KernelSet.FASTEST)
    # the wide variants' overlap contracts (kernels/overlap.py) can even lower it below the portable twins'
    assert m4.plan.arena_bytes <= m3.plan.arena_bytes
    assert "tg_fully_connected_s8_dsp_packed" in kernel_functions(m4.lowered)
    assert "tg_conv_s8_wide_pair" in kernel_functions(fastest.lowered)
    kept = [c for c in m4.choices if "would raise the arena" in c.describe()]
    # what is kept there takes no arena scratch: a twin, a scratch-free FC or conv, a pair's stack entry
    assert all(c.function.endswith(("_fast", "_dsp", "_dsp_narrow", "_dsp_packed", "_stack1k")) for c in kept)


def test_a_flash_budget_gives_variants_to_the_layers_with_the_most_instructions_saved_per_byte():
    """The DSP FCs' generation-time data (packed or int16 weights, the folded bias) outgrows AD's int8
    weights and bias: under a budget that leaves half that growth, only some of its fully connected
    layers get a variant, and their data stays within the room left; with no room left, none."""
    from tinygen.compiler import estimated_flash

    model = mlperf_model("ad").read_bytes()
    unbounded = compile_bytes(model)
    own_weights = estimated_flash(unbounded.graph, None)

    def variants(compiled):
        return [c for c in compiled.lowered if isinstance(c, KernelCall) and not c.function.endswith("_fast")]

    def added(compiled):  # the variants' data beyond the weights and bias they replace
        own = sum(a.value.values.nbytes for c in variants(compiled) for a in c.args if isinstance(a.value, ConstArray))
        graph = compiled.graph
        replaced_ops = {c.op_index for c in variants(compiled)}
        replaced = sum(graph.tensor(t).nbytes for op in graph.operators if op.index in replaced_ops
                       for t in op.inputs[1:] if t >= 0 and graph.tensor(t).data is not None)
        return own - replaced

    room = added(unbounded) // 2
    assert room > 0
    bounded = compile_bytes(model, flash_budget=own_weights + room)
    none_left = compile_bytes(model, flash_budget=own_weights)
    assert 0 < len(variants(bounded)) < len(variants(unbounded))
    assert added(bounded) <= room
    assert not variants(none_left)
    assert unbounded.plan.arena_bytes == bounded.plan.arena_bytes
    assert any("exceeds the flash left" in c.describe() for c in bounded.choices)


def test_the_exchange_steps_a_call_down_where_refused_calls_then_save_more():
    """compiler._swap_for_refused on three calls: A took its best variant (saving 100 instructions),
    whose placement shut out B's and C's (80 each: the arena would grow). Stepping A down to its next
    variant (saving 50) lets both in: 160 > 50, so the exchange is kept and says why; a step that gains
    less than it loses is not taken."""
    from tinygen.compiler import _swap_for_refused
    from tinygen.kernels.variants import Choice

    def call(i: int, function: str) -> KernelCall:
        return KernelCall(i, "CONV_2D", function, (), (), ())

    def offer(i: int, function: str, costs: dict[str, int]) -> tuple[KernelCall, Choice]:
        return call(i, function), Choice(i, function, tuple((f, f"~{n} instructions") for f, n in costs.items()))

    def run(b_saves: int) -> tuple[set[int], dict, dict]:
        lowered = (call(0, "tA"), call(1, "tB"), call(2, "tC"))
        a_costs = {"tA": 1000, "vA1": 900, "vA2": 950}
        offers = {0: offer(0, "vA1", a_costs), 1: offer(1, "vB", {"tB": 500, "vB": 500 - b_saves}),
                  2: offer(2, "vC", {"tC": 500, "vC": 500 - b_saves})}
        best = dict(offers)
        choices = {i: offers[i][1] for i in offers}

        def offer_at(position: int, refused: frozenset[str]):
            assert position == 0 and refused == {"vA1"}
            return offer(0, "vA2", a_costs)

        def arena(positions: set[int]) -> int:  # vA1 beside B's or C's variant grows the arena
            return 200 if 0 in positions and offers[0][0].function == "vA1" and positions & {1, 2} else 100

        merit = {0: 100, 1: b_saves, 2: b_saves}.get
        taken = _swap_for_refused(lowered, offers, best, {0}, choices, offer_at, arena, 100, merit,
                                  lambda i, o: 0, None)
        return taken, offers, choices

    taken, offers, choices = run(80)
    assert taken == {0, 1, 2} and offers[0][0].function == "vA2"
    assert choices[0].function == "vA2"
    assert choices[0].considered[-1] == ("not vA1", "stepped down so that #1, #2 keep their variants")
    taken, offers, choices = run(20)  # 40 gained against 50 lost: A keeps its best
    assert taken == {0} and offers[0][0].function == "vA1" and choices[0].function == "vA1"
