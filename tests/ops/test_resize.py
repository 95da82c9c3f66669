"""RESIZE_NEAREST_NEIGHBOR and RESIZE_BILINEAR against TFLite Micro: up- and down-sampling, integer
ratios, align_corners and half_pixel_centers in all four combinations, batches, extreme values."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.errors import InvalidModelError, UnsupportedModelError
from tinygen.kernels.resize import nearest_sources
from tinygen.compiler import compile_bytes
from tinygen.testing.model_builder import ModelBuilder


def resize_model(shape=(1, 4, 5, 3), size=(8, 10), align_corners=False, half_pixel_centers=False,
                 in_quant=(0.05, -7), out_quant=None, out_shape=None, size_dtype=np.int32) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=in_quant[0], zero_point=in_quant[1])
    s = b.tensor([2], dtype=size_dtype, data=np.array(size, dtype=size_dtype))
    out_quant = out_quant or in_quant
    n, _, _, c = shape if len(shape) == 4 else (1, 0, 0, shape[-1])
    y = b.tensor(list(out_shape or (n, size[0], size[1], c)), scale=out_quant[0], zero_point=out_quant[1])
    b.op("RESIZE_NEAREST_NEIGHBOR", [x, s], [y], alignCorners=align_corners, halfPixelCenters=half_pixel_centers)
    return b.build([x], [y])


MODES = [(False, False), (True, False), (False, True), (True, True)]
SIZES = [
    ((1, 4, 5, 3), (8, 10)),    # x2 up-sampling (U-Net, detection heads)
    ((1, 3, 3, 2), (7, 5)),     # fractional ratios
    ((2, 6, 7, 1), (3, 2)),     # down-sampling, two batches
    ((1, 5, 4, 4), (5, 4)),     # same size
    ((1, 1, 1, 3), (4, 3)),     # from a single pixel
    ((1, 4, 3, 2), (1, 1)),     # to a single pixel (align_corners' output_size 1 case)
    ((1, 7, 9, 2), (16, 13)),
]


@pytest.mark.parametrize("align_corners, half_pixel_centers", MODES, ids=[f"ac{a:d}-hp{h:d}" for a, h in MODES])
@pytest.mark.parametrize("shape, size", SIZES, ids=[f"{s[1]}x{s[2]}->{z[0]}x{z[1]}" for s, z in SIZES])
def test_resize_nearest_grid(assert_bit_exact, shape, size, align_corners, half_pixel_centers):
    assert_bit_exact(resize_model(shape, size, align_corners, half_pixel_centers), count=1)


def test_resize_nearest_copies_extremes_across_quantizations(assert_bit_exact):
    model = resize_model((1, 3, 2, 2), (6, 4), in_quant=(0.02, -128), out_quant=(0.9, 127))
    extremes = np.resize(np.array([-128, 127, 0, -1], np.int8), (1, 3, 2, 2))
    assert_bit_exact(model, records=[[extremes]])


@pytest.mark.parametrize("in_size, out_size", [(3, 7), (7, 3), (5, 5), (1, 4), (4, 1), (13, 40), (40, 13), (100, 3)])
def test_sources_stay_in_bounds(in_size, out_size):
    for align_corners, half_pixel_centers in MODES:
        sources = nearest_sources(in_size, out_size, align_corners, half_pixel_centers)
        assert len(sources) == out_size and sources.min() >= 0 and sources.max() < in_size


def test_resize_nearest_refusals():
    with pytest.raises(UnsupportedModelError, match=r"RESIZE_NEAREST_NEIGHBOR: input .* rank 3; TFLite Micro needs 4"):
        compile_bytes(resize_model(shape=(4, 5, 3), out_shape=(8, 10, 3)))
    with pytest.raises(UnsupportedModelError, match=r"#0 RESIZE_NEAREST_NEIGHBOR \(size tensor is int64; TFLite Micro reads it as int32\)"):
        compile_bytes(resize_model(size_dtype=np.int64))
    with pytest.raises(InvalidModelError, match=r"RESIZE_NEAREST_NEIGHBOR: tensor 't2' has shape \[1, 8, 9, 3\], but its inputs give \[1, 8, 10, 3\]"):
        compile_bytes(resize_model(out_shape=(1, 8, 9, 3)))


def test_source_tables_match_tflm_on_many_ratios():
    """The float32 rounding of every ratio up to 1:40 and 40:1, all modes, read back from TFLM
    itself (a row of values 0..w-1 resized shows which column each output pixel took)."""
    from tinygen.reference.tflm import TflmReference

    for in_w in (1, 2, 3, 5, 7, 10, 17, 40):
        row = np.arange(in_w, dtype=np.int8).reshape(1, 1, in_w, 1)
        for out_w in (1, 2, 3, 4, 6, 9, 11, 20, 33, 40):
            for align_corners, half_pixel_centers in MODES:
                model = resize_model((1, 1, in_w, 1), (1, out_w), align_corners, half_pixel_centers)
                tflm = np.asarray(TflmReference(model, preserve_all=False).run([row]).outputs[0]).reshape(-1)
                ours = nearest_sources(in_w, out_w, align_corners, half_pixel_centers)
                assert tflm.tolist() == ours.tolist(), (in_w, out_w, align_corners, half_pixel_centers)


def bilinear_model(shape, size, align_corners=False, half_pixel_centers=False) -> bytes:
    b = ModelBuilder()
    x = b.tensor(list(shape), scale=0.05, zero_point=-7)
    s = b.tensor([2], dtype=np.int32, data=np.array(size, np.int32))
    y = b.tensor([shape[0], size[0], size[1], shape[3]], scale=0.05, zero_point=-7)
    b.op("RESIZE_BILINEAR", [x, s], [y], alignCorners=align_corners, halfPixelCenters=half_pixel_centers)
    return b.build([x], [y])


BILINEAR_MODES = [(False, False), (True, False), (False, True)]


@pytest.mark.parametrize("align_corners, half_pixel_centers", BILINEAR_MODES, ids=[f"ac{a:d}-hp{h:d}" for a, h in BILINEAR_MODES])
@pytest.mark.parametrize("shape, size", SIZES, ids=[f"{s[1]}x{s[2]}->{z[0]}x{z[1]}" for s, z in SIZES])
def test_resize_bilinear_grid(assert_bit_exact, shape, size, align_corners, half_pixel_centers):
    assert_bit_exact(bilinear_model(shape, size, align_corners, half_pixel_centers), count=1)


def test_resize_bilinear_extremes(assert_bit_exact):
    """Alternating -128/127 pixels: the largest sums, rounding away from zero on both signs, and the
    half-pixel border weights outside [0, 1024]."""
    model = bilinear_model((1, 3, 3, 2), (8, 7), half_pixel_centers=True)
    x = np.resize(np.array([-128, 127, 127, -128, 0, -1], np.int8), (1, 3, 3, 2))
    assert_bit_exact(model, records=[[x], [np.full((1, 3, 3, 2), -128, np.int8)]])


def test_resize_bilinear_refuses_both_modes_like_tflm():
    with pytest.raises(UnsupportedModelError, match=r"RESIZE_BILINEAR \(half_pixel_centers with align_corners; TFLite Micro"):
        compile_bytes(bilinear_model((1, 3, 3, 2), (6, 6), True, True))
