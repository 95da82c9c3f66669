"""Building a firmware project with the board's cross toolchain, and measuring the result.

Sizes come from the ELF's section headers (pyelftools), not from parsing `size` output:
  flash_bytes = every allocated section with contents (.text, .rodata, .ARM.exidx, and .data,
                whose initial values are stored in flash and copied to RAM at boot);
  ram_bytes   = every allocated section in the board's RAM except the stack (.data + .bss):
                the static RAM of the firmware, model arena included;
  stack_bytes = the stack the linker script reserves, reported separately. There is no heap.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from tinygen.boards.schema import Board
from tinygen.errors import BuildError
from tinygen.project.firmware import ELF_RELPATH

BUILD_TIMEOUT_S = 600
LOG_NAME = "build.log"
STACK_SECTIONS = {".stack", ".heap"}


@dataclass(frozen=True)
class BuildResult:
    elf_path: Path
    flash_bytes: int
    ram_bytes: int                     # .data + .bss, stack excluded
    stack_bytes: int
    sections: dict[str, int] = field(compare=False)   # every allocated section's size


def _first_error(log: str) -> str:
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    for needle in ("error:", "Error", "undefined reference", "will not fit", "overflowed"):
        for line in lines:
            if needle in line:
                return line
    return lines[-1] if lines else "no output"


def section_sizes(elf_path: Path, board: Board) -> BuildResult:
    try:
        with elf_path.open("rb") as stream:
            elf = ELFFile(stream)
            allocated = [(s.name, s["sh_addr"], s["sh_size"], s["sh_type"]) for s in elf.iter_sections()
                         if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"] > 0]
    except (OSError, ELFError) as exc:
        raise BuildError(f"cannot read firmware image {elf_path}: {exc}") from None
    flash = ram = stack = 0
    for name, address, size, kind in allocated:
        if kind != "SHT_NOBITS":
            flash += size
        if board.memory.ram.contains(address):
            if name in STACK_SECTIONS:
                stack += size
            else:
                ram += size
    return BuildResult(elf_path, flash, ram, stack, {name: size for name, _, size, _ in allocated})


def _compiler_cache(board: Board) -> list[str]:
    """make's CC through ccache where it is installed (setup.sh installs it) and not turned off
    (TINYGEN_CCACHE=0): every firmware compiles the same ~120 runtime files, ~16 s of CPU each time."""
    if os.environ.get("TINYGEN_CCACHE", "1") == "0" or shutil.which("ccache") is None:
        return []
    return [f"CC=ccache {board.toolchain.cc}"]


def _cache_environment(project_dir: Path) -> dict[str, str]:
    """The project's paths made relative in ccache's hash (the Makefile maps them out of the debug
    info too), so a project built elsewhere hits the same entries and gets the same bytes."""
    return {**os.environ, "CCACHE_BASEDIR": str(project_dir.resolve()), "CCACHE_NOHASHDIR": "1"}


def build_firmware(project_dir: Path, board: Board) -> BuildResult:
    """Run make in a project written by write_firmware_project; the log is kept in build.log."""
    project_dir = Path(project_dir)
    if not (project_dir / "Makefile").is_file():
        raise BuildError(f"{project_dir} has no Makefile: not a firmware project")
    for tool in ("make", board.toolchain.cc):
        if shutil.which(tool) is None:
            raise BuildError(f"'{tool}' not found (needed to build for board '{board.name}'); run setup.sh")
    log_path = project_dir / LOG_NAME
    command = ["make", f"-j{os.cpu_count() or 1}", f"CROSS={board.toolchain.prefix}", *_compiler_cache(board)]
    try:
        proc = subprocess.run(command, cwd=project_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=BUILD_TIMEOUT_S, env=_cache_environment(project_dir))
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout or b""  # bytes on POSIX even in text mode
        log_path.write_text(partial.decode(errors="replace") if isinstance(partial, bytes) else partial,
                            encoding="utf-8")
        raise BuildError(f"firmware build timed out after {BUILD_TIMEOUT_S} s (log: {log_path})") from None
    log_path.write_text(proc.stdout, encoding="utf-8")
    if proc.returncode != 0:
        raise BuildError(f"firmware build failed: {_first_error(proc.stdout)} (full log: {log_path})")
    elf_path = project_dir / ELF_RELPATH
    if not elf_path.is_file():
        raise BuildError(f"make succeeded but produced no {ELF_RELPATH} (log: {log_path})")
    return section_sizes(elf_path, board)
