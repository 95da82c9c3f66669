"""Exports of the model's C library alone, without a firmware: an Arduino library (library.properties,
src/, examples/<name>/<name>.ino) or a PlatformIO library (library.json, src/).

Both are the library folder of library.py; the Arduino export adds its manifest and an example
sketch that runs one inference and prints the result. Written all or nothing, like a project.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2

from tinygen import __version__
from tinygen.boards.schema import Board
from tinygen.codegen.sources import GeneratedSources
from tinygen.errors import PlanError
from tinygen.project.firmware import MARKER, refuse_foreign, replace_directory, staging_directory
from tinygen.project.library import library_description, write_library, write_smp_runtime
from tinygen.project.platformio import FRAMEWORK_PORTS, choose_framework, port_cores
from tinygen.resources import TEMPLATES_DIR

# library.properties must name a URL; this is where tinygen itself is published.
PROJECT_URL = "https://pypi.org/project/tinygen/"


def library_port(board: Board, arduino: bool, framework: str | None) -> str | None:
    """The framework port a library for board runs on: None for a bare-metal (emulated) board, whose
    cores only its own port starts, or for a framework tinygen has no port for."""
    if board.platformio is None:
        return None
    if arduino:
        return FRAMEWORK_PORTS["arduino"]
    return FRAMEWORK_PORTS.get(choose_framework(board, framework) or "")


def library_cores(board: Board | None, port: str | None, requested: int | None) -> int:
    """export --cores: as a project's where the framework's port runs the board's cores, else one."""
    if board is None or port is None:
        if requested is not None and requested > 1:
            raise PlanError(f"--cores {requested}: a library runs on several cores only for a --board whose "
                            "framework's port starts them")
        return 1
    return port_cores(board, port, requested)


def _render(name: str, context: dict) -> str:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "arduino")),
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    return env.get_template(name).render(context)


def _write_arduino_extras(root: Path, sources: GeneratedSources, sha256: str, cores: int) -> None:
    context = {"model_name": sources.model_name, "model_symbol": sources.model_symbol, "version": __version__,
               "tinygen_version": __version__, "arena_bytes": sources.arena_bytes, "sha256": sha256,
               "description": library_description(sources), "url": PROJECT_URL, "cores": cores}
    (root / "library.properties").write_text(_render("library.properties.j2", context), encoding="utf-8")
    example = root / "examples" / sources.model_name
    example.mkdir(parents=True)
    (example / f"{sources.model_name}.ino").write_text(_render("example.ino.j2", context), encoding="utf-8")


def export_library(out_dir: Path, sources: GeneratedSources, sha256: str, arduino: bool, cores: int = 1,
                   smp_port: str | None = None) -> Path:
    """arduino: library.properties and an example sketch beside library.json; else library.json only.
    cores > 1: the sources are split across that many cores, which smp_port's tg_<port>_smp.c starts."""
    if cores > 1 and smp_port is None:
        raise ValueError("a library split across cores needs the port that starts them")
    out_dir = Path(out_dir).resolve()
    refuse_foreign(out_dir)
    staging = staging_directory(out_dir, ".tmp")
    try:
        staging.chmod(0o755)
        write_library(staging, sources)
        if cores > 1:
            write_smp_runtime(staging, smp_port)
        if arduino:
            _write_arduino_extras(staging, sources, sha256, cores)
        kind = "Arduino" if arduino else "PlatformIO"
        (staging / MARKER).write_text(f"tinygen {__version__} {kind} library\n", encoding="utf-8")
        replace_directory(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
