"""Requantization rewritten for speed gives the same bits as the form it replaces:

- tg_fixedpoint.h's rounding doubling high multiply, one shift, against gemmlowp's literal form
  (nudge, then a 64-bit division truncating toward zero), kept here as its twin;
- the optimised kernels' tg_dot_requantize against tg_requantize, over what QuantizeMultiplier gives
  (multipliers 0 or [2^30, 2^31), shifts [-31, 30]), the range the kernel choice checks.

All compiled for the host and called through ctypes.
"""

from __future__ import annotations

import ctypes
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.resources import KERNELS_DIR, RUNTIME_INCLUDE_DIR

TWINS = r"""
#include <stdint.h>
#include "tinygen/tg_fixedpoint.h"
#include "tg_dot_s8.h"

int32_t shifted(int32_t a, int32_t b) { return tg_saturating_rounding_doubling_high_mul(a, b); }
int32_t requantize(int32_t x, int32_t m, int32_t shift) { return tg_requantize(x, m, shift); }
int32_t dot_requantize(int32_t x, int32_t m, int32_t shift) { return tg_dot_requantize(x, m, shift); }

int32_t gemmlowp(int32_t a, int32_t b)
{
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}
"""

EDGES = [-(2**31), -(2**31) + 1, -(2**30) - 1, -(2**30), -(2**30) + 1, -2, -1, 0, 1, 2, 2**30 - 1, 2**30,
         2**30 + 1, 2**31 - 2, 2**31 - 1]


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    work = tmp_path_factory.mktemp("fixedpoint")
    (work / "twins.c").write_text(TWINS)
    lib = work / "twins.so"
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", f"-I{RUNTIME_INCLUDE_DIR}", f"-I{KERNELS_DIR}",
                    str(work / "twins.c"), "-o", str(lib)], check=True)
    dll = ctypes.CDLL(str(lib))
    for name, arity in (("shifted", 2), ("gemmlowp", 2), ("requantize", 3), ("dot_requantize", 3)):
        getattr(dll, name).argtypes = (ctypes.c_int32,) * arity
        getattr(dll, name).restype = ctypes.c_int32
    return dll


def test_edges(twins):
    for a in EDGES:
        for b in EDGES:
            assert twins.shifted(a, b) == twins.gemmlowp(a, b), (a, b)


@settings(max_examples=3000, deadline=None)
@given(a=st.integers(-(2**31), 2**31 - 1), b=st.integers(-(2**31), 2**31 - 1))
def test_random_pairs(twins, a, b):
    assert twins.shifted(a, b) == twins.gemmlowp(a, b)


MULTIPLIERS = st.one_of(st.just(0), st.integers(2**30, 2**31 - 1))


@settings(max_examples=3000, deadline=None)
@given(x=st.integers(-(2**31), 2**31 - 1), m=MULTIPLIERS, shift=st.integers(-31, 30))
def test_dot_requantize_equals_requantize(twins, x, m, shift):
    assert twins.dot_requantize(x, m, shift) == twins.requantize(x, m, shift)


def test_dot_requantize_edges(twins):
    for x in EDGES:
        for m in (0, 2**30, 2**30 + 1, 2**31 - 1):
            for shift in (-31, -30, -16, -1, 0, 1, 7, 30):
                assert twins.dot_requantize(x, m, shift) == twins.requantize(x, m, shift), (x, m, shift)
