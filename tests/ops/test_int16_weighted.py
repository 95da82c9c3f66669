"""16x8 FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D (int16 activations, int8 weights) bit-exact with TFLite Micro:
int64 biases (the converter's) and int32 ones (TFLM then accumulates in int32, with the other
rounding), per-tensor and per-channel weights, fused activations, inputs at both ends of int16."""

from __future__ import annotations

import numpy as np
import pytest

from tinygen.testing.model_builder import ModelBuilder, random_int8, random_scale


def _out_scale(rng, in_scale: float, w_scale: float, depth: int) -> float:
    """Random int16 inputs and int8 weights: accumulator std ~ sqrt(depth) * 18900 * 73."""
    sigma = np.sqrt(depth) * 18900.0 * 73.0 * in_scale * w_scale
    return float(np.float32(6.0 * sigma / 65536.0 * rng.uniform(0.5, 2.0)))


def _bias(b: ModelBuilder, rng, units: int, in_scale: float, w_scales, bias_type):
    scale = np.float32(in_scale) * np.atleast_1d(np.asarray(w_scales, dtype=np.float32))
    magnitude = 2**40 if bias_type == np.int64 else 2**24
    data = rng.integers(-magnitude, magnitude, size=units).astype(bias_type)
    return b.tensor([units], dtype=bias_type, scale=scale, data=data)


def fc16_model(seed: int, batches=1, depth=24, units=8, activation="NONE", per_channel=False,
               bias_type=np.int64, zero_points=(0, 0)) -> bytes:
    rng = np.random.default_rng(seed)
    in_scale = random_scale(rng, 1e-4, 1e-3)
    w_scales = [random_scale(rng, 0.002, 0.02) for _ in range(units)] if per_channel else random_scale(rng, 0.002, 0.02)
    b = ModelBuilder()
    x = b.tensor([batches, depth], dtype=np.int16, scale=in_scale, zero_point=zero_points[0])
    w = b.tensor([units, depth], scale=w_scales, data=random_int8(rng, (units, depth), -128, 127))
    inputs = [x, w] + ([_bias(b, rng, units, in_scale, w_scales, bias_type)] if bias_type else [])
    y = b.tensor([batches, units], dtype=np.int16,
                 scale=_out_scale(rng, in_scale, float(np.max(w_scales)), depth), zero_point=zero_points[1])
    b.op("FULLY_CONNECTED", inputs, [y], fusedActivationFunction=activation)
    return b.build([x], [y])


def conv16_model(seed: int, shape=(1, 7, 6, 3), out_c=4, kernel=(3, 3), stride=1, padding="SAME", dilation=1,
                 activation="NONE", bias_type=np.int64) -> bytes:
    rng = np.random.default_rng(seed)
    n, h, w, c = shape
    in_scale = random_scale(rng, 1e-4, 1e-3)
    w_scales = [random_scale(rng, 0.002, 0.02) for _ in range(out_c)]
    b = ModelBuilder()
    x = b.tensor(list(shape), dtype=np.int16, scale=in_scale)
    f = b.tensor([out_c, *kernel, c], scale=w_scales, data=random_int8(rng, (out_c, *kernel, c), -128, 127))
    inputs = [x, f] + ([_bias(b, rng, out_c, in_scale, w_scales, bias_type)] if bias_type else [])
    eff = [(k - 1) * dilation + 1 for k in kernel]
    out_h, out_w = ((h + stride - 1) // stride, (w + stride - 1) // stride) if padding == "SAME" else \
        ((h - eff[0]) // stride + 1, (w - eff[1]) // stride + 1)
    y = b.tensor([n, out_h, out_w, out_c], dtype=np.int16,
                 scale=_out_scale(rng, in_scale, max(w_scales), kernel[0] * kernel[1] * c))
    b.op("CONV_2D", inputs, [y], padding=padding, strideH=stride, strideW=stride, dilationHFactor=dilation,
         dilationWFactor=dilation, fusedActivationFunction=activation)
    return b.build([x], [y])


def dw16_model(seed: int, shape=(1, 7, 6, 3), multiplier=2, kernel=(3, 3), stride=1, padding="SAME",
               activation="NONE", bias=True) -> bytes:
    rng = np.random.default_rng(seed)
    n, h, w, c = shape
    out_c = c * multiplier
    in_scale = random_scale(rng, 1e-4, 1e-3)
    w_scales = [random_scale(rng, 0.002, 0.02) for _ in range(out_c)]
    b = ModelBuilder()
    x = b.tensor(list(shape), dtype=np.int16, scale=in_scale)
    f = b.tensor([1, *kernel, out_c], scale=w_scales, quant_axis=3,
                 data=random_int8(rng, (1, *kernel, out_c), -128, 127))
    inputs = [x, f] + ([_bias(b, rng, out_c, in_scale, w_scales, np.int64)] if bias else [])
    out_h, out_w = ((h + stride - 1) // stride, (w + stride - 1) // stride) if padding == "SAME" else \
        ((h - kernel[0]) // stride + 1, (w - kernel[1]) // stride + 1)
    y = b.tensor([n, out_h, out_w, out_c], dtype=np.int16,
                 scale=_out_scale(rng, in_scale, max(w_scales), kernel[0] * kernel[1]))
    b.op("DEPTHWISE_CONV_2D", inputs, [y], padding=padding, strideH=stride, strideW=stride, depthMultiplier=multiplier,
         fusedActivationFunction=activation)
    return b.build([x], [y])


def extreme_records(shape, count: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    records = [[rng.integers(-32768, 32767, size=shape, endpoint=True).astype(np.int16)] for _ in range(count)]
    records.append([np.full(shape, -32768, np.int16)])
    records.append([np.full(shape, 32767, np.int16)])
    return records


FC_GRID = [
    dict(),
    dict(per_channel=True, batches=2),
    dict(bias_type=np.int32, activation="RELU"),
    dict(bias_type=None, depth=5, units=3),
    dict(zero_points=(5, -7), activation="RELU6"),
]


@pytest.mark.parametrize("case", FC_GRID, ids=lambda c: "-".join(f"{k}={getattr(v, '__name__', v)}" for k, v in c.items()) or "default")
def test_fully_connected_16x8(assert_bit_exact, case):
    model = fc16_model(seed=len(str(case)), **case)
    shape = (case.get("batches", 1), case.get("depth", 24))
    assert_bit_exact(model, records=extreme_records(shape))


CONV_GRID = [
    dict(),
    dict(stride=2, padding="VALID", activation="RELU"),
    dict(kernel=(1, 1), out_c=5, bias_type=np.int32),
    dict(dilation=2, bias_type=None),
]


@pytest.mark.parametrize("case", CONV_GRID, ids=lambda c: "-".join(f"{k}={getattr(v, '__name__', v)}" for k, v in c.items()) or "default")
def test_conv_16x8(assert_bit_exact, case):
    assert_bit_exact(conv16_model(seed=len(str(case)), **case), records=extreme_records((1, 7, 6, 3)))


DW_GRID = [
    dict(),
    dict(multiplier=1, stride=2, padding="VALID", activation="RELU6", bias=False),
]


@pytest.mark.parametrize("case", DW_GRID, ids=lambda c: "-".join(f"{k}={v}" for k, v in c.items()) or "default")
def test_depthwise_conv_16x8(assert_bit_exact, case):
    assert_bit_exact(dw16_model(seed=len(str(case)), **case), records=extreme_records((1, 7, 6, 3)))


@pytest.mark.long
def test_16x8_long_grid(assert_bit_exact):
    rng = np.random.default_rng(4)
    for k in range(12):
        case = dict(batches=int(rng.integers(1, 4)), depth=int(rng.integers(1, 64)), units=int(rng.integers(1, 20)),
                    per_channel=bool(k % 2), bias_type=[np.int64, np.int32, None][k % 3],
                    activation=["NONE", "RELU", "RELU6"][k % 3])
        assert_bit_exact(fc16_model(seed=100 + k, **case), records=extreme_records((case["batches"], case["depth"]), seed=k))
        conv = dict(stride=int(rng.integers(1, 3)), padding=["SAME", "VALID"][k % 2], out_c=int(rng.integers(1, 6)),
                    kernel=(int(rng.integers(1, 4)), int(rng.integers(1, 4))), bias_type=[np.int64, np.int32, None][k % 3])
        assert_bit_exact(conv16_model(seed=200 + k, **conv), records=extreme_records((1, 7, 6, 3), seed=k))
