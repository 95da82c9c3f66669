"""A patch stage runs the board's variants that compute any window (kernels/variants.py
Variant.any_window), each call with its patch's dims and local padding: bit-exact with TFLite Micro on
every tensor (the stage's own, gathered, included), in QEMU on the ISA each variant targets, with
extreme weights, biases and inputs. Their reference twins run the same patches in tests/test_patches.py."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.boards.catalog import load_board
from tinygen.compiler import compile_bytes
from tinygen.jobs import run_on_board
from tinygen.passes.choose_kernels import KernelSet
from tinygen.schedule.patches import PatchRequest

from conftest import DIGITS_MODEL
from test_patches import _lowered, chain_model, extreme_records

# board -> the stage kernels its patched models must run (no _fast twin where a variant applies)
STAGE_KERNELS = {
    "mps2-an386": {"tg_conv_s8_dsp", "tg_depthwise_conv_s8_wide"},
    "riscv32-virt": {"tg_conv_s8_rv", "tg_depthwise_conv_s8_rv"},
    "mps3-an547": {"tg_conv_s8_mve", "tg_depthwise_conv_s8_mve"},
}
ADD_KERNEL = {"mps2-an386": "tg_add_s8_table_wide", "riscv32-virt": "tg_add_s8", "mps3-an547": "tg_add_s8_mve"}

# every geometry the stage gives a window: SAME borders, dilation, VALID with windows ending short of
# the image's bottom edge, strides
CHAINS = {
    "same": (dict(), "5:2x3"),
    "dilated": (dict(stem_dilation=2, dw_dilation=2, in_hw=(16, 21)), "5:3x1"),
    "valid-5x5-stride2": (dict(stem=(5, 5), stem_padding="VALID", in_hw=(23, 19), pool="MAX_POOL_2D"), "5:2x2"),
    "dw-stride2-valid": (dict(dw=(5, 3), dw_stride=2, dw_padding="VALID", pool_filter=(2, 2), pool_stride=(2, 2),
                              pool_padding="VALID", in_hw=(40, 37)), "5:3x2"),
}


def stage_functions(model: bytes, board: str, grid: str) -> list[str]:
    compiled = compile_bytes(model, name="m", patch=PatchRequest.parse(grid), board=load_board(board))
    assert compiled.patch is not None and compiled.patch.label == grid
    return [op.call.function for op in compiled.patch.ops]


def run_patched(tmp_path, model: bytes, board: str, grid: str, records: list[list[np.ndarray]]):
    path = tmp_path / "m.tflite"
    path.write_bytes(model)
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, np.stack([r[0] for r in records]))
    return run_on_board(path, board, tmp_path / "build", inputs_file=inputs, timeout_s=300,
                        kernel_set=KernelSet.OPTIMISED, patch=PatchRequest.parse(grid), trace=True)


# Every geometry on every ISA with typical values, and SAME with extreme values, in the default suite;
# the other geometries' extreme runs with -m long (the suite's time).
STAGE_CASES = [pytest.param(chain, board, values, id=f"{chain}-{board}-{values}",
                            marks=(pytest.mark.long,) if values == "extreme" and chain != "same" else ())
               for chain in sorted(CHAINS) for board in sorted(STAGE_KERNELS) for values in ("typical", "extreme")]


@pytest.mark.qemu
@pytest.mark.parametrize("chain,board,values", STAGE_CASES)
def test_stage_variants_are_bit_exact_in_qemu(tmp_path, board, chain, values):
    """extreme: weights at the int8 limits, accumulators far outside the usual range, inputs at -128,
    127 and a checkerboard of both; typical: random weights and inputs, whose outputs are not
    saturated, so a window read one row off (a wrong local padding) shows."""
    case, grid = CHAINS[chain]
    model = chain_model(seed=len(chain), in_c=4, extreme=values == "extreme", **case)
    assert STAGE_KERNELS[board] <= set(stage_functions(model, board, grid))
    graph, _ = _lowered(model)
    rng = np.random.default_rng(3)
    shape = graph.input_tensors()[0].shape
    records = (extreme_records(graph, rng) if values == "extreme"
               else [[rng.integers(-128, 128, size=shape, dtype=np.int8)] for _ in range(2)])
    report = run_patched(tmp_path, model, board, grid, records)
    assert report.patch == grid
    assert report.tensors_compared == len(records) * (len(graph.operators) + 1)  # every tensor, gathered ones too
    assert report.bit_exact, [r.first_mismatch for r in report.results]


@pytest.mark.qemu
@pytest.mark.parametrize("board", sorted(STAGE_KERNELS))
def test_the_residual_stage_adds_with_the_boards_add(tmp_path, board):
    """The example's residual block in patches: the ADD's variant reads windows of both branches."""
    model = DIGITS_MODEL.read_bytes()
    functions = stage_functions(model, board, "4:2x2")
    assert functions[-1] == ADD_KERNEL[board] and STAGE_KERNELS[board] & set(functions)
    samples = np.load(DIGITS_MODEL.parent / "sample_inputs.npy")[:2]
    report = run_patched(tmp_path, model, board, "4:2x2", [[s] for s in samples])
    assert report.bit_exact and report.tensors_compared > 0


def test_a_variant_that_cannot_compute_any_window_stays_out_of_the_stage():
    """The wide conv (im2col scratch) and the pair take scratch and rewrite nothing per patch: inspect
    names them with the patch stage as the reason; the same conv outside a stage takes them."""
    model = chain_model(seed=2, in_c=4)
    patched = compile_bytes(model, name="m", patch=PatchRequest.parse("5:2x3"), kernel_set=KernelSet.FASTEST)
    whole = compile_bytes(model, name="m", kernel_set=KernelSet.FASTEST)
    stem_whole = next(c for c in whole.choices if c.op_index == 0)
    stem_patched = next(c for c in patched.choices if c.op_index == 0)
    windowless = {"tg_conv_s8_wide", "tg_conv_s8_wide_pair"}
    assert all(note.startswith("~") for f, note in stem_whole.considered if f in windowless)  # they apply whole
    assert stem_patched.function == "tg_conv_s8_dsp"
    for function in windowless:
        assert any(f == function and "patch stage" in note for f, note in stem_patched.considered)
