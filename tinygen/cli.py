"""The `tinygen` command: build, run, inspect, boards, doctor.

Every failure caused by the user's input is a TinygenError: one line on stderr, exit code 2.
Anything else is a tinygen bug: one line naming it, exit code 3 (TINYGEN_DEBUG=1 re-raises it).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from tinygen import __version__
from tinygen.errors import EXIT_CODE, TinygenError

if TYPE_CHECKING:
    from tinygen.build.stack import StackReport
    from tinygen.passes.choose_kernels import KernelSet
    from tinygen.schedule.patches import PatchRequest

DEFAULT_BOARD = "mps2-an386"
DEBUG_GUARD_BYTES = 16  # --debug-guards: checked bytes before and after every arena buffer
_debug_guards = click.option("--debug-guards", is_flag=True,
                             help=f"Debug build: {DEBUG_GUARD_BYTES} guard bytes around every buffer, checked after "
                                  "each operator; invoke() fails naming the operator that wrote outside its buffers.")
_kernels = click.option("--kernels", "kernel_set", type=click.Choice(["optimised", "reference", "fastest"]),
                        default="optimised", show_default=True,
                        help="optimised: the board's faster variants of the reference kernels where they apply "
                             "(same bits) and do not raise the arena; reference: runtime_c's TFLM-shaped kernels "
                             "only; fastest: the board's variants wherever they apply, arena aside.")
_patch = click.option("--patch", "patch_text", default="auto", show_default=True, metavar="auto|none|SPLIT:ROWSxCOLS",
                      help="Run the first SPLIT operators patch by patch over a ROWSxCOLS grid of their output "
                           "(MCUNetV2). auto: the split and grid of least RAM within --max-overhead, used where "
                           "it lowers the arena, or the cheapest that fits the board; none: whole tensors.")
_max_overhead = click.option("--max-overhead", default=20.0, show_default=True, type=click.FloatRange(min=0),
                             help="--patch auto: the most extra MACs (recomputed patch borders) to spend, in % "
                                  "of the model's.")
_flash_budget = click.option("--flash-budget", "flash_budget", type=click.IntRange(min=1), metavar="BYTES",
                              help="Firmware flash (estimated) the kernel variants' own data (wide variants: "
                                   "weights widened to int16) must keep the model within [default: the board's].")
_cores = click.option("--cores", "cores", type=click.IntRange(min=1), metavar="N",
                      help="Split every operator across N cores (rows, elements or whole patches, by a cost "
                           "model), barriers only where a core reads what another wrote [default: the board's "
                           "cores where its port runs them, else 1].")
_grow_arena = click.option("--grow-arena", "grow_arena", is_flag=True,
                           help="With several cores: speed first, the arena may grow (no in-place kernels, no "
                                "output over its input where a step splits). By default the single-core arena "
                                "plan is kept and grows only by the cores' own scratch.")
INTERNAL_ERROR_EXIT = 3

stdout = Console(highlight=False)
stderr = Console(stderr=True, highlight=False)


def _fail(message: str, code: int) -> None:
    """One line, never wrapped (rich would wrap at the terminal width), then exit."""
    sys.stderr.write(" ".join(message.split()) + "\n")
    sys.exit(code)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tinygen")
def cli() -> None:
    """Compile TFLite int8 models to static C and check them on a board, bit for bit against TFLite Micro."""


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", default=DEFAULT_BOARD, show_default=True, help="Board name or board file.")
@click.option("--output", "-o", "out_dir", type=click.Path(path_type=Path), help="Output directory [default: build/<model>-<board>].")
@_debug_guards
@_kernels
@_patch
@_max_overhead
@_flash_budget
@_cores
@_grow_arena
@click.option("--framework", help="Real boards: the PlatformIO framework (arduino by default; espidf, zephyr where "
                                  "the board offers them).")
@click.option("--platformio", "use_platformio", is_flag=True,
              help="Emulated boards: write a PlatformIO project and build it offline with `pio run` "
                   "(real boards always get one).")
def build(model: Path, board: str, out_dir: Path | None, debug_guards: bool, kernel_set: str, patch_text: str,
          max_overhead: float, flash_budget: int | None, cores: int | None, grow_arena: bool, framework: str | None,
          use_platformio: bool) -> None:
    """Generate the C library and firmware for MODEL and compile it.

    For a real board (not emulated) the result is a PlatformIO project; `pio run` builds it when
    PlatformIO's registry is reachable. When it is not, the project is kept, one line on stderr
    says what to run on a connected machine, and the exit code is 0: the project is the product.
    A failed `pio run` exits with 2.
    """
    from tinygen.boards.catalog import load_board
    from tinygen.jobs import build_for_board
    from tinygen.passes.choose_kernels import KernelSet
    from tinygen.schedule.patches import PatchRequest

    if framework or use_platformio or not load_board(board).emulated:
        if debug_guards:
            raise click.UsageError("--debug-guards builds the Makefile firmware of an emulated board only")
        _build_platformio(model, board, out_dir, framework, KernelSet(kernel_set), cores, grow_arena,
                          PatchRequest.parse(patch_text), max_overhead / 100, flash_budget)
        return
    result = build_for_board(model, board, out_dir, announce=lambda m: stderr.print(m),
                             guard_bytes=DEBUG_GUARD_BYTES if debug_guards else 0, kernel_set=KernelSet(kernel_set),
                             patch=PatchRequest.parse(patch_text), max_overhead=max_overhead / 100,
                             flash_budget=flash_budget, cores=cores, grow_arena=grow_arena)
    stdout.print(f"[bold]{result.model_name}[/] for [bold]{result.board}[/]: "
                 f"arena {result.arena_bytes} B, flash {result.flash_bytes} B, RAM {result.ram_bytes} B")
    stdout.print(f"peak RAM (arena) {result.arena_bytes} B; lower bound {result.lower_bound_bytes} B")
    stdout.print(_patch_line(result.patch, result.mac_overhead))
    stdout.print(f"C library: {result.library_dir}")
    stdout.print(f"firmware:  {result.elf}")


def _build_platformio(model: Path, board: str, out_dir: Path | None, framework: str | None,
                      kernel_set: KernelSet, cores: int | None, grow_arena: bool, patch: PatchRequest,
                      max_overhead: float, flash_budget: int | None) -> None:
    from tinygen.jobs import build_platformio_project

    outcome = build_platformio_project(model, board, out_dir, framework, announce=lambda m: stderr.print(m),
                                       kernel_set=kernel_set, cores=cores, grow_arena=grow_arena, patch=patch,
                                       max_overhead=max_overhead, flash_budget=flash_budget)
    fit = outcome.fit
    on_cores = f", {outcome.cores} cores" if outcome.cores > 1 else ""
    stdout.print(f"[bold]{outcome.model_name}[/] for [bold]{outcome.board}[/] "
                 f"({outcome.project.framework or 'bare metal'}{on_cores}): arena {fit.arena_bytes} B; "
                 f"RAM {fit.ram_bytes} B of {fit.ram_budget_bytes} B, flash about {fit.flash_bytes} B of "
                 f"{fit.flash_budget_bytes} B", soft_wrap=True)
    stdout.print(f"PlatformIO project: {outcome.project.root}", soft_wrap=True)
    if outcome.elf is not None:
        sizes = f" (flash {outcome.sizes.flash_bytes} B, RAM {outcome.sizes.ram_bytes} B)" if outcome.sizes else ""
        stdout.print(f"firmware: {outcome.elf}{sizes}", soft_wrap=True)
    else:
        sys.stderr.write(f"tinygen: not built: {outcome.not_built_reason}\n")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", default=DEFAULT_BOARD, show_default=True, help="Board name or board file.")
@click.option("--inputs", "inputs_file", type=click.Path(path_type=Path), help=".npy (one input, or a stack) or .npz (one array per input).")
@click.option("--random", "random_count", type=click.IntRange(1, 10_000), help="Run N random inputs.")
@click.option("--seed", default=0, show_default=True, help="Seed of --random.")
@click.option("--output", "-o", "out_dir", type=click.Path(path_type=Path), help="Build directory [default: build/<model>-<board>].")
@click.option("--timeout", "timeout_s", default=300.0, show_default=True, type=click.FloatRange(min=0, min_open=True), help="Seconds before the board is given up on.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@_debug_guards
@_kernels
@_patch
@_max_overhead
@_flash_budget
@_cores
@_grow_arena
@click.option("--cycles", "count_cycles", is_flag=True,
              help="Also estimate Cortex-M4 cycles of each invoke() (QEMU plugin; docs/cycle-model.md).")
@click.option("--trace", is_flag=True,
              help="Firmware built with TG_TRACE: compare every tensor (not only the outputs) with TFLite Micro.")
def run(model: Path, board: str, inputs_file: Path | None, random_count: int | None, seed: int,
        out_dir: Path | None, timeout_s: float, as_json: bool, debug_guards: bool, kernel_set: str,
        patch_text: str, max_overhead: float, flash_budget: int | None, cores: int | None, grow_arena: bool,
        count_cycles: bool, trace: bool = False) -> None:
    """Build MODEL if needed, run it on BOARD and compare every output with TFLite Micro."""
    from tinygen.jobs import run_on_board
    from tinygen.passes.choose_kernels import KernelSet
    from tinygen.schedule.patches import PatchRequest

    if inputs_file is not None and random_count is not None:
        raise click.UsageError("give --inputs or --random, not both")
    if count_cycles:
        from tinygen.boards.catalog import load_board
        from tinygen.device.cycles import CYCLE_MODEL_CORES

        cpu = load_board(board).core.cpu
        if cpu not in CYCLE_MODEL_CORES:
            raise TinygenError(f"--cycles: the cycle model is a Cortex-M4's, and board '{board}' has a {cpu}")
    announce = (lambda m: None) if as_json else (lambda m: stderr.print(m))
    report = run_on_board(model, board, out_dir, inputs_file=inputs_file, random_count=random_count or 3,
                          seed=seed, timeout_s=timeout_s, announce=announce,
                          guard_bytes=DEBUG_GUARD_BYTES if debug_guards else 0, kernel_set=KernelSet(kernel_set),
                          count_cycles=count_cycles, patch=PatchRequest.parse(patch_text),
                          max_overhead=max_overhead / 100, flash_budget=flash_budget, cores=cores,
                          grow_arena=grow_arena, trace=trace)
    if as_json:
        print(json.dumps(report.to_json()))
    else:
        table = Table(title=f"{report.model} on {report.board}")
        for column in ("input", "bit-exact", "max |diff|", "instructions"):
            table.add_column(column, justify="right")
        for i, r in enumerate(report.results):
            table.add_row(str(i), "[green]yes[/]" if r.bit_exact else "[red]NO[/]", f"{r.max_abs_diff:g}", f"{r.instructions:,}")
        stdout.print(table)
        for i, c in enumerate(report.cycles):
            stdout.print(f"input {i}: {c.cycles:,} estimated Cortex-M4 cycles ({c.cycles / c.instructions:.2f} per "
                         f"instruction; {c.taken_branches:,} taken branches)")
        stdout.print(f"arena {report.arena_bytes} B, flash {report.flash_bytes} B, RAM {report.ram_bytes} B")
        stdout.print(f"peak RAM (arena) {report.arena_bytes} B; lower bound {report.lower_bound_bytes} B")
        stdout.print(_patch_line(report.patch, report.mac_overhead))
        stdout.print(f"stack: invoke() used {report.stack_bytes} B (static bound {report.stack_bound_bytes} B); "
                     f"firmware peak {report.stack_peak_bytes} B (bound {report.firmware_stack_bound_bytes} B "
                     f"of {report.stack_reserved_bytes} B reserved)")
        if report.trace:
            stdout.print(f"{report.tensors_compared} tensors compared (every traced tensor and the outputs)")
            if report.first_mismatch:
                stdout.print(f"first differing tensor: {report.first_mismatch}")
        stdout.print("[bold green]bit-exact with TFLite Micro[/]" if report.bit_exact else "[bold red]NOT bit-exact[/]")
    if not report.bit_exact:
        sys.exit(1)


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--board", "-b", help="Also build the firmware for BOARD (in a temporary directory) and bound its stack.")
@_kernels
@_patch
@_max_overhead
@_flash_budget
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False),
              callback=lambda ctx, param, path: _writable_file(ctx, param, path),
              help="Also write a single-file HTML memory report here: live bytes per step, a plot, TFLM's plan.")
def inspect(model: Path, as_json: bool, board: str | None, kernel_set: str, patch_text: str,
            max_overhead: float, flash_budget: int | None, html_path: Path | None) -> None:
    """Show MODEL's operators, kernels and memory plan (and with --board, the stack bound)."""
    from tinygen.compiler import compile_file
    from tinygen.kernels.call import KernelCall
    from tinygen.passes.choose_kernels import KernelSet
    from tinygen.plan.lifetimes import alias_roots
    from tinygen.schedule.patches import PatchRequest, patch_facts
    from tinygen.boards.catalog import load_board

    compiled = compile_file(model, kernel_set=KernelSet(kernel_set), patch=PatchRequest.parse(patch_text),
                            max_overhead=max_overhead / 100, board=load_board(board) if board else None,
                            flash_budget=flash_budget)
    facts = patch_facts(compiled.patch, compiled.graph)
    stack = _stack_bound(model, board, KernelSet(kernel_set)) if board else None
    graph, plan = compiled.graph, compiled.plan
    offsets = compiled.tensor_offsets()
    kernels = {item.op_index: (item.function if isinstance(item, KernelCall) else "(alias)") for item in compiled.lowered}
    memory = _memory_report(model, compiled, html_path)
    why = {choice.op_index: choice.describe() for choice in compiled.choices}  # the variants considered
    if as_json:
        print(json.dumps({
            "model": graph.name, "sha256": graph.sha256, "arena_bytes": plan.arena_bytes,
            "peak_live_bytes": plan.peak_live_bytes, "lower_bound_bytes": plan.lower_bound_bytes,
            "operators": [{"index": op.index, "type": op.kind, "kernel": kernels.get(op.index, "(no code)"), "why": why.get(op.index, ""),
                           "output": list(graph.tensor(op.outputs[0]).shape) if op.outputs else [],
                           "output_offset": offsets.get(op.outputs[0]) if op.outputs else None}
                          for op in graph.operators],
            **({"stack": stack.to_json() | {"board": board}} if stack else {}),
            "memory": memory.to_json(),
            **facts,
        }))
        return
    table = Table(title=f"{graph.name} ({graph.sha256[:12]})")
    for column in ("#", "operator", "kernel", "output shape", "bytes", "arena offset"):
        table.add_column(column)
    roots = alias_roots(compiled.lowered)
    for op in graph.operators:
        if not op.outputs:  # ASSIGN_VARIABLE writes the state memory, not a tensor
            table.add_row(str(op.index), op.kind, kernels.get(op.index, "(no code)"), "(state)", "-", "-")
            continue
        out = graph.tensor(op.outputs[0])
        table.add_row(str(op.index), op.kind, kernels.get(op.index, "(no code)"), str(list(out.shape)), str(out.nbytes),
                      str(offsets.get(roots.get(out.index, out.index), offsets.get(out.index, "-"))))
    stdout.print(table)
    for op_index, reasons in why.items():  # the kernel variants each call could have had, and why it got its own
        stdout.print(f"#{op_index} {kernels[op_index]} <- {reasons}", soft_wrap=True, highlight=False)
    stdout.print(f"arena {plan.arena_bytes} B (lower bound {plan.lower_bound_bytes} B; whole tensors live at once: "
                 f"at most {plan.peak_live_bytes} B; placement '{plan.order}')")
    if memory.tflm_plan_bytes is not None:
        stdout.print(f"TFLite Micro's activation plan for this model: {memory.tflm_plan_bytes} B")
    stdout.print(_patch_line(facts["patch"], facts["mac_overhead"]))
    if stack:
        stdout.print(f"stack on {board}: invoke() at most {stack.invoke.bytes} B ({stack.invoke.describe()}); "
                     f"whole firmware at most {stack.firmware.bytes} B of {stack.reserved_bytes} B reserved")


def _memory_report(model: Path, compiled, html_path: Path | None):
    """The memory facts (tinygen/report/memory.py), written as a single-file HTML report when asked."""
    from tinygen.reference.tflm import tflm_arena_head_bytes
    from tinygen.report.memory import memory_report, render_html, render_plot_png

    try:
        tflm_plan = tflm_arena_head_bytes(Path(model).read_bytes())
    except RuntimeError:
        tflm_plan = None  # TFLM could not plan it: the report says "unknown"
    report = memory_report(compiled, tflm_plan)
    if html_path is not None:
        tmp = html_path.with_name(html_path.name + ".tmp")
        tmp.write_text(render_html(report, render_plot_png(report)), encoding="utf-8")
        tmp.replace(html_path)  # never a half-written report
        stderr.print(f"wrote {html_path}")
    return report


def _patch_line(patch: str, mac_overhead: float) -> str:
    if patch == "none":
        return "patches: none (whole tensors)"
    split = patch.split(":")[0]
    return f"patches: {patch} (the first {split} operators run patch by patch; MAC overhead {mac_overhead:.1%})"


def _stack_bound(model: Path, board: str, kernel_set: KernelSet) -> StackReport:
    """Build the firmware in a temporary directory and bound its stack from the .su files and the ELF."""
    from tinygen.boards.catalog import load_board
    from tinygen.build.stack import analyse_firmware
    from tinygen.jobs import build_for_board

    with tempfile.TemporaryDirectory(prefix="tinygen-inspect-") as tmp:
        outcome = build_for_board(model, board, Path(tmp) / "fw", kernel_set=kernel_set)
        return analyse_firmware(outcome.out_dir, load_board(board), outcome.model_name)


def _writable_file(ctx: click.Context, param: click.Parameter, path: Path | None) -> Path | None:
    """Checked before the benchmark's minutes of work, not when its report is written (beside it)."""
    if path is not None:
        try:
            with tempfile.TemporaryFile(dir=path.parent.resolve()):
                pass
        except OSError as e:
            raise click.BadParameter(f"cannot write {path}: {e.strerror or e}", ctx=ctx, param=param) from None
    return path


@cli.command()
@click.option("--models", "models_dir", type=click.Path(path_type=Path, file_okay=False),
              default=lambda: str(_default_models_dir()), show_default="../shared/models/mlperf_tiny",
              help="Folder holding the four MLPerf Tiny .tflite files.")
@click.option("--board", "-b", default=DEFAULT_BOARD, show_default=True)
@click.option("--write", "write_path", type=click.Path(path_type=Path, dir_okay=False), callback=_writable_file, help="Write the markdown report here (e.g. BENCHMARKS.md).")
@click.option("--build-root", type=click.Path(path_type=Path), default=Path("build/bench"), show_default=True)
@click.option("--cores", type=click.IntRange(min=2), default=None,
              help="Instead: each model on one core and split across N, the modelled N-core latency beside the "
                   "single-core instructions and the cost model's prediction (with --write: that section of the "
                   "report replaced or appended).")
@click.option("--model", "model_keys", multiple=True, type=click.Choice(["AD", "IC", "KWS", "VWW"]),
              help="With --cores: only these models (repeatable).")
def bench(models_dir: Path, board: str, write_path: Path | None, build_root: Path, cores: int | None,
          model_keys: tuple[str, ...]) -> None:
    """Measure the MLPerf Tiny models on BOARD: instructions, estimated Cortex-M4 cycles (M4 boards only),
    MACs per cycle, arena, flash, RAM; anchors beside."""
    from tinygen.bench import render_markdown, run_benchmark, written_report

    if cores is not None:
        _bench_cores(models_dir, board, write_path, build_root, cores, model_keys)
        return

    rows = run_benchmark(models_dir, board, build_root, announce=lambda m: stderr.print(m))
    command = f"tinygen bench --board {board}" + (f" --write {write_path}" if write_path else "")
    text = render_markdown(rows, board, command)
    if write_path:
        tmp = write_path.with_name(write_path.name + ".tmp")
        tmp.write_text(written_report(write_path, rows, board, command, text), encoding="utf-8")
        tmp.replace(write_path)  # never a half-written report
        stderr.print(f"wrote {write_path}")
    print(text)
    if not all(r.bit_exact for r in rows):
        raise TinygenError("a benchmark model was not bit-exact with TFLite Micro")


def _bench_cores(models_dir: Path, board: str, write_path: Path | None, build_root: Path, cores: int,
                 model_keys: tuple[str, ...]) -> None:
    from tinygen.bench import render_cores_markdown, run_core_benchmark, with_cores_section

    rows = run_core_benchmark(models_dir, board, cores, build_root, announce=lambda m: stderr.print(m),
                              keys=model_keys or None)
    command = (f"tinygen bench --board {board} --cores {cores}" + "".join(f" --model {k}" for k in model_keys)
               + (f" --write {write_path}" if write_path else ""))
    text = render_cores_markdown(rows, board, cores, command)
    if write_path:
        existing = write_path.read_text(encoding="utf-8") if write_path.is_file() else ""
        tmp = write_path.with_name(write_path.name + ".tmp")
        tmp.write_text(with_cores_section(existing, text), encoding="utf-8")
        tmp.replace(write_path)  # never a half-written report
        stderr.print(f"wrote {write_path}")
    print(text)
    if not all(r.bit_exact for r in rows):
        raise TinygenError("a benchmark model was not bit-exact with TFLite Micro")


def _default_models_dir() -> Path:
    from tinygen.resources import ROOT

    return ROOT.parent / "shared" / "models" / "mlperf_tiny"


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--arduino", "kind", flag_value="arduino", help="An Arduino library: library.properties, src/, "
                                                                "examples/<model>/<model>.ino.")
@click.option("--platformio-lib", "kind", flag_value="platformio", help="A PlatformIO library: library.json, src/.")
@click.option("--output", "-o", "out_dir", type=click.Path(path_type=Path), required=True, help="Library directory.")
@click.option("--board", "-b", help="Also check that the model fits BOARD (RAM and flash), before writing.")
@click.option("--framework", help="--platformio-lib for a --board: the framework the application uses [default: the "
                                  "board's]; its port starts the other cores.")
@_kernels
@_cores
@_grow_arena
def export(model: Path, kind: str | None, out_dir: Path, board: str | None, framework: str | None, kernel_set: str,
           cores: int | None, grow_arena: bool) -> None:
    """Write MODEL's C library alone, for an application of your own."""
    from tinygen.boards.catalog import load_board
    from tinygen.boards.fit import check_fit
    from tinygen.passes.choose_kernels import KernelSet
    from tinygen.compiler import compile_file
    from tinygen.project.arduino import export_library, library_cores, library_port

    if kind is None:
        raise click.UsageError("say which library: --arduino or --platformio-lib")
    if framework and not board:
        raise click.UsageError(f"--framework {framework}: name the --board it is for")
    if framework and kind == "arduino" and framework != "arduino":
        raise click.UsageError(f"--framework {framework}: an Arduino library is for the arduino framework")
    target = load_board(board) if board else None
    port = library_port(target, kind == "arduino", framework) if target else None
    cores = library_cores(target, port, cores)
    compiled = compile_file(model, kernel_set=KernelSet(kernel_set), board=target, cores=cores, grow_arena=grow_arena)
    if target:
        check_fit(target, compiled.graph, compiled.plan, compiled.lowered)
    root = export_library(out_dir, compiled.sources, compiled.graph.sha256, arduino=kind == "arduino", cores=cores,
                          smp_port=port)
    on_cores = f", {cores} cores" if cores > 1 else ""
    stdout.print(f"[bold]{compiled.graph.name}[/]: {'Arduino' if kind == 'arduino' else 'PlatformIO'} library in {root} "
                 f"(arena {compiled.plan.arena_bytes} B{on_cores})", soft_wrap=True)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print every board file as one JSON array on stdout.")
def boards(as_json: bool) -> None:
    """List the boards tinygen knows: emulated ones it runs, real ones it writes projects for."""
    from tinygen.boards.catalog import list_boards

    known = list_boards()
    if as_json:
        print(json.dumps([b.model_dump(mode="json") for b in known]))
        return
    table = Table()
    table.add_column("board", no_wrap=True)
    for column in ("core", "RAM", "flash"):
        table.add_column(column)
    table.add_column("built by", overflow="fold")
    for b in known:
        cores = f"{b.core.count}x {b.core.cpu}" if b.core.count > 1 else b.core.cpu
        built_by = f"QEMU {b.qemu.machine}" if b.qemu else (
            f"PlatformIO {b.platformio.platform}/{b.platformio.board}" if b.platformio else "-")
        table.add_row(b.name, f"{cores}, {b.core.clock_hz / 1e6:g} MHz", f"{b.ram_budget_bytes // 1024} KiB",
                      f"{b.memory.flash_budget // 1024} KiB", built_by)
    stdout.print(table)


@cli.command()
def doctor() -> None:
    """Check that the toolchains, QEMU and Python packages tinygen needs are installed."""
    from tinygen.doctor import run_checks

    checks = run_checks()
    table = Table()
    for column in ("check", "status", "detail"):
        table.add_column(column)
    for c in checks:
        table.add_row(c.name, "[green]ok[/]" if c.ok else "[red]missing[/]", c.detail)
    stdout.print(table)
    if not all(c.ok for c in checks):
        raise TinygenError("some requirements are missing; run ./setup.sh")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", default=DEFAULT_BOARD, show_default=True, help="Board name or board file.")
@click.option("--data", "data_path", required=True, type=click.Path(path_type=Path),
              help="Test vectors: an .npz (one array per input, first axis the vectors) or a folder of .npy/.npz, one per vector.")
@click.option("--port", help="Serial URL of a board already running the firmware (/dev/ttyACM0, socket://HOST:PORT); "
                             "default: build it and start it in QEMU.")
@click.option("--junit", "junit_path", type=click.Path(path_type=Path, dir_okay=False), callback=_writable_file,
              help="Write a JUnit XML report here.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object on stdout.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar: only the summary line (for CI logs).")
@click.option("--output", "-o", "out_dir", type=click.Path(path_type=Path), help="Build directory [default: build/<model>-<board>].")
@click.option("--timeout", "timeout_s", default=60.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="Seconds a board may stay silent before it is given up on.")
@click.option("--line-faults", help="Inject faults on the serial line, e.g. corrupt=0.01,drop=0.001,seed=1 "
                                    "(a proxy between host and board; socket:// lines only).")
@click.option("--flash", is_flag=True, help="With --port: build the firmware and flash it with the board's flasher first.")
@click.option("--labgrid", "place", help="Acquire this labgrid place, flash its board if it has a flasher, run, release.")
@click.option("--labgrid-coordinator", "coordinator", help="HOST:PORT of the labgrid coordinator [default: $LG_COORDINATOR].")
def hil(model: Path, board: str, data_path: Path, port: str | None, junit_path: Path | None, as_json: bool,
        quiet: bool, out_dir: Path | None, timeout_s: float, line_faults: str | None, flash: bool,
        place: str | None, coordinator: str | None) -> None:
    """Check MODEL on a board against TFLite Micro, vector by vector: exit 0 all bit-exact, 1 a mismatch, 2 no verdict."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from tinygen.device.faultproxy import LineFaults
    from tinygen.hil.check import HilOptions, check_model
    from tinygen.hil.report import dumps, write_atomically

    if place and port:
        raise click.UsageError("give --port or --labgrid, not both")
    import signal

    def terminated(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # a CI runner's SIGTERM ends the run like Ctrl-C: reports written, QEMU killed

    signal.signal(signal.SIGTERM, terminated)
    # Ctrl-C ends the run with its report even where SIGINT came in ignored (a job started with `&` by a
    # non-interactive shell, or by a process that ignores it, inherits SIG_IGN, and Python keeps it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    if flash and not port:
        raise click.UsageError("--flash needs the --port the board is on")
    options = HilOptions(port=port, out_dir=out_dir, timeout_s=timeout_s, flash=flash,
                         line_faults=LineFaults.parse(line_faults) if line_faults else None)
    silent = quiet or as_json
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=stderr, disable=silent, transient=True)
    with progress:
        task = progress.add_task("vectors", total=None)

        def on_vector(outcome) -> None:
            progress.update(task, advance=1, description="vectors" if outcome.bit_exact else "[red]vectors (mismatch)")

        announce = (lambda m: None) if silent else (lambda m: stderr.print(m))

        def check(options: HilOptions):
            return check_model(model, board, data_path, options, announce=announce, on_vector=on_vector,
                               on_start=lambda count: progress.update(task, total=count))

        if place:
            from dataclasses import replace

            from tinygen.jobs import build_for_board
            from tinygen.hil.labgrid import acquired_place

            with acquired_place(place, board, coordinator) as lab:
                if lab.driver.can_flash():
                    built = build_for_board(model, board, out_dir, announce)
                    announce(f"flashing {built.elf} to place {place}")
                    lab.driver.flash(built.out_dir, built.elf)
                report = check(replace(options, port=lab.url))
        else:
            report = check(options)
    if junit_path:
        write_atomically(junit_path, report.to_junit())
    if as_json:
        print(dumps(report))
    else:
        for v in report.failures:
            stderr.print(f"[red]vector {v.index}[/]: {v.mismatch.describe()}" if v.mismatch else "")
        print(report.summary())
    if report.interrupted:
        sys.exit(130)
    if report.exit_code == 2 and not as_json:
        _fail(f"tinygen: device: {report.error}", 2)
    sys.exit(report.exit_code)


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--board", "-b", default=DEFAULT_BOARD, show_default=True, help="Board name or board file.")
@click.option("--listen", required=True, help="HOST:PORT to serve the board's serial line on (e.g. 127.0.0.1:5555).")
@click.option("--output", "-o", "out_dir", type=click.Path(path_type=Path), help="Build directory [default: build/<model>-<board>].")
@click.option("--timeout", "timeout_s", type=click.FloatRange(min=0, min_open=True),
              help="Stop after this many seconds [default: run until the firmware exits or Ctrl-C].")
def emulate(model: Path, board: str, listen: str, out_dir: Path | None, timeout_s: float | None) -> None:
    """Run MODEL's firmware in QEMU with its serial line on a TCP port, for `tinygen hil --port socket://HOST:PORT`."""
    import signal

    from tinygen.boards.catalog import load_board
    from tinygen.device.netboard import parse_listen, serve_emulator
    from tinygen.jobs import build_for_board

    host, port = parse_listen(listen)
    outcome = build_for_board(model, board, out_dir, announce=lambda m: stderr.print(m))
    # SIGTERM (a CI runner, labgrid, a test) ends it like Ctrl-C: QEMU never outlives it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with serve_emulator(load_board(board), outcome.elf, host, port) as served:
        print(f"{outcome.model_name} on {outcome.board}: serial at {served.url}", flush=True)
        code = served.wait(timeout_s)
    if code not in (None, 0):
        raise TinygenError(f"the firmware ended with status {code}")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--calib", "calib_path", required=True, type=click.Path(path_type=Path),
              help="Calibration samples: .npy ([N, *input shape]) or .npz (one such array per input, by name).")
@click.option("--output", "-o", "out_path", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The .tflite to write (written only once TFLite Micro has run it).")
@click.option("--int16-activations", is_flag=True,
              help="16x8: int16 activations, input and output, int8 weights (default: int8 throughout).")
def quantize(model: Path, calib_path: Path, out_path: Path, int16_activations: bool) -> None:
    """Convert a float Keras model (.keras, .h5) or SavedModel directory to a full-integer .tflite.

    TensorFlow's converter quantizes it (batch 1), calibrated on --calib; TFLite Micro then runs the
    result once, and tinygen says whether it compiles it (or which operators it does not support).
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from tinygen.quantize import quantize_file

    # TensorFlow's native logs are kept off fd 2 while it works: the bar goes to a copy of it, and
    # only once calibration starts (an error before it prints its line alone).
    terminal = Console(file=os.fdopen(os.dup(2), "w", closefd=True), highlight=False)
    bar = Progress(TextColumn("calibrating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=terminal, transient=True)
    tasks = []

    def calibrated(done: int, total: int) -> None:
        if not bar.live.is_started:
            tasks.append(bar.add_task("calibrating", total=total))
            bar.start()
        bar.update(tasks[0], completed=done, total=total)

    try:
        result = quantize_file(model, calib_path, out_path, int16_activations, progress=calibrated)
    finally:
        if bar.live.is_started:
            bar.stop()
        terminal.file.close()
    stdout.print(f"wrote {result.path}: {result.model_bytes} B, {result.activations} activations, "
                 f"{len(result.operators)} operators, calibrated on {result.samples} samples; TFLite Micro runs it",
                 soft_wrap=True)
    if result.tinygen_problem is None:
        stdout.print(f"tinygen compiles it: tinygen build {result.path}", soft_wrap=True)
    else:
        sys.stderr.write(f"tinygen cannot compile it yet: {result.tinygen_problem.removeprefix('tinygen: ')}\n")


def main() -> None:
    try:
        cli(standalone_mode=False)
    except (click.exceptions.Abort, KeyboardInterrupt):
        _fail("tinygen: interrupted", 130)
    except click.ClickException as exc:
        _fail(f"tinygen: {exc.format_message()}", EXIT_CODE)
    except TinygenError as exc:
        _fail(exc.one_line(), EXIT_CODE)
    except Exception as exc:  # a bug in tinygen, not in the user's input
        if os.environ.get("TINYGEN_DEBUG"):
            raise
        _fail(f"tinygen: internal error: {type(exc).__name__}: {exc} (TINYGEN_DEBUG=1 shows the traceback)",
              INTERNAL_ERROR_EXIT)


if __name__ == "__main__":
    main()
