"""What `tinygen doctor` checks: the tools setup.sh installs, found and answering."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from dataclasses import dataclass


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


def run_checks() -> list[Check]:
    checks = []
    for label, tool in _TOOLS:
        path = shutil.which(tool)
        checks.append(Check(label, path is not None, _version(tool) if path else f"'{tool}' not on PATH"))
    for label, module in _MODULES:
        try:
            importlib.import_module(module)
            checks.append(Check(label, True, module))
        except Exception as exc:  # an import can fail in many ways; any of them means "not usable"
            checks.append(Check(label, False, f"{module}: {exc}"))
    return checks
