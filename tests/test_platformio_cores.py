"""PlatformIO projects and library exports split across cores (issue 12): the emulated boards'
projects build offline with `pio run` and run bit-exact in QEMU on 2 (and 4) cores; the ESP32-S3 and
RP2040 projects are checked for what they carry, and the RP2040's share of the SMP runtime is
compiled for the Cortex-M0+ (the Pico SDK port file itself cannot be compiled here)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from platformio.package.manifest.parser import LibraryJsonManifestParser
from platformio.package.manifest.schema import ManifestSchema

from board_compile import COMPILER_RUNTIME_CALLS, called_kernel_files, compile_objects, compiler_for
from conftest import DIGITS_MODEL
from test_bad_input import assert_one_line_error, tinygen
from test_platformio import _run_bit_exact
from tinygen.boards.catalog import load_board
from tinygen.resources import RUNTIME_DIR

NAME = "digits_cnn_int8"
# What the portable runtime (tg_smp.c) leaves to a port (tinygen/tg_smp_port.h).
PORT_FUNCTIONS = {"tg_smp_port_start", "tg_smp_port_wait", "tg_smp_port_wake"}


@pytest.fixture(autouse=True)
def no_registry(monkeypatch):
    monkeypatch.setenv("TINYGEN_PIO_REGISTRY", "127.0.0.1:9")  # a closed port: real boards are written, not built


def _build(out: Path, board: str, *extra: str) -> tuple[subprocess.CompletedProcess, dict]:
    proc = tinygen("build", str(DIGITS_MODEL), "--board", board, "-o", str(out), *extra)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads((out / "tinygen.json").read_text())


def _model_c(root: Path) -> str:
    return (root / "src" / f"{NAME}.c").read_text()


def _assert_two_core_project(out: Path, proc: subprocess.CompletedProcess, manifest: dict, framework: str) -> None:
    """The model split across both cores, with the SMP runtime and the framework port's SMP file."""
    assert manifest["cores"] == 2 and manifest["barriers"] > 0 and manifest["port"] == framework
    assert f"({framework}, 2 cores)" in " ".join(proc.stdout.split())
    for runtime in ("tg_smp.c", "tg_smp_freertos.h", f"tg_{framework}_smp.c"):
        assert (out / "src" / runtime).is_file(), runtime
    model_c = _model_c(out / "lib" / NAME)
    assert re.search(rf"tg_smp_run\({NAME}_core, NULL, \w+\);", model_c) and "tg_barrier_wait(" in model_c
    assert "split across 2 cores" in (out / "platformio.ini").read_text()


@pytest.mark.parametrize("framework", ["arduino", "espidf"])
def test_an_esp32s3_project_runs_the_model_on_both_cores_by_default(tmp_path, framework):
    out = tmp_path / "project"
    _assert_two_core_project(out, *_build(out, "esp32s3", "--framework", framework), framework)


def test_one_core_when_asked_or_where_the_board_has_one(tmp_path):
    _, asked = _build(tmp_path / "asked", "esp32s3", "--cores", "1")
    _, single = _build(tmp_path / "single", "esp32c3")
    for out, manifest in ((tmp_path / "asked", asked), (tmp_path / "single", single)):
        assert manifest["cores"] == 1 and "barriers" not in manifest
        assert "tg_smp_run" not in _model_c(out / "lib" / NAME)


@pytest.mark.parametrize("board,atomics", [("pico", {"__atomic_fetch_add_4"}), ("pico2", set())])
def test_the_rp2040_and_rp2350_share_of_the_runtime_compiles_for_their_cores(tmp_path, board, atomics):
    """The model's C, the kernels it calls and tg_smp.c, with arm-none-eabi-gcc for the board's core:
    what stays undefined is what tg_arduino_smp.c's Pico SDK branch defines (that file needs the
    SDK's headers, which are not here: it is not compiled). The Cortex-M0+ has no exclusive
    loads and stores, so GCC calls __atomic_fetch_add_4 there."""
    out = tmp_path / "project"
    _assert_two_core_project(out, *_build(out, board), "arduino")
    target = load_board(board)
    lib_src = out / "lib" / NAME / "src"
    model_c = _model_c(out / "lib" / NAME)
    kernels = called_kernel_files(lib_src / "kernels", model_c)
    objects = compile_objects(target, [lib_src / f"{NAME}.c", *kernels, out / "src" / "tg_smp.c"], [lib_src],
                              tmp_path / "obj")
    nm = compiler_for(target)[2]
    undefined = subprocess.run([nm, "--undefined-only", "--format=posix", *map(str, objects)], capture_output=True,
                               text=True, check=True).stdout
    defined = subprocess.run([nm, "--defined-only", "--format=posix", *map(str, objects)], capture_output=True,
                             text=True, check=True).stdout
    missing = {line.split()[0] for line in undefined.splitlines() if line and not line.endswith(":")} - {
        line.split()[0] for line in defined.splitlines() if line and not line.endswith(":")}
    # the framework's libc and libgcc's Arm helpers (__aeabi_*) are linked in by any build
    missing = {s for s in missing if s not in COMPILER_RUNTIME_CALLS and not s.startswith("__aeabi_")}
    assert missing == PORT_FUNCTIONS | atomics
    port = (RUNTIME_DIR / "ports" / "arduino" / "tg_arduino_smp.c").read_text()
    sdk_branch = port.split("#elif defined(ARDUINO_ARCH_RP2040)")[1].split("#else /* one core */")[0]
    assert all(re.search(rf"\b{symbol}\(", sdk_branch) for symbol in missing)


def test_an_arduino_library_for_a_two_core_board_carries_the_smp_runtime(tmp_path):
    out = tmp_path / "arduino"
    proc = tinygen("export", "--arduino", str(DIGITS_MODEL), "-o", str(out), "--board", "esp32s3")
    assert proc.returncode == 0, proc.stderr
    assert "2 cores" in proc.stdout
    smp = out / "src" / "tinygen_smp"
    assert sorted(p.name for p in smp.iterdir()) == ["tg_arduino_smp.c", "tg_smp.c", "tg_smp_freertos.h"]
    assert "tg_smp_run(" in (out / "src" / f"{NAME}.c").read_text()
    assert "runs on 2 cores" in (out / "examples" / NAME / f"{NAME}.ino").read_text()
    manifest = LibraryJsonManifestParser((out / "library.json").read_text()).as_dict()
    assert ManifestSchema().load_manifest(manifest)["name"] == NAME

    espidf = tmp_path / "espidf"
    proc = tinygen("export", "--platformio-lib", str(DIGITS_MODEL), "-o", str(espidf), "--board", "esp32s3",
                   "--framework", "espidf")
    assert proc.returncode == 0, proc.stderr
    assert (espidf / "src" / "tinygen_smp" / "tg_espidf_smp.c").is_file()
    assert not (espidf / "src" / "tinygen_smp" / "tg_arduino_smp.c").exists()


@pytest.mark.parametrize("args,fragment", [
    (("build", "--board", "esp32s3", "--cores", "3"), "--cores 3: board 'esp32s3' has 2 core(s)"),
    (("build", "--board", "mps2-an521", "--platformio", "--cores", "4"), "--cores 4: board 'mps2-an521' has 2"),
    (("export", "--arduino", "--cores", "2"), "--cores 2: a library runs on several cores only for a --board"),
    (("export", "--platformio-lib", "--board", "mps2-an521", "--cores", "2"), "only for a --board whose framework"),
])
def test_more_cores_than_the_port_runs_is_one_error_line(tmp_path, args, fragment):
    out = tmp_path / "out"
    assert_one_line_error(tinygen(*args, str(DIGITS_MODEL), "-o", str(out)), fragment)
    assert not out.exists()


def _pio_run_bit_exact(tmp_path: Path, board: str, cores: int) -> None:
    out = tmp_path / board
    proc, manifest = _build(out, board, "--platformio", "--cores", str(cores))
    assert manifest["cores"] == cores and manifest["barriers"] > 0 and manifest["framework"] is None
    assert "tg_smp_run(" in _model_c(out / "lib" / NAME)
    elf = out / ".pio" / "build" / board / "firmware.elf"
    assert "[SUCCESS]" in (out / "pio-run.log").read_text()
    # a port that cannot start the cores ends the firmware with TG_PORT_EXIT_FAULT: no bit-exact run
    assert all(n > 0 for n in _run_bit_exact(board, elf, DIGITS_MODEL))


@pytest.mark.qemu
@pytest.mark.slow
def test_pio_run_builds_the_two_core_an521_and_it_runs_bit_exact(tmp_path):
    _pio_run_bit_exact(tmp_path, "mps2-an521", 2)


@pytest.mark.long
@pytest.mark.qemu
def test_pio_run_builds_the_four_hart_riscv_board_and_it_runs_bit_exact(tmp_path):
    _pio_run_bit_exact(tmp_path, "riscv32-virt-4", 4)


def test_a_project_takes_the_patch_options_of_the_makefile_build(tmp_path):
    """`--patch auto` (the default) runs the digits model's first operators patch by patch in the
    PlatformIO project too, as in the Makefile firmware: a smaller arena than whole tensors."""
    _, patched = _build(tmp_path / "auto", "esp32s3", "--cores", "1")
    _, whole = _build(tmp_path / "none", "esp32s3", "--cores", "1", "--patch", "none")
    assert patched["arena_bytes"] < whole["arena_bytes"]
