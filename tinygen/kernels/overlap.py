"""Overlap contracts: where a kernel's output may lie over an input it reads for the last time.

A contract (kernels/call.py `Overlap`) is derived from the order in which the C kernel reads and
writes, so it is declared per C function: a kernel variant with another loop order gets no
contract (never overlapped) until one is written for it here. The planner places buffers under
these pairwise contracts; plan/arena.py checks them on every plan.

The rule for a kernel that walks its output in order: when it writes output bytes up to `w`, the
lowest input byte it will still read is `r`; the write is safe when `out + w <= in + r`, so
`max_delta = min over the walk of (r - w)`. For windowed kernels (convolution, pooling) the walk
is per output pixel: all channels of a pixel (of a block of `pixels_per_block` pixels, for
kernels that compute two pixels at once) are written while that pixel's window is still read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from tinygen.kernels.call import KernelCall, Lowered, Overlap
from tinygen.kernels.cvalues import Dims



def window_walk_delta(in_dims: Dims, out_dims: Dims, filter_h: int, filter_w: int, stride_h: int, stride_w: int,
                      pad_h: int, pad_w: int, pixels_per_block: int, copied: bool = False) -> int:
    """max_delta (bytes, int8 input and output) of a kernel walking output pixels in raster order,
    reading for each pixel the window that starts at (y*stride - pad, x*stride - pad). copied: the
    kernel copies a pixel's whole window (to scratch) before it writes any of the pixel's outputs,
    so while it writes them only the later pixels' windows are still to be read (none after the
    last: the input's end bounds it, conservatively)."""
    n, h, w, c = in_dims.n, in_dims.h, in_dims.w, in_dims.c
    oy, ox = np.meshgrid(np.arange(out_dims.h), np.arange(out_dims.w), indexing="ij")
    rows = np.clip(oy * stride_h - pad_h, 0, h - 1)
    cols = np.clip(ox * stride_w - pad_w, 0, w - 1)
    first_read = ((rows * w + cols) * c).reshape(-1)
    first_read = np.concatenate([b * h * w * c + first_read for b in range(n)])
    # The lowest byte still to be read while a pixel is written: this pixel's window or a later one's.
    still_read = np.minimum.accumulate(first_read[::-1])[::-1]
    if copied:
        still_read = np.append(still_read[1:], n * h * w * c)
    pixels = len(first_read)
    written = np.minimum(np.arange(pixels) + pixels_per_block, pixels) * out_dims.c
    return int((still_read - written).min()) if pixels else 0


def _conv_contract(pixels_per_block: int, copied: bool = False) -> Callable[[KernelCall], tuple[Overlap, ...]]:
    def contract(call: KernelCall) -> tuple[Overlap, ...]:
        params, fd = call.arg("params"), call.arg("filter_dims")
        return (Overlap("input", "output", window_walk_delta(
            call.arg("input_dims"), call.arg("output_dims"),
            (fd.h - 1) * params.dilation.h + 1, (fd.w - 1) * params.dilation.w + 1,
            params.stride.h, params.stride.w, params.padding.h, params.padding.w, pixels_per_block, copied)),)
    return contract


def _rows_copied(call: KernelCall) -> tuple[Overlap, ...]:
    """tg_fully_connected_s8_wide: input row b is widened to scratch, then output row b written;
    while it is written the rows after b are still to be read (none after the last: the input's
    end bounds it)."""
    batches, depth, units = call.arg("batches"), call.arg("accum_depth"), call.arg("output_depth")
    return (Overlap("input", "output", min((b + 1) * depth - (b + 1) * units for b in range(batches))),)


def _pool_contract(call: KernelCall) -> tuple[Overlap, ...]:
    params = call.arg("params")
    return (Overlap("input", "output", window_walk_delta(
        call.arg("input_dims"), call.arg("output_dims"), params.filter.h, params.filter.w,
        params.stride.h, params.stride.w, params.padding.h, params.padding.w, 1)),)


def _pad_contract(call: KernelCall) -> tuple[Overlap, ...]:
    """tg_pad_s8 walks the output in order and consumes the input in order at the inside positions."""
    params = call.arg("params")
    dims = [int(d) for d in params.input_dims.values]
    before, after = [int(d) for d in params.before.values], [int(d) for d in params.after.values]
    inside = np.ones([1] * len(dims), dtype=bool)
    for axis, (d, lo, hi) in enumerate(zip(dims, before, after)):
        line = np.zeros(lo + d + hi, dtype=bool)
        line[lo:lo + d] = True
        shape = [1] * len(dims)
        shape[axis] = len(line)
        inside = inside & line.reshape(shape)
    consumed = np.cumsum(inside.reshape(-1), dtype=np.int64)
    written = np.arange(1, consumed.size + 1)
    return (Overlap("input", "output", int((consumed - written).min()) if consumed.size else 0),)


def _same_order(*inputs: str) -> Callable[[KernelCall], tuple[Overlap, ...]]:
    """Element i of the output written after element i of every input is read, none later: the
    output may start at the input (or below it)."""
    return lambda call: tuple(Overlap(name, "output", 0) for name in inputs)


def _pixelwise_inplace(call: KernelCall) -> tuple[Overlap, ...]:
    """tg_conv_1x1_s8_inplace: pixels are copied out in blocks of up to two, then written at
    q * out_c; the pixels after the block are still unread. A block of one pixel is the tightest
    case: (q + 1) * out_c <= (q + 1) * in_c + delta."""
    in_dims, out_dims = call.arg("input_dims"), call.arg("output_dims")
    pixels = in_dims.n * in_dims.h * in_dims.w
    step = in_dims.c - out_dims.c
    return (Overlap("input", "output", step if step >= 0 else pixels * step),)


def _rows_read_while_written(call: KernelCall) -> tuple[Overlap, ...]:
    """tg_fully_connected_s8_dsp reads input row b in place while it writes output row b (four
    outputs at a time), so all of row b's outputs may be written while row b's first byte is still
    to be read."""
    batches, depth, units = call.arg("batches"), call.arg("accum_depth"), call.arg("output_depth")
    return (Overlap("input", "output", min(b * depth - (b + 1) * units for b in range(batches))),)


def _channel_lines(call: KernelCall) -> tuple[Overlap, ...]:
    """tg_depthwise_conv_s8_lines_dsp works one channel at a time, a line after the input line below
    it is copied: its writes may land on the same channel's input of a line already copied, never on
    another channel's. So the output may start a whole number of pixels below the input (of lines of
    pixels, where the lines are the input's columns), or exactly over it."""
    dims = call.arg("input_dims")
    pixel = dims.c * (dims.w if call.arg("params").transposed else 1)
    return (Overlap("input", "output", 0, min_delta=-_lattice_lag(dims, pixel), multiple_of=pixel),)


def _lattice_lag(dims: Dims, pixel: int) -> int:
    """The portable depthwise's lag below its input (a 3x3 window, padding 1: a line and two pixels),
    rounded up to whole `pixel`s. The channel-at-a-time kernels could go lower still; bounded there,
    the planner's candidate with every allowance at its lowest delta (plan/arena.py) places them as
    it would the portable kernel."""
    lag = (dims.w + 2) * dims.c
    return -(-lag // pixel) * pixel


def _channel_plane(call: KernelCall) -> tuple[Overlap, ...]:
    """tg_depthwise_conv_s8_plane_dsp copies a channel's whole plane before it writes any of the
    channel's outputs, and writes no other channel: the output may start a whole number of pixels
    below the input, or exactly over it. Bounded below at the portable kernel's lag (its window
    walk's), in whole pixels, as the lines kernel's."""
    dims, params = call.arg("input_dims"), call.arg("params")
    walk = window_walk_delta(dims, call.arg("output_dims"), 3, 3, params.stride, params.stride, params.padding.h,
                             params.padding.w, 1)
    lag = -(-max(0, -walk) // dims.c) * dims.c
    return (Overlap("input", "output", 0, min_delta=-lag, multiple_of=dims.c),)


# C function -> its contracts for one call. Only kernels whose loop order was read are here.
CONTRACTS: dict[str, Callable[[KernelCall], tuple[Overlap, ...]]] = {
    "tg_conv_s8": _conv_contract(1),
    "tg_conv_s8_fast": _conv_contract(2),       # two output pixels per block
    "tg_depthwise_conv_s8": _conv_contract(1),
    "tg_depthwise_conv_s8_fast": _conv_contract(1),
    "tg_conv_s8_rv": _conv_contract(2),         # two output pixels per block (consecutive, maybe across rows)
    "tg_depthwise_conv_s8_rv": _conv_contract(1),
    "tg_avg_pool_s8": _pool_contract,
    "tg_max_pool_s8": _pool_contract,
    "tg_pad_s8": _pad_contract,
    "tg_add_s8": _same_order("input1", "input2"),
    "tg_add_s8_table": _same_order("input1", "input2"),
    "tg_add_s8_table_wide": _same_order("input1", "input2"),  # four elements read, then their four written
    "tg_mul_s8": _same_order("input1", "input2"),
    "tg_relu_s8": _same_order("input"),
    "tg_relu6_s8": _same_order("input"),
    "tg_requantize_s8": _same_order("input"),
    "tg_logistic_s8": _same_order("input"),
    "tg_hard_swish_s8": _same_order("input"),
    # in-place variants (kernels/inplace.py)
    "tg_depthwise_conv_s8_inplace": lambda call: (Overlap("input", "output", 0, min_delta=0),),
    "tg_conv_1x1_s8_inplace": _pixelwise_inplace,
    "tg_conv_1x1_s8_inplace_ref": _pixelwise_inplace,
    # the wide variants (tinygen/tg_wide.h): the conv copies each pixel's window to its im2col column
    # before writing the pixel's outputs; the depthwise reads the input in place, pixel by pixel,
    # four channels at a time (every output of a pixel written while its window may still be read:
    # the reference's walk); the fully connected widens each input row before writing its outputs
    "tg_conv_s8_wide": _conv_contract(1, copied=True),
    "tg_conv_s8_wide_pair": _conv_contract(2, copied=True),  # both windows copied, then both written
    "tg_conv_s8_wide_pair_packed": _conv_contract(2, copied=True),
    "tg_conv_s8_wide_pair_stack1k": _conv_contract(2, copied=True),  # the same kernels, 1 KiB of columns on the stack
    "tg_conv_s8_wide_pair_packed_stack1k": _conv_contract(2, copied=True),
    # a window row at a time, but both windows' every row read before either pixel's outputs are written
    "tg_conv_s8_wide_pair_rows": _conv_contract(2, copied=True),
    "tg_conv_s8_wide_pair_packed_rows": _conv_contract(2, copied=True),
    "tg_conv_s8_dsp": _conv_contract(1),  # reads each window in place while writing its pixel
    "tg_depthwise_conv_s8_wide": _conv_contract(1),
    "tg_fully_connected_s8_wide": _rows_copied,
    "tg_fully_connected_s8_dsp": _rows_read_while_written,
    "tg_fully_connected_s8_dsp_narrow": _rows_read_while_written,
    "tg_fully_connected_s8_dsp_packed": _rows_read_while_written,
    "tg_fully_connected_s8_dsp_packed_inplace": _rows_copied,  # each row copied before its outputs are written
    "tg_fully_connected_s8_dsp_packed8": _rows_read_while_written,
    "tg_fully_connected_s8_dsp_packed8_inplace": _rows_copied,
    # both rows copied, then both rows' outputs written: _rows_copied holds, but out of place the packed
    # FC's tighter contract is declared, so that placement stays as it was (with the looser one VWW's
    # greedy placement moved and two of its 1x1 layers lost their variant to a larger arena)
    "tg_fully_connected_s8_dsp_pair": _rows_read_while_written,
    "tg_fully_connected_s8_dsp_pair_inplace": _rows_copied,
    # tg_depthwise_conv_s8_inplace_dsp (tinygen/tg_dsp.h): exactly over its input, or apart
    "tg_depthwise_conv_s8_inplace_dsp": lambda call: (Overlap("input", "output", 0, min_delta=0),),
    # ..._rows: each output row after its input rows are in the ring; windows read only the ring
    "tg_depthwise_conv_s8_inplace_dsp_rows": lambda call: (Overlap("input", "output", 0, min_delta=0),),
    # tg_depthwise_conv_s8_lines_dsp: channel by channel, an input line copied before the output line over it
    "tg_depthwise_conv_s8_lines_dsp": _channel_lines,
    # tg_depthwise_conv_s8_plane_dsp: channel by channel, the whole plane copied before the channel's outputs
    "tg_depthwise_conv_s8_plane_dsp": _channel_plane,
    # their RISC-V forms (runtime_c/kernels/*_rv.c): the same walks
    "tg_depthwise_conv_s8_inplace_rv": lambda call: (Overlap("input", "output", 0, min_delta=0),),
    "tg_conv_1x1_s8_inplace_rv": _pixelwise_inplace,
    # Helium variants (kernels/variants_mve.py): pixels in raster order, two at a time for the conv
    "tg_conv_s8_mve": _conv_contract(2),
    "tg_depthwise_conv_s8_mve": _conv_contract(1),
    "tg_conv_1x1_s8_inplace_mve": _pixelwise_inplace,
    "tg_add_s8_mve": _same_order("input1", "input2"),  # four elements at a time, read before written
    # channel by channel, each channel's plane copied before its outputs are written: exactly over its input, or apart
    "tg_depthwise_conv_s8_planes_mve": lambda call: (Overlap("input", "output", 0, min_delta=0),),
}


def declare_overlaps(lowered: tuple[Lowered, ...]) -> tuple[Lowered, ...]:
    """Every call with the contracts of its (chosen) C function."""
    return tuple(dataclasses.replace(item, overlaps=CONTRACTS[item.function](item))
                 if isinstance(item, KernelCall) and item.function in CONTRACTS else item
                 for item in lowered)
