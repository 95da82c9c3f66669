"""The schedule: what the firmware does, step by step, over regions of arena buffers.

This is the data model between kernel choice and the plan. It is shared by every way tinygen
saves memory or time, so that none of them needs a data model of its own:

- A **buffer** (`ArenaBuffer`) is a block of arena bytes the plan gives one offset: the bytes of an
  activation tensor (and of the tensors that alias it), a call's scratch, or a temporary that no
  model tensor names (a patch stage's per-patch buffers, a line buffer).
- A **view** (`View`) is a region of one buffer: a byte offset inside it, a shape and element strides
  (NHWC order; strides in elements, so a view can be a slice of channels, a band of rows or one
  patch), and the padding that applies at that region's borders (`Border`: for a patch inside the
  image it is 0; on the image's edge it is TFLite's SAME padding). A whole tensor is the view at
  offset 0 with its own shape, dense strides and no border.
- A **step** (`Step`) is one kernel call (`KernelCall`, the kernel-invocation record the lowerings
  and kernel choice produce) with each of its pointer arguments bound to a view. Kernel variants
  (the kernels issue) are KernelCalls with other functions and arguments; a core's share of an
  operator (the multicore issue) is a step over the views of its rows, channels or patches.
- A **loop** (`Loop`) is a stage run several times, per patch or per row band: each iteration is its
  own tuple of steps, because at the borders the arguments differ (dims, padding, offsets). Codegen
  renders it from the template (`templates/model/model.c.j2`); today every iteration is unrolled
  into straight calls, which keeps every argument a named constant.
- An **alias** (`AliasStep`) is an operator that needs no code: its output tensor is a view of its
  input's buffer (RESHAPE, SQUEEZE).

Time is the position of a step in `Schedule.flat_steps()` (loops unrolled): buffer lifetimes, the
overlap contracts the plan checks, and the guard checks of debug builds all count in it.

Overlap: a step may declare, through its KernelCall's `overlaps`, that the buffer of its output may
overlap the buffer of an input it reads for the last time, as long as
`output offset - input offset <= max_delta` (kernels/call.py `Overlap`). The plan places buffers
under these pairwise contracts and checks them (plan/arena.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from tinygen.kernels.call import KernelCall


@dataclass(frozen=True)
class Border:
    """Padding rows/columns that apply at a view's edges (TFLite SAME padding on the image's edge)."""

    top: int = 0
    bottom: int = 0
    left: int = 0
    right: int = 0


NO_BORDER = Border()


@dataclass(frozen=True)
class ArenaBuffer:
    """A block of arena bytes with one offset in the plan."""

    name: str                      # t<root tensor>, scratch<step>, or a temporary's own name
    nbytes: int
    tensors: tuple[int, ...] = ()  # model tensors whose bytes these are (aliases share one buffer)
    scratch_of: int | None = None  # the flat step owning this scratch, or None


def dense_strides(shape: tuple[int, ...]) -> tuple[int, ...]:
    strides, step = [], 1
    for dim in reversed(shape):
        strides.append(step)
        step *= dim
    return tuple(reversed(strides))


@dataclass(frozen=True)
class View:
    """A region of a buffer: where a kernel argument points, and what it covers."""

    buffer: str                    # ArenaBuffer.name
    c_type: str                    # element type (int8_t, int32_t, float, void for scratch)
    offset: int = 0                # bytes from the buffer's start
    shape: tuple[int, ...] = ()    # elements, NHWC for images
    strides: tuple[int, ...] = ()  # elements between neighbours along each dimension
    border: Border = NO_BORDER

    @staticmethod
    def whole(buffer: str, c_type: str, shape: tuple[int, ...]) -> "View":
        return View(buffer, c_type, 0, tuple(shape), dense_strides(tuple(shape)))


@dataclass(frozen=True)
class Step:
    """One kernel call whose pointer arguments (KernelArg names) are bound to views."""

    call: KernelCall
    views: tuple[tuple[str, View], ...]   # argument name -> the region it addresses
    reads: tuple[str, ...]                # buffers read (activation inputs)
    writes: tuple[str, ...]               # buffers written
    scratch: str | None = None            # the scratch buffer, if the call has one

    def view(self, arg_name: str) -> View | None:
        return next((v for name, v in self.views if name == arg_name), None)


@dataclass(frozen=True)
class AliasStep:
    """An operator with no code: `tensor` is a view of `buffer`'s bytes (RESHAPE, SQUEEZE).
    `buffer` is None when the bytes are a constant's, in flash."""

    op_index: int
    op_kind: str
    tensor: int
    buffer: str | None


@dataclass(frozen=True)
class TraceGather:
    """Trace builds only (TG_TRACE): `call` copies a patch's part of a tensor that exists only in
    patches (`source`, a view of the patch's buffer: the call's "src") into the tensor's whole copy
    outside the arena (its "dst"), at byte `offset`. Not a step: it takes no time in the schedule
    and compiles to nothing otherwise."""

    call: KernelCall
    source: View
    tensor: int
    offset: int


@dataclass(frozen=True)
class TracePoint:
    """Trace `tensor` whole here, after the patch stage: from the arena, or from its gathered copy."""

    op_index: int
    tensor: int
    gathered: bool


@dataclass(frozen=True)
class Loop:
    """A stage run once per patch or row band; iteration i runs `iterations[i]` in order."""

    label: str
    iterations: tuple[tuple[Step | TraceGather, ...], ...]


ScheduleItem = Step | AliasStep | Loop | TracePoint


@dataclass(frozen=True)
class Schedule:
    buffers: tuple[ArenaBuffer, ...]
    items: tuple[ScheduleItem, ...]
    tensor_views: tuple[tuple[int, View], ...]   # every activation tensor that exists whole: its view
    inputs: tuple[str, ...] = ()                 # buffers live before the first step (graph inputs)
    outputs: tuple[str, ...] = ()                # buffers live after the last step (graph outputs)
    constant_aliases: tuple[tuple[int, int], ...] = ()  # tensor -> the constant whose flash bytes it names

    def buffer(self, name: str) -> ArenaBuffer:
        return next(b for b in self.buffers if b.name == name)

    def tensor_view(self, tensor: int) -> View | None:
        return next((v for t, v in self.tensor_views if t == tensor), None)

    def flat_steps(self) -> Iterator[Step]:
        """Every kernel step in execution order, loops unrolled: position = time."""
        for item in self.items:
            if isinstance(item, Step):
                yield item
            elif isinstance(item, Loop):
                for iteration in item.iterations:
                    yield from (step for step in iteration if isinstance(step, Step))

    def kernel_calls(self) -> tuple[KernelCall, ...]:
        return tuple(step.call for step in self.flat_steps())
