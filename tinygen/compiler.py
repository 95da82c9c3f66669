"""The compiler, in memory: .tflite -> Graph -> kernel calls -> schedule -> arena plan -> C sources.

Nothing here touches the disk or a board; tinygen/jobs.py does (build, run, compare).

Each stage is a function from frozen objects to new ones; CompiledModel keeps every stage's
result so commands and tests can look at any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tinygen.boards.fit import code_flash_estimate, weights_bytes
from tinygen.boards.schema import Board
from tinygen.codegen.emit import emit_model
from tinygen.codegen.sources import GeneratedSources
from tinygen.frontend.tflite_reader import parse_tflite, read_tflite
from tinygen.ir import ops
from tinygen.ir.graph import Graph
from tinygen.kernels.call import KernelCall, Lowered
from tinygen.kernels.cvalues import ConstArray, TensorRef
from tinygen.kernels.inplace import apply_inplace, inplace_candidates
from tinygen.kernels.overlap import declare_overlaps
from tinygen.passes.choose_kernels import KernelSet, board_variant, choose_kernels, default_isa_features, twin_reference
from tinygen.kernels.variants import Choice, not_any_window
from tinygen.kernels.select import lower_graph
from tinygen.plan.arena import ArenaPlan, plan_arena
from tinygen.plan.contracts import overlap_allowances
from tinygen.plan.lifetimes import buffer_lifetimes
from tinygen.schedule.cores import CoreSplit, split_across_cores, without_split_overlaps
from tinygen.schedule.ir import Schedule
from tinygen.schedule.lower import build_schedule
from tinygen.schedule.order import order_for_memory
from tinygen.schedule.patches import (
    NO_PATCH, PatchPlan, PatchRequest, choose_patch_plan, patch_schedule, stage_allowances, with_stage_calls,
)


@dataclass(frozen=True)
class CompiledModel:
    graph: Graph
    lowered: tuple[Lowered, ...]
    schedule: Schedule
    plan: ArenaPlan
    sources: GeneratedSources
    patch: PatchPlan | None = None  # the first stage run patch by patch (the schedule's first Loop)

    def tensor_offsets(self) -> dict[int, int]:
        """Arena offset of every activation tensor that exists whole: its buffer's offset plus its view's."""
        buffers = self.plan.buffer_offsets()
        return {t: buffers[v.buffer] + v.offset for t, v in self.schedule.tensor_views if v.buffer in buffers}
    choices: tuple[Choice, ...] = ()  # why each kernel call got its variant
    core_split: CoreSplit | None = None  # the schedule across several cores (None: one core)

    @property
    def cores(self) -> int:
        return self.core_split.cores if self.core_split is not None else 1

    @property
    def core_split_prediction(self) -> tuple[tuple[int, ...], ...]:
        """The cost model's instructions per core per interval between barriers (one core: one interval)."""
        if self.core_split is None:
            return ()
        return self.core_split.intervals()

    @property
    def input_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.input_tensors())

    @property
    def output_bytes(self) -> tuple[int, ...]:
        return tuple(t.nbytes for t in self.graph.output_tensors())


def schedule_and_plan(graph: Graph, lowered: tuple[Lowered, ...], arena_budget: int | None, guard_bytes: int,
                      overlaps: bool, exact_seconds: float = 0.0,
                      patch: PatchPlan | None = None, stage_overlap: bool = True) -> tuple[Schedule, ArenaPlan]:
    schedule = build_schedule(graph, lowered, write_concat_in_place=overlaps and not guard_bytes)
    if patch is not None:
        schedule = patch_schedule(schedule, patch)
    buffers = buffer_lifetimes(schedule)
    allowances = overlap_allowances(schedule, buffers) if overlaps else ()
    if overlaps and patch is not None and stage_overlap:
        allowances += stage_allowances(schedule, patch, buffers)
    return schedule, plan_arena(buffers, budget=arena_budget, guard_bytes=guard_bytes, allowances=allowances,
                                exact_seconds=exact_seconds)


def _choose_inplace(graph: Graph, lowered: tuple[Lowered, ...], keep: int = 0) -> tuple[Lowered, ...]:
    """Every in-place variant that lowers the (greedy) arena; the others keep their usual kernel,
    which is faster. keep: the first calls keep theirs (a patch stage runs them)."""
    chosen = frozenset(p for p in inplace_candidates(graph, lowered) if p >= keep)
    if not chosen:
        return lowered
    def arena(positions: frozenset[int]) -> int:
        return schedule_and_plan(graph, declare_overlaps(apply_inplace(lowered, positions)), None, 0, True)[1].arena_bytes
    size = arena(chosen)
    for position in sorted(chosen):
        fewer = chosen - {position}
        if arena(fewer) <= size:
            chosen = fewer
    return apply_inplace(lowered, chosen)


def _choose_variants(graph: Graph, lowered: tuple[Lowered, ...], features: frozenset[str],
                     patch: PatchPlan | None, overlaps: bool,
                     keep_arena: bool = True, flash_room: int | None = None) -> tuple[tuple[Lowered, ...], tuple[Choice, ...]]:
    """The registry's variant for the board on every call not in place (an in-place kernel has no
    variant in the registry); in a patch stage only a variant that computes any window without scratch
    (Variant.any_window: the stage rewrites its dims and padding per patch),
    kept only where the arena does not grow (their scratch, or no overlap contract). Greedy, most
    instructions saved first; the calls left out keep their portable twin. Returns why each call
    got its kernel. keep_arena=False: every variant, whatever the arena (KernelSet.FASTEST).
    flash_room: the bytes the variants' own data may add over the weights they replace (the wide
    ones double them); the variants then go by instructions saved per byte added until it is spent."""
    stage = patch.split if patch else 0
    offers: dict[int, tuple[KernelCall, Choice]] = {}
    choices: dict[int, Choice] = {}

    def offer_at(position: int, refused: frozenset[str] = frozenset()) -> tuple[KernelCall, Choice] | None:
        call = lowered[position]
        if position >= stage:
            return board_variant(graph, call, features, refused)
        windowless = not_any_window(twin_reference(call.function) or call.function) - refused
        unrestricted = board_variant(graph, call, features, refused)
        notes = tuple((f, f"{note}, but it cannot compute any window, as the patch stage asks" if note.startswith("~")
                       else note)  # a cost: it applied; else why it did not anyway (e.g. "needs dsp")
                      for f, note in (unrestricted[1].considered if unrestricted else ()) if f in windowless)
        refused |= windowless
        while (offer := board_variant(graph, call, features, refused)) is not None and offer[0].scratch_bytes:
            refused |= {offer[0].function}  # the patch stage's workspace holds no kernel's scratch
            notes += ((offer[0].function, "takes scratch, which the patch stage has no room for"),)
        if offer is None:
            return None
        chosen, choice = offer
        return chosen, Choice(choice.op_index, choice.function, choice.considered + notes)

    for position, item in enumerate(lowered):
        if not isinstance(item, KernelCall) or (offer := offer_at(position)) is None:
            continue
        variant, choice = offer
        if variant.function == item.function:
            choices[position] = choice
        else:
            offers[position] = offer

    def with_variants(positions: set[int]) -> tuple[Lowered, ...]:
        return tuple(offers[i][0] if i in positions else item for i, item in enumerate(lowered))

    def arena(positions: set[int]) -> int:
        return schedule_and_plan(graph, declare_overlaps(with_variants(positions)), None, 0, overlaps, 0.0, patch)[1].arena_bytes

    added = {i: _flash_added(graph, lowered[i], offers[i][0]) for i in offers}
    def merit(i: int) -> float:
        saved = _saved(offers[i][1], lowered[i].function)
        return saved / max(added[i], 1) if flash_room is not None else saved

    best = dict(offers)  # each call's cheapest variant, before any refusal walks it down
    limit, taken = arena(set()) if keep_arena else 0, set()
    for position in sorted(offers, key=lambda i: -merit(i)):
        twin, refused, refusals = lowered[position].function, frozenset(), ()
        while True:  # the cheapest variant, then the next where one is refused (e.g. one without scratch)
            if flash_room is not None and added[position] > flash_room:
                note = f"the variant's data (+{added[position]} B) exceeds the flash left ({flash_room} B)"
            elif keep_arena and arena(taken | {position}) > limit:
                note = "the variant would raise the arena"
            else:
                taken.add(position)
                choices[position] = offers[position][1]
                flash_room = None if flash_room is None else flash_room - max(added[position], 0)
                break
            refused |= {offers[position][0].function}
            following = offer_at(position, refused)
            if following is None or following[0].function == twin:
                choices[position] = _noted(offers[position][1], twin, note)
                break
            refusals += ((f"not {offers[position][0].function}", note),)
            offers[position] = (following[0], Choice(following[1].op_index, following[1].function,
                                                     following[1].considered + refusals))
            added[position] = _flash_added(graph, lowered[position], following[0])
    if keep_arena:
        def flash(position: int, offer: tuple[KernelCall, Choice]) -> int:
            return max(_flash_added(graph, lowered[position], offer[0]), 0)
        room = None if flash_room is None else flash_room + sum(flash(i, offers[i]) for i in taken)
        taken = _swap_for_refused(lowered, offers, best, taken, choices, offer_at, arena, limit, merit, flash, room)
    return with_variants(taken), tuple(choices[i] for i in sorted(choices, key=lambda i: lowered[i].op_index))


def _swap_for_refused(lowered: tuple[Lowered, ...], offers: dict, best: dict, taken: set[int],
                      choices: dict[int, Choice], offer_at: Callable, arena: Callable[[set[int]], int], limit: int,
                      merit: Callable[[int], float], flash: Callable[[int, tuple[KernelCall, Choice]], int],
                      flash_room: int | None) -> set[int]:
    """One exchange after the greedy pass: a taken call steps down to its next variant (or its twin)
    where that lets calls whose variants were refused (they would raise the arena) take them, and the
    estimated instructions saved grow. The greedy takes the largest saving first, and a variant whose
    overlap contract moves the placement (e.g. an output only exactly over its input) can then shut
    out several later calls that together save more (VWW's lines depthwise at 24x24x32 did, against its
    two 1x1 convolutions at 12x12 and 6x6, while its contract was exactly over its input only; tested
    in tests/test_kernel_choice.py). Within flash_room (the bytes all the variants' data may add), where
    there is one. Changes offers, choices; returns the calls taken."""
    refused = sorted((i for i in best if i not in taken), key=lambda i: -merit(i))
    if not refused:
        return taken

    def saved(position: int, offer: tuple[KernelCall, Choice]) -> int:
        return _saved(offer[1], lowered[position].function)

    for position in sorted(taken, key=merit):
        current = offers[position]
        following = offer_at(position, frozenset({current[0].function}))
        stepped = following is not None and following[0].function != lowered[position].function
        trial_offers = dict(offers)
        trial = set(taken) - {position}
        if stepped:
            trial_offers[position] = following
            trial.add(position)
        loss = saved(position, current) - (saved(position, following) if stepped else 0)
        snapshot = dict(offers)

        def trial_arena(positions: set[int]) -> int:
            """The arena with the trial's offers (arena() reads `offers`), which are then put back."""
            offers.update(trial_offers)
            try:
                return arena(positions)
            finally:
                offers.clear()
                offers.update(snapshot)

        if flash_room is not None and sum(flash(i, trial_offers[i]) for i in trial) > flash_room:
            continue
        if trial_arena(trial) > limit:
            continue
        admitted, gain = [], 0
        for other in refused:
            if other in trial:
                continue
            trial_offers[other] = best[other]
            if flash_room is not None and sum(flash(i, trial_offers[i]) for i in trial | {other}) > flash_room:
                continue
            if trial_arena(trial | {other}) <= limit:
                trial.add(other)
                admitted.append(other)
                gain += saved(other, best[other])
        if gain <= loss:
            continue
        note = "stepped down so that " + ", ".join(f"#{lowered[i].op_index}" for i in admitted) + " keep their variants"
        offers.update(trial_offers)
        if stepped:
            choices[position] = Choice(following[1].op_index, following[1].function,
                                       following[1].considered + ((f"not {current[0].function}", note),))
        else:
            choices[position] = _noted(current[1], lowered[position].function, note)
        for other in admitted:
            choices[other] = best[other][1]
        taken = trial
        refused = [i for i in refused if i not in taken]
    return taken


def _flash_added(graph: Graph, twin: KernelCall, variant: KernelCall) -> int:
    """Flash the variant's own constants take beyond the constant tensors the twin reads (its weights
    and bias, which the variant's data replaces)."""
    own = sum(a.value.values.nbytes for a in variant.args if isinstance(a.value, ConstArray))
    replaced = sum(graph.tensor(a.value.tensor).nbytes for a in twin.args
                   if isinstance(a.value, TensorRef) and graph.tensor(a.value.tensor).data is not None)
    return own - replaced


def _noted(choice: Choice, function: str, note: str) -> Choice:
    return Choice(choice.op_index, function, choice.considered + (("kept " + function, note),))


def _saved(choice: Choice, twin: str) -> int:
    """Estimated instructions the chosen variant saves over the twin, from the registry's notes."""
    costs = {name: int(note[1:].split()[0]) for name, note in choice.considered if note.startswith("~")}
    return costs.get(twin, 0) - costs.get(choice.function, 0)


def estimated_flash(graph: Graph, board: Board | None) -> int:
    """The firmware flash boards/fit.py estimates for the model with its own weights."""
    framework = board.platformio.flash_overhead_bytes if board is not None and board.platformio else 0
    return weights_bytes(graph) + code_flash_estimate(graph) + framework


def compile_graph(graph: Graph, arena_budget: int | None = None, guard_bytes: int = 0,
                  kernel_set: KernelSet = KernelSet.OPTIMISED, overlaps: bool = True,
                  exact_seconds: float = 0.0, patch: PatchRequest = NO_PATCH,
                  max_overhead: float = 0.20, patch_budget: int | None = None,
                  board: Board | None = None, flash_budget: int | None = None, cores: int = 1,
                  grow_arena: bool = False) -> CompiledModel:
    """guard_bytes > 0: a debug build that checks the bytes around every buffer after each operator.
    overlaps=False: every buffer apart from every other live one (no kernel contracts, no in-place
    variants), as before the schedule had them. exact_seconds: time for the exact placement search.
    patch: run the first stage patch by patch (MCUNetV2); max_overhead bounds the extra MACs that
    --patch auto may spend, as a fraction of the model's. patch_budget: the arena the patch choice
    aims to fit (default arena_budget), where the caller checks the fit itself (boards/fit.py).
    board: the board the code is for (its ISA features choose the kernel variants); by default
    tinygen's default board. flash_budget: the firmware flash (estimated as boards/fit.py does) the
    variants' own data must leave the model within; default the board's flash budget, if a board is named.
    cores: split every step across this many cores (schedule/cores.py); 1 gives the single-core code.
    grow_arena: with several cores, speed first: bands of rows without in-place kernels or outputs over
    their inputs, the arena grows; by default the single-core plan as it is (in-place kernels, overlaps),
    only the cores' private scratch (and copies of rows another core overwrites) added."""
    speed_first = cores > 1 and grow_arena
    features = frozenset(board.core.isa_features) if board is not None else default_isa_features()
    # The portable twins first (no ISA feature): order, in-place and patch choices work on the
    # reference kernels' arguments; the board's own variants come after, where they cost no arena.
    kernels, _ = choose_kernels(graph, lower_graph(graph), kernel_set, frozenset())
    # Resource variables order their reads and assignments through state the data flow does not
    # show: such a graph keeps its own order (issue 10: ops-b).
    if not any(isinstance(op.attrs, (ops.ReadVariable, ops.AssignVariable)) for op in graph.operators):
        kernels = order_for_memory(graph, kernels, lambda candidate: schedule_and_plan(
            graph, declare_overlaps(candidate), None, guard_bytes, overlaps)[1].arena_bytes)

    def prepared(patch_plan: PatchPlan | None, inplace: bool = True) -> tuple[Lowered, ...]:
        lowered = kernels
        if overlaps and not guard_bytes and kernel_set is not KernelSet.FASTEST and inplace:
            lowered = _choose_inplace(graph, lowered, keep=patch_plan.split if patch_plan else 0)
        return lowered

    def arena_of(patch_plan: PatchPlan | None) -> ArenaPlan:
        return schedule_and_plan(graph, declare_overlaps(prepared(patch_plan)), None, 0, overlaps, 0.0, patch_plan)[1]

    # The patch plan is the single-core build's, whatever the cores.
    patch_plan = choose_patch_plan(graph, kernels, patch, max_overhead,
                                   arena_budget if patch_budget is None else patch_budget, arena_of)
    lowered, choices = prepared(patch_plan, inplace=not speed_first), ()
    if kernel_set is not KernelSet.REFERENCE:
        if flash_budget is None and board is not None:
            flash_budget = board.memory.flash_budget
        flash_room = None if flash_budget is None else flash_budget - estimated_flash(graph, board)
        lowered, choices = _choose_variants(graph, lowered, features, patch_plan, overlaps,
                                            keep_arena=kernel_set is KernelSet.OPTIMISED, flash_room=flash_room)
        if patch_plan is not None:  # the stage runs the variants chosen for its calls
            patch_plan = with_stage_calls(patch_plan, lowered[:patch_plan.split])
    lowered = declare_overlaps(lowered)
    if speed_first:   # in-place kernels (above) and contracts give way to bands of rows
        lowered = without_split_overlaps(lowered)
    # Speed first, several cores run patches at once: the stage's output may not lie over its input.
    schedule, plan = schedule_and_plan(graph, lowered, arena_budget, guard_bytes, overlaps, exact_seconds, patch_plan,
                                       stage_overlap=not speed_first)
    if cores > 1:
        # Whole patches per core need a workspace each: only where the arena may grow.
        split = split_across_cores(schedule, plan, cores, whole_patches=speed_first)
        return CompiledModel(graph, lowered, schedule, split.plan, emit_model(graph, schedule, plan, split),
                             patch_plan, choices, split)
    return CompiledModel(graph, lowered, schedule, plan, emit_model(graph, schedule, plan), patch_plan, choices)


def compile_file(path: Path | str, arena_budget: int | None = None, guard_bytes: int = 0,
                 kernel_set: KernelSet = KernelSet.OPTIMISED, overlaps: bool = True,
                 patch: PatchRequest = NO_PATCH, max_overhead: float = 0.20, board: Board | None = None,
                 flash_budget: int | None = None, cores: int = 1, grow_arena: bool = False) -> CompiledModel:
    return compile_graph(read_tflite(path), arena_budget, guard_bytes, kernel_set, overlaps,
                         patch=patch, max_overhead=max_overhead, board=board, flash_budget=flash_budget, cores=cores,
                         grow_arena=grow_arena)


def compile_bytes(data: bytes, name: str = "model", arena_budget: int | None = None,
                  guard_bytes: int = 0, kernel_set: KernelSet = KernelSet.OPTIMISED,
                  overlaps: bool = True, patch: PatchRequest = NO_PATCH, max_overhead: float = 0.20,
                  board: Board | None = None, flash_budget: int | None = None, cores: int = 1,
                  grow_arena: bool = False) -> CompiledModel:
    return compile_graph(parse_tflite(data, name=name), arena_budget, guard_bytes, kernel_set, overlaps,
                         patch=patch, max_overhead=max_overhead, board=board, flash_budget=flash_budget, cores=cores,
                         grow_arena=grow_arena)
