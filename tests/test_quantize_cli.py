"""`tinygen quantize`: a float Keras model or SavedModel to a full-integer .tflite that TFLite Micro runs
and tinygen computes bit-exact; bad input gets one line, exit 2, and nothing (half-)written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygen.errors import InputError, UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.quantize import QuantizeError, quantize_file, tflm_refusal
from tinygen.reference.tflm import TflmReference

INPUT_SHAPE = (8, 8, 2)


def tinygen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygen.cli", *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def float_model(tmp_path_factory) -> dict[str, Path]:
    """A small float CNN (conv, depthwise, residual add, pooling, dense) saved as .keras and as a
    SavedModel, with calibration samples and a float .tflite of it."""
    import keras
    import tensorflow as tf
    from keras import layers

    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("quantize")
    x_in = keras.Input(INPUT_SHAPE, name="image")
    x = layers.Conv2D(8, 3, padding="same", activation="relu")(x_in)
    y = layers.DepthwiseConv2D(3, padding="same", activation="relu6")(x)
    x = layers.Add()([x, layers.Conv2D(8, 1)(y)])
    x = layers.AveragePooling2D(2)(x)
    x = layers.Flatten()(x)
    out = layers.Dense(5, activation="softmax")(x)
    model = keras.Model(x_in, out)
    paths = {"keras": root / "cnn.keras", "saved_model": root / "cnn_saved_model", "calib": root / "calib.npy",
             "float_tflite": root / "cnn_float.tflite"}
    model.save(paths["keras"])
    model.export(str(paths["saved_model"]), verbose=False)
    rng = np.random.default_rng(0)
    np.save(paths["calib"], rng.uniform(-1, 1, size=(12, *INPUT_SHAPE)).astype(np.float32))
    paths["float_tflite"].write_bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())
    return paths


def test_quantize_cli_writes_a_model_tflm_runs_and_tinygen_computes_bit_exact(float_model, tmp_path,
                                                                               assert_bit_exact):
    out = tmp_path / "cnn_int8.tflite"
    proc = tinygen("quantize", str(float_model["keras"]), "--calib", str(float_model["calib"]), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "int8 activations" in proc.stdout and "TFLite Micro runs it" in proc.stdout
    assert "tinygen compiles it" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn_int8.tflite"]  # no temporary file left
    data = out.read_bytes()
    details = TflmReference(data).input_details(0)
    assert np.dtype(details["dtype"]) == np.int8 and list(details["shape"]) == [1, *INPUT_SHAPE]
    assert_bit_exact(data, count=3)


def test_quantize_saved_model_int16_activations(float_model, tmp_path):
    """16x8: int16 input, output and activations; TFLM runs it; tinygen compiles it or names, in one
    line, what it does not support yet."""
    out = tmp_path / "cnn_16x8.tflite"
    seen: list[tuple[int, int]] = []
    result = quantize_file(float_model["saved_model"], float_model["calib"], out, int16_activations=True,
                           progress=lambda done, total: seen.append((done, total)))
    assert result.activations == "int16" and result.samples == 12
    assert seen and seen[-1] == (12, 12)
    data = out.read_bytes()
    assert tflm_refusal(data) is None
    reference = TflmReference(data)
    assert np.dtype(reference.input_details(0)["dtype"]) == np.int16
    assert "CONV_2D" in result.operators and "FULLY_CONNECTED" in result.operators
    if result.tinygen_problem is not None:
        assert "\n" not in result.tinygen_problem and "unsupported operator" in result.tinygen_problem


def test_float_tflite_given_to_build_points_to_quantize(float_model, tmp_path):
    line = one_line_error(tinygen("build", str(float_model["float_tflite"]), "-o", str(tmp_path / "out")),
                          "float32 model", "tinygen quantize")
    assert "cnn_float.tflite" in line
    with pytest.raises(UnsupportedModelError, match="tinygen quantize"):
        compile_bytes(float_model["float_tflite"].read_bytes())


def test_bad_input_before_tensorflow_is_one_line(float_model, tmp_path):
    """Errors found before TensorFlow is imported: quick, one line each, nothing written."""
    calib, keras_file = str(float_model["calib"]), str(float_model["keras"])
    out = tmp_path / "out.tflite"
    one_line_error(tinygen("quantize", str(tmp_path / "missing.keras"), "--calib", calib, "-o", str(out)),
                   "missing.keras: no such file")
    one_line_error(tinygen("quantize", keras_file, "--calib", str(tmp_path / "none.npy"), "-o", str(out)),
                   "none.npy: no such file")
    one_line_error(tinygen("quantize", str(float_model["float_tflite"]), "--calib", calib, "-o", str(out)),
                   "already a .tflite")
    one_line_error(tinygen("quantize", str(tmp_path), "--calib", calib, "-o", str(out)), "not a SavedModel")
    junk = tmp_path / "junk.keras"
    junk.write_text("not a zip")
    one_line_error(tinygen("quantize", str(junk), "--calib", calib, "-o", str(out)), "not a Keras model")
    one_line_error(tinygen("quantize", keras_file, "--calib", calib, "-o", str(tmp_path / "no" / "x.tflite")),
                   "no directory")
    one_line_error(tinygen("quantize", keras_file, "-o", str(out)), "--calib")
    assert not out.exists()


@pytest.mark.parametrize("calib, message", [
    (np.zeros((4, 8, 8, 3), np.float32), r"has shape \[4, 8, 8, 3\]; the model takes \[N, 8, 8, 2\]"),
    (np.zeros((8, 8), np.float32), r"has shape \[8, 8\]"),
    (np.zeros((0, *INPUT_SHAPE), np.float32), "holds no samples"),
    (np.full((2, *INPUT_SHAPE), np.nan, np.float32), "NaN or infinity"),
    (np.array(["a", "b"]), "not numbers"),
])
def test_bad_calibration_is_refused_and_the_old_output_kept(float_model, tmp_path, calib, message):
    path = tmp_path / "calib.npy"
    np.save(path, calib)
    out = tmp_path / "model.tflite"
    out.write_bytes(b"an earlier good model")
    with pytest.raises(InputError, match=message):
        quantize_file(float_model["keras"], path, out)
    assert out.read_bytes() == b"an earlier good model"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["calib.npy", "model.tflite"]


def test_bad_calibration_through_the_cli_is_one_line(float_model, tmp_path, monkeypatch, capfd):
    """In this process (TensorFlow already imported): the CLI's own error path, one line, exit 2."""
    from tinygen.cli import main

    path = tmp_path / "calib.npz"
    np.savez(path, other=np.zeros((2, *INPUT_SHAPE), np.float32), more=np.zeros((2, 3), np.float32))
    monkeypatch.setattr(sys, "argv", ["tinygen", "quantize", str(float_model["keras"]), "--calib", str(path),
                                      "-o", str(tmp_path / "m.tflite")])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    lines = capfd.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "has no array for input 0 'image'" in lines[0], lines
    assert not (tmp_path / "m.tflite").exists()


def test_calibration_npz_keyed_by_input_name(float_model, tmp_path):
    path = tmp_path / "calib.npz"
    np.savez(path, image=np.load(float_model["calib"])[:3, np.newaxis])  # [N, 1, *shape] is taken too
    result = quantize_file(float_model["keras"], path, tmp_path / "m.tflite")
    assert result.samples == 3 and result.tinygen_problem is None


def test_a_model_that_is_not_keras_is_one_line(tmp_path):
    path = tmp_path / "weights.h5"
    path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(64))
    calib = tmp_path / "c.npy"
    np.save(calib, np.zeros((1, 4), np.float32))
    with pytest.raises(QuantizeError, match="not a Keras model tinygen can load"):
        quantize_file(path, calib, tmp_path / "m.tflite")
