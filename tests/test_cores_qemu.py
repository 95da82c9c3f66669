"""The core split on the emulated multicore boards: bit-exact in QEMU against TFLite Micro, and the
modelled N-core latency (the cycle plugin's busy instructions per virtual CPU between barriers: per
interval the busiest core, summed) against the single-core build's instructions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from conftest import DIGITS_MODEL, mlperf_model
from tinygen.boards.catalog import load_board
from tinygen.device.cycles import CycleCounter, core_loads
from tinygen.device.emulator import start_emulator
from tinygen.device.runner import DeviceSession
from tinygen.flow import build_for_board, read_model_source, run_on_board
from tinygen.inputs import random_records
from tinygen.reference.tflm import TflmReference
from tinygen.schedule.patches import PatchRequest


@pytest.mark.qemu
def test_digits_on_two_cortex_m33_by_default(tmp_path):
    """mps2-an521's two cores are the default there: the split firmware is bit-exact."""
    report = run_on_board(DIGITS_MODEL, "mps2-an521", tmp_path / "fw", random_count=2, timeout_s=300)
    assert report.bit_exact
    manifest = json.loads(next((tmp_path / "fw").rglob("tinygen.json")).read_text())
    assert manifest["cores"] == 2 and manifest["barriers"] > 0
    assert 0 < manifest["predicted_ratio"] < 1


def modelled_run(tmp_path: Path, key: str, board: str, cores: int) -> tuple[bool, int, tuple[int, ...]]:
    """(bit-exact, modelled latency, busy instructions per core) of one invoke() in QEMU."""
    model = mlperf_model(key)
    source = read_model_source(model)
    outcome = build_for_board(model, board, tmp_path / f"{key}-{board}-{cores}", source=source,
                              patch=PatchRequest.parse("auto"), cores=cores)
    record = random_records(source.graph, 1, 1)[0]
    counter = CycleCounter(f"{source.graph.name}_invoke", barrier_function="tg_barrier_wait")
    with start_emulator(load_board(board), outcome.elf, timeout_s=900,
                        extra_args=tuple(counter.qemu_arguments(outcome.elf))) as emulator:
        with DeviceSession(emulator.serial_url, timeout_s=900) as session:
            session.hello()
            run = session.run([np.ascontiguousarray(x).tobytes() for x in record])
            session.exit()
        assert emulator.wait(10.0) == 0
    expected = TflmReference(source.data, preserve_all=False).run(record).outputs
    exact = all(ours == np.asarray(theirs).astype(np.int8).tobytes() for ours, theirs in zip(run.outputs, expected))
    load = core_loads(list(counter.collect().intervals), cores)[0]
    return exact, load.latency, load.busy


# The targets: modelled latency / single-core instructions.
TARGETS = {("ic", 2): 0.55, ("vww", 2): 0.55, ("kws", 2): 0.6, ("ic", 4): 0.3, ("vww", 4): 0.3}


@pytest.mark.long
@pytest.mark.qemu
@pytest.mark.parametrize("board,cores", [("mps2-an521", 2), ("riscv32-virt-2", 2), ("riscv32-virt-4", 4)])
@pytest.mark.parametrize("key", ["ad", "ic", "kws", "vww"])
def test_mlperf_split_in_qemu(tmp_path, board, cores, key):
    single = run_on_board(mlperf_model(key), board, tmp_path / "single", random_count=1, seed=1, timeout_s=900,
                          patch=PatchRequest.parse("auto"), cores=1)
    exact, latency, busy = modelled_run(tmp_path, key, board, cores)
    assert exact and single.bit_exact
    assert all(b > 0 for b in busy) or key == "ad"
    if (key, cores) in TARGETS:
        assert latency <= TARGETS[key, cores] * single.results[0].instructions, (latency, single.results[0].instructions)
