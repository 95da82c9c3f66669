"""Bad input: one clear line on stderr, exit code 2, no traceback, nothing half-written."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tinygen.testing.model_builder import ModelBuilder

from conftest import DIGITS_MODEL, mlperf_model


def tinygen(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygen.cli", *args], capture_output=True, text=True, timeout=300)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def float_conv_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 4, 4, 1], dtype=np.float32)
    w = b.tensor([2, 3, 3, 1], dtype=np.float32, data=np.ones((2, 3, 3, 1), np.float32))
    y = b.tensor([1, 4, 4, 2], dtype=np.float32)
    b.op("CONV_2D", [x, w], [y], padding="SAME", strideH=1, strideW=1, dilationHFactor=1, dilationWFactor=1)
    return b.build([x], [y])


def dynamic_shape_model() -> bytes:
    b = ModelBuilder()
    x = b.tensor([1, 8, 4], scale=0.1, shape_signature=[1, -1, 4])
    y = b.tensor([1, 8, 4], scale=0.1)
    b.op("RELU", [x], [y])
    return b.build([x], [y])


def unsupported_ops_model() -> bytes:
    """Four unsupported operators: EXP, LOG (int8: TFLM computes both in float32 only), a QUANTIZE to int32 (int8 <-> int16 ones are supported since ops-c) and an int32 RELU."""
    b = ModelBuilder()
    x = b.tensor([1, 1, 8], scale=0.05)
    a = b.tensor([1, 1, 8], scale=1 / 128)
    c = b.tensor([8], scale=1 / 128)
    d = b.tensor([8], dtype=np.int32, scale=1 / 128)
    e = b.tensor([8], dtype=np.int32, scale=1 / 128)
    b.op("EXP", [x], [a])
    b.op("LOG", [a], [c])
    b.op("QUANTIZE", [c], [d])
    b.op("RELU", [d], [e])
    return b.build([x], [e])


@pytest.mark.parametrize("command", ["inspect", "build"])
def test_not_a_tflite_file(tmp_path, command):
    bad = tmp_path / "notes.tflite"
    bad.write_text("this is not a model\n")
    assert_one_line_error(tinygen(command, str(bad)), "not a TFLite model")


def test_missing_file(tmp_path):
    assert_one_line_error(tinygen("inspect", str(tmp_path / "nope.tflite")), "cannot read")


@pytest.mark.parametrize("fraction", [0.01, 0.2, 0.5, 0.9, 0.999])
def test_truncated_model(tmp_path, fraction):
    data = mlperf_model("kws").read_bytes()
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(data[: int(len(data) * fraction)])
    line = assert_one_line_error(tinygen("inspect", str(cut)))
    assert "truncated" in line or "not a TFLite model" in line or "invalid" in line, line


def test_float_model(tmp_path):
    path = tmp_path / "float.tflite"
    path.write_bytes(float_conv_model())
    assert_one_line_error(tinygen("inspect", str(path)), "float32", "int8")


def test_dynamic_shapes(tmp_path):
    path = tmp_path / "dynamic.tflite"
    path.write_bytes(dynamic_shape_model())
    assert_one_line_error(tinygen("inspect", str(path)), "dynamic shape")


def test_every_unsupported_op_is_named_at_once(tmp_path):
    path = tmp_path / "unsupported.tflite"
    path.write_bytes(unsupported_ops_model())
    line = assert_one_line_error(tinygen("inspect", str(path)), "4 unsupported operator(s)")
    for part in ("#0 EXP", "#1 LOG", "#2 QUANTIZE (int8 to int32)", "#3 RELU (int32"):
        assert part in line, line


@pytest.mark.parametrize("content, fragment", [
    (b"root:x:0:0:root:/root:/bin/bash\n", "is not a .npy or .npz file of arrays"),
    (b"\x93NUMPY\x01\x00", "is not a readable .npy/.npz file"),  # a header cut short
])
def test_bad_inputs_file_is_refused_before_building(tmp_path, content, fragment):
    inputs = tmp_path / "inputs.npy"
    inputs.write_bytes(content)
    out = tmp_path / "out"
    assert_one_line_error(tinygen("run", str(DIGITS_MODEL), "--inputs", str(inputs), "-o", str(out)), fragment)
    assert not out.exists()


def test_inputs_of_the_wrong_type_are_refused_before_building(tmp_path):
    inputs = tmp_path / "inputs.npy"
    np.save(inputs, np.zeros((1, 8, 8, 1), np.float32))
    out = tmp_path / "out"
    assert_one_line_error(tinygen("run", str(DIGITS_MODEL), "--inputs", str(inputs), "-o", str(out)), "must be int8")
    assert not out.exists()


def test_bench_report_path_is_checked_before_benchmarking(tmp_path):
    """Not after the minutes the four models take: the report's folder must be writable up front."""
    assert_one_line_error(tinygen("bench", "--write", str(tmp_path / "missing" / "BENCH.md")), "cannot write")
    assert_one_line_error(tinygen("bench", "--write", str(tmp_path)), "is a directory")


@pytest.mark.parametrize("timeout", ["0", "-5"])
def test_run_timeout_must_be_positive(timeout):
    assert_one_line_error(tinygen("run", str(DIGITS_MODEL), "--timeout", timeout), "--timeout")
