"""Shared fixtures: where the MLPerf Tiny models are, and a bit-exact check on the host."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tinygen.kernels.call import KernelCall
from tinygen.passes.choose_kernels import KernelSet
from tinygen.compiler import compile_bytes
from tinygen.testing.compare import Comparison, compare_on_host

MLPERF_DIR = Path(__file__).resolve().parents[2] / "shared" / "models" / "mlperf_tiny"
# The project's own example model (examples/digits), made by its make_model.py.
DIGITS_MODEL = Path(__file__).resolve().parents[1] / "examples" / "digits" / "digits_cnn_int8.tflite"
MLPERF_MODELS = {
    "ad": "ad01_int8.tflite",
    "ic": "resnet8_int8.tflite",
    "kws": "kws_dscnn_int8.tflite",
    "vww": "vww_mobilenet_int8.tflite",
}


def mlperf_model(key: str) -> Path:
    path = MLPERF_DIR / MLPERF_MODELS[key]
    if not path.exists():
        pytest.fail(f"MLPerf Tiny model missing: {path} (expected in ../shared/models/mlperf_tiny)")
    return path


def run_in_qemu(model: Path, out_dir: Path, *options: str, inputs: int = 3, seed: int = 0,
                board: str = "mps2-an386", timeout: int = 900) -> dict:
    """`tinygen run MODEL --random INPUTS --json` as a user types it; the JSON report, after checking
    that the run succeeded and every output equals TFLite Micro's on that board."""
    proc = subprocess.run(
        [sys.executable, "-m", "tinygen.cli", "run", str(model), "--random", str(inputs), "--seed", str(seed),
         "--json", "-o", str(out_dir), *options],
        capture_output=True, text=True, timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout[-2000:]
    report = json.loads(proc.stdout)
    assert report["bit_exact"] is True and report["max_abs_diff"] == 0
    assert report["inputs"] == inputs and report["board"] == board
    assert report["instructions"] > 0
    return report


def kernel_functions(lowered) -> list[str]:
    return [c.function for c in lowered if isinstance(c, KernelCall)]


def uses_optimised_twins(result: Comparison) -> bool:
    return any(isinstance(c, KernelCall) and c.function.endswith(("_fast", "_wide")) for c in result.compiled.lowered)


@pytest.fixture
def assert_bit_exact(tmp_path):
    """Compile a model, run it on the host, and require every tensor to equal TFLite Micro's.

    Where optimised twins replace reference kernels, the reference set is checked as well, so both
    twins of every kernel meet TFLM over the same grids; and the fastest set where its kernels differ
    (the default keeps a variant only where the arena does not grow: a one-layer model loses most)."""

    def check(model_bytes: bytes, count: int = 3, seed: int = 0, records=None) -> Comparison:
        result = compare_on_host(model_bytes, tmp_path / "host", records=records, count=count, seed=seed)
        assert result.tensors_compared > 0
        assert not result.mismatches, "\n".join(result.mismatches[:10])
        if kernel_functions(compile_bytes(model_bytes, kernel_set=KernelSet.FASTEST).lowered) != \
                kernel_functions(result.compiled.lowered):
            fastest = compare_on_host(model_bytes, tmp_path / "host-fastest", records=records, count=count,
                                      seed=seed, kernel_set=KernelSet.FASTEST)
            assert not fastest.mismatches, "fastest kernels:\n" + "\n".join(fastest.mismatches[:10])
        if uses_optimised_twins(result):
            reference = compare_on_host(model_bytes, tmp_path / "host-reference", records=records, count=count,
                                        seed=seed, kernel_set=KernelSet.REFERENCE)
            assert not uses_optimised_twins(reference)
            assert not reference.mismatches, "reference kernels:\n" + "\n".join(reference.mismatches[:10])
        return result

    return check
