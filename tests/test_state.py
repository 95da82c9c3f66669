"""Stateful models: variable tensors live in their own memory, kept across invoke(), set at start as
TFLite Micro's ResetVariableTensors sets them, and restored by the generated <model>_reset().
The per-op grids (tests/ops/test_svdf.py) check the state itself against TFLM after every call."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from tinygen.build.host import BASE_CFLAGS, HOST_CC, RUNTIME_INCLUDE_DIR, kernel_library
from tinygen.jobs import run_on_board
from tinygen.compiler import compile_bytes
from tinygen.reference.tflm import TflmReference

from ops.test_svdf import records, svdf_model  # tests/ is on sys.path (rootdir, no package)

# Runs the model three times, resets, runs three times more on the same inputs; prints the outputs
# and, after the reset, the state's bytes.
RESET_MAIN = r"""
#include <stdio.h>
#include <string.h>
#include "model.h"
static const int8_t inputs[3][%(n)d] = { %(inputs)s };
static void run(void) {
    for (int r = 0; r < 3; ++r) {
        memcpy(model_model.inputs[0].data, inputs[r], %(n)d);
        model_invoke();
        const int8_t *out = model_model.outputs[0].data;
        for (unsigned i = 0; i < model_model.outputs[0].bytes; ++i) printf("%%d ", out[i]);
        printf("\n");
    }
}
int main(void) {
    run();
    model_reset();
    run();
    return 0;
}
"""


def _stateful_model(zero_point: int) -> tuple[bytes, list]:
    rng = np.random.default_rng(5)
    model = svdf_model(rng, 1, 6, 2, 1, 3, np.int8, 4, -2, zero_point)
    return model, records(rng, 1, 6, 3)


def test_state_is_outside_the_arena_and_reset_restores_it(tmp_path):
    model, recs = _stateful_model(zero_point=9)
    compiled = compile_bytes(model)
    state = next(t for t in compiled.graph.tensors if t.variable)
    # Not planned in the arena: no buffer holds it.
    assert state.index not in compiled.tensor_offsets()
    source = dict(compiled.sources.files)["model.c"]
    assert "static uint8_t model_state[" in source and "= 9u;" in source  # int8 state starts at its zero point
    for name, text in compiled.sources.files:
        (tmp_path / name).write_text(text)
    inputs = ", ".join("{" + ", ".join(str(int(v)) for v in r[0].ravel()) + "}" for r in recs)
    (tmp_path / "main.c").write_text(RESET_MAIN % {"n": recs[0][0].size, "inputs": inputs})
    exe = tmp_path / "reset_check"
    subprocess.run([HOST_CC, *BASE_CFLAGS, f"-I{RUNTIME_INCLUDE_DIR}", f"-I{tmp_path}", str(tmp_path / "main.c"),
                    str(tmp_path / "model.c"), str(kernel_library()), "-o", str(exe)], check=True)
    lines = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    ours = [np.array(line.split(), dtype=np.int8) for line in lines]
    reference = TflmReference(model)  # resets before the first record only, as the firmware runs them
    expected = [reference.run(r).outputs[0].ravel() for r in recs]
    assert len(ours) == 6
    for got, want in zip(ours[:3], expected):
        assert got.tobytes() == want.tobytes()
    # After the reset, the same three inputs give the same three outputs again.
    assert [a.tobytes() for a in ours[3:]] == [a.tobytes() for a in ours[:3]]
    # And the state matters: from a fresh start, the third input alone gives another output.
    fresh = TflmReference(model).run(recs[2]).outputs[0].ravel()
    assert fresh.tobytes() != expected[2].tobytes()


def test_stateful_model_in_qemu(tmp_path):
    """Five invocations in a row on mps2-an386, each compared with TFLM's in the same sequence."""
    rng = np.random.default_rng(11)
    model_path = tmp_path / "svdf_int16.tflite"
    model_path.write_bytes(svdf_model(rng, 1, 12, 3, 2, 4, np.int16, 3, -5, 0))
    np.save(tmp_path / "inputs.npy", np.stack([r[0] for r in records(rng, 1, 12, 5)]))
    report = run_on_board(model_path, "mps2-an386", tmp_path / "fw", inputs_file=tmp_path / "inputs.npy",
                          timeout_s=120)
    assert len(report.results) == 5
    assert all(r.bit_exact for r in report.results)


def test_stateful_kernels_under_sanitizers(tmp_path):
    """SVDF and both LSTMs under AddressSanitizer and UndefinedBehaviorSanitizer (the arena poisoned
    outside live buffers), several invocations in a row, still bit-exact."""
    from ops.test_lstm import lstm_model, lstm_records
    from tinygen.testing.compare import compare_on_host

    rng = np.random.default_rng(8)
    lstm8 = lstm_model(rng, 2, 3, 5, 4, True, -3, 7, -12, 0.0)
    lstm16 = lstm_model(rng, 1, 3, 4, 3, False, 0, 0, -11, 4.0, act=np.int16)
    cases = [(svdf_model(rng, 2, 10, 3, 2, 5, np.int16, -7, 11, 0), records(rng, 2, 10, 6)),
             (lstm8, lstm_records(rng, lstm8, 3, extreme=True)), (lstm16, lstm_records(rng, lstm16, 3, extreme=True))]
    for k, (model, recs) in enumerate(cases):
        result = compare_on_host(model, tmp_path / str(k), records=recs, sanitize=True)
        assert result.bit_exact, result.mismatches[:3]


def resource_model(dtype=np.int8, zero_point: int = 3) -> bytes:
    """A ring buffer kept in a resource variable: each call shifts the newest 4 values in and adds
    the old window to the new one (VAR_HANDLE, READ_VARIABLE, CONCATENATION, SLICE... as streaming
    models keep their state), here READ -> ADD -> ASSIGN, and a second handle of the same name."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    from tinygen.testing.model_builder import ModelBuilder

    b = ModelBuilder()
    x = b.tensor([1, 4], dtype=dtype, scale=0.1, zero_point=zero_point)
    handles = []
    for _ in range(2):
        h = b.tensor([1], dtype=np.int32)
        b.tensors[h].type = schema.TensorType.RESOURCE
        handles.append(h)
    s = b.tensor([1, 4], dtype=dtype, scale=0.1, zero_point=zero_point)
    y = b.tensor([1, 4], dtype=dtype, scale=0.1, zero_point=zero_point)
    b.op("VAR_HANDLE", [], [handles[0]], sharedName="window")
    b.op("READ_VARIABLE", [handles[0]], [s])
    b.op("ADD", [s, x], [y])
    b.op("VAR_HANDLE", [], [handles[1]], sharedName="window")
    b.op("ASSIGN_VARIABLE", [handles[1], y], [])
    return b.build([x], [y])


@pytest.mark.parametrize("dtype,zero_point", [(np.int8, 3), (np.int16, 0)])
def test_resource_variables_keep_state(assert_bit_exact, dtype, zero_point):
    rng = np.random.default_rng(4)
    recs = [[rng.integers(-20, 20, size=(1, 4)).astype(dtype)] for _ in range(6)]
    model = resource_model(dtype, zero_point)
    result = assert_bit_exact(model, records=recs)
    add = "tg_add_s8_table_wide" if dtype == np.int8 else "tg_add_s16"  # the default board's (M4) int8 ADD
    assert [c.function for c in result.compiled.lowered] == ["tg_copy_bytes", add, "tg_copy_bytes"]
    first = TflmReference(model).run(recs[0]).outputs[0]
    assert first.tobytes() == recs[0][0].tobytes()  # the first call reads the zero point: x + 0
