"""Estimated Cortex-M4 cycles from tinygen's own QEMU TCG plugin (runtime_c/qemu_plugin).

The plugin's C source ships with the package; it is compiled with the host gcc on first use into a
cache directory (never into the checkout), keyed by the source's hash. QEMU loads it with
`-plugin`; it writes one JSON line per measured region (per virtual CPU). The model it applies is
docs/cycle-model.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from tinygen.errors import BuildError, DeviceError
from tinygen.resources import RUNTIME_DIR

PLUGIN_SOURCE_DIR = RUNTIME_DIR / "qemu_plugin"
PLUGIN_NAME = "libtg_cycles.so"
# The estimate is a Cortex-M4 model (docs/cycle-model.md); on other cores only its instruction
# counts mean something.
CYCLE_MODEL_CORES = ("cortex-m4",)
# The SMP runtime's barrier (runtime_c/firmware/tg_smp.c): its entry cuts each core's run into intervals.
BARRIER_FUNCTION = "tg_barrier_wait"


def cache_dir() -> Path:
    """$TINYGEN_CACHE, else $XDG_CACHE_HOME/tinygen, else ~/.cache/tinygen."""
    if os.environ.get("TINYGEN_CACHE"):
        return Path(os.environ["TINYGEN_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tinygen"


def _source_digest() -> str:
    digest = hashlib.sha256()
    for source in sorted(PLUGIN_SOURCE_DIR.glob("*.[ch]")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def build_plugin() -> Path:
    """The plugin's shared object, compiled once per source version (atomically: no half-built file)."""
    target = cache_dir() / f"qemu-plugin-{_source_digest()}" / PLUGIN_NAME
    if target.is_file():
        return target
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise BuildError("the cycle plugin needs a host C compiler (gcc); run setup.sh")
    target.parent.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(p) for p in PLUGIN_SOURCE_DIR.glob("*.c"))
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        built = Path(scratch) / PLUGIN_NAME
        proc = subprocess.run([compiler, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC",
                               "-fvisibility=hidden", "-o", str(built), *sources, "-lpthread"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            first = (proc.stderr.strip().splitlines() or ["no output"])[0]
            raise BuildError(f"building the cycle plugin failed: {first}")
        os.replace(built, target)
    return target


@dataclass(frozen=True)
class CycleSettings:
    """The model's knobs (docs/cycle-model.md); the defaults are the anchors' settings."""

    p: int = 2              # pipeline refill after a taken flow change
    div: int = 7            # SDIV/UDIV
    itfold: bool = False    # charge 0 for an IT after a 16-bit instruction
    p_unaligned: int = 0    # extra refill for a 32-bit branch target at a halfword address
    agu: bool = False       # charge 1 for a load/store addressed with the previous ALU result

    def plugin_options(self) -> str:
        return (f"p={self.p},div={self.div},itfold={int(self.itfold)},p_unaligned={self.p_unaligned},"
                f"agu={int(self.agu)}")


@dataclass(frozen=True)
class RegionCount:
    """What the plugin counted in one region (one call of the measured function) on one virtual CPU."""

    vcpu: int
    region: int
    instructions: int
    cycles: int
    taken_branches: int
    pipelined: int
    it_foldable: int
    nonsequential: int
    classes: dict[str, int] = field(default_factory=dict)
    class_cycles: dict[str, int] = field(default_factory=dict)
    agu_pairs: int = 0      # loads/stores addressed with the register the previous ALU/multiply wrote
    functions: dict[str, tuple[int, int]] = field(default_factory=dict)  # flat profile: (instructions, cycles)

    @classmethod
    def from_json(cls, obj: dict) -> RegionCount:
        return cls(obj["vcpu"], obj["region"], obj["instructions"], obj["cycles"], obj["taken_branches"],
                   obj["pipelined"], obj["it_foldable"], obj["nonsequential_after_non_branch"],
                   dict(obj["classes"]), dict(obj["class_cycles"]), obj["agu_pairs"],
                   {name: (n, c) for name, (n, c) in obj.get("functions", {}).items()})

    def to_json(self) -> dict:
        return {"vcpu": self.vcpu, "region": self.region, "instructions": self.instructions, "cycles": self.cycles,
                "taken_branches": self.taken_branches, "pipelined": self.pipelined, "it_foldable": self.it_foldable,
                "nonsequential_after_non_branch": self.nonsequential, "agu_pairs": self.agu_pairs,
                "classes": self.classes, "functions": {name: list(v) for name, v in self.functions.items()},
                "class_cycles": self.class_cycles}


@dataclass(frozen=True)
class Interval:
    """One virtual CPU's work between two barriers: instructions outside the barrier and inside it."""

    vcpu: int
    index: int
    busy: int
    wait: int
    region: int = 0     # with a measured function (start=): which call of it; intervals restart at 0 in each


def plugin_arguments(plugin: Path, out: Path, start: int | None = None,
                     settings: CycleSettings = CycleSettings(), barrier: int | None = None,
                     functions: Path | None = None) -> list[str]:
    """QEMU's command-line arguments that load the plugin (region from `start`, else the whole run;
    with `barrier`, the entry of the barrier-wait function, intervals per virtual CPU too; with
    `functions`, a table from `write_function_table`, a flat profile per region)."""
    options = [f"out={out}", settings.plugin_options()]
    if functions is not None:
        options.append(f"functions={functions}")
    if start is not None:
        options.append(f"start={start:#x}")
    if barrier is not None:
        options.append(f"barrier={barrier:#x}")
    return ["-plugin", ",".join([str(plugin), *options])]


def _plugin_lines(out: Path) -> list[dict]:
    try:
        lines = Path(out).read_text().splitlines()
    except OSError as exc:
        raise DeviceError(f"the cycle plugin wrote no results ({exc.strerror or exc})") from None
    return [json.loads(line) for line in lines if line.strip()]


def read_regions(out: Path) -> list[RegionCount]:
    return [RegionCount.from_json(obj) for obj in _plugin_lines(out) if "region" in obj and "interval" not in obj]


def read_intervals(out: Path) -> list[Interval]:
    return [Interval(obj["vcpu"], obj["interval"], obj["busy"], obj["wait"], obj.get("region", 0))
            for obj in _plugin_lines(out) if "interval" in obj]


def modelled_latency(intervals: list[Interval]) -> int:
    """The N-core latency the intervals model: per interval the busiest core's instructions, summed
    (every core passes the same barriers, so interval k is the same stretch of work on each)."""
    busiest: dict[tuple[int, int], int] = {}
    for iv in intervals:
        key = (iv.region, iv.index)
        busiest[key] = max(busiest.get(key, 0), iv.busy)
    return sum(busiest.values())


def modelled_latencies(intervals: list[Interval] | tuple[Interval, ...], cores: int | None = None) -> list[int]:
    """The modelled latency of each region (each call of the measured function), in order; with
    `cores`, only virtual CPUs below it count (a 4-hart machine running a 2-core schedule)."""
    regions = sorted({iv.region for iv in intervals})
    return [modelled_latency([iv for iv in intervals if iv.region == r and (cores is None or iv.vcpu < cores)])
            for r in regions]


@dataclass(frozen=True)
class CoreLoad:
    """One region on N cores: per core the instructions outside barriers and inside them."""

    busiest: int                 # sum over intervals of the busiest core's busy count
    barrier_overhead: int        # sum over intervals of the least any core spent in the closing barrier
    busy: tuple[int, ...]        # per core
    wait: tuple[int, ...]        # per core
    intervals: int               # barrier intervals of the region

    @property
    def latency(self) -> int:
        """The modelled N-core latency: the busiest core of each interval, plus what the barrier ending
        it costs the core that arrives last (who waits least: its own arrival and the release)."""
        return self.busiest + self.barrier_overhead

    @property
    def work(self) -> int:
        return sum(self.busy)


def core_loads(intervals: list[Interval] | tuple[Interval, ...], cores: int) -> list[CoreLoad]:
    """Per region, the modelled latency and each core's busy and wait counts."""
    loads = []
    for region in sorted({iv.region for iv in intervals}):
        mine = [iv for iv in intervals if iv.region == region and iv.vcpu < cores]
        closing: dict[int, int] = {}
        for iv in mine:
            closing[iv.index] = min(closing.get(iv.index, iv.wait), iv.wait)
        loads.append(CoreLoad(modelled_latency(mine), sum(closing.values()),
                              tuple(sum(iv.busy for iv in mine if iv.vcpu == c) for c in range(cores)),
                              tuple(sum(iv.wait for iv in mine if iv.vcpu == c) for c in range(cores)),
                              len({iv.index for iv in mine})))
    return loads


def write_function_table(elf: Path, table: Path) -> Path:
    """The ELF's functions as the plugin reads them: one "START END NAME" line each (hex, END exclusive).
    A static function of the same name in several files (a shared header's helpers) gets ".2", ".3"
    after its name from the second on: the plugin's profile is keyed by name, and two entries of one
    name would lose one's counts (bench.source_functions adds them up again, as it does GCC's clones)."""
    functions = set()
    with open(elf, "rb") as f:
        for section in ELFFile(f).iter_sections():
            if isinstance(section, SymbolTableSection):
                for symbol in section.iter_symbols():
                    if symbol["st_info"]["type"] == "STT_FUNC" and symbol["st_size"] > 0 and symbol.name:
                        start = symbol["st_value"] & ~1
                        functions.add((start, start + symbol["st_size"], symbol.name[:120]))
    seen: dict[str, int] = {}
    lines = []
    for start, end, name in sorted(functions):
        seen[name] = seen.get(name, 0) + 1
        unique = name if seen[name] == 1 else f"{name}.{seen[name]}"
        lines.append(f"{start:x} {end:x} {unique}\n")
    table.write_text("".join(lines))
    return table


def symbol_address(elf: Path, name: str) -> int:
    """The address of a function in the ELF (Thumb bit cleared)."""
    with open(elf, "rb") as f:
        for section in ELFFile(f).iter_sections():
            if isinstance(section, SymbolTableSection):
                for symbol in section.get_symbol_by_name(name) or ():
                    return symbol["st_value"] & ~1
    raise DeviceError(f"{elf.name} has no symbol {name}")


@dataclass(frozen=True)
class PluginResults:
    regions: tuple[RegionCount, ...]
    intervals: tuple[Interval, ...]


@dataclass
class CycleCounter:
    """One QEMU run's plugin: the arguments that load it, then what it counted (`collect`, once)."""

    function: str                       # the measured function, e.g. "<model>_invoke"
    settings: CycleSettings = CycleSettings()
    barrier_function: str | None = None  # a multicore firmware's barrier wait: intervals per vCPU too
    out: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="tinygen-cycles-")) / "regions.jsonl")

    def qemu_arguments(self, elf: Path) -> list[str]:
        barrier = None
        if self.barrier_function:
            try:
                barrier = symbol_address(elf, self.barrier_function)
            except DeviceError:  # a model left on one core links no barrier: no intervals
                barrier = None
        functions = write_function_table(elf, self.out.with_name("functions.txt"))
        return plugin_arguments(build_plugin(), self.out, symbol_address(elf, self.function), self.settings, barrier,
                                functions)

    def collect(self) -> PluginResults:
        try:
            return PluginResults(tuple(read_regions(self.out)), tuple(read_intervals(self.out)))
        finally:
            shutil.rmtree(self.out.parent, ignore_errors=True)
