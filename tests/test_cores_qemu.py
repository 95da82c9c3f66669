"""The core split on the emulated multicore boards: bit-exact in QEMU against TFLite Micro, and the
modelled N-core latency (the cycle plugin's busy instructions per virtual CPU between barriers: per
interval the busiest core, summed) against the single-core build's instructions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import DIGITS_MODEL, mlperf_model
from tinygen.device.cycles import core_loads
from tinygen.jobs import run_on_board
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
    report = run_on_board(mlperf_model(key), board, tmp_path / f"{key}-{board}-{cores}", random_count=1, seed=1,
                          timeout_s=900, patch=PatchRequest.parse("auto"), cores=cores, count_intervals=True)
    load = core_loads(list(report.intervals), cores)[0]
    return report.bit_exact, load.latency, load.busy


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
