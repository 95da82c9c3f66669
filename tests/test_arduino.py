"""Library exports: the Arduino library and the PlatformIO library pass PlatformIO's own manifest
parsers; the library and the firmware application compile for every board in the catalogue with
that board's compiler and flags (arm-none-eabi, riscv64-unknown-elf; the host gcc for Xtensa)."""

from __future__ import annotations

from pathlib import Path

import pytest
from platformio.package.manifest.parser import LibraryJsonManifestParser, LibraryPropertiesManifestParser
from platformio.package.manifest.schema import ManifestSchema

from board_compile import COMPILER_RUNTIME_CALLS, called_kernel_files, compile_objects, defined_symbols, is_xtensa
from conftest import DIGITS_MODEL
from test_bad_input import assert_one_line_error, tinygen
from tinygen.boards.catalog import list_boards, load_board
from tinygen.resources import RUNTIME_DIR

REAL_BOARDS = [b.name for b in list_boards() if not b.emulated]
NAME = "digits_cnn_int8"


@pytest.fixture(scope="module")
def arduino_library(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export") / "arduino"
    proc = tinygen("export", "--arduino", str(DIGITS_MODEL), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_arduino_library_passes_platformio_manifest_parsers(arduino_library):
    properties = LibraryPropertiesManifestParser((arduino_library / "library.properties").read_text()).as_dict()
    checked = ManifestSchema().load_manifest(properties)
    assert checked["name"] == NAME and checked["headers"] == [f"{NAME}.h"]
    assert checked["frameworks"] == ["arduino"] and checked["platforms"] == ["*"]
    library_json = LibraryJsonManifestParser((arduino_library / "library.json").read_text()).as_dict()
    assert ManifestSchema().load_manifest(library_json)["name"] == NAME

    sketch = arduino_library / "examples" / NAME / f"{NAME}.ino"
    text = sketch.read_text()
    assert f"#include <{NAME}.h>" in text and f"{NAME}_invoke()" in text and "Serial.print" in text
    assert (arduino_library / "src" / f"{NAME}.h").is_file()
    assert (arduino_library / "src" / "tinygen" / "tg_model.h").is_file()
    assert not list(arduino_library.rglob("tg_freestanding.c"))  # Arduino's libc has memcpy


def test_platformio_library_alone(tmp_path):
    out = tmp_path / "lib"
    assert tinygen("export", "--platformio-lib", str(DIGITS_MODEL), "-o", str(out)).returncode == 0
    assert (out / "library.json").is_file() and not (out / "library.properties").exists()
    assert not (out / "examples").exists()
    manifest = ManifestSchema().load_manifest(LibraryJsonManifestParser((out / "library.json").read_text()).as_dict())
    assert manifest["frameworks"] == ["*"] and manifest["headers"] == [f"{NAME}.h"]


def test_export_needs_a_kind_and_checks_the_fit(tmp_path):
    assert_one_line_error(tinygen("export", str(DIGITS_MODEL), "-o", str(tmp_path / "x")), "--arduino or --platformio-lib")
    from conftest import mlperf_model

    proc = tinygen("export", "--arduino", str(mlperf_model("vww")), "-o", str(tmp_path / "vww"), "--board", "hifive1-revb")
    assert_one_line_error(proc, "does not fit board 'hifive1-revb'")
    assert not (tmp_path / "vww").exists()


def _compile_for(board_name: str, library: Path, tmp_path: Path, every_kernel: bool) -> None:
    """The library (the kernels the model calls, or all of them), the serial application and the
    cycle counter of the Arduino port, for one board."""
    board = load_board(board_name)
    src = library / "src"
    model_c = (src / f"{NAME}.c").read_text()
    kernels = sorted((src / "kernels").glob("*.c")) if every_kernel else called_kernel_files(src / "kernels", model_c)
    assert kernels, "the model calls no kernel?"
    objects = compile_objects(board, [src / f"{NAME}.c", *kernels], [src], tmp_path / "lib")
    firmware = RUNTIME_DIR / "firmware"
    app = [firmware / f for f in ("tg_firmware.c", "tg_crc32.c", "tg_calibrate.c")]
    if not is_xtensa(board):  # CCOUNT is read with an Xtensa instruction
        app.append(RUNTIME_DIR / "ports" / "arduino" / "tg_arduino_counter.c")
    objects += compile_objects(board, app, [src, firmware, RUNTIME_DIR / "include"], tmp_path / "app",
                               defines=("TG_FIRMWARE_MAIN=tg_firmware_main", f"TG_MODEL_SYMBOL={NAME}_model"))
    defined = defined_symbols(board, objects)
    assert {f"{NAME}_invoke", "tg_firmware_main"} <= defined and not defined & COMPILER_RUNTIME_CALLS


@pytest.mark.parametrize("board_name", REAL_BOARDS)
def test_library_and_firmware_compile_for_every_real_board(board_name, arduino_library, tmp_path):
    _compile_for(board_name, arduino_library, tmp_path, every_kernel=False)


@pytest.mark.long
@pytest.mark.parametrize("board_name", REAL_BOARDS)
def test_every_kernel_compiles_for_every_real_board(board_name, arduino_library, tmp_path):
    _compile_for(board_name, arduino_library, tmp_path, every_kernel=True)
