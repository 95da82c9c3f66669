"""A self-contained, offline-buildable firmware project: model + runtime + port + Makefile.

The project directory holds copies of everything it needs (no paths back into this checkout), so
it can be archived, moved to another machine and built there with make and the cross compiler:

    <out_dir>/Makefile, tg_memory.ld, .tinygen-project
    <out_dir>/model/<name>.h, <name>.c          the generated sources
    <out_dir>/runtime/include/tinygen/*.h        the C API
    <out_dir>/runtime/kernels/*                  all kernels (--gc-sections drops the unused)
    <out_dir>/runtime/firmware/*                 the serial protocol application
    <out_dir>/runtime/ports/<port>/*             startup, UART, counter, linker script
    <out_dir>/runtime/ports/<port>/tg_board.h    the board's own header (ports/<port>/boards/<board>.h)
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath

import jinja2

from tinygen import __version__
from tinygen.boards.schema import Board
from tinygen.codegen.sources import GeneratedSources
from tinygen.errors import BoardError, BuildError
from tinygen.resources import KERNELS_DIR, RUNTIME_DIR, RUNTIME_INCLUDE_DIR, TEMPLATES_DIR

MARKER = ".tinygen-project"  # tells a project we may replace from a directory we must not touch
ELF_RELPATH = Path("build") / "firmware.elf"
C_SUFFIXES = {".c", ".h", ".S", ".ld"}


def _template_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "firmware")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def port_dir(board: Board) -> Path:
    path = RUNTIME_DIR / "ports" / board.port
    if not path.is_dir():
        raise BoardError(f"board '{board.name}' names port '{board.port}', but runtime_c/ports/{board.port} does not exist")
    return path


def _copy_board_header(board: Board, destination: Path) -> None:
    """A port that serves several boards keeps what differs between them (addresses, clocks) in
    boards/<board>.h; the project gets the board's as tg_board.h."""
    boards = port_dir(board) / "boards"
    if not boards.is_dir():
        return
    header = boards / f"{board.name}.h"
    if not header.is_file():
        raise BoardError(f"board '{board.name}' uses port '{board.port}', which has no header for it "
                         f"(runtime_c/ports/{board.port}/boards/{board.name}.h)")
    shutil.copy2(header, destination / "tg_board.h")


def _copy_tree_files(source: Path, destination: Path) -> list[Path]:
    destination.mkdir(parents=True, exist_ok=True)
    copied = []
    for path in sorted(source.iterdir()):
        if path.is_file() and path.suffix in C_SUFFIXES:
            shutil.copy2(path, destination / path.name)
            copied.append(destination / path.name)
    return copied


def _write_model(root: Path, sources: GeneratedSources) -> None:
    for relpath, text in sources.files:
        pure = PurePosixPath(relpath)
        if pure.is_absolute() or ".." in pure.parts:
            raise ValueError(f"generated file path must stay inside the project: {relpath}")
        target = root / "model" / pure
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _populate(root: Path, board: Board, sources: GeneratedSources) -> None:
    _write_model(root, sources)
    runtime = root / "runtime"
    _copy_tree_files(RUNTIME_INCLUDE_DIR / "tinygen", runtime / "include" / "tinygen")
    _copy_tree_files(KERNELS_DIR, runtime / "kernels")
    _copy_tree_files(RUNTIME_DIR / "firmware", runtime / "firmware")
    port = _copy_tree_files(port_dir(board), runtime / "ports" / board.port)
    _copy_board_header(board, runtime / "ports" / board.port)

    linker_scripts = [p for p in port if p.suffix == ".ld"]
    if len(linker_scripts) != 1:
        raise BoardError(f"port '{board.port}' must have exactly one linker script, found {len(linker_scripts)}")
    compiled = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.suffix in {".c", ".S"})
    include_dirs = ["model", "runtime/include", "runtime/kernels", "runtime/firmware", f"runtime/ports/{board.port}"]

    env = _template_env()
    context = {"board": board, "model_name": sources.model_name, "model_symbol": sources.model_symbol,
               "tinygen_version": __version__, "sources": compiled, "include_dirs": include_dirs,
               "linker_script": linker_scripts[0].relative_to(root).as_posix()}
    (root / "Makefile").write_text(env.get_template("Makefile.j2").render(context), encoding="utf-8")
    (root / "tg_memory.ld").write_text(env.get_template("tg_memory.ld.j2").render(context), encoding="utf-8")
    (root / MARKER).write_text(f"tinygen {__version__} firmware project for {board.name}\n", encoding="utf-8")


def refuse_foreign(out_dir: Path) -> None:
    """Only an empty directory or an earlier tinygen project may be replaced."""
    if out_dir.exists() and not (out_dir / MARKER).is_file() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise BuildError(f"{out_dir} exists and is not a tinygen firmware project; refusing to replace it")


def staging_directory(out_dir: Path, suffix: str) -> Path:
    """A fresh directory beside out_dir: on the same filesystem, so the final rename is atomic."""
    if out_dir.parent.exists() and not out_dir.parent.is_dir():
        raise BuildError(f"cannot write to {out_dir.parent}: not a directory")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=suffix, dir=out_dir.parent))
    except OSError as e:
        raise BuildError(f"cannot write to {out_dir.parent}: {e.strerror or e}") from None


def replace_directory(staging: Path, out_dir: Path) -> None:
    """Rename the finished staging directory to out_dir, retiring what was there only at the end."""
    refuse_foreign(out_dir)
    if out_dir.exists():
        retired = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".old", dir=out_dir.parent))
        retired.rmdir()
        out_dir.rename(retired)
        staging.rename(out_dir)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        staging.rename(out_dir)


def write_firmware_project(out_dir: Path, board: Board, sources: GeneratedSources) -> Path:
    """Write the project to out_dir (replacing an earlier tinygen project there) and return out_dir.

    Everything is written into a temporary directory beside out_dir and renamed into place at
    the end, so a failure never leaves a half-written project behind.
    """
    out_dir = Path(out_dir).resolve()
    refuse_foreign(out_dir)
    staging = staging_directory(out_dir, ".tmp")
    try:
        staging.chmod(0o755)  # mkdtemp's 0700 would outlive the rename
        _populate(staging, board, sources)
        replace_directory(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out_dir
