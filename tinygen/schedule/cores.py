"""A static, cost-balanced split of the schedule across the cores of a multicore chip.

The single-core schedule and its arena plan come first and stay as they are; the split then gives
each core its share of every step, and says where the cores must meet (a barrier):

- A convolution, depthwise convolution or pooling over an image splits by **output rows**: core c
  computes a band of rows, reading its input rows and the border the window needs (the same local
  padding a patch gets: TFLite's at the image's edges, none inside). Input and output bands are
  contiguous in NHWC with batch 1, so each share is the same kernel over views, with its own dims.
- An elementwise operator (ADD, MUL, activations, requantize) splits by **elements**.
- A patch stage (MCUNetV2) splits by **whole patches**: each core runs a run of patches in its own
  workspace (the first core in the stage's own; the others in private copies).
- Anything else, or a step too small to pay for the split, runs whole on one core: the one that can
  take it without a barrier, least loaded first.

The cost model (`step_cost`) estimates instructions from MACs, elements moved and a fixed cost per
kernel call; a step is split when its cost is at least SPLIT_MIN_COST, over as many cores as it has
rows (a core may get none).

Barriers come from the bytes each share touches at its planned arena address (`Access`): before a
share runs, a barrier is placed if it reads bytes another core wrote since the last barrier, or
writes bytes another core read or wrote since then. Where the shares of one step would clash with
each other (an in-place kernel whose output lies over the input of another core's band), that step
runs whole. `check_no_cross_core_race` re-derives the accesses of every interval between barriers and
proves no two cores clash in it; it runs on every split made, as check_no_overlap runs on every plan.

A fully connected step over rows (a 1x1 convolution over the pixels: `batches`) splits by **ranges
of rows** the same way. Where the single-core plan lays a step's output over its input (a contract,
as the default keeps), one core's band may write over input rows another core still reads: that
core first copies those rows (the input of the run of its output rows that read them) into its own
buffer, a barrier follows, then it runs that run over its copy and the rest of its band over the
input (`shares_with_copies`;
each band's own contract is re-checked at its address, and a copy may take at most the plan's
largest scratch or COPY_ARENA_FRACTION of its arena).

Private buffers of the cores after the first (their scratch; with whole patches per core, their
patch workspace), and the cores' copies, are placed after the single-core plan's end: the split grows
the arena by exactly those bytes. By default a patch stage runs patch after patch in its one
workspace, each patch's steps split like any other (`whole_patches=False`). With
`compile_graph(grow_arena=True)`, speed first, the banded calls are planned without their overlap
contracts and without in-place kernels, and each core runs whole patches in its own workspace: the
arena grows beyond the cores' scratch.

An in-place depthwise convolution splits by **ranges of channels** (kernels/channel_slices.py):
its channels are independent, so each core reads and writes only its own (strided views), with its
own scratch plane or ring. Output channels of other kernels are not split (no other kernel here takes
a channel range); fully connected layers run whole unless they run over rows (`batches`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from tinygen.errors import PlanError
from tinygen.kernels.call import KernelArg, KernelCall
from tinygen.kernels.channel_slices import CHANNEL_SLICES, END_CHANNEL, FIRST_CHANNEL
from tinygen.kernels.cvalues import Dims, HW, ScratchRef, TensorRef
from tinygen.plan.arena import ALIGNMENT, ArenaPlan, Placement
from tinygen.plan.lifetimes import Buffer
from tinygen.schedule.ir import Loop, Schedule, Step, TraceGather, View, dense_strides
from tinygen.schedule.patches import POINTWISE, WORKSPACE, AxisGeometry, Span, WindowCopy

# Estimated instructions (Cortex-M class, -O2): a kernel call's fixed cost (call, argument set-up,
# loop entry), per MAC by kernel family, per output element, per element of an elementwise kernel.
CALL_COST = 150
PER_MAC = {"wide": 1.2, "fast": 2.0, "depthwise_fast": 2.5, "reference": 4.0}
PER_OUTPUT = 40
PER_ELEMENT = 12
BARRIER_COST = 60          # one barrier: atomics and the spin of the last core to arrive
COPY_ARENA_FRACTION = 0.25  # a core's copy of the input rows another core overwrites: at most the plan's
                            # largest scratch or this fraction of its arena, whichever is more
SPLIT_MIN_COST = 3000      # below this a split costs more in calls and barriers than it saves

_ITEMSIZE = {"int8_t": 1, "uint8_t": 1, "int16_t": 2, "int32_t": 4, "float": 4, "void": 1}
_EXPAND_LIMIT = 4096       # intervals per view before falling back to its bounding range


# ---- what a share touches ---------------------------------------------------------------------


Interval = tuple[int, int]  # [lo, hi) arena bytes


def view_intervals(view: View, base: int) -> list[Interval]:
    """The arena bytes a view covers, as sorted disjoint intervals (strided views row by row)."""
    size = _ITEMSIZE.get(view.c_type, 4)
    shape, strides = tuple(view.shape) or (1,), tuple(view.strides) or (1,)
    if any(d == 0 for d in shape):
        return []
    start = base + view.offset
    # The innermost dims that are dense form one contiguous chunk.
    inner, k = 1, len(shape)
    while k > 0 and strides[k - 1] == inner:
        inner *= shape[k - 1]
        k -= 1
    outer_shape, outer_strides = shape[:k], strides[:k]
    count = int(np.prod(outer_shape)) if outer_shape else 1
    if count > _EXPAND_LIMIT:
        hi = start + (sum((d - 1) * s for d, s in zip(shape, strides)) + 1) * size
        return [(start, hi)]
    starts = [0]
    for d, s in zip(outer_shape, outer_strides):
        starts = [a + i * s for a in starts for i in range(d)]
    return _merge([(start + a * size, start + (a + inner) * size) for a in starts])


def _merge(intervals: list[Interval]) -> list[Interval]:
    merged: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


def _clash(a: list[Interval], b: list[Interval]) -> bool:
    i = j = 0
    while i < len(a) and j < len(b):
        if a[i][0] < b[j][1] and b[j][0] < a[i][1]:
            return True
        if a[i][1] <= b[j][1]:
            i += 1
        else:
            j += 1
    return False


@dataclass(frozen=True)
class Access:
    """Arena bytes read and written (a view of a written buffer counts as written unless its argument
    names a tensor the call only reads)."""

    reads: tuple[Interval, ...] = ()
    writes: tuple[Interval, ...] = ()

    def __or__(self, other: "Access") -> "Access":
        return Access(tuple(_merge([*self.reads, *other.reads])), tuple(_merge([*self.writes, *other.writes])))

    def clashes(self, other: "Access") -> bool:
        """True if running both at once could change what either computes."""
        w, r = list(self.writes), list(self.reads)
        return _clash(w, list(other.writes)) or _clash(w, list(other.reads)) or _clash(r, list(other.writes))


def any_pair_clashes(accesses: list[Access]) -> bool:
    """Would any two of these, run at once on different cores, clash?"""
    return any(accesses[i].clashes(accesses[j]) for i in range(len(accesses)) for j in range(i + 1, len(accesses)))


def step_access(step: Step | TraceGather, offsets: dict[str, int]) -> Access:
    if isinstance(step, TraceGather):   # trace builds only: reads its patch's buffer, writes outside the arena
        return Access(tuple(view_intervals(step.source, offsets[step.source.buffer])), ())
    reads: list[Interval] = []
    writes: list[Interval] = []
    # An argument naming a tensor the call does not write is read only, even where its view lies in a
    # buffer the step also writes (a patch's steps read and write the one workspace).
    read_only = {a.name for a in step.call.args if isinstance(a.value, TensorRef) and a.value.tensor not in step.call.writes}
    for name, view in step.views:
        intervals = view_intervals(view, offsets[view.buffer])
        if view.buffer == step.scratch or (view.buffer in step.writes and name not in read_only):
            writes += intervals
        else:
            reads += intervals
    return Access(tuple(_merge(reads)), tuple(_merge(writes)))


# ---- the cost model ---------------------------------------------------------------------------


def _arg(call: KernelCall, name: str):
    return next((a.value for a in call.args if a.name == name), None)


def _per_mac(function: str) -> float:
    function = function.removesuffix("_channels")   # a range of channels: the kernel's own rate
    function = function.removesuffix("_stack1k")  # the pair with 1 KiB of columns on its stack
    if function.endswith(("_wide", "_wide_pair", "_wide_pair_packed")) or function == "tg_conv_s8_dsp":
        return PER_MAC["wide"]
    if "depthwise" in function and function.endswith("_fast"):
        return PER_MAC["depthwise_fast"]
    if function.endswith(("_fast", "_inplace")):
        return PER_MAC["fast"]
    return PER_MAC["reference"]


def step_cost(step: Step | TraceGather) -> int:
    """Estimated instructions of one call: fixed cost + MACs + output elements, or elements moved."""
    if isinstance(step, TraceGather):
        return 0
    cost = call_cost(step.call)
    if cost is not None:
        return cost
    elements = max((int(np.prod(v.shape)) for _, v in step.views if v.c_type != "void"), default=0)
    return CALL_COST + elements * PER_ELEMENT


def call_cost(call: KernelCall) -> int | None:
    """step_cost from the call's own arguments (None: only its views say how much it moves)."""
    out_dims, filter_dims, params = _arg(call, "output_dims"), _arg(call, "filter_dims"), _arg(call, "params")
    if isinstance(out_dims, Dims):
        first, end = _arg(call, FIRST_CHANNEL), _arg(call, END_CHANNEL)
        channels = end - first if isinstance(first, int) and isinstance(end, int) else out_dims.c
        outputs = out_dims.n * out_dims.h * out_dims.w * channels
        if isinstance(filter_dims, Dims):
            taps = filter_dims.h * filter_dims.w * (filter_dims.c if "depthwise" not in call.function else 1)
        elif isinstance(getattr(params, "filter", None), HW):
            taps = params.filter.h * params.filter.w
        else:
            taps = 1
        return int(CALL_COST + outputs * taps * _per_mac(call.function) + outputs * PER_OUTPUT)
    batches, depth, units = _arg(call, "batches"), _arg(call, "accum_depth"), _arg(call, "output_depth")
    if all(isinstance(v, (int, np.integer)) for v in (batches, depth, units)):
        return int(CALL_COST + batches * units * (depth * _per_mac(call.function) + PER_OUTPUT))
    size = _arg(call, "size")
    if isinstance(size, (int, np.integer)):
        return CALL_COST + int(size) * PER_ELEMENT
    return None


def splits_by_rows(call: KernelCall) -> bool:
    """Will the split cut this call into bands of rows (when its views are whole tensors)?"""
    return _row_geometry(call) is not None and (call_cost(call) or 0) >= SPLIT_MIN_COST


def without_split_overlaps(lowered: tuple) -> tuple:
    """The calls the split cuts into bands lose their overlap contracts: a contract orders one
    core's reads before its writes, but a band's output may lie over another core's input rows.
    The plan then keeps their outputs apart from their inputs (the arena may grow)."""
    return tuple(dataclasses.replace(item, overlaps=()) if isinstance(item, KernelCall) and splits_by_rows(item)
                 else item for item in lowered)


# ---- shares of one step -----------------------------------------------------------------------


def balanced_spans(size: int, parts: int) -> list[Span]:
    """size split into `parts` spans whose sizes differ by at most one (larger first); some may be empty."""
    base, extra = divmod(size, parts)
    spans, start = [], 0
    for i in range(parts):
        stop = start + base + (1 if i < extra else 0)
        spans.append(Span(start, stop))
        start = stop
    return spans


def _private(name: str, core: int) -> str:
    return name if core == 0 else f"{name}_core{core}"


CORE_SCRATCH = "core_scratch"


def _scratch_view(step: Step, core: int) -> View | None:
    return None if step.scratch is None else View(
        step.scratch if core == 0 else _private(CORE_SCRATCH, core), "void", 0, (step.call.scratch_bytes,), (1,))


def _with_scratch(step: Step, core: int, views: dict[str, View], call: KernelCall) -> Step:
    scratch = _scratch_view(step, core)
    bound = []
    for name, view in step.views:
        if scratch is not None and isinstance(_arg(step.call, name), ScratchRef):
            bound.append((name, scratch))
        else:
            bound.append((name, views.get(name, view)))
    return Step(call, tuple(bound), step.reads, step.writes, scratch.buffer if scratch is not None else None)


def _dense(view: View | None) -> bool:
    return view is not None and tuple(view.strides) == dense_strides(tuple(view.shape))


def _whole_tensors(step: Step, in_dims: Dims, out_dims: Dims) -> bool:
    """Are the step's input and output views the whole NHWC tensors its dims describe, dense?"""
    in_view, out_view = step.view("input"), step.view("output")
    return _dense(in_view) and _dense(out_view) and tuple(in_view.shape) == (in_dims.n, in_dims.h, in_dims.w, in_dims.c) \
        and tuple(out_view.shape) == (out_dims.n, out_dims.h, out_dims.w, out_dims.c)


def _row_geometry(call: KernelCall) -> AxisGeometry | None:
    """The output rows -> input rows map of a windowed kernel, or None if the call has none."""
    in_dims, out_dims, params = _arg(call, "input_dims"), _arg(call, "output_dims"), _arg(call, "params")
    if not (isinstance(in_dims, Dims) and isinstance(out_dims, Dims)) or in_dims.n != 1 or out_dims.n != 1:
        return None
    if "depthwise" in call.function and call.function.endswith("_inplace"):
        return None  # copies whole channel planes to scratch: no band of rows
    stride, padding = getattr(params, "stride", None), getattr(params, "padding", None)
    if not (isinstance(stride, HW) and isinstance(padding, HW)):
        return None
    filter_dims = _arg(call, "filter_dims")
    if isinstance(filter_dims, Dims):
        dilation = getattr(params, "dilation", None)
        if not isinstance(dilation, HW):
            return None
        return AxisGeometry(filter_dims.h, stride.h, dilation.h, padding.h, in_dims.h)
    window = getattr(params, "filter", None)
    if isinstance(window, HW):
        return AxisGeometry(window.h, stride.h, 1, padding.h, in_dims.h)
    return None


def row_shares(step: Step, parts: int) -> list[Step] | None:
    """The step as `parts` bands of output rows (empty bands left out), or None if it cannot be."""
    geometry = _row_geometry(step.call)
    if geometry is None or len(step.call.reads) > 1:
        return None
    in_view, out_view = step.view("input"), step.view("output")
    in_dims, out_dims, params = _arg(step.call, "input_dims"), _arg(step.call, "output_dims"), _arg(step.call, "params")
    if not _whole_tensors(step, in_dims, out_dims):   # n == 1: _row_geometry's
        return None
    in_row = in_dims.w * in_dims.c * _ITEMSIZE[in_view.c_type]
    out_row = out_dims.w * out_dims.c * _ITEMSIZE[out_view.c_type]
    shares: list[Step] = []
    for core, out in enumerate(balanced_spans(out_dims.h, parts)):
        if out.size == 0:
            continue
        inp = geometry.input_span(out)
        if inp.size <= 0:
            return None   # a band that reads only padding: the kernels need at least one row
        replaced = {
            "input_dims": dataclasses.replace(in_dims, h=inp.size),
            "output_dims": dataclasses.replace(out_dims, h=out.size),
            "params": dataclasses.replace(params, padding=HW(geometry.local_padding(out, inp), params.padding.w)),
        }
        call = dataclasses.replace(step.call, args=tuple(dataclasses.replace(a, value=replaced.get(a.name, a.value))
                                                         for a in step.call.args), overlaps=())
        views = {
            "input": View(in_view.buffer, in_view.c_type, in_view.offset + inp.start * in_row,
                          (1, inp.size, in_dims.w, in_dims.c), dense_strides((1, inp.size, in_dims.w, in_dims.c))),
            "output": View(out_view.buffer, out_view.c_type, out_view.offset + out.start * out_row,
                           (1, out.size, out_dims.w, out_dims.c), dense_strides((1, out.size, out_dims.w, out_dims.c))),
        }
        shares.append(_with_scratch(step, core, views, call))
    return shares


def channel_shares(step: Step, parts: int) -> list[Step] | None:
    """A step whose channels are independent (kernels/channel_slices.py) as `parts` ranges of
    channels: each core reads and writes only its channels of every pixel (strided views), with its
    own scratch. The in-place depthwise convolution splits this way, its output over its input."""
    sliced = CHANNEL_SLICES.get(step.call.function)
    in_view, out_view = step.view("input"), step.view("output")
    in_dims, out_dims = _arg(step.call, "input_dims"), _arg(step.call, "output_dims")
    if sliced is None or not isinstance(in_dims, Dims) or not isinstance(out_dims, Dims) or in_dims.n != 1 \
            or in_dims.c != out_dims.c or not _whole_tensors(step, in_dims, out_dims):
        return None
    channels = in_dims.c
    if channels % sliced.multiple:
        return None
    shares: list[Step] = []
    for core, span in enumerate(balanced_spans(channels // sliced.multiple, parts)):
        if span.size == 0:
            continue
        first, end = span.start * sliced.multiple, span.stop * sliced.multiple
        call = dataclasses.replace(step.call, function=sliced.entry, overlaps=(),
                                   args=step.call.args + (KernelArg(FIRST_CHANNEL, first), KernelArg(END_CHANNEL, end)))
        views = {
            name: View(v.buffer, v.c_type, v.offset + first * _ITEMSIZE[v.c_type], (dims.h * dims.w, end - first),
                       (channels, 1))
            for name, v, dims in (("input", in_view, in_dims), ("output", out_view, out_dims))
        }
        shares.append(_with_scratch(step, core, views, call))
    return shares


def window_row_shares(step: Step, parts: int) -> list[Step] | None:
    """A patch's window copy (tg_copy_window_s8: `rows` strided runs) as `parts` ranges of its runs."""
    copy = _arg(step.call, "copy")
    src, dst = step.view("src"), step.view("dst")
    if not isinstance(copy, WindowCopy) or src is None or dst is None:
        return None
    for view, stride in ((src, copy.src_stride), (dst, copy.dst_stride)):
        if len(view.shape) != 4 or view.shape[0] != 1 or view.shape[1] != copy.rows \
                or view.strides[1] * _ITEMSIZE[view.c_type] != stride:
            return None
    shares = []
    for core, span in enumerate(balanced_spans(copy.rows, parts)):
        if span.size == 0:
            continue
        part = dataclasses.replace(copy, rows=span.size)
        views = {name: dataclasses.replace(v, offset=v.offset + span.start * stride, shape=(1, span.size, *v.shape[2:]))
                 for name, v, stride in (("src", src, copy.src_stride), ("dst", dst, copy.dst_stride))}
        call = dataclasses.replace(step.call, args=tuple(dataclasses.replace(a, value=part) if a.name == "copy" else a
                                                         for a in step.call.args), overlaps=())
        shares.append(_with_scratch(step, core, views, call))
    return shares


# Elementwise kernels split by ranges of elements: the patch stage's pointwise ones and their
# variants with the same walk (tg_add_s8_table: its tables are constants, not views).
ELEMENTWISE = POINTWISE | {"tg_add_s8_table", "tg_add_s8_table_wide"}


def element_shares(step: Step, parts: int) -> list[Step] | None:
    """An elementwise step (every pointer a dense view of `size` elements) as `parts` ranges."""
    call = step.call
    size = _arg(call, "size")
    if call.function not in ELEMENTWISE or not isinstance(size, (int, np.integer)) or call.scratch_bytes:
        return None
    pointers = [(name, view) for name, view in step.views]
    if not pointers or any(not _dense(v) or int(np.prod(v.shape)) != size for _, v in pointers):
        return None
    shares = []
    for core, span in enumerate(balanced_spans(int(size), parts)):
        if span.size == 0:
            continue
        views = {name: View(v.buffer, v.c_type, v.offset + span.start * _ITEMSIZE[v.c_type], (span.size,), (1,))
                 for name, v in pointers}
        call_part = dataclasses.replace(call, args=tuple(dataclasses.replace(a, value=span.size) if a.name == "size" else a
                                                         for a in call.args), overlaps=())
        shares.append(_with_scratch(step, core, views, call_part))
    return shares


def batch_shares(step: Step, parts: int) -> list[Step] | None:
    """A fully connected step over `batches` rows (a 1x1 convolution over the pixels) as `parts`
    ranges of rows: each range reads its own input rows and writes its own output rows (dense
    views, row starts kept 4-byte aligned for the kernels' word loads). Whether the ranges may run
    at once where the plan lays the output over the input is the race check's to say."""
    call = step.call
    batches, depth, units = _arg(call, "batches"), _arg(call, "accum_depth"), _arg(call, "output_depth")
    if "fully_connected" not in call.function or not all(isinstance(v, (int, np.integer)) for v in (batches, depth, units)):
        return None
    in_view, out_view = step.view("input"), step.view("output")
    if not (_dense(in_view) and _dense(out_view)) or len(step.views) - (step.scratch is not None) != 2:
        return None
    if int(np.prod(in_view.shape)) != batches * depth or int(np.prod(out_view.shape)) != batches * units:
        return None
    in_item, out_item = _ITEMSIZE[in_view.c_type], _ITEMSIZE[out_view.c_type]
    shares = []
    for core, span in enumerate(balanced_spans(int(batches), parts)):
        if span.size == 0:
            continue
        if (span.start * depth * in_item) % 4 or (span.start * units * out_item) % 4:
            return None
        views = {"input": View(in_view.buffer, in_view.c_type, in_view.offset + span.start * depth * in_item,
                               (span.size, int(depth)), (int(depth), 1)),
                 "output": View(out_view.buffer, out_view.c_type, out_view.offset + span.start * units * out_item,
                                (span.size, int(units)), (int(units), 1))}
        call_part = dataclasses.replace(call, args=tuple(dataclasses.replace(a, value=span.size) if a.name == "batches" else a
                                                         for a in call.args), overlaps=())
        shares.append(_with_scratch(step, core, views, call_part))
    return shares


CORE_COPY = "core_copy"


def _copy_buffer(core: int) -> str:
    return f"{CORE_COPY}{core}"


@dataclass(frozen=True)
class _Bands:
    """How a step splits into bands of output rows: what a band [a, b) reads, and the band as a call."""

    step: Step
    spans: list[Span]                         # each core's output rows
    input_span: object                        # Span -> the input rows it reads (absolute)
    in_row: int                               # bytes per input row
    make: object                              # (core, Span, copy View | None) -> Step


def _row_bands(step: Step, parts: int) -> _Bands | None:
    geometry = _row_geometry(step.call)
    if geometry is None or row_shares(step, parts) is None:
        return None
    in_view, out_view = step.view("input"), step.view("output")
    in_dims, out_dims, params = _arg(step.call, "input_dims"), _arg(step.call, "output_dims"), _arg(step.call, "params")
    in_row = in_dims.w * in_dims.c * _ITEMSIZE[in_view.c_type]
    out_row = out_dims.w * out_dims.c * _ITEMSIZE[out_view.c_type]

    def make(core: int, out: Span, copy: View | None) -> Step:
        inp = geometry.input_span(out)
        replaced = {
            "input_dims": dataclasses.replace(in_dims, h=inp.size),
            "output_dims": dataclasses.replace(out_dims, h=out.size),
            "params": dataclasses.replace(params, padding=HW(geometry.local_padding(out, inp), params.padding.w)),
        }
        call = dataclasses.replace(step.call, args=tuple(dataclasses.replace(a, value=replaced.get(a.name, a.value))
                                                         for a in step.call.args), overlaps=())
        shape_in, shape_out = (1, inp.size, in_dims.w, in_dims.c), (1, out.size, out_dims.w, out_dims.c)
        views = {
            "input": copy if copy is not None else View(in_view.buffer, in_view.c_type, in_view.offset + inp.start * in_row,
                                                        shape_in, dense_strides(shape_in)),
            "output": View(out_view.buffer, out_view.c_type, out_view.offset + out.start * out_row,
                           shape_out, dense_strides(shape_out)),
        }
        return _reading(_with_scratch(step, core, views, call), copy)

    return _Bands(step, balanced_spans(out_dims.h, parts), geometry.input_span, in_row, make)


def _batch_bands(step: Step, parts: int) -> _Bands | None:
    if batch_shares(step, parts) is None:
        return None
    call = step.call
    batches, depth, units = (int(_arg(call, n)) for n in ("batches", "accum_depth", "output_depth"))
    in_view, out_view = step.view("input"), step.view("output")
    in_row, out_row = depth * _ITEMSIZE[in_view.c_type], units * _ITEMSIZE[out_view.c_type]

    def make(core: int, out: Span, copy: View | None) -> Step:
        views = {"input": copy if copy is not None else View(in_view.buffer, in_view.c_type,
                                                             in_view.offset + out.start * in_row, (out.size, depth), (depth, 1)),
                 "output": View(out_view.buffer, out_view.c_type, out_view.offset + out.start * out_row,
                                (out.size, units), (units, 1))}
        part = dataclasses.replace(call, args=tuple(dataclasses.replace(a, value=out.size) if a.name == "batches" else a
                                                    for a in call.args), overlaps=())
        return _reading(_with_scratch(step, core, views, part), copy)

    return _Bands(step, balanced_spans(batches, parts), lambda out: out, in_row, make)


def _reading(step: Step, copy: View | None) -> Step:
    """A band that reads its input from its core's copy reads that buffer, not the input's."""
    if copy is None:
        return step
    return dataclasses.replace(step, reads=(copy.buffer,) + tuple(r for r in step.reads if r not in _inputs_of(step)))


def _inputs_of(step: Step) -> tuple[str, ...]:
    view = step.view("input")
    return (view.buffer,) if view is not None else ()


class _Private(dict):
    """Plan offsets, and for a core's private buffer (not yet placed) an address of its own far
    beyond the arena: it clashes with nothing, as it will not where it is placed."""

    def __missing__(self, name: str) -> int:
        address = (max(self.values(), default=0) // (1 << 24) + 1) * (1 << 24)
        self[name] = address
        return address


def contract_holds(step: Step, offsets: dict[str, int]) -> bool:
    """A band (a call with its own dims) whose output overlaps its input keeps its kernel's contract there."""
    from tinygen.kernels.overlap import CONTRACTS
    in_view, out_view = step.view("input"), step.view("output")
    if in_view is None or out_view is None:
        return True
    if not _clash(view_intervals(in_view, offsets[in_view.buffer]), view_intervals(out_view, offsets[out_view.buffer])):
        return True
    rule = CONTRACTS.get(step.call.function)
    contract = next((o for o in (rule(step.call) if rule else ()) if (o.input_arg, o.output_arg) == ("input", "output")), None)
    if contract is None:
        return False
    delta = offsets[out_view.buffer] + out_view.offset - offsets[in_view.buffer] - in_view.offset
    return contract.permits(delta)


def shares_with_copies(bands: _Bands, offsets: dict[str, int], limit: int) -> list[tuple[Step, ...]] | None:
    """Bands that clash only because a core's writes land on input rows another core still reads
    (an output laid over its input: a contract of the single-core plan): each such core first copies
    the input of the output rows whose input another core overwrites (a run [a, b) of its band)
    into its own buffer (`core_copyN`, after the plan's end), then runs its band as up to three
    pieces: [start, a) and [b, stop) over the input, [a, b) over its copy. Per core: (copy, pieces...)
    or (band,); the copies run before, a barrier between (the race check places it). None if a copy
    is larger than `limit` or the pieces would still clash or break a contract."""
    step = bands.step
    offsets = _Private(offsets)
    live = [(core, span) for core, span in enumerate(bands.spans) if span.size]
    whole = {core: bands.make(core, span, None) for core, span in live}
    in_view = step.view("input")
    base = offsets[in_view.buffer] + in_view.offset
    fake = offsets
    writes = {core: step_access(share, offsets).writes for core, share in whole.items()}
    result: list[tuple[Step, ...]] = []
    for core, span in live:
        others = _merge([w for o, ws in writes.items() if o != core for w in ws])

        def clobbered(rows: Span) -> bool:
            return _clash([(base + rows.start * bands.in_row, base + rows.stop * bands.in_row)], others)

        hit = [r for r in range(span.start, span.stop) if clobbered(bands.input_span(Span(r, r + 1)))]
        if not hit:
            result.append((whole[core],))
            continue
        run = Span(hit[0], hit[-1] + 1)
        rows = bands.input_span(run)
        size = rows.size * bands.in_row
        if size > limit:
            return None
        run_in = bands.make(core, run, None).view("input")
        copy_view = View(_copy_buffer(core), in_view.c_type, 0, tuple(run_in.shape), tuple(run_in.strides))
        copy = Step(KernelCall(step.call.op_index, step.call.op_kind, "tg_copy_bytes",
                               (KernelArg("size", size), _arg_of(step.call, "input", "source"),
                                KernelArg("destination", ScratchRef())), step.call.reads, ()),
                    (("source", View(in_view.buffer, in_view.c_type, run_in.offset, (size,), (1,))),
                     ("destination", View(_copy_buffer(core), in_view.c_type, 0, (size,), (1,)))),
                    (in_view.buffer,), (_copy_buffer(core),))
        pieces = ([bands.make(core, Span(span.start, run.start), None)] if run.start > span.start else []) \
            + [bands.make(core, run, copy_view)] \
            + ([bands.make(core, Span(run.stop, span.stop), None)] if run.stop < span.stop else [])
        result.append((copy, *pieces))
    mains = [tuple(w for w in r if w.call.function != "tg_copy_bytes") for r in result]
    if not all(contract_holds(w, fake) for m in mains for w in m):
        return None
    accesses = [_access(m, fake) for m in mains]
    if any_pair_clashes(accesses):
        return None
    return result


def _arg_of(call: KernelCall, name: str, renamed: str) -> KernelArg:
    arg = next(a for a in call.args if a.name == name)
    return dataclasses.replace(arg, name=renamed)


def _on_core(work: Step | TraceGather, core: int) -> Step | TraceGather:
    """A patch-stage step run by `core`: its workspace views moved into the core's own workspace."""
    def moved(view: View) -> View:
        return dataclasses.replace(view, buffer=_private(WORKSPACE, core)) if view.buffer == WORKSPACE else view

    def named(names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(_private(WORKSPACE, core) if n == WORKSPACE else n for n in names)

    if core == 0:
        return work
    if isinstance(work, TraceGather):
        return dataclasses.replace(work, source=moved(work.source))
    if work.scratch is not None:
        raise PlanError("a patch-stage step with scratch cannot move to another core")
    return dataclasses.replace(work, views=tuple((n, moved(v)) for n, v in work.views),
                               reads=named(work.reads), writes=named(work.writes))


# ---- the split --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CoreShare:
    """What one core runs of one schedule item, in order, and its estimated instructions."""

    core: int
    work: tuple[Step | TraceGather, ...]
    cost: int


@dataclass(frozen=True)
class SplitItem:
    """One schedule item (a Step or a Loop) across the cores."""

    item: int                      # index in Schedule.items
    how: str                       # "rows", "elements", "batches", "channels", "copies", "patches" or "whole"
    shares: tuple[CoreShare, ...]  # the cores that take part (a core with nothing to do has none)
    barrier_before: bool           # every core waits here before any starts this item


@dataclass(frozen=True)
class CoreSplit:
    cores: int
    items: tuple[SplitItem, ...]
    plan: ArenaPlan                 # the single-core plan plus the private buffers of cores 1..N-1
    private_bytes: int              # what those add to the arena

    def parts_of(self, index: int) -> tuple[SplitItem, ...]:
        """The split of schedule item `index`: one SplitItem, or one per patch of a patch stage."""
        return tuple(s for s in self.items if s.item == index)

    @property
    def barriers(self) -> int:
        return sum(s.barrier_before for s in self.items)

    def intervals(self) -> tuple[tuple[int, ...], ...]:
        """Predicted instructions per core in each interval between barriers (the cost model's)."""
        result: list[list[int]] = []
        for s in self.items:
            if s.barrier_before or not result:
                result.append([0] * self.cores)
            for share in s.shares:
                result[-1][share.core] += share.cost
        return tuple(tuple(r) for r in result)

    @property
    def predicted_single(self) -> int:
        return sum(step_cost(w) for s in self.items for share in s.shares for w in share.work)

    @property
    def predicted_latency(self) -> int:
        """Sum over intervals of the busiest core, plus the barriers (and tg_smp_run's own join)."""
        return sum(max(i) for i in self.intervals()) + BARRIER_COST * (self.barriers + 1)

    @property
    def predicted_ratio(self) -> float:
        return self.predicted_latency / max(1, self.predicted_single)


@dataclass(frozen=True)
class _Unit:
    """Work the greedy places: shares that run at once on cores 0..k-1 (a split step), or one
    piece of work that may go to any core (`movable`: a whole step, or one patch)."""

    item: int
    how: str
    shares: tuple[tuple[Step | TraceGather, ...], ...]
    movable: bool = False
    core: int | None = None   # a patch's core: runs of consecutive patches per core, balanced by cost

    def on(self, core: int) -> tuple[Step | TraceGather, ...]:
        """The movable work as `core` runs it (a patch in that core's own workspace)."""
        return tuple(_on_core(w, core) for w in self.shares[0]) if self.how == "patches" else self.shares[0]


def _units(schedule: Schedule, cores: int, offsets: dict[str, int] | None = None, arena: int = 0,
           whole_patches: bool = True) -> list[_Unit]:
    units: list[_Unit] = []
    copy_limit = max(max((b.nbytes for b in schedule.buffers if b.scratch_of is not None), default=0),
                     int(arena * COPY_ARENA_FRACTION))
    for index, item in enumerate(schedule.items):
        if isinstance(item, Loop) and whole_patches:
            # Consecutive patches touch neighbouring rows (the stage's output may lie over the input
            # rows the next patches no longer read): runs of them per core clash least.
            costs = [sum(step_cost(w) for w in iteration) for iteration in item.iterations]
            total, done = max(1, sum(costs)), 0
            for iteration, cost in zip(item.iterations, costs):
                core = min(cores - 1, int((done + cost / 2) * cores // total))
                units.append(_Unit(index, "patches", (tuple(iteration),), movable=True, core=core))
                done += cost
        elif isinstance(item, Loop):
            # Patch after patch in the stage's one workspace, each patch's steps split like any
            # other step's (their views are dense within the workspace): no core needs its own.
            for iteration in item.iterations:
                for work in iteration:
                    units += (_step_units(index, work, cores, offsets, copy_limit) if isinstance(work, Step)
                              else [_Unit(index, "whole", ((work,),), movable=True)])
        elif isinstance(item, Step):
            units += _step_units(index, item, cores, offsets, copy_limit)
    return units


def pointwise_as_pixel_rows(step: Step, parts: int) -> Step | None:
    """A 1x1 convolution (stride 1, no padding) computes the same over any h x w of the same pixels:
    the step over the shape whose bands of rows balance best across `parts` (the fewest pixels in the
    largest band, then the widest rows; pixel rows a whole number of words), or None where the image's
    own rows do as well (VWW's 6 x 6 maps: 4 rows of 9 pixels on 4 cores instead of 2 + 2 + 1 + 1 rows)."""
    call = step.call
    in_dims, out_dims, filter_dims, params = (_arg(call, n) for n in ("input_dims", "output_dims", "filter_dims", "params"))
    if not all(isinstance(d, Dims) for d in (in_dims, out_dims, filter_dims)) or "depthwise" in call.function:
        return None
    stride, padding = getattr(params, "stride", None), getattr(params, "padding", None)
    if (filter_dims.h, filter_dims.w) != (1, 1) or stride != HW(1, 1) or padding != HW(0, 0) or in_dims.n != 1 \
            or (in_dims.h, in_dims.w) != (out_dims.h, out_dims.w) or len(call.reads) > 1:
        return None
    if not _whole_tensors(step, in_dims, out_dims):
        return None
    in_view, out_view = step.view("input"), step.view("output")
    pixels = in_dims.h * in_dims.w
    largest = lambda h, w: -(-h // parts) * w  # noqa: E731
    best = min(((largest(pixels // w, w), -w) for w in range(1, pixels + 1) if pixels % w == 0
                and (w * in_dims.c) % 4 == 0 and (w * out_dims.c) % 4 == 0), default=None)
    if best is None or best[0] >= largest(in_dims.h, in_dims.w):
        return None
    w = -best[1]
    replaced = {"input_dims": dataclasses.replace(in_dims, h=pixels // w, w=w),
                "output_dims": dataclasses.replace(out_dims, h=pixels // w, w=w)}
    views = {name: dataclasses.replace(v, shape=(1, pixels // w, w, c), strides=dense_strides((1, pixels // w, w, c)))
             for name, v, c in (("input", in_view, in_dims.c), ("output", out_view, out_dims.c))}
    reshaped = dataclasses.replace(call, args=tuple(dataclasses.replace(a, value=replaced.get(a.name, a.value))
                                                    for a in call.args))
    return dataclasses.replace(step, call=reshaped, views=tuple((n, views.get(n, v)) for n, v in step.views))


def _step_units(index: int, item: Step, cores: int, offsets: dict[str, int] | None, copy_limit: int) -> list[_Unit]:
    """One step as shares across the cores (the first cut that gives more than one), or whole."""
    if cores > 1 and step_cost(item) >= SPLIT_MIN_COST:
        balanced = pointwise_as_pixel_rows(item, cores) or item
        for how, cut in (("rows", row_shares), ("elements", element_shares), ("batches", batch_shares),
                         ("channels", channel_shares), ("rows", window_row_shares)):
            step = balanced if how == "rows" else item
            shares = cut(step, cores)
            if shares is None or len(shares) < 2:
                continue
            if how in ("rows", "batches") and offsets is not None:
                accesses = [step_access(w, _Private(offsets)) for w in shares]
                if any_pair_clashes(accesses):
                    bands = (_row_bands if how == "rows" else _batch_bands)(step, cores)
                    copied = shares_with_copies(bands, offsets, copy_limit) if bands is not None else None
                    if copied is None:
                        continue
                    return [_Unit(index, "copies", tuple(r[:1] if len(r) > 1 else () for r in copied)),
                            _Unit(index, how, tuple(r[1:] if len(r) > 1 else r for r in copied))]
            return [_Unit(index, how, tuple((s,) for s in shares))]
    return [_Unit(index, "whole", ((item,),), movable=True)]


def split_across_cores(schedule: Schedule, plan: ArenaPlan, cores: int, whole_patches: bool = True) -> CoreSplit:
    """Each step's share per core, the barriers, and the plan with the cores' private buffers.

    Greedy in schedule order: a split step's shares go to cores 0..k-1 (band i to core i, so that
    bands line up from one operator to the next); a whole step or a patch goes to the least loaded
    core that can take it without a barrier; a barrier is placed only where nothing else works."""
    if cores < 1:
        raise PlanError(f"--cores must be at least 1, not {cores}")
    if plan.guard_bytes and cores > 1:
        raise PlanError("--debug-guards checks the arena after each operator: it runs on one core")
    units = _units(schedule, cores, plan.buffer_offsets(), plan.arena_bytes, whole_patches)
    base_arena = plan.arena_bytes
    placed_plan = _with_private_buffers(schedule, plan, cores, units)
    offsets = placed_plan.buffer_offsets()

    items: list[SplitItem] = []
    since: list[Access] = [Access() for _ in range(cores)]   # per core, what it touched since the last barrier
    load = [0] * cores

    def clashes(access: Access, core: int) -> bool:
        return any(access.clashes(since[o]) for o in range(cores) if o != core)

    for unit in units:
        placed: list[tuple[int, tuple[Step | TraceGather, ...], Access]]
        if not unit.movable:
            accesses = [_access(work, offsets) for work in unit.shares]
            if any_pair_clashes(accesses):
                unit = _Unit(unit.item, "whole", ((schedule.items[unit.item],),), movable=True)
            else:
                placed = [(c, work, a) for c, (work, a) in enumerate(zip(unit.shares, accesses)) if work]
        if unit.movable:
            order = [unit.core] if unit.core is not None else sorted(range(cores), key=lambda c: (load[c], c))
            options = [(c, unit.on(c)) for c in order]
            options = [(c, work, _access(work, offsets)) for c, work in options]
            free = [o for o in options if not clashes(o[2], o[0])]
            placed = [free[0]] if free else [options[0] if unit.core is not None else next(o for o in options if o[0] == 0)]
        barrier = any(clashes(a, c) for c, _, a in placed)
        if barrier:
            since, load = [Access() for _ in range(cores)], [0] * cores
        result = []
        for core, work, access in placed:
            cost = sum(step_cost(w) for w in work)
            since[core] = since[core] | access
            load[core] += cost
            result.append(CoreShare(core, tuple(work), cost))
        items.append(SplitItem(unit.item, unit.how, tuple(result), barrier))
    used = {v.buffer for s in items for share in s.shares for w in share.work
            for v in ([w.source] if isinstance(w, TraceGather) else [v for _, v in w.views])}
    final_plan = _with_private_buffers(schedule, plan, cores, units, used)
    split = CoreSplit(cores, tuple(items), final_plan, final_plan.arena_bytes - base_arena)
    check_no_cross_core_race(split)
    return split


def _access(work: tuple[Step | TraceGather, ...], offsets: dict[str, int]) -> Access:
    total = Access()
    for w in work:
        total = total | step_access(w, offsets)
    return total


def _with_private_buffers(schedule: Schedule, plan: ArenaPlan, cores: int, units: list[_Unit],
                          used: set[str] | None = None) -> ArenaPlan:
    """The plan with, for every core c >= 1, its scratch and patch workspace after the plan's end
    (only those it uses, once `used` is known). Private bytes clash with nothing: one core's own."""
    need: dict[str, int] = {}
    workspace = next((b.nbytes for b in schedule.buffers if b.name == WORKSPACE), 0)
    for core in range(1, cores):
        if workspace and any(u.how == "patches" for u in units):
            need[_private(WORKSPACE, core)] = workspace
    for unit in units:
        if not unit.movable:
            for work in unit.shares:
                for w in work:
                    if isinstance(w, Step) and w.scratch is not None and w.scratch.startswith(CORE_SCRATCH):
                        need[w.scratch] = max(need.get(w.scratch, 0), w.call.scratch_bytes)
                    for name in (w.writes if isinstance(w, Step) else ()):
                        if name.startswith(CORE_COPY):
                            need[name] = max(need.get(name, 0), int(_arg(w.call, "size")))
    if used is not None:
        need = {name: size for name, size in need.items() if name in used}
    if not need:
        return plan
    offset, placements = _align(plan.arena_bytes), list(plan.placements)
    last = max(0, sum(1 for _ in schedule.flat_steps()) - 1)
    for name in sorted(need):   # live throughout: a core's private bytes are its own
        placements.append(Placement(Buffer((), None, need[name], 0, last, name), offset))
        offset = _align(offset + need[name])
    return dataclasses.replace(plan, placements=tuple(placements), arena_bytes=offset)


def _align(n: int) -> int:
    return (n + ALIGNMENT - 1) // ALIGNMENT * ALIGNMENT


def check_no_cross_core_race(split: CoreSplit) -> None:
    """Within every interval between barriers, no core touches bytes another core writes
    (re-derived from the views of every share at their planned addresses)."""
    offsets = split.plan.buffer_offsets()
    interval: list[list[Access]] = [[] for _ in range(split.cores)]
    for s in split.items:
        if s.barrier_before:
            interval = [[] for _ in range(split.cores)]
        for share in s.shares:
            for w in share.work:
                mine = step_access(w, offsets)
                for other in range(split.cores):
                    if other != share.core and any(mine.clashes(a) for a in interval[other]):
                        raise PlanError(f"core split: core {share.core} and core {other} touch the same arena "
                                        f"bytes without a barrier between (schedule item {s.item})")
                interval[share.core].append(mine)


def port_runs_cores(port: str) -> bool:
    """Does the board's port start other cores (runtime_c/ports/<port>/tg_<port>_smp.c)?"""
    from tinygen.resources import RUNTIME_DIR
    return (RUNTIME_DIR / "ports" / port / f"tg_{port}_smp.c").is_file()


def board_cores(board, requested: int | None) -> int:
    """--cores: what was asked (at most the board's cores), else what the board has where its port
    runs several cores, else 1."""
    available = board.core.count if port_runs_cores(board.port) else 1
    if requested is None:
        return available
    if requested > board.core.count:
        raise PlanError(f"--cores {requested}: board '{board.name}' has {board.core.count} core(s)")
    if requested > available:
        raise PlanError(f"--cores {requested}: the '{board.port}' port of board '{board.name}' runs one core")
    return requested


def split_facts(split: CoreSplit | None) -> dict:
    """What reports say: the cores, barriers and the cost model's prediction."""
    if split is None or split.cores == 1:
        return {"cores": 1}
    return {"cores": split.cores, "barriers": split.barriers, "core_private_bytes": split.private_bytes,
            "predicted_ratio": round(split.predicted_ratio, 4),
            "predicted_per_core": [list(i) for i in split.intervals()]}
