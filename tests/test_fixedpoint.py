"""tg_fixedpoint.h's rounding doubling high multiply, written as one shift, equals gemmlowp's
literal form (nudge, then a 64-bit division truncating toward zero) for every int32 pair tried.

Both compiled for the host and called through ctypes; the literal form is kept here as the twin.
"""

from __future__ import annotations

import ctypes
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygen.resources import RUNTIME_INCLUDE_DIR

TWINS = r"""
#include <stdint.h>
#include "tinygen/tg_fixedpoint.h"

int32_t shifted(int32_t a, int32_t b) { return tg_saturating_rounding_doubling_high_mul(a, b); }

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
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", f"-I{RUNTIME_INCLUDE_DIR}", str(work / "twins.c"), "-o", str(lib)],
                   check=True)
    dll = ctypes.CDLL(str(lib))
    for name in ("shifted", "gemmlowp"):
        getattr(dll, name).argtypes = (ctypes.c_int32, ctypes.c_int32)
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
