"""Kernels that also run over a range of channels: one core's share of a step whose channels are
independent (an in-place depthwise convolution reads and writes only its own channels, so a band of
rows would write over rows another core still reads, but a range of channels never does).

Each entry names the C function that takes the range (`<function>(..., first_channel,
end_channel)`, its pointers at channel first_channel of pixel 0) and the multiple a range's bounds
must be (the DSP kernel works four channels at a time).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelSlice:
    entry: str        # the C function over [first_channel, end_channel)
    multiple: int     # both bounds are multiples of this


CHANNEL_SLICES: dict[str, ChannelSlice] = {
    "tg_depthwise_conv_s8_inplace": ChannelSlice("tg_depthwise_conv_s8_inplace_channels", 1),
    "tg_depthwise_conv_s8_inplace_dsp": ChannelSlice("tg_depthwise_conv_s8_inplace_dsp_channels", 4),
    "tg_depthwise_conv_s8_inplace_dsp_rows": ChannelSlice("tg_depthwise_conv_s8_inplace_dsp_rows_channels", 4),
    "tg_depthwise_conv_s8_lines_dsp": ChannelSlice("tg_depthwise_conv_s8_lines_dsp_channels", 1),
    "tg_depthwise_conv_s8_plane_dsp": ChannelSlice("tg_depthwise_conv_s8_plane_dsp_channels", 1),
    "tg_depthwise_conv_s8_inplace_rv": ChannelSlice("tg_depthwise_conv_s8_inplace_rv_channels", 1),
}

# The range's own arguments, appended after the call's others.
FIRST_CHANNEL, END_CHANNEL = "first_channel", "end_channel"
