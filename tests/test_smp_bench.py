"""`tinygen bench --cores N`: the report's section, and (long) the MLPerf Tiny models split across the
cores of mps2-an521 and riscv32 virt, bit-exact, with their modelled latency against the issue's targets."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from conftest import MLPERF_MODELS
from tinygen.bench import CORE_TARGETS, CORES_END, CORES_MARK, with_cores_section
from tinygen.device.cycles import CoreLoad, Interval, core_loads, modelled_latencies


def _section(board: str, cores: int, body: str) -> str:
    return f"{CORES_MARK.format(board=board, cores=cores)}\n{body}\n\n{CORES_END}\n"


def test_a_section_is_appended_then_replaced_and_the_rest_kept():
    report = "# Benchmarks\n\nfigures\n"
    once = with_cores_section(report, _section("mps2-an521", 2, "first"))
    assert once.startswith(report) and "first" in once
    both = with_cores_section(once, _section("riscv32-virt-4", 4, "other"))
    again = with_cores_section(both, _section("mps2-an521", 2, "second"))
    assert again.startswith(report) and "first" not in again
    assert again.count("second") == 1 and again.count("other") == 1 and again.count(CORES_END) == 2


def test_core_loads_per_region_with_the_closing_barriers():
    # Two invokes on two cores; the second core has less to do in interval 0 and waits for the first.
    intervals = [Interval(0, 0, 100, 20, 0), Interval(1, 0, 60, 70, 0), Interval(0, 1, 5, 0, 0),
                 Interval(1, 1, 3, 0, 0), Interval(0, 0, 50, 10, 1), Interval(1, 0, 52, 9, 1),
                 Interval(2, 0, 7, 0, 1)]  # a third virtual CPU that takes no part
    first, second = core_loads(intervals, 2)
    assert first == CoreLoad(busiest=105, barrier_overhead=20, busy=(105, 63), wait=(20, 70), intervals=2)
    assert first.latency == 125 and first.work == 168
    assert second.latency == 52 + 9 and second.busy == (50, 52)
    assert modelled_latencies(intervals, 2) == [105, 52]


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tinygen.cli", "bench", *args], capture_output=True, text=True,
                          timeout=3600)


@pytest.mark.long
@pytest.mark.qemu
@pytest.mark.parametrize("board,cores", [("mps2-an521", 2), ("riscv32-virt-2", 2), ("riscv32-virt-4", 4)])
def test_bench_cores_meets_the_targets_bit_exact(tmp_path, board, cores):
    report = tmp_path / "BENCHMARKS.md"
    proc = _bench("--board", board, "--cores", str(cores), "--build-root", str(tmp_path / "b"), "--write", str(report))
    assert proc.returncode == 0, proc.stderr
    rows = [line.split("|")[1:-1] for line in report.read_text().splitlines() if re.match(r"\| (AD|IC|KWS|VWW) \|", line)]
    assert {r[0].strip() for r in rows} == {key.upper() for key in MLPERF_MODELS}
    for key, single, latency, ratio, predicted, target, work, barriers, arena, exact in (map(str.strip, r) for r in rows):
        assert exact == "yes"
        assert "grown beyond" not in arena, (key, arena)   # the single-core plan plus the cores' own bytes
        limit = CORE_TARGETS.get(cores, {}).get(key)
        print(json.dumps({"board": board, "cores": cores, "model": key, "single": single, "latency": latency,
                          "ratio": ratio, "predicted": predicted}))
        if limit is not None:
            assert float(ratio) <= limit, (key, ratio, limit)
