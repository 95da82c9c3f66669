"""Generated code and kernels under AddressSanitizer + UndefinedBehaviorSanitizer, still bit-exact.

Every model runs in the guarded layout (guard bytes between buffers), where the sanitized build
also poisons the whole arena except the buffers live during each operator: the arena is one
static array, and without that ASan could not see a kernel stray from one tensor into the next.
The MLPerf models also run in the normal layout, the one shipped.
"""

from __future__ import annotations


import numpy as np
import pytest
from conftest import MLPERF_MODELS, mlperf_model
from ops.test_activations import activation_model
from ops.test_add import binary_model
from ops.test_concatenation import concat_model
from ops.test_conv import conv_model
from ops.test_depthwise import dw_model
from ops.test_fully_connected import fc_model
from ops.test_hard_swish import hard_swish_model
from ops.test_logistic import logistic_model
from ops.test_mean import mean_model
from ops.test_pad import pad_model
from ops.test_pooling import pool_model
from ops.test_quantize import dequantize_model, quantize_model
from ops.test_softmax import softmax_model
from test_guards import DIGITS, GUARD, corrupted, one_more, run_on_host

from tinygen.errors import BuildError
from tinygen.kernels.call import KernelArg
from tinygen.kernels.cvalues import ConstArray
from tinygen.passes.choose_kernels import KernelSet
from tinygen.compiler import compile_file
from tinygen.testing.compare import compare_on_host

# One model per operator family, on the edges where an index goes wrong: strides that do not divide
# the image, SAME padding clipped on every side, windows larger than the image, broadcasting up to
# rank 6, odd sizes that leave a buffer's end unaligned.
OP_MODELS = {
    "conv-stride2-same-odd": lambda: conv_model(1, in_hw=(7, 8), stride=(2, 2), padding="SAME"),
    "conv-dilated-valid": lambda: conv_model(2, in_hw=(12, 13), dilation=(2, 3), padding="VALID"),
    "conv-filter-larger-than-image": lambda: conv_model(3, kernel=(5, 5), in_hw=(4, 4), padding="SAME"),
    "depthwise-multiplier-stride": lambda: dw_model(4, in_hw=(7, 7), in_c=2, multiplier=3, stride=(2, 2)),
    "depthwise-filter-larger-than-image": lambda: dw_model(5, kernel=(5, 5), in_hw=(4, 4)),
    "fully-connected-batches": lambda: fc_model(6, batches=3, depth=33, units=7, per_channel=True),
    "avg-pool-same-clipped": lambda: pool_model("AVERAGE_POOL_2D", 7, in_hw=(7, 7), filter_hw=(3, 3), stride=(2, 2),
                                                padding="SAME"),
    "max-pool-window-larger": lambda: pool_model("MAX_POOL_2D", 8, in_hw=(4, 4), filter_hw=(5, 5), stride=(1, 1),
                                                 padding="SAME"),
    "add-broadcast-rank6": lambda: binary_model("ADD", 9, shape1=(2, 1, 3, 1, 4, 2), shape2=(1, 3, 3, 2, 1, 1)),
    "mul-broadcast-rank5": lambda: binary_model("MUL", 10, shape1=(3, 1, 2, 1, 4), shape2=(1, 5, 1, 3, 1)),
    "concatenation-axis1": lambda: concat_model(11, shape=(1, 3, 5, 3), axis=1, sizes=(3, 1, 2)),
    "pad-asymmetric": lambda: pad_model(12, shape=(1, 3, 5, 3), paddings=((0, 0), (2, 0), (1, 3), (0, 1))),
    "mean-hw": lambda: mean_model(13, shape=(1, 5, 7, 3)),
    "softmax-rows": lambda: softmax_model(shape=(3, 17)),
    "softmax-int16": lambda: softmax_model(shape=(2, 9), out_dtype=np.int16),
    "logistic": lambda: logistic_model(shape=(1, 77)),
    "hard-swish": lambda: hard_swish_model(shape=(1, 3, 5, 7)),
    "relu6": lambda: activation_model("RELU6", shape=(1, 33)),
    "quantize": lambda: quantize_model(shape=(1, 63)),
    "dequantize": lambda: dequantize_model(shape=(1, 65)),
    # the wide variants: channels not a multiple of 4 (a partial row block, a 4-byte load's last group)
    "conv-wide-pointwise-odd": lambda: conv_model(14, in_hw=(5, 6), in_c=7, out_c=6, kernel=(1, 1)),
    "depthwise-wide-3x3-odd": lambda: dw_model(15, in_hw=(6, 5), in_c=10, kernel=(3, 3)),
}


def check_sanitized(model_bytes: bytes, work, guard_bytes: int, count: int = 2,
                    kernel_set: KernelSet = KernelSet.OPTIMISED) -> None:
    result = compare_on_host(model_bytes, work, count=count, sanitize=True, guard_bytes=guard_bytes,
                             kernel_set=kernel_set)
    assert result.tensors_compared > 0
    assert not result.mismatches, "\n".join(result.mismatches[:5])


@pytest.mark.parametrize("key", sorted(MLPERF_MODELS))
@pytest.mark.parametrize("guard_bytes", [0, GUARD], ids=["shipped-layout", "poisoned-arena"])
def test_mlperf_models_are_clean_under_sanitizers(tmp_path, key, guard_bytes):
    check_sanitized(mlperf_model(key).read_bytes(), tmp_path, guard_bytes)


def test_digits_example_is_clean_under_sanitizers(tmp_path):
    check_sanitized(DIGITS.read_bytes(), tmp_path / "shipped", 0, count=3)
    check_sanitized(DIGITS.read_bytes(), tmp_path / "poisoned", GUARD, count=3)


@pytest.mark.parametrize("kernel_set", list(KernelSet))
@pytest.mark.parametrize("name", sorted(OP_MODELS))
def test_op_models_are_clean_under_sanitizers(tmp_path, name, kernel_set):
    check_sanitized(OP_MODELS[name](), tmp_path, GUARD, kernel_set=kernel_set)


# ---- the sanitizers are really there: each bug below is caught, with what and where -------------

# Each kernel set's FULLY_CONNECTED, where ASan's summary finds it (the variant's loads are inlined),
# and how many output units too many take it past its weights (the packed variant's weights are
# padded to a block of 4 rows).
FC_KERNELS = {
    KernelSet.REFERENCE: ("tg_fully_connected_s8", "tg_fully_connected_s8", 1),
    KernelSet.OPTIMISED: ("tg_fully_connected_s8_dsp_packed",
                          "tg_read_s8x4|tail_word|packed_start|block4_packed|dot_packed|tg_wide_outputs|tg_fully_connected_s8_dsp_packed", 4),
}


@pytest.mark.parametrize("kernel_set", list(FC_KERNELS))
def test_asan_sees_a_kernel_stray_into_the_next_tensor_only_in_the_poisoned_arena(tmp_path, kernel_set):
    # One batch too many: the kernel reads past its input and writes past its output, inside the arena.
    function, frame, _ = FC_KERNELS[kernel_set]
    plain = compile_file(DIGITS, kernel_set=kernel_set)
    run_on_host(corrupted(plain, function, one_more("batches")), plain, tmp_path / "a", sanitize=True)
    guarded = compile_file(DIGITS, guard_bytes=GUARD, kernel_set=kernel_set)
    with pytest.raises(BuildError, match=rf"AddressSanitizer: use-after-poison .*({frame})"):
        run_on_host(corrupted(guarded, function, one_more("batches")), guarded, tmp_path / "b", sanitize=True)


@pytest.mark.parametrize("kernel_set", list(FC_KERNELS))
def test_asan_sees_a_read_past_the_weights(tmp_path, kernel_set):
    function, frame, too_many = FC_KERNELS[kernel_set]
    plain = compile_file(DIGITS, kernel_set=kernel_set)

    def more_units(arg: KernelArg) -> KernelArg:
        return KernelArg(arg.name, arg.value + too_many) if arg.name == "output_depth" else arg

    with pytest.raises(BuildError, match=rf"AddressSanitizer: global-buffer-overflow .*({frame})"):
        run_on_host(corrupted(plain, function, more_units), plain, tmp_path, sanitize=True)


def test_ubsan_sees_an_out_of_range_shift(tmp_path):
    def shift_by_40(arg: KernelArg) -> KernelArg:  # the wide variant's per-channel words: right shift 40
        if arg.name != "channels":
            return arg
        words = arg.value.values.copy()
        words[:, 2] = 40
        return KernelArg(arg.name, ConstArray("int32_t", words))

    plain = compile_file(DIGITS)
    with pytest.raises(BuildError, match=r"runtime error: shift exponent 40 is too large"):
        run_on_host(corrupted(plain, "tg_fully_connected_s8_dsp_packed", shift_by_40), plain, tmp_path, sanitize=True)
