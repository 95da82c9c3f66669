"""Compiling generated sources for a board with its real compiler and flags (tests only).

Arm boards: arm-none-eabi-gcc with the board file's -mcpu/-mfpu flags; RISC-V boards:
riscv64-unknown-elf-gcc with its -march/-mabi. No Xtensa compiler exists here: Xtensa boards are
compiled with the host gcc and the board file's toolchain.host_standin_cflags (-m32: 32-bit int,
long and pointers like the LX6/LX7; -funsigned-char), their one Xtensa-only file (the CCOUNT read)
left out.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from tinygen.boards.schema import Board

STRICT = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-Wvla", "-Walloca", "-ffreestanding",
          "-ffunction-sections", "-fdata-sections"]
COMPILER_RUNTIME_CALLS = {"memcpy", "memset", "memmove", "memcmp"}


def is_xtensa(board: Board) -> bool:
    return board.core.arch.startswith("xtensa")


def compiler_for(board: Board) -> tuple[str, list[str], str]:
    """(compiler, target flags, nm): the board's own, or the host's where the board names a stand-in
    and its compiler is not installed."""
    standin = board.toolchain.host_standin_cflags
    if standin is not None and shutil.which(board.toolchain.cc) is None:
        return "gcc", list(standin), "nm"
    return board.toolchain.cc, list(board.toolchain.cflags), f"{board.toolchain.prefix}nm"


def compile_objects(board: Board, sources: list[Path], include_dirs: list[Path], out_dir: Path,
                    defines: tuple[str, ...] = ()) -> list[Path]:
    """Every source compiled to an object in out_dir; a failure shows the compiler's message."""
    cc, target, _ = compiler_for(board)
    out_dir.mkdir(parents=True, exist_ok=True)
    objects = []
    for source in sources:
        obj = out_dir / f"{source.parent.name}_{source.stem}.o"
        command = [cc, *target, *STRICT, *(f"-I{d}" for d in include_dirs), *(f"-D{d}" for d in defines),
                   "-c", str(source), "-o", str(obj)]
        proc = subprocess.run(command, capture_output=True, text=True)
        assert proc.returncode == 0, f"{board.name}: {' '.join(command)}\n{proc.stderr}"
        objects.append(obj)
    return objects


def defined_symbols(board: Board, objects: list[Path]) -> set[str]:
    nm = compiler_for(board)[2]
    out = subprocess.run([nm, "--defined-only", *map(str, objects)], capture_output=True, text=True, check=True).stdout
    return {line.split()[-1] for line in out.splitlines() if len(line.split()) == 3}


def called_kernel_files(kernels_dir: Path, model_c: str) -> list[Path]:
    """The kernel files whose functions the model's C calls: a file per kernel, which also holds the
    kernel's other entries (a pair conv's _stack1k, a depthwise's _channels)."""
    return [k for k in sorted(kernels_dir.glob("*.c")) if re.search(rf"\b{k.stem}(_stack1k|_channels)?\(", model_c)]
