"""Patch-based execution (MCUNetV2) of a CNN's first stage.

The first kernel calls of a network form a stage when they read only the first call's input and
each other's outputs: convolutions, depthwise convolutions, pooling, PAD, activations, and ADD/MUL
joining branches (residual blocks). Their last output is split into a grid of patches; for each
patch the window every call must produce is found backwards (the receptive field; a tensor read by
two branches holds the union of what they need), and the stage runs patch by patch, so only one
patch's intermediate tensors are ever in memory, in one workspace every patch reuses.

Borders are exact: a call over a window gets that window's dims and a *local* padding. For an axis
with stride s, top padding p and dilation d, output rows [o0, o1) read input rows
[max(0, o0*s - p), min(H, (o1-1)*s - p + (k-1)*d + 1)), and with the window starting at input row
i0 the local padding is p + i0 - o0*s: zero inside the image, TFLite's own padding at its top edge.
The kernels skip taps past the window's end, which happens only where the window ends at the
image's bottom edge. So every patch computes exactly the values of the whole-tensor run.

The stage's first input and last output stay whole tensors. Where a window spans the whole width
its rows are contiguous and a call reads or writes them in place (a view); otherwise
tg_copy_window_s8 copies the window out of the input or into the output. Patches run from the
bottom right, so the output may lie over the input rows no later patch reads (stage_allowances).
Trace builds gather every patch's intermediate results into whole copies, so they are compared
with TFLM's tensors too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from tinygen.errors import PlanError
from tinygen.ir.graph import DType, Graph
from tinygen.kernels.call import Alias, KernelArg, KernelCall, Lowered
from tinygen.kernels.cvalues import HW, ConstArray, CStruct, CValue, Dims, TensorRef
from tinygen.schedule.ir import ArenaBuffer, Loop, Schedule, Step, TraceGather, TracePoint, View

if TYPE_CHECKING:
    from tinygen.plan.arena import ArenaPlan

# Kernels whose output pixel depends on a kernel-sized window of input pixels.
WINDOWED = frozenset({"tg_conv_s8", "tg_conv_s8_fast", "tg_depthwise_conv_s8", "tg_depthwise_conv_s8_fast",
                      "tg_avg_pool_s8", "tg_max_pool_s8"})
# Kernels mapping each input element to the output element at the same place ("size" elements).
POINTWISE = frozenset({"tg_relu_s8", "tg_relu6_s8", "tg_hard_swish_s8", "tg_logistic_s8", "tg_requantize_s8",
                       "tg_add_s8", "tg_mul_s8"})
BINARY = frozenset({"tg_add_s8", "tg_mul_s8"})  # two inputs of the output's shape (no broadcast)
COPY_FUNCTION = "tg_copy_window_s8"
PAD_FUNCTION = "tg_pad_s8"  # PAD of rows and columns: a 1x1 window with the padding as its border


@dataclass(frozen=True)
class Span:
    """Half-open [start, stop) along one axis."""

    start: int
    stop: int

    @property
    def size(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class Window:
    """Rows and columns of an NHWC tensor (batch 1, every channel)."""

    rows: Span
    cols: Span
    channels: int

    @property
    def pixels(self) -> int:
        return self.rows.size * self.cols.size

    @property
    def nbytes(self) -> int:  # int8 tensors only
        return self.pixels * self.channels


@dataclass(frozen=True)
class AxisGeometry:
    """One spatial axis of a windowed call: filter size, stride, dilation, top/left padding."""

    kernel: int
    stride: int
    dilation: int
    padding: int
    in_size: int

    def input_span(self, out: Span) -> Span:
        start = max(0, out.start * self.stride - self.padding)
        stop = min(self.in_size, (out.stop - 1) * self.stride - self.padding + (self.kernel - 1) * self.dilation + 1)
        return Span(start, stop)

    def local_padding(self, out: Span, inp: Span) -> int:
        return self.padding + inp.start - out.start * self.stride


POINT = AxisGeometry(kernel=1, stride=1, dilation=1, padding=0, in_size=1 << 30)


@dataclass(frozen=True)
class StageOp:
    """One call of the stage, with what its windows need."""

    call: KernelCall
    rows: AxisGeometry
    cols: AxisGeometry
    input_dims: Dims
    output_dims: Dims
    macs_per_pixel: int  # multiply-accumulates per output pixel (0 for pooling and elementwise)
    inputs: tuple[tuple[str, int], ...] = ()  # (argument, tensor) of every activation input

    @property
    def input_tensor(self) -> int:
        return self.inputs[0][1]

    @property
    def output_tensor(self) -> int:
        return _tensor_arg(self.call, "output")

    @property
    def pointwise(self) -> bool:
        """An elementwise call over `size` elements (its variants keep that argument)."""
        return any(a.name == "size" for a in self.call.args)

    def input_window(self, out: Window) -> Window:
        """What every input must hold for `out` (the inputs of ADD and MUL share their window)."""
        if self.pointwise:
            return dataclasses.replace(out, channels=self.input_dims.c)
        return Window(self.rows.input_span(out.rows), self.cols.input_span(out.cols), self.input_dims.c)


@dataclass(frozen=True)
class PatchWindows:
    """One patch: per call, the window its inputs must hold and the window it computes (the union
    of what its consumers need: with branches, one consumer may need less, and gets a copy)."""

    inputs: tuple[Window, ...]
    outputs: tuple[Window, ...]
    stage_input: Window  # the part of the stage's input the patch reads


@dataclass(frozen=True)
class PatchPlan:
    """The first `split` calls run patch by patch over a rows x cols grid of their last output."""

    split: int
    grid_rows: int
    grid_cols: int
    ops: tuple[StageOp, ...]
    patches: tuple[PatchWindows, ...]

    @property
    def label(self) -> str:
        return f"{self.split}:{self.grid_rows}x{self.grid_cols}"

    @property
    def stage_input(self) -> int:
        return self.ops[0].input_tensor

    @property
    def macs(self) -> int:
        """MACs of the patched calls, halos recomputed included."""
        return sum(w.pixels * op.macs_per_pixel for p in self.patches for w, op in zip(p.outputs, self.ops))

    @property
    def whole_macs(self) -> int:
        return sum(op.output_dims.h * op.output_dims.w * op.macs_per_pixel for op in self.ops)

    @property
    def extra_macs(self) -> int:
        return self.macs - self.whole_macs



def _tensor_arg(call: KernelCall, name: str) -> int:
    value = call.arg(name)
    assert isinstance(value, TensorRef)
    return value.tensor


def stage_op(graph: Graph, call: KernelCall) -> StageOp | None:
    """The call's geometry, or None where it cannot run over windows."""
    names = {a.name for a in call.args}
    if call.function in WINDOWED:
        in_dims, out_dims, params = call.arg("input_dims"), call.arg("output_dims"), call.arg("params")
        assert isinstance(in_dims, Dims) and isinstance(out_dims, Dims)
        if "filter_dims" in names:
            f = call.arg("filter_dims")
            kernel, dilation = HW(f.h, f.w), params.dilation
            per_tap = f.c if call.function.startswith("tg_conv") else 1
            macs = out_dims.c * f.h * f.w * per_tap
        else:
            kernel, dilation, macs = params.filter, HW(1, 1), 0
        rows = AxisGeometry(kernel.h, params.stride.h, dilation.h, params.padding.h, in_dims.h)
        cols = AxisGeometry(kernel.w, params.stride.w, dilation.w, params.padding.w, in_dims.w)
        input_args = ("input",)
    elif call.function == PAD_FUNCTION:
        params = call.arg("params")
        dims, before, after = (list(map(int, a.values)) for a in (params.input_dims, params.before, params.after))
        out_shape = graph.tensor(_tensor_arg(call, "output")).shape
        if dims[:2] != [1, 1] or len(out_shape) != 4 or any(before[i] or after[i] for i in (0, 1, 4)):
            return None  # patches pad rows and columns only
        in_dims, out_dims = Dims(1, dims[2], dims[3], dims[4]), Dims(*out_shape)
        rows = AxisGeometry(1, 1, 1, before[2], dims[2])
        cols = AxisGeometry(1, 1, 1, before[3], dims[3])
        macs, input_args = 0, ("input",)
    elif call.function in POINTWISE and "size" in names:
        input_args = ("input1", "input2") if call.function in BINARY else ("input",)
        shapes = {graph.tensor(_tensor_arg(call, a)).shape for a in (*input_args, "output")
                  if isinstance(call.arg(a), TensorRef)}
        if len(shapes) != 1 or len(next(iter(shapes))) != 4:
            return None  # a broadcast or a constant operand: no window of it is a window of the output
        in_dims = out_dims = Dims(*next(iter(shapes)))
        rows, cols, macs = POINT, POINT, 0
    else:
        return None
    pointers = (*input_args, "output")
    if in_dims.n != 1 or not all(isinstance(call.arg(n), TensorRef) for n in pointers):
        return None
    tensors = [graph.tensor(_tensor_arg(call, n)) for n in pointers]
    if any(t.dtype is not DType.INT8 or t.is_constant for t in tensors) or call.scratch_bytes:
        return None
    inputs = tuple((a, _tensor_arg(call, a)) for a in input_args)
    if tuple(dict.fromkeys(t for _, t in inputs)) != call.reads or call.writes != (tensors[-1].index,):
        return None
    return StageOp(call, rows, cols, in_dims, out_dims, macs, inputs)


def _readers(lowered: tuple[Lowered, ...]) -> dict[int, list[int]]:
    """Tensor -> the positions of the calls (and aliases) that read it."""
    readers: dict[int, list[int]] = {}
    for position, item in enumerate(lowered):
        for t in (item.reads if isinstance(item, KernelCall) else (item.source,) if isinstance(item, Alias) else ()):
            readers.setdefault(t, []).append(position)
    return readers


def patchable_chain(graph: Graph, lowered: tuple[Lowered, ...]) -> tuple[StageOp, ...]:
    """The longest run of windowable calls at the start of the network that read only the first
    call's input and each other's outputs (a chain, or branches that join again: residual ADDs)."""
    op_calls: dict[int, int] = {}
    for item in lowered:
        op_calls[item.op_index] = op_calls.get(item.op_index, 0) + 1
    ops: list[StageOp] = []
    produced: set[int] = set()
    for item in lowered:
        if not isinstance(item, KernelCall) or op_calls[item.op_index] != 1:
            break
        op = stage_op(graph, item)
        if op is None:
            break
        stage_input = ops[0].input_tensor if ops else op.input_tensor
        if any(t not in produced and t != stage_input for _, t in op.inputs) or op.output_tensor in produced:
            break
        ops.append(op)
        produced.add(op.output_tensor)
    return tuple(ops)


def split_problem(graph: Graph, lowered: tuple[Lowered, ...], ops: tuple[StageOp, ...], split: int) -> str | None:
    """Why the first `split` calls cannot form a stage (None: they can): every tensor they make
    but the last must be read by them alone, never after the stage."""
    readers = _readers(lowered)
    for op in ops[:split - 1]:
        t = op.output_tensor
        if t in graph.outputs or any(position >= split for position in readers.get(t, ())):
            return f"tensor {t} '{graph.tensor(t).name}' is needed after operator #{ops[split - 1].call.op_index}"
    if any(t == ops[split - 1].output_tensor for op in ops[:split] for _, t in op.inputs):
        return "the last operator's output is read inside the stage"
    return None


def _grid_spans(size: int, parts: int) -> list[Span]:
    return [Span(i * size // parts, (i + 1) * size // parts) for i in range(parts)]


def _union(a: Span | None, b: Span) -> Span:
    return b if a is None else Span(min(a.start, b.start), max(a.stop, b.stop))


@dataclass(frozen=True)
class AxisSpans:
    """One axis of a grid: per call, per grid cell, the (input, output) span, and per cell the
    span of the stage's input that the patches read."""

    per_op: tuple[tuple[tuple[Span, Span], ...], ...]
    stage_input: tuple[Span, ...]


def axis_spans(ops: tuple[StageOp, ...], axis: str, parts: int) -> AxisSpans:
    """Rows (axis 'rows') or columns ('cols') are independent: found backwards from the last
    output's grid cells, a tensor read by several calls holding the union of what they need."""
    size = getattr(ops[-1].output_dims, "h" if axis == "rows" else "w")
    need: dict[int, list[Span]] = {ops[-1].output_tensor: _grid_spans(size, parts)}
    per_op: list[tuple[tuple[Span, Span], ...]] = []
    for op in reversed(ops):
        outs = need[op.output_tensor]
        geometry = getattr(op, axis)
        ins = outs if op.pointwise else [geometry.input_span(out) for out in outs]
        if any(span.size <= 0 for span in ins):
            raise PlanError(f"patch grid of {parts} along the {axis}: a patch of operator #{op.call.op_index} reads "
                            "nothing but padding")
        per_op.insert(0, tuple(zip(ins, outs)))
        for _, t in op.inputs:
            need[t] = [_union(a, b) for a, b in zip(need[t], ins)] if t in need else list(ins)
    return AxisSpans(tuple(per_op), tuple(need[ops[0].input_tensor]))


def execution_order(grid_rows: int, grid_cols: int) -> list[tuple[int, int]]:
    """Patches run from the bottom right to the top left (raster order reversed): the stage's
    whole output can then lie above its whole input and overwrite the input's end as soon as no
    later patch reads it (stage_min_delta)."""
    return [(r, c) for r in reversed(range(grid_rows)) for c in reversed(range(grid_cols))]


def make_plan(chain: tuple[StageOp, ...], split: int, grid_rows: int, grid_cols: int,
              problem: str | None = None) -> PatchPlan:
    """The windows of every patch when the first `split` calls of the stage run over a grid.
    problem: why this split is no stage (split_problem), if it is not one."""
    if not 2 <= split <= len(chain):
        raise PlanError(f"patch split {split}: the first {len(chain)} operators can run in patches, so the split "
                        f"must be between 2 and {len(chain)}")
    if problem:
        raise PlanError(f"patch split {split}: {problem}")
    ops = chain[:split]
    last = ops[-1].output_dims
    if not (1 <= grid_rows <= last.h and 1 <= grid_cols <= last.w):
        raise PlanError(f"patch grid {grid_rows}x{grid_cols} does not fit the {last.h}x{last.w} output of the "
                        f"first {split} operators")
    rows, cols = axis_spans(ops, "rows", grid_rows), axis_spans(ops, "cols", grid_cols)
    patches = []
    for r, c in execution_order(grid_rows, grid_cols):
        patches.append(PatchWindows(
            inputs=tuple(Window(rows.per_op[k][r][0], cols.per_op[k][c][0], op.input_dims.c)
                         for k, op in enumerate(ops)),
            outputs=tuple(Window(rows.per_op[k][r][1], cols.per_op[k][c][1], op.output_dims.c)
                          for k, op in enumerate(ops)),
            stage_input=Window(rows.stage_input[r], cols.stage_input[c], ops[0].input_dims.c)))
    return PatchPlan(split, grid_rows, grid_cols, ops, tuple(patches))


# ---- the schedule: the chain's calls repeated per patch ----------------------------------------


@dataclass(frozen=True)
class WindowCopy(CStruct):
    C_TYPE: ClassVar[str] = "tg_window_copy_t"
    rows: int
    row_bytes: int
    src_stride: int
    dst_stride: int


def _window_dims(window: Window) -> Dims:
    return Dims(1, window.rows.size, window.cols.size, window.channels)


def _full_width(window: Window, dims: Dims) -> bool:
    return window.cols.size == dims.w


def _window_offset(window: Window, whole: Dims) -> int:
    return (window.rows.start * whole.w + window.cols.start) * whole.c


def _copy_params(window: Window, whole: Dims, into_whole: bool) -> WindowCopy:
    whole_stride, patch_stride = whole.w * whole.c, window.cols.size * window.channels
    return WindowCopy(rows=window.rows.size, row_bytes=patch_stride,
                      src_stride=patch_stride if into_whole else whole_stride,
                      dst_stride=whole_stride if into_whole else patch_stride)


def _region(whole: View, window: Window, dims: Dims) -> View:
    """The window as a view of the whole tensor's buffer (strided unless it spans every column)."""
    return View(whole.buffer, "int8_t", whole.offset + _window_offset(window, dims),
                (1, window.rows.size, window.cols.size, window.channels), (dims.h * dims.w * dims.c, dims.w * dims.c, dims.c, 1))


def _copy_call(op: StageOp, params: WindowCopy, tensor: int) -> KernelCall:
    return KernelCall(op.call.op_index, op.call.op_kind, COPY_FUNCTION,
                      (KernelArg("copy", params), KernelArg("src", TensorRef(tensor)), KernelArg("dst", TensorRef(tensor))),
                      reads=(tensor,), writes=(tensor,))


def _patched_call(op: StageOp, inp: Window, out: Window) -> KernelCall:
    """The call over one patch: the windows' dims, the local padding; its overlap contract
    derived again for those dims."""
    from tinygen.kernels.overlap import CONTRACTS
    replaced: dict[str, CValue] = {}
    if op.pointwise:
        replaced["size"] = out.pixels * out.channels
    elif op.call.function == PAD_FUNCTION:
        params = op.call.arg("params")
        top, left = op.rows.local_padding(out.rows, inp.rows), op.cols.local_padding(out.cols, inp.cols)
        bottom, right = out.rows.size - top - inp.rows.size, out.cols.size - left - inp.cols.size

        def five(values: list[int]) -> ConstArray:
            return ConstArray("int32_t", np.array(values, dtype=np.int32))
        replaced["params"] = dataclasses.replace(
            params, input_dims=five([1, 1, inp.rows.size, inp.cols.size, inp.channels]),
            before=five([0, 0, top, left, 0]), after=five([0, 0, bottom, right, 0]))
    else:
        params = op.call.arg("params")
        padding = HW(op.rows.local_padding(out.rows, inp.rows), op.cols.local_padding(out.cols, inp.cols))
        replaced.update(params=dataclasses.replace(params, padding=padding),
                        input_dims=_window_dims(inp), output_dims=_window_dims(out))
    args = tuple(KernelArg(a.name, replaced.get(a.name, a.value)) for a in op.call.args)
    call = dataclasses.replace(op.call, args=args, overlaps=())
    contract = CONTRACTS.get(call.function)
    return dataclasses.replace(call, overlaps=contract(call)) if contract else call


WORKSPACE = "patch_workspace"


def with_stage_calls(plan: PatchPlan, calls: tuple[Lowered, ...]) -> PatchPlan:
    """The plan with its calls replaced by `calls` (the stage's first calls after the kernel choice:
    variants that compute any window, kernels/variants.py Variant.any_window); same geometry."""
    ops = []
    for op, call in zip(plan.ops, calls, strict=True):
        if not isinstance(call, KernelCall) or call.op_index != op.call.op_index or call.scratch_bytes:
            raise AssertionError("the patch stage's calls do not match its plan")
        ops.append(dataclasses.replace(op, call=call))
    return dataclasses.replace(plan, ops=tuple(ops))


def _align4(n: int) -> int:
    return (n + 3) // 4 * 4


@dataclass(frozen=True)
class _Temp:
    """A window held in the workspace during one patch, from step `first` to step `last`."""

    key: str
    window: Window
    first: int
    last: int

    @property
    def nbytes(self) -> int:
        return _align4(self.window.nbytes)


def _allocate(temps: list[_Temp]) -> tuple[dict[str, int], int]:
    """Offsets in the workspace (first fit, the best of two orders) and the bytes it needs: two
    windows live at the same step never share a byte."""
    best: tuple[dict[str, int], int] | None = None
    for order in (sorted(temps, key=lambda t: (-t.nbytes, t.first)), sorted(temps, key=lambda t: t.first)):
        placed: list[tuple[_Temp, int]] = []
        for temp in order:
            clashes = sorted((o, o + t.nbytes) for t, o in placed if t.first <= temp.last and temp.first <= t.last)
            offset = 0
            for lo, hi in clashes:
                if offset + temp.nbytes <= lo:
                    break
                offset = max(offset, hi)
            placed.append((temp, offset))
        size = max((o + t.nbytes for t, o in placed), default=0)
        if best is None or size < best[1]:
            best = ({t.key: o for t, o in placed}, size)
    assert best is not None
    return best


@dataclass(frozen=True)
class _Region:
    """A window of a whole tensor (the stage's input or output), in its own buffer."""

    whole: View
    window: Window
    dims: Dims


@dataclass(frozen=True)
class _Part:
    """A window inside a larger window held in the workspace (a branch that needs less)."""

    temp: str
    outer: Window
    window: Window


Place = str | _Region | _Part  # a str names a _Temp


def _patch_program(plan: PatchPlan, patch: PatchWindows, whole_in: View, whole_out: View) -> tuple[list, list[_Temp]]:
    """One patch as a list of symbolic steps over places, and the workspace windows it needs."""
    first, last = plan.ops[0], plan.ops[-1]
    producer = {op.output_tensor: k for k, op in enumerate(plan.ops)}
    program: list[tuple] = []
    spans: dict[str, list] = {}   # temp key -> [window, first step, last step]

    def temp(key: str, window: Window) -> str:
        spans[key] = [window, len(program), len(program)]
        return key

    def use(place: Place) -> Place:
        key = place if isinstance(place, str) else place.temp if isinstance(place, _Part) else None
        if key is not None:
            spans[key][2] = len(program)
        return place

    held: dict[int, str] = {}  # tensor -> the temp holding its window
    for k, op in enumerate(plan.ops):
        inp, out = patch.inputs[k], patch.outputs[k]
        sources: list[tuple[str, Place]] = []
        for arg, t in op.inputs:
            if t == plan.stage_input:
                region = _Region(whole_in, inp, first.input_dims)
                if _full_width(inp, first.input_dims):
                    sources.append((arg, region))
                    continue
                key = temp(f"in{k}_{arg}", inp)
                program.append(("copy", op, _copy_params(inp, first.input_dims, into_whole=False), t, region, key))
                sources.append((arg, key))
            elif patch.outputs[producer[t]] == inp:
                sources.append((arg, held[t]))
            else:  # the producer made more than this call needs: copy the part it reads
                outer = patch.outputs[producer[t]]
                part = _Part(held[t], outer, inp)
                key = temp(f"part{k}_{arg}", inp)
                program.append(("copy", op, WindowCopy(inp.rows.size, inp.cols.size * inp.channels,
                                                       outer.cols.size * outer.channels, inp.cols.size * inp.channels),
                                t, use(part), key))
                sources.append((arg, key))
        if op is last and _full_width(out, last.output_dims):
            target: Place = _Region(whole_out, out, last.output_dims)
        else:
            target = temp(f"out{k}", out)
        sources = [(arg, use(place)) for arg, place in sources]
        program.append(("call", op, inp, out, sources, target))
        if op is not last:
            held[op.output_tensor] = target
            program.append(("gather", op, _copy_params(out, op.output_dims, into_whole=True), use(target),
                            _window_offset(out, op.output_dims)))
        elif not isinstance(target, _Region):
            program.append(("copy", op, _copy_params(out, last.output_dims, into_whole=True), op.output_tensor,
                            use(target), _Region(whole_out, out, last.output_dims)))
    return program, [_Temp(key, w, a, b) for key, (w, a, b) in spans.items()]


def workspace_bytes(plan: PatchPlan) -> int:
    """The one buffer every patch works in: what its largest patch needs at once."""
    whole = View.whole("", "int8_t", ())
    return max((_allocate(_patch_program(plan, p, whole, whole)[1])[1] for p in plan.patches), default=0)


def patch_schedule(schedule: Schedule, plan: PatchPlan) -> Schedule:
    """The schedule with its first `split` steps replaced by a Loop over the patches, the stage's
    intermediate tensors by windows in one workspace every patch reuses, and trace points for the
    tensors that only trace builds see whole."""
    steps = schedule.items[:plan.split]
    if not all(isinstance(s, Step) and s.call.op_index == op.call.op_index for s, op in zip(steps, plan.ops)):
        raise AssertionError("the patch plan does not match the schedule's first steps")
    last = plan.ops[-1]
    whole_in = next(s.view(arg) for s, op in zip(steps, plan.ops) for arg, t in op.inputs if t == plan.stage_input)
    whole_out = steps[-1].view("output")
    assert whole_in is not None and whole_out is not None
    programs = [_patch_program(plan, patch, whole_in, whole_out) for patch in plan.patches]
    allocations = [_allocate(temps) for _, temps in programs]
    size = max((bytes_ for _, bytes_ in allocations), default=0)
    iterations = []
    for (program, temps), (offsets, _) in zip(programs, allocations):
        windows = {t.key: t.window for t in temps}

        def view(place: Place) -> View:
            if isinstance(place, _Region):
                return _region(place.whole, place.window, place.dims)
            if isinstance(place, _Part):
                outer, w = place.outer, place.window
                start = offsets[place.temp] + ((w.rows.start - outer.rows.start) * outer.cols.size
                                               + w.cols.start - outer.cols.start) * outer.channels
                return View(WORKSPACE, "int8_t", start, (1, w.rows.size, w.cols.size, w.channels),
                            (outer.rows.size * outer.cols.size * outer.channels, outer.cols.size * outer.channels,
                             outer.channels, 1))
            w = windows[place]
            return dataclasses.replace(View.whole(WORKSPACE, "int8_t", (1, w.rows.size, w.cols.size, w.channels)),
                                       offset=offsets[place])

        items: list[Step | TraceGather] = []
        for entry in program:
            if entry[0] == "copy":
                _, op, params, tensor, src, dst = entry
                items.append(Step(_copy_call(op, params, tensor), (("src", view(src)), ("dst", view(dst))),
                                  reads=(view(src).buffer,), writes=(view(dst).buffer,)))
            elif entry[0] == "call":
                _, op, inp, out, sources, target = entry
                bound = tuple((arg, view(place)) for arg, place in sources)
                items.append(Step(_patched_call(op, inp, out), (*bound, ("output", view(target))),
                                  reads=tuple(dict.fromkeys(v.buffer for _, v in bound)), writes=(view(target).buffer,)))
            else:
                _, op, params, source, offset = entry
                items.append(TraceGather(_copy_call(op, params, op.output_tensor), view(source), op.output_tensor,
                                         offset))
        iterations.append(tuple(items))
    label = (f"the first {plan.split} operators patch by patch, {plan.grid_rows}x{plan.grid_cols} patches "
             f"(--patch {plan.label})")
    intermediates = {op.output_tensor for op in plan.ops[:-1]}
    gone = {v.buffer for t, v in schedule.tensor_views if t in intermediates}
    return dataclasses.replace(
        schedule,
        buffers=tuple(b for b in schedule.buffers if b.name not in gone) + ((ArenaBuffer(WORKSPACE, size),) if size else ()),
        items=(Loop(label, tuple(iterations)),
               *(TracePoint(op.call.op_index, op.output_tensor, gathered=op is not last) for op in plan.ops),
               *schedule.items[plan.split:]),
        tensor_views=tuple((t, v) for t, v in schedule.tensor_views if t not in intermediates),
    )


# ---- what the user asks for ------------------------------------------------------------------


@dataclass(frozen=True)
class PatchRequest:
    """--patch: 'auto', 'none', or SPLIT:ROWSxCOLS (split, rows and cols set)."""

    mode: str  # "auto" | "none" | "fixed"
    split: int = 0
    grid_rows: int = 0
    grid_cols: int = 0

    @staticmethod
    def parse(text: str) -> "PatchRequest":
        text = text.strip().lower()
        if text in ("auto", "none"):
            return PatchRequest(text)
        try:
            split, grid = text.split(":")
            rows, cols = grid.split("x")
            request = PatchRequest("fixed", int(split), int(rows), int(cols))
        except ValueError:
            raise PlanError(f"--patch takes auto, none or SPLIT:ROWSxCOLS (e.g. 6:3x3), not '{text}'") from None
        if min(request.split, request.grid_rows, request.grid_cols) < 1:
            raise PlanError(f"--patch {text}: split, rows and columns must be positive")
        return request


NO_PATCH = PatchRequest("none")


# ---- the automatic choice --------------------------------------------------------------------

MAX_GRID = 8          # patches per side the search tries
EXACT_CANDIDATES = 6  # plans the search places exactly, best estimates first


def model_macs(graph: Graph) -> int:
    """Multiply-accumulates of one inference: convolutions and fully connected layers."""
    total = 0
    for op in graph.operators:
        if op.kind in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            out = graph.tensor(op.outputs[0])
            shape = graph.tensor(op.inputs[1]).shape
            per_output = {"CONV_2D": shape[1] * shape[2] * shape[3] if len(shape) == 4 else 0,
                          "DEPTHWISE_CONV_2D": shape[1] * shape[2] if len(shape) == 4 else 0,
                          "FULLY_CONNECTED": shape[-1]}[op.kind]
            total += out.num_elements * per_output
    return total


@dataclass(frozen=True)
class PatchChoice:
    """A candidate with what the choice weighs: its MAC overhead and its arena."""

    split: int
    grid_rows: int
    grid_cols: int
    overhead: float    # extra MACs / the model's MACs
    estimate: int      # the stage's bytes or the rest's, whichever is more: cheap, close to the arena
    arena_bytes: int = -1  # placed exactly (-1: not yet)

    @property
    def label(self) -> str:
        return f"{self.split}:{self.grid_rows}x{self.grid_cols}"


def _estimate(ops: tuple[StageOp, ...], rows: AxisSpans, cols: AxisSpans) -> tuple[int, int]:
    """(bytes, MACs) of a split and grid from its per-axis spans: the whole input and output
    overlapped as the stage allows, plus the workspace (from the largest windows of one call, or
    of every window live at once where branches join: an estimate, placed exactly later)."""
    first, last = ops[0].input_dims, ops[-1].output_dims
    grid_cols = len(cols.per_op[0])
    out_bytes = [max(r[1].size for r in rows.per_op[k]) * max(c[1].size for c in cols.per_op[k]) * op.output_dims.c
                 for k, op in enumerate(ops)]
    last_read = {op.output_tensor: max((j for j, o in enumerate(ops) if any(t == op.output_tensor for _, t in o.inputs)),
                                       default=k) for k, op in enumerate(ops)}
    workspace, macs = 0, 0
    for k, op in enumerate(ops):
        in_pixels = max(r[0].size for r in rows.per_op[k]) * max(c[0].size for c in cols.per_op[k])
        in_bytes = 0 if k == 0 and grid_cols == 1 else in_pixels * op.input_dims.c
        held = sum(_align4(out_bytes[j]) for j in range(k) if last_read[ops[j].output_tensor] > k)
        out = 0 if k == len(ops) - 1 and grid_cols == 1 else out_bytes[k]
        workspace = max(workspace, _align4(in_bytes) + _align4(out) + held)
        macs += op.macs_per_pixel * sum(r[1].size for r in rows.per_op[k]) * sum(c[1].size for c in cols.per_op[k])
    order = execution_order(len(rows.per_op[0]), grid_cols)
    read_hi = [((rows.stage_input[r].stop - 1) * first.w + cols.stage_input[c].stop) * first.c for r, c in order]
    write_lo = [(rows.per_op[-1][r][1].start * last.w + cols.per_op[-1][c][1].start) * last.c for r, c in order]
    delta = min_output_delta(read_hi, write_lo, _last_reads_stage_input(ops))
    return overlapped_span(first.h * first.w * first.c, last.h * last.w * last.c, delta) + workspace, macs


def rest_bytes(whole: "ArenaPlan") -> list[int]:
    """Per step p of the whole-tensor plan: the most arena bytes its placement uses at any step
    from p on, which is what a patch stage of the first p steps leaves the rest of the model."""
    end = max((q.buffer.last for q in whole.placements), default=0)
    used = [max((q.end for q in whole.placements if q.buffer.first <= p <= q.buffer.last), default=0)
            for p in range(end + 1)]
    return [max(used[p:]) for p in range(len(used))] + [0]


# Places a schedule: the pipeline's own placement (given by it, so the search judges plans exactly
# as the build will place them); None: run whole tensors.
ArenaOf = Callable[["PatchPlan | None"], "ArenaPlan"]


def candidate_plans(graph: Graph, lowered: tuple[Lowered, ...], rest: list[int]) -> list[PatchChoice]:
    """Every split of the chain and grid up to MAX_GRID x MAX_GRID, with estimates; rest: what
    the model needs after each split (rest_bytes)."""
    chain = patchable_chain(graph, lowered)
    model = max(1, model_macs(graph))
    choices = []
    for split in range(2, len(chain) + 1):
        if split_problem(graph, lowered, chain, split):
            continue
        ops = chain[:split]
        out = ops[-1].output_dims
        whole_macs = sum(op.output_dims.h * op.output_dims.w * op.macs_per_pixel for op in ops)
        per_axis = {}
        for axis, size in (("rows", out.h), ("cols", out.w)):
            for parts in range(1, min(size, MAX_GRID) + 1):
                try:
                    per_axis[axis, parts] = axis_spans(ops, axis, parts)
                except PlanError:
                    continue
        for (axis, rows), row_spans in per_axis.items():
            if axis != "rows":
                continue
            for (axis2, cols), col_spans in per_axis.items():
                if axis2 != "cols" or rows * cols == 1:
                    continue
                estimate, macs = _estimate(ops, row_spans, col_spans)
                choices.append(PatchChoice(split, rows, cols, (macs - whole_macs) / model,
                                           max(estimate, rest[min(split, len(rest) - 1)])))
    return choices


def search_patch_plan(graph: Graph, lowered: tuple[Lowered, ...], max_overhead: float,
                      budget: int | None, arena_of: ArenaOf) -> PatchPlan | None:
    """The plan of least arena within the MAC-overhead budget, if it beats running whole tensors;
    if that still misses the board's budget, the plan of least overhead that fits it."""
    chosen = search_patch_choice(graph, lowered, max_overhead, budget, arena_of)
    if chosen is None:
        return None
    return make_plan(patchable_chain(graph, lowered), chosen.split, chosen.grid_rows, chosen.grid_cols)


def search_patch_choice(graph: Graph, lowered: tuple[Lowered, ...], max_overhead: float,
                        budget: int | None, arena_of: ArenaOf) -> PatchChoice | None:
    chain = patchable_chain(graph, lowered)

    def placed(candidates: list[PatchChoice]) -> list[PatchChoice]:
        return [dataclasses.replace(c, arena_bytes=arena_of(make_plan(chain, c.split, c.grid_rows,
                                                                       c.grid_cols)).arena_bytes)
                for c in candidates]

    whole_plan = arena_of(None)
    whole = whole_plan.arena_bytes
    choices = candidate_plans(graph, lowered, rest_bytes(whole_plan))
    within = sorted((c for c in choices if c.overhead <= max_overhead), key=lambda c: (c.estimate, c.overhead))
    best_placed = sorted(placed(within[:EXACT_CANDIDATES]), key=lambda c: (c.arena_bytes, c.overhead))
    best = best_placed[0] if best_placed and best_placed[0].arena_bytes < whole else None
    best_bytes = best.arena_bytes if best else whole
    if budget is None or best_bytes <= budget:
        return best
    # Over the board's budget: spend MACs beyond --max-overhead, cheapest first, until a plan fits.
    fitting = sorted((c for c in choices if c.estimate <= budget), key=lambda c: c.overhead)
    for choice in placed(fitting[:EXACT_CANDIDATES * 2]):
        if choice.arena_bytes <= budget:
            return choice
    smallest = sorted(placed(sorted(choices, key=lambda c: (c.estimate, c.overhead))[:EXACT_CANDIDATES]),
                      key=lambda c: c.arena_bytes)
    if not smallest or smallest[0].arena_bytes >= whole:
        raise PlanError(f"the model needs {whole} bytes of activation RAM and no patch plan lowers it; "
                        f"the board allows {budget} (misses by {whole - budget} bytes)")
    s = smallest[0]
    raise PlanError(f"no patch plan fits the board's {budget}-byte arena: the best, --patch {s.label} "
                    f"({s.arena_bytes} bytes, MAC overhead {s.overhead:.1%}), misses by {s.arena_bytes - budget} bytes")


def choose_patch_plan(graph: Graph, lowered: tuple[Lowered, ...], request: PatchRequest, max_overhead: float,
                      budget: int | None, arena_of: ArenaOf) -> PatchPlan | None:
    if request.mode == "none":
        return None
    if request.mode == "auto":
        return search_patch_plan(graph, lowered, max_overhead, budget, arena_of)
    chain = patchable_chain(graph, lowered)
    if len(chain) < 2:
        raise PlanError("--patch: the model does not start with two or more operators that can run in patches "
                        "(convolutions, pooling, elementwise operators, reading only the first one's input and "
                        "each other's outputs)")
    problem = split_problem(graph, lowered, chain, request.split) if 2 <= request.split <= len(chain) else None
    return make_plan(chain, request.split, request.grid_rows, request.grid_cols, problem)


def computed_mask(plan: PatchPlan, tensor: int) -> np.ndarray | None:
    """For a tensor that exists only in patches: which of its elements some patch computes (a
    VALID convolution or pooling may never read its input's last rows or columns, which then no
    patch computes). None for any other tensor."""
    for k, op in enumerate(plan.ops[:-1]):
        if op.output_tensor == tensor:
            dims = op.output_dims
            mask = np.zeros((1, dims.h, dims.w, dims.c), dtype=bool)
            for patch in plan.patches:
                w = patch.outputs[k]
                mask[0, w.rows.start:w.rows.stop, w.cols.start:w.cols.stop, :] = True
            return mask
    return None


def patch_facts(plan: PatchPlan | None, graph: Graph) -> dict:
    """What reports say about the choice: {"patch": "SPLIT:ROWSxCOLS" or "none", "mac_overhead"}.
    graph: the model's own (its MACs are the overhead's denominator)."""
    if plan is None:
        return {"patch": "none", "mac_overhead": 0.0}
    return {"patch": plan.label, "mac_overhead": round(plan.extra_macs / max(1, model_macs(graph)), 4)}


def min_output_delta(read_hi: list[int], write_lo: list[int], same_call: bool = False) -> int:
    """The least offset(output) - offset(input) at which no patch writes output bytes over input
    bytes a later patch still reads, given per patch (in execution order) the end of its input
    window and the start of its output window (bytes in each whole tensor). A patch reads its
    input before it writes its output, unless its last call reads the input too (same_call)."""
    delta, written = 0, None
    for j in range(len(read_hi)):
        written = write_lo[j] if written is None else min(written, write_lo[j])
        later = read_hi[j:] if same_call else read_hi[j + 1:]
        if later:
            delta = max(delta, max(later) - written)
    return delta


def _last_reads_stage_input(ops: tuple[StageOp, ...]) -> bool:
    return any(t == ops[0].input_tensor for _, t in ops[-1].inputs)


def stage_min_delta(plan: PatchPlan) -> int:
    in_dims, out_dims = plan.ops[0].input_dims, plan.ops[-1].output_dims
    read_hi = [((p.stage_input.rows.stop - 1) * in_dims.w + p.stage_input.cols.stop) * in_dims.c for p in plan.patches]
    write_lo = [_window_offset(p.outputs[-1], out_dims) for p in plan.patches]
    return min_output_delta(read_hi, write_lo, _last_reads_stage_input(plan.ops))


def overlapped_span(in_bytes: int, out_bytes: int, min_delta: int) -> int:
    """Bytes the whole input and output span together, the output placed min_delta above the input."""
    return max(in_bytes, min_delta + out_bytes)


def stage_allowances(schedule: Schedule, plan: PatchPlan, buffers: tuple) -> tuple:
    """The patch stage's own overlap contract: its whole output may lie over the part of its whole
    input that every later patch has finished reading, at least stage_min_delta above it
    (plan/contracts.py Allowance, one per step of the stage), when the input is not read after the
    stage and the output not written before it."""
    from tinygen.plan.contracts import Allowance
    loop = schedule.items[0]
    assert isinstance(loop, Loop)
    steps = sum(isinstance(s, Step) for iteration in loop.iterations for s in iteration)
    in_view, out_view = schedule.tensor_view(plan.stage_input), schedule.tensor_view(plan.ops[-1].output_tensor)
    if in_view is None or out_view is None:
        return ()
    whole_in, whole_out = in_view.buffer, out_view.buffer
    by_key = {b.key: b for b in buffers}
    a, b = by_key.get(whole_in), by_key.get(whole_out)
    if a is None or b is None or a is b or a.last >= steps or b.first < 0 or whole_in in schedule.outputs:
        return ()
    delta = stage_min_delta(plan)
    return tuple(Allowance(whole_in, whole_out, max_delta=max(delta, a.size), step=position, min_delta=delta)
                 for position in range(max(0, b.first), a.last + 1))
