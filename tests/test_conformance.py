"""The conformance suite (issue 10, item 6): real architectures made by scripts/make_conformance_models.py
through `tinygen quantize`'s conversion, each bit-exact with TFLite Micro on every tensor on the host,
and in QEMU (mps2-an386, a TG_TRACE firmware sending every tensor: `tinygen run --trace`; a few by
default, all with -m long).

Models whose operators tinygen does not compile yet are strict xfails raising UnsupportedModelError:
they turn into failures the moment the operators land, and the mark is then removed.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tinygen.errors import UnsupportedModelError
from tinygen.compiler import compile_bytes
from tinygen.quantize import operator_types, tflm_refusal
from tinygen.testing.compare import compare_on_host

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "make_conformance_models.py"
# Made models are kept here between runs, keyed by the sources that make them.
CACHE = ROOT / "build" / "conformance"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_conformance_models", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


conformance = _load_script()

# What each architecture must really contain once converted (so that it tests what it claims).
EXPECTED_OPERATORS = {
    "mobilenet_v2": {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MEAN", "FULLY_CONNECTED"},
    "mobilenet_v3": {"HARD_SWISH", "DEPTHWISE_CONV_2D", "MEAN", "MUL", "ADD"},
    "efficientnet": {"LOGISTIC", "MUL", "MEAN", "DEPTHWISE_CONV_2D"},
    "unet": {"RESIZE_NEAREST_NEIGHBOR", "TRANSPOSE_CONV", "CONCATENATION", "MAX_POOL_2D"},
    "audio_conv1d": {"CONV_2D", "RESHAPE", "MAX_POOL_2D", "MEAN", "SOFTMAX"},
    "lstm_kws": {"UNIDIRECTIONAL_SEQUENCE_LSTM", "FULLY_CONNECTED", "SOFTMAX"},
    "tiny_vit": {"BATCH_MATMUL", "SOFTMAX", "TRANSPOSE", "SQUARED_DIFFERENCE", "RSQRT", "LOGISTIC", "MUL"},
    "detector_head": {"RESIZE_NEAREST_NEIGHBOR", "RESIZE_BILINEAR", "CONCATENATION", "RESHAPE", "LOGISTIC"},
    "cnn_16x8": {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "MAX_POOL_2D", "AVERAGE_POOL_2D", "LOGISTIC", "SOFTMAX"},
}

# Operators other engineers are adding (issue 10); the lead removes these marks at merge.
NOT_YET = {
}

QEMU_DEFAULT = ("detector_head",)  # resizing and concatenation; the rest of the QEMU runs are -m long


def with_marks(names, *marks):
    return [pytest.param(n, marks=[*marks, *([pytest.mark.xfail(strict=True, raises=UnsupportedModelError,
                                                                reason=NOT_YET[n])] if n in NOT_YET else [])])
            for n in names]


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for path in (SCRIPT, ROOT / "tinygen" / "quantize.py"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def conformance_model():
    """name -> the model's .tflite path; made on first use (seconds each: TensorFlow converts it) and
    cached under build/conformance, keyed by the script's and quantize.py's sources."""
    digest = _sources_digest()
    CACHE.mkdir(parents=True, exist_ok=True)

    def get(name: str) -> Path:
        path = CACHE / f"{name}-{digest}.tflite"
        if not path.exists():
            data = conformance.make(name)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")  # two workers may make it at once
            tmp.write_bytes(data)
            tmp.replace(path)
        return path

    return get


def test_the_suite_lists_every_architecture():
    assert set(conformance.MODELS) == set(EXPECTED_OPERATORS)
    assert set(NOT_YET) <= set(conformance.MODELS) and set(QEMU_DEFAULT) <= set(conformance.MODELS)


@pytest.mark.parametrize("name", with_marks(conformance.MODELS))
def test_conformance_model_bit_exact_on_every_tensor_on_the_host(conformance_model, tmp_path, name):
    data = conformance_model(name).read_bytes()
    assert EXPECTED_OPERATORS[name] <= set(operator_types(data)), operator_types(data)
    assert tflm_refusal(data) is None
    if conformance.MODELS[name].int16_activations:
        from tinygen.reference.tflm import TflmReference

        assert np.dtype(TflmReference(data).input_details(0)["dtype"]) == np.int16
    result = compare_on_host(data, tmp_path / "host", count=3, seed=1, name=name)
    assert result.tensors_compared >= 3 * len(result.compiled.graph.outputs)
    assert result.bit_exact, "\n".join(result.mismatches[:10])


def _run_in_qemu(path: Path, out: Path) -> dict:
    compiled = compile_bytes(path.read_bytes(), name=path.stem)  # an unsupported model ends here, as its xfail says
    proc = subprocess.run([sys.executable, "-m", "tinygen.cli", "run", str(path), "--random", "2", "--seed", "5",
                           "--trace", "--json", "-o", str(out)], capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    # Every tensor an operator writes, not only the outputs: more tensors than inputs x outputs.
    assert report["trace"] is True and report["first_mismatch"] == ""
    assert report["tensors_compared"] > report["inputs"] * len(compiled.graph.outputs)
    return report


@pytest.mark.qemu
@pytest.mark.parametrize("name", with_marks(QEMU_DEFAULT))
def test_conformance_model_bit_exact_in_qemu(conformance_model, tmp_path, name):
    report = _run_in_qemu(conformance_model(name), tmp_path / name)
    assert report["bit_exact"] is True and report["max_abs_diff"] == 0 and report["inputs"] == 2
    assert report["board"] == "mps2-an386"


@pytest.mark.long
@pytest.mark.qemu
@pytest.mark.parametrize("name", with_marks([n for n in conformance.MODELS if n not in QEMU_DEFAULT]))
def test_conformance_model_bit_exact_in_qemu_long(conformance_model, tmp_path, name):
    report = _run_in_qemu(conformance_model(name), tmp_path / name)
    assert report["bit_exact"] is True and report["max_abs_diff"] == 0 and report["inputs"] == 2
