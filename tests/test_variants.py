"""The kernel variants' own data and arithmetic (tinygen/kernels/variants.py, runtime_c/kernels/tg_wide*):

- the packed weight layouts, unpacked again and used as the C kernels use them;
- tg_wide_requantize (AND + SMMLAR, then QADD) against TFLM's double-rounding arithmetic at the edges, after the
  int8 clamp, where the registry takes it, and the registry's refusal where it could differ;
- whole models on extreme values (zero points at the ends, weights at +-127/-128, accumulators near
  the int32 limits, multipliers at both ends of QuantizeMultiplier's range, right shifts from 1 to
  31) bit-exact with TFLM on the host (the portable path; tests/test_kernel_choice.py runs them in
  QEMU on the DSP path).
"""

from __future__ import annotations

import ctypes
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.ir.quant import FixedPointMultiplier, multiply_by_quantized_multiplier, quantize_multiplier
from tinygen.passes.choose_kernels import KernelSet
from tinygen.kernels.cvalues import ChannelRequant, ConstArray, NullPtr
from tinygen.kernels.variants import (
    WIDE_ROWS, depthwise_wide_weights, wide_requant_why_not, wide_weights,
)
from tinygen.compiler import compile_bytes
from tinygen.resources import KERNELS_DIR, RUNTIME_INCLUDE_DIR

from conftest import kernel_functions
from tinygen.testing.model_builder import ModelBuilder

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def unpack_pairs(words: np.ndarray) -> np.ndarray:
    w = words.astype(np.int64) & 0xFFFFFFFF
    lo, hi = (w & 0xFFFF).astype(np.uint16).view(np.int16), (w >> 16).astype(np.uint16).view(np.int16)
    return np.stack([lo, hi], axis=-1).astype(np.int64)


def test_wide_weights_are_the_rows_in_blocks_of_four():
    rng = np.random.default_rng(0)
    rows = rng.integers(-128, 128, size=(7, 13)).astype(np.int8)
    pairs = unpack_pairs(wide_weights(rows).values)  # [word][lo, hi]
    depth = 16  # padded to a multiple of 4; rows to 8
    x = rng.integers(-128, 128, size=depth).astype(np.int64)
    x[13:] = 0
    # tg_wide_dot1x4: per block of 4 rows, per 4 k, words (r0 k0k1) (r1 k0k1) (r2 k0k1) (r3 k0k1) (r0 k2k3) ...
    acc = np.zeros(8, dtype=np.int64)
    word = 0
    for block in range(2):
        for kb in range(depth // 4):
            for half in range(2):
                for r in range(WIDE_ROWS):
                    k = 4 * kb + 2 * half
                    acc[4 * block + r] += pairs[word, 0] * x[k] + pairs[word, 1] * x[k + 1]
                    word += 1
    assert word == len(pairs)
    assert (acc[:7] == rows.astype(np.int64) @ x[:13]).all() and (acc[7] == 0)


def test_depthwise_wide_weights_follow_sxtb16s_channel_order():
    rng = np.random.default_rng(1)
    rows = rng.integers(-128, 128, size=(6, 9)).astype(np.int8)  # [channel][tap]
    pairs = unpack_pairs(depthwise_wide_weights(rows).values).reshape(2, 9, 2, 2)  # [group][tap][word][half]
    for c in range(8):
        group, j = divmod(c, 4)
        expected = rows[c] if c < 6 else np.zeros(9)
        # word 0 holds (c0, c2), word 1 (c1, c3): the halves SXTB16 and SXTB16 ROR 8 give
        assert (pairs[group, :, j & 1, j >> 1] == expected).all()


# --- tg_wide_requantize against TFLM's arithmetic --------------------------------------------------

REQUANT = r"""
#include <stdint.h>
#include "tinygen/tg_fixedpoint.h"
#include "tg_wide_dot.h"

int32_t wide(int32_t x, int32_t m, int32_t e, int32_t offset, int32_t lo, int32_t hi)
{
    const int32_t channel[TG_WIDE_CHANNEL_WORDS] = {0, (int32_t)(2u * (uint32_t)m), e, e > 0 ? 1 << (e - 1) : 0, 0};
    const tg_range_t activation = {lo, hi};
    const tg_wide_epilogue_t epilogue = tg_wide_epilogue(offset, activation);
    return tg_wide_output(x, channel, epilogue);
}
"""


@pytest.fixture(scope="module")
def wide_requantize(tmp_path_factory):
    work = tmp_path_factory.mktemp("wide")
    (work / "wide.c").write_text(REQUANT)
    lib = work / "wide.so"
    subprocess.run(["gcc", "-O2", "-std=c11", "-shared", "-fPIC", f"-I{RUNTIME_INCLUDE_DIR}", f"-I{KERNELS_DIR}",
                    "-fsanitize=undefined", "-fno-sanitize-recover=all",
                    str(work / "wide.c"), "-o", str(lib)], check=True)
    dll = ctypes.CDLL(str(lib))
    dll.wide.argtypes = (ctypes.c_int32,) * 6
    dll.wide.restype = ctypes.c_int32
    return dll.wide


def tflm_output(x: int, m: int, e: int, offset: int, lo: int, hi: int) -> int:
    return min(max(multiply_by_quantized_multiplier(x, FixedPointMultiplier(m, -e)) + offset, lo), hi)


X_EDGES = [INT32_MIN, INT32_MIN + 1, -(2**30) - 1, -(2**30), -(2**24), -3, -2, -1, 0, 1, 2, 3, 2**24, 2**30 - 1,
           2**30, INT32_MAX - 1, INT32_MAX]
M_EDGES = [0, 2**30, 2**30 + 1, 1518500250, INT32_MAX - 1, INT32_MAX]
CLAMPS = [(-128, 127, -128), (-128, 127, 127), (-128, 127, 0), (-5, 127, -5), (-128, 6, 6), (-3, 3, 0)]


@pytest.mark.parametrize("e", range(1, 24))
def test_wide_requantize_is_tflms_at_the_edges(wide_requantize, e):
    for x in X_EDGES:
        for m in M_EDGES:
            for lo, hi, offset in CLAMPS:
                assert wide_requantize(x, m, e, offset, lo, hi) == tflm_output(x, m, e, offset, lo, hi), (x, m, e)


@settings(max_examples=1000, deadline=None)
@given(x=st.integers(INT32_MIN, INT32_MAX), m=st.sampled_from([0]) | st.integers(2**30, INT32_MAX),
       e=st.integers(1, 23), clamp=st.sampled_from(CLAMPS))
def test_wide_requantize_is_tflms(wide_requantize, x, m, e, clamp):
    lo, hi, offset = clamp
    assert wide_requantize(x, m, e, offset, lo, hi) == tflm_output(x, m, e, offset, lo, hi)


def test_a_large_right_shift_differs_only_where_the_registry_refuses_it(wide_requantize):
    """With e = 24 QADD's saturation shows after the clamp (output 127 for 128 + offset -128 = 0),
    for accumulators near INT32_MAX; the registry takes e = 24 only where they cannot occur."""
    x, m, e = INT32_MAX, INT32_MAX, 24
    assert wide_requantize(x, m, e, -128, -128, 127) != tflm_output(x, m, e, -128, -128, 127)
    requant = ChannelRequant(ConstArray("int32_t", np.array([m])), ConstArray("int32_t", np.array([-e])), 0)
    small = np.full((1, 16), 127, dtype=np.int8)
    assert wide_requant_why_not(None, NullPtr(), small, 0, requant) is None  # |acc| <= 16 * 127 * 128
    for accumulator in range(-16 * 127 * 128, 16 * 127 * 128 + 1, 997):
        assert wide_requantize(accumulator, m, e, -128, -128, 127) == tflm_output(accumulator, m, e, -128, -128, 127)
    large = np.full((1, 140000), 127, dtype=np.int8)  # |acc| may reach INT32_MAX
    assert "saturate" in wide_requant_why_not(None, NullPtr(), large, 0, requant)
    shift0 = ChannelRequant(ConstArray("int32_t", np.array([2**30])), ConstArray("int32_t", np.array([0])), 0)
    assert "right shift 0" in wide_requant_why_not(None, NullPtr(), small, 0, shift0)


# --- whole models on extreme values, bit-exact on the host ---------------------------------------

def multiplier_scales(in_scale: float, w_scales: list[float], reals: list[float]) -> float:
    """One output scale; the per-channel weight scales then give each channel its real multiplier."""
    return in_scale * w_scales[0] / reals[0]


# Real multipliers per channel: both ends of [2^-e-1, 2^-e) for right shifts 1, 2, 10, 23 and 30,
# zero (a dead channel), and one in [0.5, 1) (no right shift: the variant refuses, the twin runs).
REALS = [0.4999, 0.25, 0.75 * 2**-10, 0.99999 * 2**-23, 2**-31, 0.0, 0.7]
# What the wide variants take (no [0.5, 1) multiplier, right shifts up to 23 with accumulators near the
# limits), eight channels so that the cost estimate prefers them.
WIDE_REALS = REALS[:4] + [0.0, 2**-5, 0.3, 0.26]


def extreme_model(kind: str, seed: int, in_zp: int, out_zp: int, reals=REALS, near_limit=True,
                  activation="NONE", in_c: int = 5) -> bytes:
    """A CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED whose weights sit at +-127 and -128, whose input
    zero point is in_zp, whose biases bring the accumulators within a few products of the int32
    limits (near_limit), and whose channels take the real multipliers `reals`."""
    rng = np.random.default_rng(seed)
    channels = len(reals)
    in_scale = 0.05
    base_w = 0.01
    # Per-channel weight scales realise each real multiplier against one output scale.
    out_scale = in_scale * base_w / reals[0]
    w_scales = [max(r, 1e-30) * out_scale / in_scale if r > 0 else base_w * 1e-9 for r in reals]
    b = ModelBuilder()
    if kind == "fc":
        depth = 37
        x = b.tensor([2, depth], scale=in_scale, zero_point=in_zp)
        w_shape, taps = [channels, depth], depth
    elif kind == "conv":
        x = b.tensor([1, 6, 7, in_c], scale=in_scale, zero_point=in_zp)
        w_shape, taps = [channels, 3, 3, in_c], 9 * in_c
    else:
        x = b.tensor([1, 6, 7, channels], scale=in_scale, zero_point=in_zp)
        w_shape, taps = [1, 3, 3, channels], 9
    weights = rng.choice(np.array([-128, -127, 127], dtype=np.int8), size=w_shape)
    axis = 3 if kind == "dw" else 0
    w = b.tensor(w_shape, scale=w_scales, zero_point=0, data=weights, quant_axis=axis)
    worst = taps * 128 * 255  # the largest |sum w * (x - zero point)|
    if near_limit:
        bias = np.where(np.arange(channels) % 2 == 0, INT32_MAX - worst - 1, INT32_MIN + worst + 1)
    else:
        bias = rng.integers(-20000, 20000, size=channels)
    bias_scales = np.float32(in_scale) * np.asarray(w_scales, dtype=np.float32)
    bias_t = b.tensor([channels], dtype=np.int32, scale=bias_scales, zero_point=0, data=bias.astype(np.int32))
    if kind == "fc":
        y = b.tensor([2, channels], scale=out_scale, zero_point=out_zp)
        b.op("FULLY_CONNECTED", [x, w, bias_t], [y], fusedActivationFunction=activation)
    elif kind == "conv":
        y = b.tensor([1, 6, 7, channels], scale=out_scale, zero_point=out_zp)
        b.op("CONV_2D", [x, w, bias_t], [y], padding="SAME", strideH=1, strideW=1, fusedActivationFunction=activation)
    else:
        y = b.tensor([1, 6, 7, channels], scale=out_scale, zero_point=out_zp)
        b.op("DEPTHWISE_CONV_2D", [x, w, bias_t], [y], padding="SAME", strideH=1, strideW=1, depthMultiplier=1,
             fusedActivationFunction=activation)
    return b.build([x], [y])


EXTREME_CASES = {
    # zero points at both ends; shifts 1..31 and a dead channel; a [0.5, 1) multiplier keeps the twin
    "zp-128": dict(in_zp=-128, out_zp=127),
    "zp127": dict(in_zp=127, out_zp=-128),
    # without the [0.5, 1) channel the variant runs: accumulators near the limits, all shifts but 30
    "wide-near-limit": dict(in_zp=-128, out_zp=-128, reals=WIDE_REALS),
    "wide-relu6": dict(in_zp=3, out_zp=-100, reals=WIDE_REALS, near_limit=False, activation="RELU6"),
}


@pytest.mark.parametrize("kind", ["conv", "dw", "fc"])
@pytest.mark.parametrize("case", sorted(EXTREME_CASES))
def test_extreme_values_are_bit_exact(assert_bit_exact, kind, case):
    model = extreme_model(kind, 3, **EXTREME_CASES[case])
    assert_bit_exact(model, count=4)  # the default, reference and fastest sets
    functions = kernel_functions(compile_bytes(model, kernel_set=KernelSet.FASTEST).lowered)
    if case.startswith("wide"):  # an FC takes the scratch-free DSP FC, which supersedes the wide one
        # (a convolution of an odd depth takes the pair, its window rows padded to even counts)
        # (a 3x3 depthwise the lines or the plane kernel, one channel at a time)
        assert functions[0].endswith(("_wide", "_dsp") if kind == "fc"
                                     else ("_wide", "_wide_pair", "_lines_dsp", "_plane_dsp")), functions
    else:  # the [0.5, 1) multiplier (right shift 0) is not the wide variants'
        assert functions[0].endswith("_fast"), functions
