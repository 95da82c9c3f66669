"""Kernel choice: the optimised twins replace reference kernels only where they compute the same
bits, and on the board they do (the DSP path on the Cortex-M4, the portable C on the M3).

The host grids in tests/ops check both kernel sets against TFLM (conftest's assert_bit_exact); the
host has no DSP instructions, so here the same edge cases run in QEMU.
"""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from ops.test_conv import conv_model
from ops.test_fully_connected import fc_model
from tinygen.flow import run_on_board
from tinygen.kernels.call import KernelCall
from tinygen.kernels.optimised import KernelSet
from tinygen.pipeline import compile_bytes
from tinygen.testing.model_builder import ModelBuilder

from conftest import mlperf_model


def functions(model: bytes, kernel_set: KernelSet = KernelSet.OPTIMISED) -> list[str]:
    return [c.function for c in compile_bytes(model, kernel_set=kernel_set).lowered if isinstance(c, KernelCall)]


def test_ungrouped_conv_gets_the_twin_grouped_keeps_the_reference():
    assert functions(conv_model(0, in_c=4, out_c=6)) == ["tg_conv_s8_fast"]
    assert functions(conv_model(0, in_c=4, out_c=6, groups=2)) == ["tg_conv_s8"]


def test_fully_connected_twin_needs_weights_without_zero_point():
    assert functions(fc_model(0)) == ["tg_fully_connected_s8_fast"]
    b = ModelBuilder()
    x = b.tensor([1, 8], scale=0.05, zero_point=3)
    w = b.tensor([4, 8], scale=0.01, zero_point=5, data=np.arange(32, dtype=np.int8).reshape(4, 8))
    y = b.tensor([1, 4], scale=0.2)
    b.op("FULLY_CONNECTED", [x, w], [y])
    assert functions(b.build([x], [y])) == ["tg_fully_connected_s8"]


def test_reference_set_has_no_twins():
    assert functions(conv_model(0), KernelSet.REFERENCE) == ["tg_conv_s8"]
    assert functions(fc_model(0), KernelSet.REFERENCE) == ["tg_fully_connected_s8"]


@pytest.mark.parametrize("key", ["ad", "ic", "kws", "vww"])
def test_mlperf_models_use_the_twins(key):
    calls = functions(mlperf_model(key).read_bytes())
    assert any(f.endswith("_fast") for f in calls)
    assert "tg_conv_s8" not in calls and "tg_fully_connected_s8" not in calls


# The twins' edge cases: channel pairs and an odd one, runs not a multiple of 4, padding, whole rows.
EDGE_MODELS = {
    "conv": lambda: conv_model(11, in_hw=(7, 6), in_c=7, out_c=5, kernel=(3, 3), padding="SAME"),
    "conv_stem": lambda: conv_model(12, in_hw=(10, 10), in_c=3, out_c=8, kernel=(3, 3), stride=(2, 2)),
    "fc": lambda: fc_model(13, batches=2, depth=37, units=7, per_channel=True),
}


@pytest.mark.qemu
@pytest.mark.parametrize("board, instruction", [("mps2-an386", "smlad"), ("mps2-an385", None)])
@pytest.mark.parametrize("name", sorted(EDGE_MODELS))
def test_twins_are_bit_exact_on_the_board(tmp_path, name, board, instruction):
    model = tmp_path / f"{name}.tflite"
    model.write_bytes(EDGE_MODELS[name]())
    report = run_on_board(model, board, tmp_path / "build", random_count=3, timeout_s=120)
    assert report.bit_exact, report
    elf = next((tmp_path / "build").rglob("*.elf"))
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True, text=True,
                                 check=True).stdout
    if instruction:  # the Cortex-M4 runs the DSP path...
        assert f"\t{instruction}\t" in disassembly
    else:  # ...the Cortex-M3 has none: the portable C
        assert "\tsmlad\t" not in disassembly and "\tsxtb16\t" not in disassembly
