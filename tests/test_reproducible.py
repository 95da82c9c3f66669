"""The same model and options give the same bytes: generated sources, project and firmware ELF,
whatever directory the build runs in, when, and with whatever Python hash seed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_guards import DIGITS

# Logs and make's dependency files name the directory the build ran in; none of them is shipped.
UNSHIPPED = {"build.log"}
UNSHIPPED_SUFFIXES = {".d", ".map"}


def tinygen_build(out: Path, hash_seed: str, *options: str, cache_dir: Path | None = None) -> None:
    """cache_dir: compile through ccache with that cache; else without it (every object compiled here)."""
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "TINYGEN_CCACHE": "1" if cache_dir else "0"}
    if cache_dir is not None:
        env["CCACHE_DIR"] = str(cache_dir)
    proc = subprocess.run([sys.executable, "-m", "tinygen.cli", "build", str(DIGITS), "-o", str(out), *options],
                          capture_output=True, text=True, timeout=600, env=env, cwd=out.parent, check=False)
    assert proc.returncode == 0, proc.stderr


def shipped_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in UNSHIPPED and p.suffix not in UNSHIPPED_SUFFIXES}


@pytest.mark.qemu
@pytest.mark.parametrize("options", [(), ("--debug-guards",)], ids=["release", "debug-guards"])
def test_two_builds_in_different_places_are_byte_identical(tmp_path, options):
    first, second = tmp_path / "a" / "digits", tmp_path / "somewhere" / "much" / "deeper" / "other-name"
    first.parent.mkdir(parents=True)
    second.parent.mkdir(parents=True)
    tinygen_build(first, "1", *options)
    time.sleep(1.1)  # a timestamp with one-second resolution would now differ
    tinygen_build(second, "2", *options)
    one, two = shipped_files(first), shipped_files(second)
    assert sorted(one) == sorted(two)
    assert {"model/digits_cnn_int8.c", "model/digits_cnn_int8.h", "build/firmware.elf", "Makefile"} <= set(one)
    differing = [name for name in one if one[name] != two[name]]
    assert differing == []
    for text in (one["build/firmware.elf"], one["model/digits_cnn_int8.c"]):
        assert str(tmp_path).encode() not in text


@pytest.mark.qemu
def test_a_second_project_elsewhere_compiles_nothing_through_the_cache(tmp_path):
    """build_firmware compiles through ccache (setup.sh installs it) with the project's paths out of
    the hash: a project built in another directory takes every object from the cache, same bytes."""
    cache = tmp_path / "ccache"
    first, second = tmp_path / "a" / "digits", tmp_path / "b" / "elsewhere"
    first.parent.mkdir(parents=True)
    second.parent.mkdir(parents=True)
    tinygen_build(first, "1", cache_dir=cache)
    tinygen_build(second, "1", cache_dir=cache)
    stats = subprocess.run(["ccache", "--print-stats"], capture_output=True, text=True, check=True,
                           env={**os.environ, "CCACHE_DIR": str(cache)}).stdout
    counts = dict(line.split("\t") for line in stats.splitlines() if "\t" in line)
    sources = len(list((first / "build").rglob("*.o")))
    assert sources > 100
    assert int(counts["direct_cache_hit"]) + int(counts["preprocessed_cache_hit"]) == sources
    assert int(counts["cache_miss"]) == sources  # the first project's
    assert shipped_files(first)["build/firmware.elf"] == shipped_files(second)["build/firmware.elf"]
