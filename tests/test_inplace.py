"""Overlapping and in-place kernels: the output placed over the input at the very distance its
contract allows (the tightest placement a plan may make) gives TFLite Micro's bits, on every
tensor, with random and extreme inputs; and the plan's check refuses a placement beyond it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from tinygen.codegen.emit import emit_model
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.inputs import random_records
from tinygen.kernels.call import KernelCall
from tinygen.kernels.inplace import apply_inplace, inplace_candidates
from tinygen.passes.choose_kernels import KernelSet, board_variant, choose_kernels
from tinygen.kernels.overlap import declare_overlaps
from tinygen.kernels.select import lower_graph
from tinygen.compiler import CompiledModel, compile_bytes
from tinygen.plan.arena import ALIGNMENT, ArenaPlan, Placement, check_no_overlap
from tinygen.plan.contracts import Allowance, lower_bound_bytes, overlap_allowances
from tinygen.plan.lifetimes import buffer_lifetimes, peak_live_bytes
from tinygen.schedule.lower import build_schedule
from tinygen.testing.compare import compare_on_host

from ops.test_add import binary_model
from ops.test_activations import activation_model
from ops.test_conv import conv_model
from ops.test_depthwise import dw_model
from ops.test_hard_swish import hard_swish_model
from ops.test_logistic import logistic_model
from ops.test_pad import pad_model
from ops.test_pooling import pool_model


def _align_down(value: int) -> int:
    return value // ALIGNMENT * ALIGNMENT


def tightest_delta(a: Allowance) -> int:
    """The allowed offset(output) - offset(input) that overlaps the most (aligned)."""
    d = _align_down(a.max_delta)
    assert a.min_delta is None or d >= a.min_delta, "no aligned placement meets the contract"
    return d


def tight_compile(model: bytes, kernel_set: KernelSet, inplace: bool, which: int = 0,
                  delta_change: int = 0, features: frozenset[str] = frozenset(),
                  exclude: frozenset[str] = frozenset()) -> CompiledModel:
    """One-operator model compiled with its output at the tightest distance from input `which`.
    features: then the registry's variants for a board with these ISA features (e.g. {"dsp"}), but
    those named in exclude."""
    graph = parse_tflite(model, name="model")
    lowered, _ = choose_kernels(graph, lower_graph(graph), kernel_set, frozenset())  # the portable twins
    if inplace:
        candidates = inplace_candidates(graph, lowered, over_graph_inputs=True)
        assert candidates, "no in-place variant applies"
        lowered = apply_inplace(lowered, candidates)
    if features:
        lowered = tuple(offer[0] if isinstance(c, KernelCall) and (offer := board_variant(graph, c, features, exclude))
                        else c for c in lowered)
    lowered = declare_overlaps(lowered)
    schedule = build_schedule(graph, lowered)
    buffers = buffer_lifetimes(schedule)
    allowances = overlap_allowances(schedule, buffers)
    assert allowances, "the kernel declares no overlap here"
    a = allowances[which]
    delta = tightest_delta(a) + delta_change
    by_key = {b.key: b for b in buffers}
    first, second = (a.input, a.output) if delta >= 0 else (a.output, a.input)
    placements = [Placement(by_key[first], 0), Placement(by_key[second], abs(delta))]
    end = max(p.end for p in placements)
    for b in buffers:
        if b.key not in (a.input, a.output):
            end = (end + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
            placements.append(Placement(b, end))
            end += b.size
    arena = (end + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT
    plan = ArenaPlan(tuple(placements), arena, peak_live_bytes(buffers), "tightest", 0, allowances,
                     lower_bound_bytes(buffers, allowances))
    return CompiledModel(graph, lowered, schedule, plan, emit_model(graph, schedule, plan))


def extreme_records(compiled: CompiledModel) -> list[list[np.ndarray]]:
    records = random_records(compiled.graph, 2, 7)
    for fill in ("low", "high", "checker"):
        record = []
        for t in compiled.graph.input_tensors():
            info = np.iinfo(t.dtype.numpy)
            if fill == "checker":
                x = np.where(np.indices(t.shape).sum(axis=0) % 2 == 0, info.min, info.max)
            else:
                x = np.full(t.shape, info.min if fill == "low" else info.max)
            record.append(x.astype(t.dtype.numpy))
        records.append(record)
    return records


def check_tight(tmp_path, model: bytes, kernel_set: KernelSet, inplace: bool = False, which: int = 0,
                expect: str | None = None, features: frozenset[str] = frozenset(),
                exclude: frozenset[str] = frozenset(), delta_change: int = 0) -> CompiledModel:
    compiled = tight_compile(model, kernel_set, inplace, which, delta_change, features=features, exclude=exclude)
    check_no_overlap(compiled.plan)
    if expect is not None:
        assert any(isinstance(c, KernelCall) and c.function == expect for c in compiled.lowered)
    out_of_place = compile_bytes(model, kernel_set=kernel_set, overlaps=False)
    for name, each in (("tight", compiled), ("apart", out_of_place)):
        result = compare_on_host(model, tmp_path / name, records=extreme_records(each), compiled=each)
        assert result.tensors_compared > 0
        assert not result.mismatches, f"{name}:\n" + "\n".join(result.mismatches[:10])
    return compiled


def run_tight_on_board(tmp_path, monkeypatch, model_bytes: bytes, tight: CompiledModel, board: str) -> Path:
    """Build and run `tight` (a tight_compile of model_bytes: the build takes its plan) on an emulated
    board with its random and extreme records; asserts bit-exactness, returns the firmware's ELF."""
    from tinygen import jobs
    from tinygen.jobs import run_on_board

    check_no_overlap(tight.plan)
    monkeypatch.setattr(jobs, "compile_graph", lambda graph, **options: tight)
    model = tmp_path / "model.tflite"  # the name tight_compile gives the graph
    model.write_bytes(model_bytes)
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, np.stack([r[0] for r in extreme_records(tight)]))
    report = run_on_board(model, board, tmp_path / "build", inputs_file=inputs, timeout_s=120)
    assert report.bit_exact, report.first_mismatch
    return next((tmp_path / "build").rglob("*.elf"))


SETS = [KernelSet.OPTIMISED, KernelSet.REFERENCE]

CONV_CASES = [
    dict(),
    dict(kernel=(1, 1), in_c=8, out_c=16),
    dict(stride=(2, 2), padding="SAME"),
    dict(stride=(1, 3), kernel=(3, 5), in_hw=(8, 12)),
    dict(dilation=(2, 2), padding="SAME", in_hw=(11, 11)),
    dict(batch=2),
    dict(in_c=7, out_c=5, kernel=(3, 3), padding="SAME", in_hw=(6, 9)),
    dict(kernel=(10, 4), in_hw=(49, 10), in_c=1, out_c=8, stride=(2, 2)),
]


@pytest.mark.parametrize("kernel_set", SETS, ids=lambda k: k.value)
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_conv_over_its_input(tmp_path, case, kernel_set):
    check_tight(tmp_path, conv_model(3, **case), kernel_set)


DW_CASES = [dict(), dict(stride=(2, 2)), dict(dilation=(2, 2), in_hw=(11, 11)), dict(multiplier=2),
            dict(padding="VALID", in_hw=(10, 7), in_c=5)]


@pytest.mark.parametrize("kernel_set", SETS, ids=lambda k: k.value)
@pytest.mark.parametrize("case", DW_CASES, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_depthwise_over_its_input(tmp_path, case, kernel_set):
    check_tight(tmp_path, dw_model(5, **case), kernel_set)


@pytest.mark.parametrize("case", [dict(), dict(stride=(2, 2)), dict(in_hw=(5, 5), in_c=64), dict(batch=2),
                                  dict(kernel=(5, 5), in_hw=(7, 6), in_c=6, stride=(1, 2), padding="VALID")],
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_depthwise_in_place(tmp_path, case):
    compiled = check_tight(tmp_path, dw_model(11, **case), KernelSet.OPTIMISED, inplace=True,
                           expect="tg_depthwise_conv_s8_inplace")
    placed = {p.buffer.key: p.offset for p in compiled.plan.placements}
    a = compiled.plan.allowances[0]
    assert placed[a.input] == placed[a.output]  # exactly over its input


@pytest.mark.parametrize("kernel_set", SETS, ids=lambda k: k.value)
@pytest.mark.parametrize("case", [dict(in_c=16, out_c=16), dict(in_c=16, out_c=9), dict(in_c=8, out_c=8, batch=2)],
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()))
def test_pointwise_conv_in_place(tmp_path, case, kernel_set):
    expect = "tg_conv_1x1_s8_inplace" if kernel_set is KernelSet.OPTIMISED else "tg_conv_1x1_s8_inplace_ref"
    check_tight(tmp_path, conv_model(13, kernel=(1, 1), in_hw=(5, 4), **case), kernel_set, inplace=True,
                expect=expect)


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("case", [dict(), dict(filter_hw=(3, 3), stride=(1, 1), padding="SAME"),
                                  dict(filter_hw=(3, 2), stride=(2, 1), in_hw=(9, 7), padding="SAME")],
                         ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_pooling_over_its_input(tmp_path, op, case):
    check_tight(tmp_path, pool_model(op, 17, **case), KernelSet.OPTIMISED)


@pytest.mark.parametrize("case", [dict(), dict(shape=(1, 6, 5, 4), paddings=((0, 0), (2, 0), (0, 3), (1, 1)))],
                         ids=["default", "uneven"])
def test_pad_over_its_input(tmp_path, case):
    check_tight(tmp_path, pad_model(19, **case), KernelSet.OPTIMISED)


@pytest.mark.parametrize("which", [0, 1], ids=["over-input1", "over-input2"])
@pytest.mark.parametrize("op", ["ADD", "MUL"])
def test_binary_over_either_input(tmp_path, op, which):
    check_tight(tmp_path, binary_model(op, 23, shape1=(1, 4, 4, 8), activation="RELU"), KernelSet.OPTIMISED,
                which=which)


ACTIVATIONS = {
    "relu": lambda: activation_model("RELU", shape=(1, 6, 6, 4), in_quant=(0.05, -20), out_quant=(0.03, 5)),
    "relu6": lambda: activation_model("RELU6", shape=(1, 6, 6, 4), in_quant=(0.05, -20)),
    "logistic": lambda: logistic_model(shape=(1, 6, 6, 4)),
    "hard_swish": lambda: hard_swish_model(shape=(1, 6, 6, 4)),
}


@pytest.mark.parametrize("op", sorted(ACTIVATIONS))
def test_activation_over_its_input(tmp_path, op):
    check_tight(tmp_path, ACTIVATIONS[op](), KernelSet.OPTIMISED)


def test_the_check_refuses_a_placement_beyond_the_contract():
    compiled = tight_compile(conv_model(3), KernelSet.OPTIMISED, inplace=False)
    check_no_overlap(compiled.plan)
    beyond = tight_compile(conv_model(3), KernelSet.OPTIMISED, inplace=False, delta_change=ALIGNMENT)
    with pytest.raises(AssertionError, match="beyond their kernel's overlap contract"):
        check_no_overlap(beyond.plan)
    # An in-place kernel that must sit exactly over its input refuses any other overlap.
    inplace = tight_compile(dw_model(11), KernelSet.OPTIMISED, inplace=True, delta_change=-ALIGNMENT)
    with pytest.raises(AssertionError, match="beyond their kernel's overlap contract"):
        check_no_overlap(inplace.plan)


def test_without_overlaps_nothing_shares_a_byte():
    compiled = compile_bytes(conv_model(3), overlaps=False)
    assert compiled.plan.allowances == ()
    assert not any("inplace" in c.function for c in compiled.lowered if isinstance(c, KernelCall))
    assert compiled.plan.arena_bytes >= compiled.plan.peak_live_bytes
    overlapped = compile_bytes(conv_model(3))
    assert overlapped.plan.arena_bytes < compiled.plan.arena_bytes
    assert dataclasses.replace(overlapped.plan, placements=()).lower_bound_bytes <= overlapped.plan.arena_bytes


@pytest.mark.parametrize("model, inplace", [(lambda: conv_model(3), False), (lambda: dw_model(11), True)],
                         ids=["conv-lag", "depthwise-in-place"])
def test_breaking_the_contract_changes_the_bits(tmp_path, model, inplace):
    """The contracts are tight, not vacuous: two alignment steps past max_delta, outputs go wrong."""
    compiled = tight_compile(model(), KernelSet.OPTIMISED, inplace, delta_change=2 * ALIGNMENT)
    result = compare_on_host(model(), tmp_path, records=extreme_records(compiled), compiled=compiled)
    assert result.mismatches
