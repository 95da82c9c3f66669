"""Generate a model's C library (<name>.h, <name>.c) from its schedule and arena plan.

emit.py decides what exists and what it is called: every kernel argument becomes a named static
constant (op<k>_<arg>), every constant tensor an aligned array in flash (w<index>), every view an
address in the arena (its buffer's offset in the plan plus the view's own offset). The templates
decide the layout of the files, loops included.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from tinygen import __version__
from tinygen.codegen.cformat import array_body, c_comment, c_float, c_int, struct_initializer
from tinygen.codegen.env import render
from tinygen.codegen.sources import GeneratedSources
from tinygen.errors import PlanError
from tinygen.ir.graph import DType, Graph, Tensor
from tinygen.kernels.call import Lowered
from tinygen.kernels.cvalues import ConstArray, CStruct, NullPtr, ScratchRef, TensorRef
from tinygen.plan.arena import ArenaPlan
from tinygen.plan.state import plan_state
from tinygen.schedule.ir import AliasStep, Loop, Schedule, TraceGather, TracePoint, View
from tinygen.schedule.ir import Step as ScheduledStep
from tinygen.schedule.lower import build_schedule
from tinygen.schedule.trace import TracedTensor, item_traces
from tinygen.codegen.guard_codes import GUARD_CODES

if TYPE_CHECKING:
    from tinygen.schedule.cores import CoreSplit

_DTYPE_ENUM = {
    DType.INT8: "TG_DTYPE_INT8",
    DType.UINT8: "TG_DTYPE_UINT8",
    DType.INT16: "TG_DTYPE_INT16",
    DType.INT32: "TG_DTYPE_INT32",
    DType.FLOAT32: "TG_DTYPE_FLOAT32",
}


@dataclass(frozen=True)
class StaticConst:
    c_type: str
    name: str
    initializer: str
    length: int | None  # array length, None for a struct or scalar
    comment: str = ""


@dataclass(frozen=True)
class Trace:
    op_index: int
    tensor_index: int
    pointer: str
    nbytes: int


@dataclass(frozen=True)
class Step:
    comment: str
    function: str | None  # None: the operator needs no code (an alias)
    args: tuple[str, ...]
    traces: tuple[Trace, ...]
    op_index: int = -1
    call_step: int = -1   # index among the kernel calls; the guard checks of debug builds use it
    trace_only: bool = False  # compiled only in trace builds (TG_TRACE): gathers a patched tensor


@dataclass(frozen=True)
class LoopBlock:
    """A schedule Loop as the template renders it: each iteration's steps (unrolled today)."""

    label: str
    iterations: tuple[tuple[Step, ...], ...]


@dataclass(frozen=True)
class CoreBlock:
    """One schedule item on several cores: an optional barrier first, then each core's calls
    (`shares`: (core, steps)); `traces` are taken by core 0 once every core is done (trace builds)."""

    barrier: bool
    shares: tuple[tuple[int, tuple[Step, ...]], ...]
    traces: tuple[Trace, ...]


@dataclass(frozen=True)
class TensorInfo:
    name: str
    pointer: str
    nbytes: int
    dtype_enum: str
    dims: tuple[int, ...]
    scale: str
    zero_point: int


class _Emitter:
    def __init__(self, graph: Graph, schedule: Schedule, plan: ArenaPlan) -> None:
        self.graph = graph
        self.plan = plan
        self.offsets = plan.buffer_offsets()
        self.schedule = schedule
        self.prefix = graph.name
        self.weights: dict[int, StaticConst] = {}
        self.params: list[StaticConst] = []
        self.param_names: dict[str, StaticConst] = {}
        self.trace_buffers: dict[int, StaticConst] = {}  # tensor -> its whole copy in trace builds
        self.state = plan_state(graph)  # variable tensors, kept between invocations

    # -- addresses -----------------------------------------------------------------------
    def arena_pointer(self, c_type: str, offset: int) -> str:
        return f"TG_ARENA({c_type}, {offset})"

    def view_pointer(self, view: View) -> str:
        return self.arena_pointer(view.c_type, self.offsets[view.buffer] + view.offset)

    def tensor_pointer(self, index: int) -> str:
        if self.state.holds(index):  # a variable tensor, or a resource variable's handle
            c_type = self.graph.tensor(index).dtype.c_type if self.graph.tensor(index).variable else "uint8_t"
            return f"TG_STATE({c_type}, {self.state.offset_of(index)})"
        view = self.schedule.tensor_view(index)
        if view is None:  # a constant, or an alias of one
            return self.weight_array(self._constant_root(index))
        return self.view_pointer(view)

    def _constant_root(self, index: int) -> Tensor:
        return self.graph.tensor(dict(self.schedule.constant_aliases).get(index, index))

    def weight_array(self, tensor: Tensor) -> str:
        if tensor.index not in self.weights:
            data = np.asarray(tensor.data)
            self.weights[tensor.index] = StaticConst(
                c_type=tensor.dtype.c_type,
                name=f"w{tensor.index}",
                initializer=array_body(data, tensor.dtype.c_type),
                length=max(1, data.size),
                comment=c_comment(f"'{tensor.name}' {list(tensor.shape)}"),
            )
        return self.weights[tensor.index].name

    # -- kernel arguments ----------------------------------------------------------------
    def add_param(self, const: StaticConst) -> str:
        """Its name. An operator run per patch has one call per patch: equal constants are shared,
        different ones get a _v<k> suffix."""
        name, k = const.name, 0
        while name in self.param_names:
            same = self.param_names[name]
            if (same.c_type, same.initializer, same.length) == (const.c_type, const.initializer, const.length):
                return name
            k += 1
            name = f"{const.name}_v{k}"
        const = dataclasses.replace(const, name=name)
        self.param_names[name] = const
        self.params.append(const)
        return name

    def const_array(self, name: str, array: ConstArray) -> str:
        values = np.asarray(array.values)
        return self.add_param(StaticConst(array.c_type, name, array_body(values, array.c_type), max(1, values.size)))

    def argument(self, step: ScheduledStep, arg_name: str, value) -> str:
        call = step.call
        base = f"op{call.op_index}_{arg_name}"
        view = step.view(arg_name)
        if isinstance(value, (TensorRef, ScratchRef)) and view is not None:
            return self.view_pointer(view)
        if isinstance(value, TensorRef):
            return self.tensor_pointer(value.tensor)
        if isinstance(value, NullPtr):
            return "NULL"
        if isinstance(value, ConstArray):
            return self.const_array(base, value)
        if isinstance(value, CStruct):
            counter = iter(range(1_000_000))
            def nested(array: ConstArray) -> str:
                return self.const_array(f"{base}_{next(counter)}", array)
            return "&" + self.add_param(StaticConst(value.C_TYPE, base, struct_initializer(value, nested), None))
        if isinstance(value, (bool, int, np.integer)):
            return c_int(int(value))
        if isinstance(value, (float, np.floating)):
            return c_float(float(value))
        raise TypeError(f"operator #{call.op_index}: cannot pass {type(value).__name__} to {call.function}")

    def trace_buffer(self, tensor_index: int) -> str:
        if tensor_index not in self.trace_buffers:
            t = self.graph.tensor(tensor_index)
            self.trace_buffers[tensor_index] = StaticConst(t.dtype.c_type, f"{self.prefix}_gather_t{tensor_index}", "",
                                                           t.nbytes, c_comment(f"'{t.name}' {list(t.shape)}"))
        return self.trace_buffers[tensor_index].name

    def trace_gather(self, gather: TraceGather) -> Step:
        """A patch's part of a tensor copied into its whole copy; parameters inline, since they
        exist only in trace builds."""
        args = []
        for a in gather.call.args:
            if isinstance(a.value, CStruct):
                args.append(f"&({a.value.C_TYPE}){struct_initializer(a.value, None)}")
            elif a.name == "dst":
                args.append(f"&{self.trace_buffer(gather.tensor)}[{gather.offset}]")
            else:
                args.append(self.view_pointer(gather.source))
        return Step(self.comment(gather.call.op_index) + " (trace builds: gathered)", gather.call.function,
                    tuple(args), (), gather.call.op_index, trace_only=True)

    def trace(self, traced: TracedTensor) -> Trace:
        pointer = self.trace_buffer(traced.tensor) if traced.gathered else self.tensor_pointer(traced.tensor)
        return Trace(traced.op_index, traced.tensor, pointer, self.graph.tensor(traced.tensor).nbytes)

    def traces(self, item: ScheduledStep | Loop | AliasStep | TracePoint) -> tuple[Trace, ...]:
        return tuple(self.trace(t) for t in item_traces(self.graph, self.schedule, item))

    def comment(self, op_index: int) -> str:
        op = next(o for o in self.graph.operators if o.index == op_index)
        shapes = " ".join(str(list(self.graph.tensor(i).shape)) for i in op.inputs[:1] if i >= 0)
        out_shape = str(list(self.graph.tensor(op.outputs[0]).shape)) if op.outputs else "(state)"
        return f"#{op.index} {op.kind}: {shapes} -> {out_shape}"

    def call_step(self, step: ScheduledStep, position: int, traced: bool) -> Step:
        call = step.call
        args = tuple(self.argument(step, a.name, a.value) for a in call.args)
        traces = self.traces(step) if traced else ()
        return Step(self.comment(call.op_index), call.function, args, traces, call.op_index, position)

    def steps(self) -> list[Step | LoopBlock]:
        rendered: list[Step | LoopBlock] = []
        position = 0
        for item in self.schedule.items:
            if isinstance(item, AliasStep):
                rendered.append(Step(self.comment(item.op_index) + " (shares its input's bytes)", None, (),
                                     self.traces(item)))
            elif isinstance(item, Loop):
                iterations = []
                for iteration in item.iterations:
                    rendered_iteration = []
                    for s in iteration:
                        if isinstance(s, TraceGather):
                            rendered_iteration.append(self.trace_gather(s))
                        else:
                            rendered_iteration.append(self.call_step(s, position, traced=False))
                            position += 1
                    iterations.append(tuple(rendered_iteration))
                rendered.append(LoopBlock(item.label, tuple(iterations)))
            elif isinstance(item, TracePoint):
                rendered.append(Step(self.comment(item.op_index) + " (every patch done)", None, (), self.traces(item)))
            else:
                rendered.append(self.call_step(item, position, traced=True))
                position += 1
        return rendered

    def core_blocks(self, split: "CoreSplit") -> list[CoreBlock]:
        """The schedule as the cores run it: per item, each core's share; the item's traces after its
        last part, where every core's share of the tensor is written (the template puts them between
        two barriers, in trace builds only), the same tensors as the one-core trace."""
        blocks: list[CoreBlock] = []
        for index, item in enumerate(self.schedule.items):
            if isinstance(item, (AliasStep, TracePoint)):
                blocks.append(CoreBlock(False, (), self.traces(item)))
                continue
            parts = split.parts_of(index)
            assert parts, f"schedule item {index} has no share on any core"
            for k, part in enumerate(parts):
                shares = []
                for share in part.shares:
                    rendered = tuple(self.trace_gather(w) if isinstance(w, TraceGather)
                                     else self.call_step(w, -1, traced=False) for w in share.work)
                    shares.append((share.core, rendered))
                traces = self.traces(item) if k == len(parts) - 1 else ()
                blocks.append(CoreBlock(part.barrier_before, tuple(shares), traces))
        return blocks

    def tensor_info(self, index: int) -> TensorInfo:
        t = self.graph.tensor(index)
        dims = t.shape or (1,)
        if len(dims) > 6:
            raise ValueError(f"tensor '{t.name}' has rank {len(dims)} > 6")
        quant = t.quant
        return TensorInfo(
            name=t.name,
            pointer=self.tensor_pointer(index),
            nbytes=t.nbytes,
            dtype_enum=_DTYPE_ENUM[t.dtype],
            dims=tuple(dims),
            scale=c_float(quant.scale) if quant else "0.0f",
            zero_point=quant.zero_point if quant else 0,
        )


@dataclass(frozen=True)
class GuardBuffer:
    offset: int
    nbytes: int
    first: int
    last: int
    tensor: int
    label: str


# The status of a guard failure packs these into an int32 (runtime_c/include/tinygen/tg_model.h).
GUARD_OP_MAX = GUARD_CODES.op_max
GUARD_SCRATCH = GUARD_CODES.scratch


def guard_buffers(graph: Graph, plan: ArenaPlan) -> list[GuardBuffer]:
    """The table a debug build checks after each operator (tinygen/plan/arena.py guard_bytes)."""
    if max((op.index for op in graph.operators), default=0) > GUARD_OP_MAX or len(graph.tensors) >= GUARD_SCRATCH:
        raise PlanError(f"guard bytes support models of up to {GUARD_OP_MAX + 1} operators and "
                        f"{GUARD_SCRATCH} tensors")
    placements = sorted(plan.placements, key=lambda p: (p.offset, p.buffer.first))
    return [GuardBuffer(p.offset, p.buffer.size, p.buffer.first, p.buffer.last,
                        p.buffer.tensors[0] if p.buffer.tensors else GUARD_SCRATCH, p.buffer.label)
            for p in placements]


def emit_model(graph: Graph, schedule: Schedule | tuple[Lowered, ...], plan: ArenaPlan,
               split: "CoreSplit | None" = None) -> GeneratedSources:
    """`schedule` may also be a kernel-call sequence (tests edit those): it is scheduled whole.
    split: the schedule across several cores (schedule/cores.py); its plan holds the cores' private
    buffers. None or one core: the single-core code."""
    if not isinstance(schedule, Schedule):
        schedule = build_schedule(graph, schedule)
    cores = split.cores if split is not None else 1
    if cores > 1:
        plan = split.plan
    e = _Emitter(graph, schedule, plan)
    steps = e.steps() if cores == 1 else []
    blocks = e.core_blocks(split) if cores > 1 else []
    context = dict(
        name=graph.name,
        upper=graph.name.upper(),
        version=__version__,
        sha256=graph.sha256,
        sha256_bytes=", ".join(f"0x{graph.sha256[i:i + 2]}" for i in range(0, 64, 2)),
        arena_bytes=plan.arena_bytes,
        peak_live_bytes=plan.peak_live_bytes,
        lower_bound_bytes=plan.lower_bound_bytes,
        weights=[e.weights[k] for k in sorted(e.weights)],
        params=e.params,
        steps=steps,
        inputs=[e.tensor_info(i) for i in graph.inputs],
        outputs=[e.tensor_info(i) for i in graph.outputs],
        num_ops=len(graph.operators),
        guard_bytes=plan.guard_bytes,
        guards=guard_buffers(graph, plan) if plan.guard_bytes else [],
        trace_buffers=[e.trace_buffers[k] for k in sorted(e.trace_buffers)],
        cores=cores,
        core_blocks=blocks,
        state_bytes=e.state.nbytes,
        state_slots=[dict(offset=s.offset, nbytes=s.nbytes, fill=s.fill,
                          comment=c_comment(f"'{graph.tensor(s.tensor).name}' {list(graph.tensor(s.tensor).shape)}"))
                     for s in e.state.slots],
    )
    header = render("model/model.h.j2", **context)
    source = render("model/model.c.j2", **context)
    return GeneratedSources(
        model_name=graph.name,
        files=((f"{graph.name}.h", header), (f"{graph.name}.c", source)),
        arena_bytes=plan.arena_bytes,
    )
