"""tg_add_s8_table and tg_add_s8_table_wide (tinygen/kernels/variants_dsp.py): the ADD whose input
rescales are tables made at generation time (the wide one with the wide variants' output rescale,
four elements per step on the DSP extension), against TFLite Micro:

- on the host (the portable C, also under UBSan), every pair of int8 values for quantizations with
  zero points at both ends, very unequal scales and saturating outputs, with clamping activations,
  placed exactly over its input (its contract);
- in QEMU on mps2-an386 in IC's residual blocks (the default build runs the wide one there), both,
  and the wide one's four-at-a-time loop with a tail of 1 to 3 elements.
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
from tinygen.kernels.variants_dsp import _add_table_why_not, _add_table_wide_why_not
from tinygen.passes.choose_kernels import KernelSet
from tinygen.testing.compare import compare_on_host

from conftest import kernel_functions

DSP = frozenset({"dsp"})
ALL_INT8 = np.arange(-128, 128, dtype=np.int8)
# Every pair of int8 values as two same-shape inputs (input 1 the slow index).
ALL_PAIRS = [np.repeat(ALL_INT8, 256).reshape(1, 256, 256, 1), np.tile(ALL_INT8, 256).reshape(1, 256, 256, 1)]
QUANTS = PAIR_QUANTS + [((0.001, 0.5, 0.02), (-128, 127, -128)), ((0.1, 0.1, 0.0005), (127, 127, 127))]


TABLE, TABLE_WIDE = "tg_add_s8_table", "tg_add_s8_table_wide"


def _wide_applies(model: bytes) -> bool:
    call = next(c for c in compile_bytes(model, kernel_set=KernelSet.REFERENCE).lowered if c.function == "tg_add_s8")
    return _add_table_wide_why_not(None, typed_args(call, AddArgs)) is None


@pytest.mark.parametrize("sanitize", [False, pytest.param(True, marks=pytest.mark.long)])
@pytest.mark.parametrize("function", [TABLE, TABLE_WIDE])
@pytest.mark.parametrize("activation", ["NONE", "RELU6"])
@pytest.mark.parametrize("scales, zero_points", QUANTS, ids=str)
def test_add_table_every_pair_of_values(tmp_path, scales, zero_points, activation, function, sanitize):
    model = binary_model("ADD", 0, shape1=(1, 256, 256, 1), scales=scales, zero_points=zero_points,
                         activation=activation)
    other = TABLE_WIDE if function == TABLE else TABLE
    compiled = tight_compile(model, KernelSet.OPTIMISED, False, features=DSP, exclude=frozenset({other}))
    # the wide one takes every quantization here but a right shift over 23 (then the plain table)
    expected = TABLE if function == TABLE or not _wide_applies(model) else TABLE_WIDE
    assert kernel_functions(compiled.lowered) == [expected]
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
    for shift in (0, 1, -24):
        output = dataclasses.replace(args.params, output=dataclasses.replace(args.params.output, shift=shift))
        assert "not a right shift in [1, 23]" in _add_table_wide_why_not(None, dataclasses.replace(args, params=output))
    small = dataclasses.replace(args.params, output=dataclasses.replace(args.params.output, multiplier=1 << 29))
    assert "not normalized" in _add_table_wide_why_not(None, dataclasses.replace(args, params=small))


@pytest.mark.qemu
@pytest.mark.parametrize("function, shape, activation", [
    (TABLE_WIDE, (1, 16, 16, 16), "NONE"), (TABLE_WIDE, (1, 3, 5, 7), "RELU6"),  # 105: a tail of 1
    (TABLE_WIDE, (1, 1, 1, 7), "NONE"), (TABLE, (1, 16, 16, 16), "NONE")])      # 7: one step and 3
def test_add_table_on_the_m4(tmp_path, monkeypatch, function, shape, activation):
    """A residual-block ADD (zero points at the ends, saturating output scale) with random and
    extreme inputs on mps2-an386, where the default build runs the wide table variant (the plain one
    where the wide one is refused): bit-exact."""
    from tinygen import compiler

    if function == TABLE:
        chosen = compiler.board_variant
        monkeypatch.setattr(compiler, "board_variant", lambda graph, call, features, refused=frozenset():
                            chosen(graph, call, features, refused | {TABLE_WIDE}))
    model_bytes = binary_model("ADD", 3, shape1=shape, scales=(0.1, 0.1, 0.0005), zero_points=(-128, 127, 0),
                               activation=activation)
    assert kernel_functions(compile_bytes(model_bytes).lowered) == [function]
    model = tmp_path / "add.tflite"
    model.write_bytes(model_bytes)
    low, high = np.full(shape, -128, np.int8), np.full(shape, 127, np.int8)
    rng = np.random.default_rng(3)
    records = [[low, high], [high, low], [high, high], [low, low],
               [rng.integers(-128, 128, shape, dtype=np.int8) for _ in range(2)]]
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, *[np.stack([r[k] for r in records]) for k in range(2)])
    report = run_on_board(model, "mps2-an386", tmp_path / "build", inputs_file=inputs, timeout_s=120)
    assert report.bit_exact, report
