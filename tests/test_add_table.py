"""tg_add_s8_table (tinygen/kernels/variants_dsp.py): the ADD whose input rescales are tables made at
generation time, against TFLite Micro:

- on the host (the portable C, also under UBSan), every pair of int8 values for quantizations with
  zero points at both ends, very unequal scales and saturating outputs, with clamping activations,
  placed exactly over its input (its contract);
- in QEMU on mps2-an386 in IC's residual blocks (the default build runs it there).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from ops.test_add import PAIR_QUANTS, binary_model
from test_inplace import tight_compile
from tinygen.compiler import compile_bytes
from tinygen.jobs import run_on_board
from tinygen.kernels.variants import AddArgs, typed_args
from tinygen.kernels.variants_dsp import _add_table_why_not
from tinygen.passes.choose_kernels import KernelSet
from tinygen.testing.compare import compare_on_host

from conftest import kernel_functions

DSP = frozenset({"dsp"})
ALL_INT8 = np.arange(-128, 128, dtype=np.int8)
# Every pair of int8 values as two same-shape inputs (input 1 the slow index).
ALL_PAIRS = [np.repeat(ALL_INT8, 256).reshape(1, 256, 256, 1), np.tile(ALL_INT8, 256).reshape(1, 256, 256, 1)]
QUANTS = PAIR_QUANTS + [((0.001, 0.5, 0.02), (-128, 127, -128)), ((0.1, 0.1, 0.0005), (127, 127, 127))]


@pytest.mark.parametrize("sanitize", [False, pytest.param(True, marks=pytest.mark.long)])
@pytest.mark.parametrize("activation", ["NONE", "RELU6"])
@pytest.mark.parametrize("scales, zero_points", QUANTS, ids=str)
def test_add_table_every_pair_of_values(tmp_path, scales, zero_points, activation, sanitize):
    model = binary_model("ADD", 0, shape1=(1, 256, 256, 1), scales=scales, zero_points=zero_points,
                         activation=activation)
    compiled = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP)
    assert kernel_functions(compiled.lowered) == ["tg_add_s8_table"]
    result = compare_on_host(model, tmp_path, records=[ALL_PAIRS], compiled=compiled, sanitize=sanitize)
    assert result.tensors_compared > 0
    assert not result.mismatches, "\n".join(result.mismatches[:10])


def test_add_table_refuses_what_its_tables_cannot_hold():
    """TFLM's input rescales always shift right (multipliers at most 1/2); a left shift, or a headroom
    shift that could overflow int32, is refused rather than tabulated."""
    model = binary_model("ADD", 0)
    call = next(c for c in compile_bytes(model, kernel_set=KernelSet.REFERENCE).lowered if c.function == "tg_add_s8")
    args = typed_args(call, AddArgs)
    assert _add_table_why_not(None, args) is None
    left = dataclasses.replace(args.params, input2=dataclasses.replace(args.params.input2, shift=1))
    assert _add_table_why_not(None, dataclasses.replace(args, params=left)) == "an input rescale shifts left"
    wide = dataclasses.replace(args.params, left_shift=23)
    assert "left shift 23" in _add_table_why_not(None, dataclasses.replace(args, params=wide))


@pytest.mark.qemu
def test_add_table_on_the_m4(tmp_path):
    """A residual-block ADD (zero points at the ends, saturating output scale) with random and
    extreme inputs on mps2-an386, where the default build runs the table variant: bit-exact."""
    model_bytes = binary_model("ADD", 3, shape1=(1, 16, 16, 16), scales=(0.1, 0.1, 0.0005), zero_points=(-128, 127, 0))
    assert kernel_functions(compile_bytes(model_bytes).lowered) == ["tg_add_s8_table"]
    model = tmp_path / "add.tflite"
    model.write_bytes(model_bytes)
    low, high = np.full((1, 16, 16, 16), -128, np.int8), np.full((1, 16, 16, 16), 127, np.int8)
    rng = np.random.default_rng(3)
    records = [[low, high], [high, low], [high, high], [low, low],
               [rng.integers(-128, 128, (1, 16, 16, 16), dtype=np.int8) for _ in range(2)]]
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, *[np.stack([r[k] for r in records]) for k in range(2)])
    report = run_on_board(model, "mps2-an386", tmp_path / "build", inputs_file=inputs, timeout_s=120)
    assert report.bit_exact, report
