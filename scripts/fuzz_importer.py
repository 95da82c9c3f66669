#!/usr/bin/env python3
"""Fuzz tinygen's whole compile path (reader, lowering, planning, codegen) with mutated .tflite models.

Every input must end in a compiled model or a TinygenError; anything else (another exception, a case
running past --case-timeout, a MemoryError under the --memory-mb address-space limit) is a crash.
The mutations are tinygen.testing.fuzz's; two engines drive them:

  hypothesis  reproducible (--seed), shrinks a crash to a small case; the test suite runs this one
  atheris     coverage-guided libFuzzer over the same mutations, for long runs (pip install atheris)

Examples:
  .venv/bin/python scripts/fuzz_importer.py --group mixed --cases 2000 --seed 0
  .venv/bin/python scripts/fuzz_importer.py --engine hypothesis --seconds 3600 --tflm-every 50
  .venv/bin/python scripts/fuzz_importer.py --engine atheris --seconds 14400 --crash-dir fuzz-crashes

Exit status: 0 when nothing crashed, 1 with the crash (its case description, traceback, and the
model written to --crash-dir), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import importlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MLPERF_DIR = ROOT.parent / "shared" / "models" / "mlperf_tiny"
DIGITS = ROOT / "examples" / "digits" / "digits_cnn_int8.tflite"


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", choices=("hypothesis", "atheris"), default="hypothesis")
    p.add_argument("--group", choices=("numbers", "fields", "graph", "bytes", "mixed", "all"), default="all",
                   help="which mutations (all: every group in turn)")
    p.add_argument("--cases", type=int, default=1000, help="cases to run (per group with --group all)")
    p.add_argument("--seconds", type=float, default=None, help="run until this much time has passed instead")
    p.add_argument("--seed", type=int, default=0, help="hypothesis seed; the run is reproducible from it")
    p.add_argument("--seeds", default="builder,digits,mlperf",
                   help="seed models: builder (small models from tinygen.testing.fuzz), digits, mlperf, or .tflite paths")
    p.add_argument("--memory-mb", type=int, default=3072, help="address-space limit of this process (RLIMIT_AS)")
    p.add_argument("--case-timeout", type=float, default=20.0, help="seconds one case may take")
    p.add_argument("--crash-dir", type=Path, default=Path("fuzz-crashes"), help="where crashing models are written")
    p.add_argument("--tflm-every", type=int, default=0,
                   help="compare about one in N compiled models with TFLM on the host (slow; 0: never)")
    p.add_argument("--target", default="tinygen.compiler:compile_bytes",
                   help="module:function taking the model bytes (to fuzz another entry point)")
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    return p.parse_known_args(argv)


def limit_memory(megabytes: int) -> None:
    limit = megabytes * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def load_seeds(spec: str) -> dict[str, bytes]:
    from tinygen.testing.fuzz_seeds import builder_seeds, file_seeds

    seeds: dict[str, bytes] = {}
    for item in filter(None, spec.split(",")):
        if item == "builder":
            seeds.update(builder_seeds())
        elif item == "digits":
            seeds.update(file_seeds([DIGITS]))
        elif item == "mlperf":
            paths = sorted(MLPERF_DIR.glob("*.tflite"))
            if not paths:
                raise SystemExit(f"no MLPerf models in {MLPERF_DIR}")
            seeds.update(file_seeds(paths))
        else:
            seeds.update(file_seeds([Path(item)]))
    return seeds


def load_target(spec: str):
    module, _, function = spec.partition(":")
    return getattr(importlib.import_module(module), function)


class Fuzzer:
    """Runs cases, counts outcomes, keeps the last crash (after shrinking: the smallest)."""

    def __init__(self, args: argparse.Namespace, seeds: dict[str, bytes]) -> None:
        from tinygen.testing import fuzz, fuzz_check

        self.fuzz = fuzz
        self.check = fuzz_check
        self.args = args
        self.pool = fuzz.SeedPool(seeds)
        self.target = load_target(args.target)
        self.counts: collections.Counter[str] = collections.Counter()
        self.tflm: collections.Counter[str] = collections.Counter()
        self.tflm_notes: list[str] = []  # compiled models TFLM refused or crashed on
        self.crash = None  # (Case, detail) of the last crash: after shrinking, the smallest

    def one(self, chooser, group: str) -> str | None:
        """Run one case; return a crash description, or None."""
        case = self.pool.make_case(chooser, group)
        outcome = self.check.run_case(case.data, self.target, self.args.case_timeout)
        self.counts[outcome.status] += 1
        if not outcome.ok:
            self.crash = (case, outcome.detail)
            return outcome.detail
        if outcome.status == "compiled":
            # Chosen by content, not by count, so a replayed (shrinking) case is compared again.
            digest = int.from_bytes(hashlib.sha256(case.data).digest()[:4], "little")
            if self.args.tflm_every and digest % self.args.tflm_every == 0:
                with tempfile.TemporaryDirectory() as work:
                    status, detail = self.check.compare_with_tflm(case.data, Path(work))
                self.tflm[status] += 1
                if status != "bit-exact" and len(self.tflm_notes) < 50:
                    self.tflm_notes.append(f"{status}: {case.describe()[:300]}: {detail[-300:]}")
                if status in ("mismatch", "error"):
                    self.crash = (case, f"TFLM comparison: {status}: {detail}")
                    return detail
        return None

    def write_crash(self) -> Path | None:
        if self.crash is None:
            return None
        case, detail = self.crash
        self.args.crash_dir.mkdir(parents=True, exist_ok=True)
        path = self.args.crash_dir / f"crash-{case.seed}-{hashlib.sha256(case.data).hexdigest()[:12]}.tflite"
        path.write_bytes(case.data)
        path.with_suffix(".txt").write_text(f"{case.describe()}\n\n{detail}\n")
        return path


class CrashFound(Exception):
    pass


def run_hypothesis(fuzzer: Fuzzer, groups: list[str]) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings
    from hypothesis import strategies as st

    def search(group: str, batch: int):
        @seed(fuzzer.args.seed + batch)
        @settings(max_examples=fuzzer.args.cases, database=None, deadline=None, derandomize=False,
                  phases=(Phase.generate, Phase.shrink), report_multiple_bugs=False,
                  suppress_health_check=list(HealthCheck))
        @given(st.data())
        def case(data):
            detail = fuzzer.one(fuzzer.fuzz.HypothesisChooser(data), group)
            if detail is not None:
                raise CrashFound(detail)
        return case

    deadline = None if fuzzer.args.seconds is None else time.monotonic() + fuzzer.args.seconds
    batch = 0
    while True:
        for group in groups:
            search(group, batch)()
        batch += 1
        if deadline is None or time.monotonic() >= deadline:
            return


class FdpChooser:
    """Choices read from libFuzzer's input, so coverage feedback steers the mutations."""

    def __init__(self, fdp) -> None:
        self._fdp = fdp

    def integer(self, low: int, high: int) -> int:
        return self._fdp.ConsumeIntInRange(low, high)

    def pick(self, options):
        options = list(options)
        return options[self._fdp.ConsumeIntInRange(0, len(options) - 1)]


def run_atheris(fuzzer: Fuzzer, groups: list[str], libfuzzer_args: list[str]) -> None:
    import atheris

    def one_input(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        group = groups[fdp.ConsumeIntInRange(0, len(groups) - 1)]
        detail = fuzzer.one(FdpChooser(fdp), group)
        if detail is not None:
            path = fuzzer.write_crash()
            raise CrashFound(f"{fuzzer.crash[0].describe()}\nmodel: {path}\n{detail}")

    for corpus in (Path(a) for a in libfuzzer_args if not a.startswith("-")):
        if not corpus.is_file():  # a file is one input to replay (a crash-* artifact), not a corpus
            corpus.mkdir(parents=True, exist_ok=True)  # libFuzzer wants its corpus folders to exist
    argv = [sys.argv[0], *libfuzzer_args]
    if not any(a.startswith("-max_len=") for a in libfuzzer_args):
        argv.append("-max_len=4096")  # room for a few dozen choices...
    if not any(a.startswith("-len_control=") for a in libfuzzer_args):
        argv.append("-len_control=0")  # ...from the start: short inputs leave every choice at its minimum
    if fuzzer.args.seconds is not None:
        argv.append(f"-max_total_time={int(fuzzer.args.seconds)}")
    else:
        argv.append(f"-runs={fuzzer.args.cases}")
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


def main(argv: list[str]) -> int:
    args, extra = parse_args(argv)
    if extra and args.engine != "atheris":
        print(f"unknown arguments {extra} (only the atheris engine passes arguments on, to libFuzzer)", file=sys.stderr)
        return 2
    limit_memory(args.memory_mb)
    groups = ["numbers", "fields", "graph", "bytes", "mixed"] if args.group == "all" else [args.group]
    if args.engine == "atheris":
        import atheris

        with atheris.instrument_imports(include=["tinygen"]):
            import tinygen.compiler  # noqa: F401  (imported here to be instrumented for coverage)
    fuzzer = Fuzzer(args, load_seeds(args.seeds))
    started = time.monotonic()
    crashed = False
    try:
        if args.engine == "hypothesis":
            run_hypothesis(fuzzer, groups)
        else:
            run_atheris(fuzzer, groups, extra)
    except CrashFound:
        crashed = True
    except Exception:  # e.g. hypothesis' FlakyFailure when a crash does not repeat (a timeout)
        if fuzzer.crash is None:
            raise
        crashed = True
    summary = {
        "engine": args.engine, "groups": groups, "seed": args.seed, "cases": sum(fuzzer.counts.values()),
        "outcomes": dict(fuzzer.counts), "tflm": dict(fuzzer.tflm), "tflm_notes": fuzzer.tflm_notes,
        "seconds": round(time.monotonic() - started, 1),
    }
    if crashed:
        path = fuzzer.write_crash()
        case, detail = fuzzer.crash
        summary["crash"] = {"case": case.describe(), "model": str(path), "detail": detail}
    print(json.dumps(summary) if args.json else "\n".join(f"{k}: {v}" for k, v in summary.items()))
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
