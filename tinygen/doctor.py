"""What `tinygen doctor` checks: the tools setup.sh installs, found and answering."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


_TOOLS = (
    ("host C compiler", "gcc"),
    ("Arm cross compiler", "arm-none-eabi-gcc"),
    ("RISC-V cross compiler", "riscv64-unknown-elf-gcc"),
    ("QEMU for Arm", "qemu-system-arm"),
    ("QEMU for RISC-V", "qemu-system-riscv32"),
    ("make", "make"),
)
_MODULES = (("TFLite reader", "tflite"), ("TFLite Micro (golden reference)", "tflite_micro"),
            ("pyserial", "serial"), ("pyelftools", "elftools"),
            ("PlatformIO (projects, pio run)", "platformio"), ("SCons (pio run offline)", "SCons"))


def _version(tool: str) -> str:
    try:
        out = subprocess.run([tool, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "does not run"
    return out.splitlines()[0].strip() if out else "no version"


def _riscv_multilib() -> Check:
    """The RV32 boards link against the rv32imac/ilp32 libgcc; without that multilib GCC falls back to
    its rv64 default and the link fails with an ABI mismatch."""
    label, gcc = "RISC-V rv32imac/ilp32 libgcc", "riscv64-unknown-elf-gcc"
    if shutil.which(gcc) is None:
        return Check(label, False, f"'{gcc}' not on PATH")
    try:
        path = subprocess.run([gcc, "-march=rv32imac", "-mabi=ilp32", "-print-libgcc-file-name"], capture_output=True,
                              text=True, timeout=20).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return Check(label, False, f"{gcc} does not run")
    found = "rv32imac/ilp32" in path and Path(path).is_file()
    return Check(label, found, path if found else f"no rv32imac/ilp32 multilib ({path or 'nothing'})")


def run_checks() -> list[Check]:
    checks = []
    for label, tool in _TOOLS:
        path = shutil.which(tool)
        checks.append(Check(label, path is not None, _version(tool) if path else f"'{tool}' not on PATH"))
    checks.append(_riscv_multilib())
    for label, module in _MODULES:
        try:
            importlib.import_module(module)
            checks.append(Check(label, True, module))
        except Exception as exc:  # an import can fail in many ways; any of them means "not usable"
            checks.append(Check(label, False, f"{module}: {exc}"))
    return checks
