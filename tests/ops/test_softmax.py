"""SOFTMAX (int8 input) against TFLite Micro: the MLPerf Tiny classifier heads, several rows,
betas other than 1, input scales from tiny to ones where the multiplier is capped at 2^31 - 1
(diff_min 0: only the row maxima count), rows that are all equal or hold -128/127 extremes, an int16
output, and the output quantizations TFLM refuses."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tinygen.errors import InvalidModelError
from tinygen.kernels.nonlinear_params import softmax_scaling
from tinygen.compiler import compile_bytes
from tinygen.reference.tflm import TflmReference
from tinygen.testing.model_builder import ModelBuilder


def softmax_model(shape=(1, 10), in_scale=0.1, in_zp=0, beta=1.0, out_dtype=np.int8,
                  out_quant=None) -> bytes:
    if out_quant is None:
        out_quant = (1 / 256, -128) if out_dtype == np.int8 else (1 / 65536, -32768)
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_scale, zero_point=in_zp)
    y = b.tensor(list(shape), dtype=out_dtype, scale=out_quant[0], zero_point=out_quant[1])
    b.op("SOFTMAX", [x], [y], beta=beta)
    return b.build([x], [y])


def edge_records(shape, seed=0) -> list[list[np.ndarray]]:
    """Random rows, then rows that are all equal, all at the extremes, one maximum among minima,
    and a ramp (differences of every size from the maximum)."""
    rng = np.random.default_rng(seed)
    depth = shape[-1]
    rows = int(np.prod(shape[:-1]))
    random = rng.integers(-128, 128, size=shape).astype(np.int8)
    special = [
        np.full(depth, 7), np.full(depth, -128), np.full(depth, 127),
        np.where(np.arange(depth) % 2 == 0, 127, -128),
        np.where(np.arange(depth) == depth // 2, 127, -128),
        np.linspace(127, -128, depth).round(),
    ]
    records = [[random]]
    for i in range(0, len(special), rows):
        block = [special[(i + r) % len(special)] for r in range(rows)]
        records.append([np.array(block, dtype=np.int8).reshape(shape)])
    return records


GRID = [
    dict(shape=(1, 10), in_scale=0.1, in_zp=0),            # MLPerf IC head
    dict(shape=(1, 12), in_scale=0.142, in_zp=-20),        # MLPerf KWS head
    dict(shape=(1, 2), in_scale=0.0781, in_zp=5),          # MLPerf VWW head
    dict(shape=(3, 7), in_scale=0.05, in_zp=-128),
    dict(shape=(2, 3, 5), in_scale=0.3, in_zp=127),
    dict(shape=(1, 2, 2, 6), in_scale=0.02, in_zp=10),
    dict(shape=(16,), in_scale=0.1, in_zp=0),               # rank 1
    dict(shape=(4, 1), in_scale=0.1, in_zp=0),              # depth 1: always 1.0 (127)
    dict(shape=(1, 300), in_scale=0.06, in_zp=0),           # a long row
    dict(shape=(1, 10), in_scale=0.1, beta=0.5),
    dict(shape=(1, 10), in_scale=0.1, beta=2.7),
    dict(shape=(2, 9), in_scale=0.037, beta=0.013),         # beta * scale small: wide diff range
    dict(shape=(1, 10), in_scale=1e-6, in_zp=0),            # every difference counts, exp ~ 1
    dict(shape=(1, 10), in_scale=2e-8, in_zp=0),            # just above TFLM's 2^-26 limit
    dict(shape=(1, 10), in_scale=0.5, in_zp=0),             # diff_min -31
    dict(shape=(1, 10), in_scale=1.0, in_zp=-3),            # diff_min -15
    dict(shape=(2, 10), in_scale=8.0, in_zp=0),             # diff_min -1
    dict(shape=(2, 10), in_scale=25.0, in_zp=0),            # left shift 31: diff_min 0
    dict(shape=(2, 10), in_scale=40.0, in_zp=0),            # multiplier capped at 2^31 - 1: diff_min 0
    dict(shape=(1, 10), in_scale=1.0, beta=1e3),            # capped through beta
]


def case_id(case: dict) -> str:
    return "-".join(f"{k}={v}" for k, v in case.items()).replace(" ", "") or "default"


@pytest.mark.parametrize("case", GRID, ids=case_id)
def test_softmax_grid(assert_bit_exact, case):
    assert_bit_exact(softmax_model(**case), records=edge_records(case["shape"]))


def test_softmax_grid_reaches_each_diff_min_regime():
    diff_mins = {softmax_scaling(c.get("beta", 1.0), c["in_scale"]).diff_min for c in GRID}
    assert {0, -1, -31} <= diff_mins and min(diff_mins) < -255


def test_softmax_511_equal_maxima(assert_bit_exact):
    """511 is the most equal maxima TFLM's int8 softmax survives: at 512 the sum of exps reaches
    2^9 and TFLM aborts on TFLITE_CHECK(exponent <= 31) (tinygen then outputs -128)."""
    assert_bit_exact(softmax_model(shape=(1, 511)), records=[[np.full((1, 511), 3, dtype=np.int8)]])


@pytest.mark.parametrize("case", [
    dict(shape=(1, 10), in_scale=0.1, in_zp=0),
    dict(shape=(3, 12), in_scale=0.02, in_zp=-128, beta=1.5),
    dict(shape=(2, 10), in_scale=40.0),
    dict(shape=(1, 10), in_scale=1.0, out_quant=(1.0005 / 65536, -32768)),  # within TFLM's 0.1%
], ids=case_id)
def test_softmax_int16_output(assert_bit_exact, case):
    assert_bit_exact(softmax_model(out_dtype=np.int16, **case), records=edge_records(case["shape"]))


@pytest.mark.parametrize("out_dtype, out_quant", [
    (np.int8, (1 / 255, -128)),
    (np.int8, (1 / 256, 0)),
    (np.int16, (1 / 32768, -32768)),
    (np.int16, (1 / 65536, 0)),
])
def test_softmax_refuses_output_quantization_tflm_refuses(out_dtype, out_quant):
    model = softmax_model(out_dtype=out_dtype, out_quant=out_quant)
    with pytest.raises(InvalidModelError, match="SOFTMAX.*requires"):
        compile_bytes(model)
    with pytest.raises(RuntimeError):
        TflmReference(model).run([np.zeros((1, 10), dtype=np.int8)])


def test_softmax_refuses_beta_times_scale_below_2_pow_minus_26():
    # TFLM aborts the whole process on this model (QuantizeMultiplierGreaterThanOne), so it is
    # not run here.
    with pytest.raises(InvalidModelError, match="SOFTMAX.*2\\^-26"):
        compile_bytes(softmax_model(in_scale=1e-8))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.integers(1, 4), depth=st.integers(1, 40),
       log_scale=st.floats(np.log(1e-4), np.log(50.0)), log_beta=st.floats(np.log(0.1), np.log(10.0)),
       in_zp=st.integers(-128, 127), seed=st.integers(0, 2**31), int16_output=st.booleans())
def test_softmax_random(assert_bit_exact, rows, depth, log_scale, log_beta, in_zp, seed,
                        int16_output):
    scale = float(np.float32(np.exp(log_scale)))
    beta = float(np.float32(np.exp(log_beta)))
    shape = (rows, depth)
    out_dtype = np.int16 if int16_output else np.int8
    assert_bit_exact(softmax_model(shape, scale, in_zp, beta, out_dtype), records=edge_records(shape, seed))


def test_fixedpoint_constants_are_their_real_values():
    """The gemmlowp constants in tg_fixedpoint_math.h, checked as gemmlowp's own debug build checks
    them (GEMMLOWP_CHECKED_FIXEDPOINT_CONSTANT): raw == round(value * 2^fractional_bits). Errors
    in them are mostly below int8 resolution, so the bit-exact tests alone would not see a typo."""
    import math
    import re

    from tinygen.resources import RUNTIME_INCLUDE_DIR

    source = (RUNTIME_INCLUDE_DIR / "tinygen" / "tg_fixedpoint_math.h").read_text()

    def constant(name: str) -> int:
        return int(re.search(rf"\b{name} = (-?\d+);", source).group(1))

    q31, q29 = 2.0**31, 2.0**29
    assert constant("constant_term") == round(math.exp(-1 / 8) * q31)
    assert constant("constant_1_over_3") == round(q31 / 3)
    assert constant("constant_48_over_17") == round(48 / 17 * q29)
    assert constant("constant_neg_32_over_17") == round(-32 / 17 * q29)
    barrel = re.search(r"kBarrelMultipliers\[7\] = \{([^}]*)\}", source).group(1)
    assert [int(v) for v in barrel.replace(",", " ").split()] == [
        round(math.exp(-(2.0**k)) * q31) for k in range(-2, 5)]
