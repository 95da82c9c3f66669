"""Jobs that touch the disk and boards: build a model's firmware for a board, run it there against TFLM.

The compiling itself is tinygen/compiler.py's, in memory.

`build_for_board` writes the firmware project into a staging directory, compiles it there, and
only then swaps it into place: a failed build never replaces (or half-replaces) a good one. A
build is reused when its key (model bytes, board file, tinygen version, runtime and templates)
is unchanged.
"""

from __future__ import annotations

import functools
import hashlib
import json
import dataclasses
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygen import __version__
from tinygen.boards.catalog import load_board
from tinygen.boards.fit import Fit, check_fit, measure_fit
from tinygen.boards.schema import Board
from tinygen.build.stack import StackReport, analyse_firmware
from tinygen.build.toolchain import BuildResult, build_firmware, section_sizes
from tinygen.device.cycles import BARRIER_FUNCTION, CycleCounter, Interval, RegionCount
from tinygen.device.emulator import start_emulator
from tinygen.device.runner import DeviceSession, InvokeError, RunResult
from tinygen.device.status import describe_status
from tinygen.errors import BoardError, BuildError, DeviceError, ModelFormatError, PlanError
from tinygen.frontend.tflite_reader import parse_tflite, model_name_for
from tinygen.inputs import load_records, random_records
from tinygen.ir.graph import Graph
from tinygen.passes.choose_kernels import KernelSet
from tinygen.compiler import CompiledModel, compile_graph
from tinygen.schedule.patches import NO_PATCH, PatchRequest, patch_facts
from tinygen.schedule.cores import board_cores, split_facts
from tinygen.schedule.trace import traced_tensors
from tinygen.project.firmware import refuse_foreign, replace_directory, staging_directory, write_firmware_project
from tinygen.project.platformio import (FRAMEWORK_PORTS, PlatformIOProject, port_cores, project_port, registry_address,
                                       registry_reachable, run_pio, write_platformio_project)
from tinygen.reference.tflm import TflmReference
from tinygen.resources import RUNTIME_DIR, TEMPLATES_DIR

# The exact placement search's budget (CP-SAT deterministic time, about seconds) per build.
EXACT_PLACEMENT_SECONDS = 5.0

MANIFEST = "tinygen.json"
Announce = Callable[[str], None]


@dataclass(frozen=True)
class BuildOutcome:
    model_name: str
    board: str
    out_dir: Path
    elf: Path
    arena_bytes: int
    flash_bytes: int
    ram_bytes: int
    stack_bytes: int
    reused: bool
    stack_bound_bytes: int = 0           # static bound of <model>_invoke (tinygen/build/stack.py)
    firmware_stack_bound_bytes: int = 0  # static bound of the whole firmware, one interrupt included
    guard_bytes: int = 0
    lower_bound_bytes: int = 0           # no placement of this schedule's buffers is smaller (plan)
    plan_order: str = ""                 # which placement won (a greedy order or the exact search)
    patch: str = "none"        # the first stage's patch plan, SPLIT:ROWSxCOLS, or none
    mac_overhead: float = 0.0  # the extra MACs it costs, as a fraction of the model's
    trace: bool = False        # built with TG_TRACE: the firmware sends every traced tensor
    compiled: CompiledModel | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def library_dir(self) -> Path:
        return self.out_dir / "model"


def _read_model(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ModelFormatError(f"cannot read {path}: {exc.strerror or exc}") from None


def _tree_digest(*roots: Path) -> str:
    digest = hashlib.sha256()
    for root in roots:
        for f in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()


def build_key(model_bytes: bytes, board: Board, guard_bytes: int = 0,
              kernel_set: KernelSet = KernelSet.OPTIMISED, patch: PatchRequest = NO_PATCH,
              max_overhead: float = 0.20, flash_budget: int | None = None, cores: int = 1,
              grow_arena: bool = False, trace: bool = False) -> str:
    digest = hashlib.sha256()
    options = (patch, max_overhead, flash_budget) + ((cores, grow_arena) if cores > 1 else ()) + (("trace",) if trace else ())
    for part in (model_bytes, board.model_dump_json().encode(), __version__.encode(), str(guard_bytes).encode(),
                 kernel_set.value.encode(), repr(options).encode(),
                 _tree_digest(RUNTIME_DIR, TEMPLATES_DIR).encode(), _tree_digest(Path(__file__).parent).encode()):
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()


def _reusable(out_dir: Path, key: str) -> BuildOutcome | None:
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    elf = out_dir / manifest.get("elf", "")
    if manifest.get("build_key") != key or not elf.is_file():
        return None
    return BuildOutcome(manifest["model"], manifest["board"], out_dir, elf, manifest["arena_bytes"],
                        manifest["flash_bytes"], manifest["ram_bytes"], manifest["stack_bytes"], reused=True,
                        stack_bound_bytes=manifest["stack_bound"]["invoke_bound_bytes"],
                        firmware_stack_bound_bytes=manifest["stack_bound"]["firmware_bound_bytes"],
                        guard_bytes=manifest["guard_bytes"],
                        lower_bound_bytes=manifest.get("lower_bound_bytes", 0), plan_order=manifest.get("plan_order", ""),
                        patch=manifest.get("patch", "none"), mac_overhead=manifest.get("mac_overhead", 0.0))


def default_build_dir(model: Path, board: Board) -> Path:
    return Path("build") / f"{model_name_for(Path(model))}-{board.name}"


@dataclass(frozen=True)
class ModelSource:
    """A model file read and imported once, for the stages that need its bytes or its graph."""

    data: bytes
    graph: Graph


def read_model_source(model: Path) -> ModelSource:
    data = _read_model(model)
    return ModelSource(data, parse_tflite(data, name=model_name_for(Path(model)), source=str(model)))


def _compile_for_board(graph: Graph, board: Board, **options) -> CompiledModel:
    """compile_graph for a board: planned without a budget (the caller checks the fit, boards/fit.py),
    the patch choice aimed at the board's arena. When no patch plan fits it, the error is the fit's
    (every size and margin, RAM and flash) for the plan --max-overhead allows, with the patching's."""
    compile_for = functools.partial(compile_graph, graph, arena_budget=None, exact_seconds=EXACT_PLACEMENT_SECONDS,
                                    board=board, **options)
    try:
        return compile_for(patch_budget=board.arena_budget_bytes)
    except PlanError as patching:
        compiled = compile_for(patch_budget=None)
        problem = measure_fit(board, graph, compiled.plan, compiled.lowered).problem()
        raise PlanError(f"{problem or f'the model does not fit board {board.name!r}'}; patching: {patching}") from None


def build_for_board(model: Path, board_name: str, out_dir: Path | None = None,
                    announce: Announce = lambda m: None, guard_bytes: int = 0,
                    kernel_set: KernelSet = KernelSet.OPTIMISED, source: ModelSource | None = None,
                    patch: PatchRequest = NO_PATCH, max_overhead: float = 0.20,
                    flash_budget: int | None = None, cores: int | None = None,
                    grow_arena: bool = False, trace: bool = False) -> BuildOutcome:
    """guard_bytes > 0: a debug build whose invoke() checks the bytes around every buffer. source: the
    model already read (else it is read from model). cores: split across that many cores (None: what
    the board runs; schedule/cores.py board_cores); grow_arena: speed first, the arena may grow
    beyond the cores' scratch (compiler.compile_graph). trace: a TG_TRACE firmware, whose invoke() sends every tensor an
    operator writes as a TRACE frame (run_on_board(trace=True) compares them); the same sources and
    split as the untraced build, on any number of cores (core 0 sends each tensor between two
    barriers once every core's share of it is written)."""
    board = load_board(board_name)
    cores = 1 if guard_bytes and cores is None else board_cores(board, cores)  # guard checks: one core
    source = source or read_model_source(model)
    model_bytes, graph = source.data, source.graph
    if board.port in FRAMEWORK_PORTS.values():
        raise BoardError(f"board '{board.name}' is built by PlatformIO with a framework ({board.port}), not by tinygen's "
                         f"Makefile: `tinygen build MODEL --board {board.name}` writes its PlatformIO project")
    # Planned without a budget, then checked against the board: over budget is one error with
    # every size and the margin (boards/fit.py), before anything is built.
    compiled = _compile_for_board(graph, board, guard_bytes=guard_bytes, kernel_set=kernel_set, patch=patch,
                                  max_overhead=max_overhead, flash_budget=flash_budget, cores=cores,
                                  grow_arena=grow_arena)
    check_fit(board, graph, compiled.plan, compiled.lowered)
    out_dir = Path(out_dir or default_build_dir(model, board)).resolve()
    refuse_foreign(out_dir)
    key = build_key(model_bytes, board, guard_bytes, kernel_set, patch, max_overhead, flash_budget, cores, grow_arena,
                    trace)
    cached = _reusable(out_dir, key)
    if cached is not None:
        announce(f"using the build in {out_dir} (unchanged)")
        return dataclasses.replace(cached, trace=trace, compiled=compiled)

    staging_root = staging_directory(out_dir, ".build")  # first: an unwritable out_dir is one error line
    announce(f"{graph.name}: {len(graph.operators)} operators, arena {compiled.plan.arena_bytes} bytes "
             f"(lower bound {compiled.plan.lower_bound_bytes}; placement: {compiled.plan.order}) "
             f"(planned before anything is flashed); building for {board.name}")
    try:
        staging = write_firmware_project(staging_root / "project", board, compiled.sources)
        if trace:  # the rules read CFLAGS when they run, so an appended flag reaches every object
            with (staging / "Makefile").open("a", encoding="utf-8") as makefile:
                makefile.write("\n# tinygen run --trace: every traced tensor is sent over the serial line\nCFLAGS += -DTG_TRACE\n")
        result = build_firmware(staging, board)
        stack = analyse_firmware(staging, board, graph.name)
        if stack.firmware.bytes > board.memory.stack_bytes:
            raise BuildError(f"the firmware may need {stack.firmware.bytes} bytes of stack ({stack.firmware.describe()}); "
                             f"board '{board.name}' reserves {board.memory.stack_bytes}")
        _write_manifest(staging, compiled, board, result, key, stack)
        replace_directory(staging, out_dir)
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)
    elf = out_dir / result.elf_path.relative_to(staging)
    return BuildOutcome(graph.name, board.name, out_dir, elf, compiled.plan.arena_bytes, result.flash_bytes,
                        result.ram_bytes, result.stack_bytes, reused=False, stack_bound_bytes=stack.invoke.bytes,
                        firmware_stack_bound_bytes=stack.firmware.bytes, guard_bytes=guard_bytes,
                        lower_bound_bytes=compiled.plan.lower_bound_bytes, plan_order=compiled.plan.order,
                        **patch_facts(compiled.patch, source.graph), trace=trace, compiled=compiled)


def _write_manifest(project: Path, compiled: CompiledModel, board: Board, result: BuildResult, key: str,
                    stack: StackReport) -> None:
    graph, plan = compiled.graph, compiled.plan
    manifest = {
        "tinygen_version": __version__,
        "build_key": key,
        "model": graph.name,
        "model_sha256": graph.sha256,
        "board": board.name,
        "elf": result.elf_path.relative_to(project).as_posix(),
        "arena_bytes": plan.arena_bytes,
        "peak_live_bytes": plan.peak_live_bytes,
        "lower_bound_bytes": plan.lower_bound_bytes,
        "plan_order": plan.order,
        "flash_bytes": result.flash_bytes,
        "ram_bytes": result.ram_bytes,
        "stack_bytes": result.stack_bytes,
        "stack_bound": stack.to_json(),
        "guard_bytes": plan.guard_bytes,
        "sections": result.sections,
        "tensor_offsets": {str(k): v for k, v in sorted(compiled.tensor_offsets().items())},
        **patch_facts(compiled.patch, graph),
        **split_facts(compiled.core_split),
    }
    (project / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


# --- run ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class InputResult:
    bit_exact: bool
    max_abs_diff: float
    instructions: int
    tensors_compared: int = 0        # trace runs: every traced tensor and the outputs; else the outputs
    first_mismatch: str = ""         # the first differing tensor, one line


@dataclass(frozen=True)
class RunReport:
    model: str
    board: str
    results: tuple[InputResult, ...]
    arena_bytes: int
    flash_bytes: int
    ram_bytes: int
    stack_bytes: int = 0             # measured: the most invoke() used (painted), over the inputs
    stack_peak_bytes: int = 0        # measured: the firmware's deepest stack use
    stack_bound_bytes: int = 0       # static bound of invoke()
    firmware_stack_bound_bytes: int = 0
    stack_reserved_bytes: int = 0
    lower_bound_bytes: int = 0       # the plan's: no placement of the schedule's buffers is smaller
    cycles: tuple[RegionCount, ...] = ()  # the cycle plugin's count of each input's invoke(), when asked for
    intervals: tuple[Interval, ...] = ()  # ... and each core's work between barriers (count_intervals)
    patch: str = "none"
    mac_overhead: float = 0.0
    trace: bool = False

    @property
    def bit_exact(self) -> bool:
        return all(r.bit_exact for r in self.results)

    @property
    def tensors_compared(self) -> int:
        return sum(r.tensors_compared for r in self.results)

    @property
    def first_mismatch(self) -> str:
        return next((r.first_mismatch for r in self.results if r.first_mismatch), "")

    def to_json(self) -> dict:
        instructions = [r.instructions for r in self.results]
        return {
            "model": self.model,
            "board": self.board,
            "bit_exact": self.bit_exact,
            "max_abs_diff": max((r.max_abs_diff for r in self.results), default=0.0),
            "arena_bytes": self.arena_bytes,
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "instructions": max(instructions, default=0),
            "instructions_per_input": instructions,
            "inputs": len(self.results),
            "stack_bytes": self.stack_bytes,
            "stack_bound_bytes": self.stack_bound_bytes,
            "stack_peak_bytes": self.stack_peak_bytes,
            "firmware_stack_bound_bytes": self.firmware_stack_bound_bytes,
            "stack_reserved_bytes": self.stack_reserved_bytes,
            "lower_bound_bytes": self.lower_bound_bytes,
            **({"cycles": max(c.cycles for c in self.cycles), "cycles_per_input": [c.to_json() for c in self.cycles]}
               if self.cycles else {}),
            "patch": self.patch,
            "mac_overhead": self.mac_overhead,
            "tensors_compared": self.tensors_compared,
            **({"trace": True, "first_mismatch": self.first_mismatch} if self.trace else {}),
        }


def _difference(ours: bytes, theirs: np.ndarray) -> tuple[bool, float]:
    theirs = np.ascontiguousarray(theirs)
    mine = np.frombuffer(ours, dtype=theirs.dtype).reshape(theirs.shape)
    if mine.tobytes() == theirs.tobytes():
        return True, 0.0
    diff = np.abs(mine.astype(np.float64) - theirs.astype(np.float64))
    return False, float(np.nanmax(diff)) if diff.size else 0.0


def run_on_board(model: Path, board_name: str, out_dir: Path | None = None, *, inputs_file: Path | None = None,
                 random_count: int = 3, seed: int = 0, timeout_s: float = 300.0,
                 announce: Announce = lambda m: None, guard_bytes: int = 0,
                 kernel_set: KernelSet = KernelSet.OPTIMISED, count_cycles: bool = False,
                 patch: PatchRequest = NO_PATCH, max_overhead: float = 0.20,
                 flash_budget: int | None = None, cores: int | None = None, grow_arena: bool = False,
                 count_intervals: bool = False, trace: bool = False) -> RunReport:
    """count_cycles: also run QEMU with the cycle plugin (tinygen/device/cycles.py) over invoke().
    count_intervals: with it, also each core's instructions between barriers (the modelled N-core
    latency, cycles.modelled_latencies). trace: a TG_TRACE firmware (build_for_board) sends every
    tensor an operator writes, each compared bit for bit with TFLM's (testing/compare.py)."""
    source = read_model_source(model)
    model_bytes, graph = source.data, source.graph
    # Inputs first: a wrong inputs file is refused before minutes of building.
    records = load_records(inputs_file, graph) if inputs_file else random_records(graph, random_count, seed)
    outcome = build_for_board(model, board_name, out_dir, announce, guard_bytes, kernel_set, source, patch, max_overhead,
                              flash_budget, cores, grow_arena, trace)
    board = load_board(board_name)
    reference = TflmReference(model_bytes, preserve_all=trace)

    results, stack, peak = [], 0, 0
    announce(f"running {len(records)} input(s) on {board.name} (QEMU) and in TFLite Micro")
    counter = (CycleCounter(f"{graph.name}_invoke", barrier_function=BARRIER_FUNCTION if count_intervals else None)
               if count_cycles or count_intervals else None)
    plugin_args = tuple(counter.qemu_arguments(outcome.elf)) if counter else ()
    with start_emulator(board, outcome.elf, timeout_s=timeout_s, extra_args=plugin_args) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=timeout_s) as session:
            session.tracing = trace
            hello = session.hello()
            if hello.sha256.hex() != graph.sha256:
                raise DeviceError(f"the board runs model {hello.sha256.hex()[:12]}, not {graph.sha256[:12]}")
            for record in records:
                try:
                    run = session.run([np.ascontiguousarray(x).tobytes() for x in record])
                except InvokeError as exc:
                    raise DeviceError(f"{graph.name} on {board.name}: {describe_status(exc.status, graph)}") from None
                stack, peak = max(stack, run.stack_bytes), max(peak, run.stack_peak_bytes)
                if trace:
                    results.append(_traced_result(outcome, reference, record, len(results), run))
                    continue
                expected = reference.run(record).outputs
                diffs = [_difference(ours, theirs) for ours, theirs in zip(run.outputs, expected)]
                results.append(InputResult(all(d[0] for d in diffs), max(d[1] for d in diffs), run.instructions,
                                           len(diffs)))
            session.exit()
        code = emulator.wait(10.0)
        if code != 0:
            raise DeviceError(f"the firmware exited with status {code}")
    counted = counter.collect() if counter else None
    cycles, intervals = (counted.regions, counted.intervals) if counted else ((), ())
    if counter and len(cycles) != len(results):
        raise DeviceError(f"the cycle plugin counted {len(cycles)} invoke() calls, not {len(results)}")
    return RunReport(graph.name, board.name, tuple(results), outcome.arena_bytes, outcome.flash_bytes,
                     outcome.ram_bytes, stack, peak, outcome.stack_bound_bytes, outcome.firmware_stack_bound_bytes,
                     outcome.stack_bytes, cycles=cycles, intervals=intervals, lower_bound_bytes=outcome.lower_bound_bytes,
                     patch=outcome.patch, mac_overhead=outcome.mac_overhead, trace=trace)


def _traced_result(outcome: BuildOutcome, reference: TflmReference, record: list[np.ndarray], index: int,
                   run: RunResult) -> InputResult:
    """One input of a trace run: every tensor the firmware sent, and the outputs, against TFLM."""
    from tinygen.reference.compare import compare_tensors

    if not run.traces:
        raise DeviceError("the trace firmware sent no TRACE frame: was it built with TG_TRACE?")
    ref = reference.run(record, sorted(run.traces))
    count, mismatches, max_diff = compare_tensors(outcome.compiled, index, run.traces, run.outputs, ref)
    # A tensor the build should send but did not is a failure too: "every tensor" is checked.
    graph = outcome.compiled.graph
    mismatches += [f"input {index}: tensor {t} '{graph.tensor(t).name}' was not sent"
                   for t in sorted(traced_tensors(graph, outcome.compiled.schedule) - run.traces.keys())]
    return InputResult(not mismatches, max_diff, run.instructions, count, mismatches[0] if mismatches else "")


# --- PlatformIO ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlatformIOOutcome:
    model_name: str
    board: str
    project: PlatformIOProject
    fit: Fit
    elf: Path | None             # None: the project was written but not built here
    not_built_reason: str = ""   # one line: why, and what to run on a connected machine
    sizes: BuildResult | None = None  # flash, RAM and stack of the ELF, where one was built
    cores: int = 1                    # the cores the model is split across


def build_platformio_project(model: Path, board_name: str, out_dir: Path | None = None, framework: str | None = None,
                             announce: Announce = lambda m: None,
                             kernel_set: KernelSet = KernelSet.OPTIMISED, cores: int | None = None,
                             grow_arena: bool = False, patch: PatchRequest = NO_PATCH, max_overhead: float = 0.20,
                             flash_budget: int | None = None) -> PlatformIOOutcome:
    """Write the board's PlatformIO project and build it with `pio run` where that can work here:
    always for an emulated board (tinygen's local dev-platform), for a real board only when
    PlatformIO's registry answers within a couple of seconds (it brings platform and toolchain).
    cores: split across that many cores (None: what the framework's port runs on the board);
    grow_arena, patch, max_overhead and flash_budget as in build_for_board: the project's model is the one
    the Makefile firmware of the same options holds."""
    board = load_board(board_name)
    cores = port_cores(board, project_port(board, framework), cores)  # before minutes of compiling
    source = read_model_source(model)
    compiled = _compile_for_board(source.graph, board, kernel_set=kernel_set, cores=cores, grow_arena=grow_arena,
                                  patch=patch, max_overhead=max_overhead, flash_budget=flash_budget)
    fit = check_fit(board, source.graph, compiled.plan, compiled.lowered)
    out_dir = Path(out_dir or default_build_dir(model, board)).resolve()
    project = write_platformio_project(out_dir, board, compiled.sources, fit, framework, compiled.core_split)
    announce(f"{source.graph.name}: PlatformIO project for {board.name} written in {out_dir}")
    rerun = f"pio run -d {out_dir}"
    if not project.offline and not registry_reachable():
        host, port = registry_address()
        return PlatformIOOutcome(source.graph.name, board.name, project, fit, None,
                                 f"PlatformIO's registry ({host}:{port}) is unreachable, so the {board.platformio.platform} "
                                 f"platform and toolchain cannot be installed here; project kept in {out_dir}: "
                                 f"on a connected machine run `{rerun}`", cores=cores)
    announce(f"running `{rerun}`")
    elf = run_pio(project)
    return PlatformIOOutcome(source.graph.name, board.name, project, fit, elf, sizes=section_sizes(elf, board),
                             cores=cores)
