"""Guard bytes (--debug-guards): a buffer's neighbours stay untouched, or invoke() names the culprit.

The proof uses a real overflow: the digits example compiled as usual, then its FULLY_CONNECTED
call re-emitted with one output channel more than its output tensor holds, so the kernel writes
one byte past the end of its output, exactly what a lowering bug with a wrong dimension does.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import DIGITS_MODEL as DIGITS, MLPERF_MODELS, mlperf_model

from tinygen.build.host import InvokeStatusError, build_host_binary, run_host_binary
from tinygen.codegen.emit import emit_model
from tinygen.codegen.sources import GeneratedSources
from tinygen.device.status import describe_status, guard_violation
from tinygen.errors import DeviceError
from tinygen.inputs import random_records
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.passes.choose_kernels import KernelSet
from tinygen.compiler import CompiledModel, compile_file
from tinygen.plan.arena import ArenaPlan

GUARD = 16
FC_OP, FC_OUTPUT = 7, 19  # digits: operator #7 FULLY_CONNECTED writes tensor 19 (10 logits)


def corrupted(compiled: CompiledModel, function: str, change: Callable[[KernelArg], KernelArg],
              op_index: int | None = None) -> GeneratedSources:
    """The model's sources with every argument of every call of `function` (of operator op_index
    alone, if given) passed through `change`."""
    def edit(item):
        if isinstance(item, KernelCall) and item.function == function and op_index in (None, item.op_index):
            return dataclasses.replace(item, args=tuple(change(a) for a in item.args))
        return item

    lowered = tuple(edit(item) for item in compiled.lowered)
    assert lowered != compiled.lowered
    return emit_model(compiled.graph, lowered, compiled.plan)


def one_more(name: str) -> Callable[[KernelArg], KernelArg]:
    return lambda a: KernelArg(a.name, a.value + 1) if a.name == name else a


def run_on_host(sources: GeneratedSources, compiled: CompiledModel, work: Path, sanitize: bool = False) -> list[bytes]:
    binary = build_host_binary(sources, work, compiled.input_bytes, compiled.output_bytes, trace=False,
                               sanitize=sanitize)
    records = [[np.ascontiguousarray(x).tobytes() for x in r] for r in random_records(compiled.graph, 2, 0)]
    return run_host_binary(binary, records, trace=False).outputs[0]


def _extents(plan: ArenaPlan):
    g = plan.guard_bytes
    return [(p, p.offset - g, p.end + g) for p in plan.placements]


@pytest.mark.parametrize("key", sorted(MLPERF_MODELS))
def test_guards_are_reserved_and_cost_nothing_when_off(key):
    plain = compile_file(mlperf_model(key))
    guarded = compile_file(mlperf_model(key), guard_bytes=GUARD)
    assert guarded.plan.guard_bytes == GUARD and plain.plan.guard_bytes == 0
    # Every buffer's guards are its own while it lives: no buffer live at the same time touches them.
    for i, (a, a_lo, a_hi) in enumerate(_extents(guarded.plan)):
        assert a_lo >= 0 and a_hi <= guarded.plan.arena_bytes
        for b, b_lo, b_hi in _extents(guarded.plan)[i + 1:]:
            if a.buffer.overlaps_in_time(b.buffer):
                assert a_hi <= b_lo or b_hi <= a_lo, (a.buffer.label, b.buffer.label)
    # Off: the same plan and not a trace of guard code in what is generated.
    assert compile_file(mlperf_model(key), guard_bytes=0).sources == plain.sources
    assert all("guard" not in text for _, text in plain.sources.files)
    assert all("tg_guard_leave" in text for name, text in guarded.sources.files if name.endswith(".c"))


def test_guarded_build_gives_the_same_outputs_on_the_host(tmp_path):
    plain, guarded = compile_file(DIGITS), compile_file(DIGITS, guard_bytes=GUARD)
    assert (run_on_host(plain.sources, plain, tmp_path / "plain")
            == run_on_host(guarded.sources, guarded, tmp_path / "guarded"))


def test_guards_catch_a_one_byte_overflow_on_the_host(tmp_path):
    compiled = compile_file(DIGITS, guard_bytes=GUARD)
    with pytest.raises(InvokeStatusError) as caught:
        run_on_host(corrupted(compiled, "tg_fully_connected_s8_dsp_packed", one_more("output_depth"), FC_OP), compiled,
                    tmp_path)
    violation = guard_violation(caught.value.status)
    assert violation is not None
    assert (violation.op_index, violation.tensor_index, violation.below) == (FC_OP, FC_OUTPUT, False)
    message = describe_status(caught.value.status, compiled.graph)
    assert message.startswith(f"operator #{FC_OP} FULLY_CONNECTED wrote outside its buffers: the guard bytes after "
                              f"tensor {FC_OUTPUT} '{compiled.graph.tensor(FC_OUTPUT).name}' changed")

    # Without guards the same bug goes unnoticed: the stray byte lands in the arena.
    plain = compile_file(DIGITS)
    run_on_host(corrupted(plain, "tg_fully_connected_s8_dsp_packed", one_more("output_depth"), FC_OP), plain,
                tmp_path / "plain")


def test_status_of_an_ordinary_failure_is_left_alone():
    assert guard_violation(0) is None and guard_violation(-3) is None and guard_violation(5) is None
    assert describe_status(5) == "invoke() returned status 5"
    assert describe_status(0x40000000 | 0x20000000 | 3 << 16 | 0xFFFF) == (
        "operator #3 wrote outside its buffers: the guard bytes before its scratch buffer changed "
        "(invoke status 0x6003ffff)")


@pytest.mark.qemu
def test_guards_catch_the_overflow_in_qemu_as_one_line(tmp_path, monkeypatch):
    from tinygen import jobs

    real_compile = jobs.compile_graph

    def compile_with_bug(graph, arena_budget=None, guard_bytes=0, kernel_set=KernelSet.OPTIMISED, **options):
        compiled = real_compile(graph, arena_budget, guard_bytes, kernel_set, **options)
        return dataclasses.replace(compiled, sources=corrupted(compiled, "tg_fully_connected_s8_dsp_packed",
                                                               one_more("output_depth"), FC_OP))

    monkeypatch.setattr(jobs, "compile_graph", compile_with_bug)
    with pytest.raises(DeviceError) as caught:
        jobs.run_on_board(DIGITS, "mps2-an386", tmp_path / "fw", random_count=1, timeout_s=60, guard_bytes=GUARD)
    line = caught.value.one_line()
    assert "\n" not in line
    assert line.startswith(f"tinygen: device: digits_cnn_int8 on mps2-an386: operator #{FC_OP} FULLY_CONNECTED "
                           f"wrote outside its buffers: the guard bytes after tensor {FC_OUTPUT} '")


@pytest.mark.qemu
def test_run_with_debug_guards_is_bit_exact_and_says_what_it_costs(tmp_path):
    reports = {}
    for flag in ("", "--debug-guards"):
        proc = subprocess.run([sys.executable, "-m", "tinygen.cli", "run", str(DIGITS), "--random", "2", "--json",
                               "-o", str(tmp_path / f"out{flag}"), *([flag] if flag else []),
                               "--patch", "none"],  # whole tensors: 9 operators, 9 checks (patches check per call)
                              capture_output=True, text=True, timeout=600, check=False)
        assert proc.returncode == 0, proc.stderr
        reports[flag] = json.loads(proc.stdout)
    plain, guarded = reports[""], reports["--debug-guards"]
    assert plain["bit_exact"] and guarded["bit_exact"]
    assert guarded["arena_bytes"] > plain["arena_bytes"]
    # Filling and checking 2 x 16 bytes per live buffer after each of 9 operators: well under 5 %.
    assert plain["instructions"] < guarded["instructions"] < plain["instructions"] * 1.05
    manifest = json.loads((tmp_path / "out--debug-guards" / "tinygen.json").read_text())
    assert manifest["guard_bytes"] == GUARD
