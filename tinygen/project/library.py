"""The model's C library as a folder that PlatformIO and the Arduino IDE both build unchanged.

    <lib>/library.json                      PlatformIO's manifest
    <lib>/src/<name>.h, <name>.c            the generated model
    <lib>/src/tinygen/*.h                   the runtime's C API
    <lib>/src/kernels/*.c, *.h              every kernel (the linker drops the unused ones)
    <lib>/src/tinygen_smp/                  a model split across cores only: the SMP runtime and the
                                            framework port's way to start the other core

Both tools compile src/ recursively and put src/ on the include path, which is all the sources
need ("tinygen/tg_kernels.h" from anywhere, a kernel's private headers beside it). No libc
replacement is shipped: a framework brings its own memcpy.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path, PurePosixPath

from tinygen import __version__
from tinygen.codegen.sources import GeneratedSources
from tinygen.resources import KERNELS_DIR, RUNTIME_DIR, RUNTIME_INCLUDE_DIR

LIBRARY_SUFFIXES = {".c", ".h"}
KEYWORDS = ("tinyml", "tflite", "neural-network", "int8", "tinygen")
SMP_DIR = "tinygen_smp"
# The portable part of tg_smp.h and the FreeRTOS port the ESP32 ports include (runtime_c/firmware).
SMP_RUNTIME_FILES = ("tg_smp.c", "tg_smp_freertos.h")


def _copy_sources(source: Path, destination: Path) -> None:
    destination.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix in LIBRARY_SUFFIXES:
            shutil.copy2(path, destination / path.name)


def library_description(sources: GeneratedSources) -> str:
    return (f"The '{sources.model_name}' TFLite int8 model compiled to static C by tinygen: no interpreter, "
            f"{sources.arena_bytes} bytes of planned RAM, bit-exact with TFLite Micro.")


def library_json(sources: GeneratedSources) -> dict:
    # No "license": PlatformIO checks it against the SPDX list, which it downloads (not offline).
    return {
        "name": sources.model_name,
        "version": __version__,
        "description": library_description(sources),
        "keywords": list(KEYWORDS),
        "frameworks": "*",
        "platforms": "*",
        "headers": [sources.header_name],
        "build": {"srcDir": "src", "includeDir": "src"},
    }


def write_library(lib_dir: Path, sources: GeneratedSources) -> Path:
    """The library folder (no manifest for Arduino: arduino.py adds library.properties)."""
    src = lib_dir / "src"
    for relpath, text in sources.files:
        pure = PurePosixPath(relpath)
        if pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"generated file path must stay inside the library: {relpath}")
        target = src / pure
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    _copy_sources(RUNTIME_INCLUDE_DIR / "tinygen", src / "tinygen")
    _copy_sources(KERNELS_DIR, src / "kernels")
    (lib_dir / "library.json").write_text(json.dumps(library_json(sources), indent=2) + "\n", encoding="utf-8")
    return lib_dir


def write_smp_runtime(lib_dir: Path, port: str) -> Path:
    """What a model split across cores needs beside its own sources (its invoke() calls tg_smp_run):
    the SMP runtime and runtime_c/ports/<port>/tg_<port>_smp.c, in one folder (the port file
    includes tg_smp_freertos.h from beside it)."""
    destination = lib_dir / "src" / SMP_DIR
    destination.mkdir(parents=True)
    port_file = RUNTIME_DIR / "ports" / port / f"tg_{port}_smp.c"
    for path in (*(RUNTIME_DIR / "firmware" / name for name in SMP_RUNTIME_FILES), port_file):
        shutil.copy2(path, destination / path.name)
    return destination
