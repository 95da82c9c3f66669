"""Trace builds on several cores (issue 12): `tinygen run --trace --cores N` runs the same split as the
untraced firmware and sends every tensor once every core's share of it is written; each is compared
with TFLite Micro's, and a tensor the build should send but does not is a failure too."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import mlperf_model
from tinygen import jobs
from tinygen.codegen.emit import emit_model
from tinygen.compiler import CompiledModel, compile_graph
from tinygen.frontend.tflite_reader import parse_tflite
from tinygen.jobs import build_for_board, read_model_source, run_on_board
from tinygen.schedule.cores import CoreSplit, SplitItem
from tinygen.schedule.ir import Step
from tinygen.schedule.patches import PatchRequest
from tinygen.schedule.trace import traced_tensors

TRACE_CALL = re.compile(r"TG_TRACE_TENSOR\(\d+, (\d+),")


def traced_in_source(compiled: CompiledModel) -> set[int]:
    """The tensors the generated C sends (TG_TRACE_TENSOR's second argument)."""
    return {int(m) for _, text in compiled.sources.files for m in TRACE_CALL.findall(text)}


@pytest.mark.parametrize("cores,grow_arena", [(2, True), (3, True), (4, False)])
def test_the_split_sends_the_tensors_the_one_core_trace_sends(cores, grow_arena):
    graph = read_model_source(mlperf_model("kws")).graph
    single = compile_graph(graph)
    split = compile_graph(graph, cores=cores, grow_arena=grow_arena)
    assert split.core_split is not None and split.core_split.barriers > 0
    expected = traced_tensors(graph, single.schedule)
    assert traced_tensors(graph, split.schedule) == expected == traced_in_source(split) == traced_in_source(single)
    assert len(expected) == len(graph.operators) == 13  # KWS: each operator's output (the model's output too)


def test_the_state_an_operator_keeps_is_sent_on_several_cores_too():
    from ops.test_svdf import svdf_model  # tests/ is on sys.path

    data = svdf_model(np.random.default_rng(3), 1, 12, 3, 2, 4, np.int16, 3, -5, 0)
    graph = parse_tflite(data, name="svdf")
    state = {t.index for t in graph.tensors if t.variable}
    for cores in (1, 2):
        compiled = compile_graph(graph, cores=cores)
        sent = traced_in_source(compiled)
        assert state and state <= sent and sent == traced_tensors(graph, compiled.schedule)


def shares(split: CoreSplit) -> tuple:
    """Each item's barrier and each core's work: function, views and cost (the kernel arguments
    hold numpy arrays, which do not compare as a whole; the views and the C text say the rest)."""
    return tuple((s.item, s.how, s.barrier_before,
                  tuple((c.core, c.cost, tuple((w.call.function, w.views) if isinstance(w, Step) else w for w in c.work))
                        for c in s.shares))
                 for s in split.items)


def _last_row_band(split: CoreSplit) -> tuple[SplitItem, Step]:
    """The first step split by rows: its item and its last core's share."""
    item = next(s for s in split.items if s.how == "rows" and len(s.shares) > 1)
    return item, item.shares[-1].work[0]


def _band_moved_up_one_row(compiled: CompiledModel) -> tuple[CompiledModel, int]:
    """The model with one core's band of rows written one row too high (its last row left stale):
    a wrong share. Returns the model and the tensor that share writes."""
    split = compiled.core_split
    item, step = _last_row_band(split)
    tensor = step.call.writes[0]
    name, out = next((n, v) for n, v in step.views if v.buffer in step.writes)
    row_bytes = out.strides[1] * np.dtype(compiled.graph.tensor(tensor).dtype.numpy).itemsize
    wrong_step = dataclasses.replace(step, views=tuple(
        (n, dataclasses.replace(v, offset=v.offset - row_bytes) if n == name else v) for n, v in step.views))
    wrong_share = dataclasses.replace(item.shares[-1], work=(wrong_step,) + item.shares[-1].work[1:])
    wrong_item = dataclasses.replace(item, shares=item.shares[:-1] + (wrong_share,))
    wrong_split = dataclasses.replace(split, items=tuple(wrong_item if s is item else s for s in split.items))
    sources = emit_model(compiled.graph, compiled.schedule, compiled.plan, wrong_split)
    return dataclasses.replace(compiled, sources=sources, core_split=wrong_split), tensor


@pytest.mark.qemu
def test_kws_traced_on_two_cortex_m33_is_bit_exact_on_every_tensor_with_the_untraced_split(tmp_path):
    model = mlperf_model("kws")
    report = run_on_board(model, "mps2-an521", tmp_path / "traced", random_count=2, seed=5, cores=2, trace=True,
                          timeout_s=600)
    assert report.bit_exact and report.first_mismatch == "" and all(r.max_abs_diff == 0 for r in report.results)
    graph = read_model_source(model).graph
    assert report.tensors_compared == 2 * (len(traced_tensors(graph, compile_graph(graph).schedule)) + len(graph.outputs))
    traced = build_for_board(model, "mps2-an521", tmp_path / "traced", cores=2, trace=True)
    plain = build_for_board(model, "mps2-an521", tmp_path / "plain", cores=2)
    assert traced.reused and not plain.trace
    assert shares(traced.compiled.core_split) == shares(plain.compiled.core_split)
    assert traced.compiled.core_split.plan == plain.compiled.core_split.plan
    assert any(len(s.shares) > 1 for s in plain.compiled.core_split.items)
    source = Path("model") / f"{graph.name}.c"
    assert (tmp_path / "traced" / source).read_text() == (tmp_path / "plain" / source).read_text()


@pytest.mark.qemu
def test_a_wrong_share_is_caught_by_the_traced_run(tmp_path, monkeypatch):
    """One core's band written a row too high: the tensor it writes differs, and is named first."""
    victims = []

    def compile_with_a_wrong_share(*args, **kwargs) -> CompiledModel:
        wrong, tensor = _band_moved_up_one_row(compile_graph(*args, **kwargs))
        victims.append(tensor)
        return wrong

    monkeypatch.setattr(jobs, "compile_graph", compile_with_a_wrong_share)
    report = run_on_board(mlperf_model("kws"), "mps2-an521", tmp_path / "wrong", random_count=1, seed=5, cores=2,
                          trace=True, timeout_s=600)
    assert not report.bit_exact
    assert report.first_mismatch.startswith(f"input 0: tensor {victims[0]} "), report.first_mismatch


@pytest.mark.long
@pytest.mark.qemu
@pytest.mark.parametrize("board,cores", [("mps2-an521", 2), ("riscv32-virt-2", 2), ("riscv32-virt-4", 4),
                                         ("riscv32-virt-4", 3)])
@pytest.mark.parametrize("key", ["ad", "ic", "kws", "vww"])
def test_mlperf_traced_on_every_core_count(tmp_path, board, cores, key):
    """Every tensor of every MLPerf Tiny model bit-exact on the emulated multicore boards, the split
    as `tinygen run` makes it (patches where they pay)."""
    model = mlperf_model(key)
    report = run_on_board(model, board, tmp_path / "fw", random_count=1, seed=3, timeout_s=1800,
                          patch=PatchRequest.parse("auto"), cores=cores, trace=True)
    assert report.bit_exact, report.first_mismatch
    assert report.tensors_compared > len(read_model_source(model).graph.outputs)


@pytest.mark.long
@pytest.mark.qemu
@pytest.mark.parametrize("key", ["ad", "ic", "kws", "vww"])
def test_mlperf_traced_on_two_cores_with_the_arena_grown(tmp_path, key):
    """--grow-arena: no in-place kernels, no output over its input where a step splits into bands
    (the default keeps them: test_mlperf_traced_on_every_core_count)."""
    model = mlperf_model(key)
    report = run_on_board(model, "mps2-an521", tmp_path / "fw", random_count=1, seed=3, timeout_s=1800,
                          patch=PatchRequest.parse("auto"), cores=2, grow_arena=True, trace=True)
    assert report.bit_exact, report.first_mismatch
    assert report.tensors_compared > len(read_model_source(model).graph.outputs)
