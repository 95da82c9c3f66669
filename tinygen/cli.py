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
    from tinygen.kernels.optimised import KernelSet

DEFAULT_BOARD = "mps2-an386"
DEBUG_GUARD_BYTES = 16  # --debug-guards: checked bytes before and after every arena buffer
_debug_guards = click.option("--debug-guards", is_flag=True,
                             help=f"Debug build: {DEBUG_GUARD_BYTES} guard bytes around every buffer, checked after "
                                  "each operator; invoke() fails naming the operator that wrote outside its buffers.")
_kernels = click.option("--kernels", "kernel_set", type=click.Choice(["optimised", "reference"]), default="optimised",
                        show_default=True,
                        help="optimised: faster twins of the reference kernels where they apply (same bits); "
                             "reference: runtime_c's TFLM-shaped kernels only.")
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
def build(model: Path, board: str, out_dir: Path | None, debug_guards: bool, kernel_set: str) -> None:
    """Generate the C library and firmware for MODEL and compile it."""
    from tinygen.flow import build_for_board
    from tinygen.kernels.optimised import KernelSet

    result = build_for_board(model, board, out_dir, announce=lambda m: stderr.print(m),
                             guard_bytes=DEBUG_GUARD_BYTES if debug_guards else 0, kernel_set=KernelSet(kernel_set))
    stdout.print(f"[bold]{result.model_name}[/] for [bold]{result.board}[/]: "
                 f"arena {result.arena_bytes} B, flash {result.flash_bytes} B, RAM {result.ram_bytes} B")
    stdout.print(f"C library: {result.library_dir}")
    stdout.print(f"firmware:  {result.elf}")


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
def run(model: Path, board: str, inputs_file: Path | None, random_count: int | None, seed: int,
        out_dir: Path | None, timeout_s: float, as_json: bool, debug_guards: bool, kernel_set: str) -> None:
    """Build MODEL if needed, run it on BOARD and compare every output with TFLite Micro."""
    from tinygen.flow import run_on_board
    from tinygen.kernels.optimised import KernelSet

    if inputs_file is not None and random_count is not None:
        raise click.UsageError("give --inputs or --random, not both")
    announce = (lambda m: None) if as_json else (lambda m: stderr.print(m))
    report = run_on_board(model, board, out_dir, inputs_file=inputs_file, random_count=random_count or 3,
                          seed=seed, timeout_s=timeout_s, announce=announce,
                          guard_bytes=DEBUG_GUARD_BYTES if debug_guards else 0, kernel_set=KernelSet(kernel_set))
    if as_json:
        print(json.dumps(report.to_json()))
    else:
        table = Table(title=f"{report.model} on {report.board}")
        for column in ("input", "bit-exact", "max |diff|", "instructions"):
            table.add_column(column, justify="right")
        for i, r in enumerate(report.results):
            table.add_row(str(i), "[green]yes[/]" if r.bit_exact else "[red]NO[/]", f"{r.max_abs_diff:g}", f"{r.instructions:,}")
        stdout.print(table)
        stdout.print(f"arena {report.arena_bytes} B, flash {report.flash_bytes} B, RAM {report.ram_bytes} B")
        stdout.print(f"stack: invoke() used {report.stack_bytes} B (static bound {report.stack_bound_bytes} B); "
                     f"firmware peak {report.stack_peak_bytes} B (bound {report.firmware_stack_bound_bytes} B "
                     f"of {report.stack_reserved_bytes} B reserved)")
        stdout.print("[bold green]bit-exact with TFLite Micro[/]" if report.bit_exact else "[bold red]NOT bit-exact[/]")
    if not report.bit_exact:
        sys.exit(1)


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object on stdout.")
@click.option("--board", "-b", help="Also build the firmware for BOARD (in a temporary directory) and bound its stack.")
@_kernels
def inspect(model: Path, as_json: bool, board: str | None, kernel_set: str) -> None:
    """Show MODEL's operators, kernels and memory plan (and with --board, the stack bound)."""
    from tinygen.pipeline import compile_file
    from tinygen.kernels.call import KernelCall
    from tinygen.kernels.optimised import KernelSet
    from tinygen.plan.lifetimes import alias_roots
    from tinygen.boards.catalog import load_board

    compiled = compile_file(model, kernel_set=KernelSet(kernel_set), board=load_board(board) if board else None)
    stack = _stack_bound(model, board, KernelSet(kernel_set)) if board else None
    graph, plan = compiled.graph, compiled.plan
    offsets = plan.tensor_offsets()
    kernels = {item.op_index: (item.function if isinstance(item, KernelCall) else "(alias)") for item in compiled.lowered}
    why = {choice.op_index: choice.describe() for choice in compiled.choices}  # the variants considered
    if as_json:
        print(json.dumps({
            "model": graph.name, "sha256": graph.sha256, "arena_bytes": plan.arena_bytes,
            "peak_live_bytes": plan.peak_live_bytes,
            "operators": [{"index": op.index, "type": op.kind, "kernel": kernels[op.index], "why": why.get(op.index, ""),
                           "output": list(graph.tensor(op.outputs[0]).shape),
                           "output_offset": offsets.get(op.outputs[0])} for op in graph.operators],
            **({"stack": stack.to_json() | {"board": board}} if stack else {}),
        }))
        return
    table = Table(title=f"{graph.name} ({graph.sha256[:12]})")
    for column in ("#", "operator", "kernel", "output shape", "bytes", "arena offset"):
        table.add_column(column)
    roots = alias_roots(compiled.lowered)
    for op in graph.operators:
        out = graph.tensor(op.outputs[0])
        table.add_row(str(op.index), op.kind, kernels[op.index], str(list(out.shape)), str(out.nbytes),
                      str(offsets.get(roots.get(out.index, out.index), offsets.get(out.index, "-"))))
    stdout.print(table)
    for op_index, reasons in why.items():  # the kernel variants each call could have had, and why it got its own
        stdout.print(f"#{op_index} {kernels[op_index]} <- {reasons}", soft_wrap=True, highlight=False)
    stdout.print(f"arena {plan.arena_bytes} B (tensors live at once: at most {plan.peak_live_bytes} B; "
                 f"placement order '{plan.order}')")
    if stack:
        stdout.print(f"stack on {board}: invoke() at most {stack.invoke.bytes} B ({stack.invoke.describe()}); "
                     f"whole firmware at most {stack.firmware.bytes} B of {stack.reserved_bytes} B reserved")


def _stack_bound(model: Path, board: str, kernel_set: KernelSet) -> StackReport:
    """Build the firmware in a temporary directory and bound its stack from the .su files and the ELF."""
    from tinygen.boards.catalog import load_board
    from tinygen.build.stack import analyse_firmware
    from tinygen.flow import build_for_board

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
def bench(models_dir: Path, board: str, write_path: Path | None, build_root: Path) -> None:
    """Measure the MLPerf Tiny models on BOARD: instructions, arena, flash, RAM; anchors beside."""
    from tinygen.bench import render_markdown, run_benchmark

    rows = run_benchmark(models_dir, board, build_root, announce=lambda m: stderr.print(m))
    command = f"tinygen bench --board {board}" + (f" --write {write_path}" if write_path else "")
    text = render_markdown(rows, board, command)
    if write_path:
        tmp = write_path.with_name(write_path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(write_path)  # never a half-written report
        stderr.print(f"wrote {write_path}")
    print(text)
    if not all(r.bit_exact for r in rows):
        raise TinygenError("a benchmark model was not bit-exact with TFLite Micro")


def _default_models_dir() -> Path:
    from tinygen.resources import ROOT

    return ROOT.parent / "shared" / "models" / "mlperf_tiny"


@cli.command()
def boards() -> None:
    """List the boards tinygen knows."""
    from tinygen.boards.catalog import list_boards

    table = Table()
    for column in ("board", "core", "emulated by", "description"):
        table.add_column(column)
    for b in list_boards():
        table.add_row(b.name, b.core.cpu, b.qemu.machine if b.qemu else "-", b.description)
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
