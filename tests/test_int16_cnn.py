"""A 16x8 CNN made by TensorFlow's converter (scripts/make_cnn_16x8.py: int16 activations, int8
weights, int64 biases; CONV_2D, MAX_POOL_2D, DEPTHWISE_CONV_2D, ADD, AVERAGE_POOL_2D, RESHAPE,
FULLY_CONNECTED, SOFTMAX) bit-exact with TFLite Micro on every tensor on the host, and in QEMU."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygen.jobs import run_on_board
from tinygen.frontend.tflite_reader import read_tflite

CNN_16X8 = Path(__file__).resolve().parent / "fixtures" / "int16" / "cnn_16x8.tflite"


def _records(count: int):
    rng = np.random.default_rng(0)
    records = [[rng.integers(-32768, 32767, size=(1, 12, 12, 2), endpoint=True).astype(np.int16)] for _ in range(count)]
    records.append([np.full((1, 12, 12, 2), 32767, np.int16)])
    return records


def test_cnn_16x8_every_tensor_on_the_host(assert_bit_exact):
    graph = read_tflite(CNN_16X8)
    assert {t.dtype.value for t in graph.tensors if not t.is_constant} == {"int16"}
    assert any(t.dtype.value == "int64" for t in graph.tensors if t.is_constant)  # the converter's biases
    assert [op.kind for op in graph.operators] == [
        "CONV_2D", "MAX_POOL_2D", "DEPTHWISE_CONV_2D", "ADD", "CONV_2D", "AVERAGE_POOL_2D", "RESHAPE",
        "FULLY_CONNECTED", "SOFTMAX"]
    result = assert_bit_exact(CNN_16X8.read_bytes(), records=_records(3))
    assert result.tensors_compared >= 4 * 9


def test_cnn_16x8_in_qemu(tmp_path):
    np.save(tmp_path / "inputs.npy", np.stack([r[0] for r in _records(2)]))
    report = run_on_board(CNN_16X8, "mps2-an386", tmp_path / "fw", inputs_file=tmp_path / "inputs.npy", timeout_s=120)
    assert len(report.results) == 3 and all(r.bit_exact for r in report.results)
