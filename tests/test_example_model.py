"""The shipped example model (examples/digits) and the script that makes it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits"
MODEL = DIGITS / "digits_cnn_int8.tflite"

# What the committed model was measured at (see examples/digits/README.md).
EXPECTED_OPS = [
    "CONV_2D", "DEPTHWISE_CONV_2D", "CONV_2D", "ADD", "CONV_2D",
    "MAX_POOL_2D", "RESHAPE", "FULLY_CONNECTED", "SOFTMAX",
]
MIN_SAMPLES_RIGHT = 8  # all 8 committed samples were classified correctly
MIN_INT8_ACCURACY = 0.95  # measured 0.9867 on the 450-image test split


def _load_make_model() -> ModuleType:
    # examples/ is not a package; load the script as a module to reuse its helpers.
    spec = importlib.util.spec_from_file_location("digits_make_model", DIGITS / "make_model.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def make_model() -> ModuleType:
    return _load_make_model()


def test_committed_model_is_small_int8_with_expected_ops(make_model: ModuleType) -> None:
    model_bytes = MODEL.read_bytes()
    assert len(model_bytes) < 30 * 1024
    assert make_model.op_list(model_bytes) == EXPECTED_OPS

    interp = make_model.tflm_interpreter(model_bytes)
    inp, out = interp.get_input_details(0), interp.get_output_details(0)
    assert inp["dtype"] == np.int8 and list(inp["shape"]) == [1, 8, 8, 1]
    assert out["dtype"] == np.int8 and list(out["shape"]) == [1, 10]


def test_committed_model_classifies_committed_samples(make_model: ModuleType) -> None:
    inputs = np.load(DIGITS / "sample_inputs.npy")
    labels = np.load(DIGITS / "sample_labels.npy")
    assert inputs.dtype == np.int8 and inputs.shape[1:] == (1, 8, 8, 1)
    assert labels.shape == (inputs.shape[0],)

    interp = make_model.tflm_interpreter(MODEL.read_bytes())
    preds = make_model.tflm_predict(interp, inputs)
    assert int(np.sum(preds == labels)) >= MIN_SAMPLES_RIGHT, (preds, labels)


@pytest.mark.long  # retrains the example (about 2 minutes)
def test_make_model_reproduces_the_example(tmp_path: Path, make_model: ModuleType) -> None:
    # setup.sh installs the [examples] extras, so a missing TensorFlow is a failure, not a skip.
    import sklearn  # noqa: F401
    import tensorflow  # noqa: F401
    out = tmp_path / "digits_cnn_int8.tflite"
    # A fresh process, as a user would run it: TF's determinism flags need a clean start.
    result = subprocess.run(
        [sys.executable, str(DIGITS / "make_model.py"), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "int8 accuracy (TFLM)" in result.stdout

    model_bytes = out.read_bytes()
    assert make_model.op_list(model_bytes) == EXPECTED_OPS
    assert (tmp_path / "sample_inputs.npy").exists() and (tmp_path / "sample_labels.npy").exists()

    # Re-measure the int8 accuracy here rather than trusting the script's own printout.
    _, x_test, _, y_test = make_model.load_data()
    interp = make_model.tflm_interpreter(model_bytes)
    scale, zero_point = make_model.input_quantization(interp)
    q_test = make_model.quantize_input(x_test, scale, zero_point)[:, np.newaxis]
    accuracy = float(np.mean(make_model.tflm_predict(interp, q_test) == y_test))
    assert accuracy >= MIN_INT8_ACCURACY
