"""SCons build script of tinygen's dev-platform: bare-metal firmware with the system toolchain.

The board JSON (written by tinygen beside platformio.ini) names the tool prefix and the target
flags, exactly as the board file does; the flags match tinygen's Makefile (-O2, freestanding,
no C library, sections collected by the linker script the project names).
"""

from os.path import join

from SCons.Script import AlwaysBuild, Default, DefaultEnvironment

env = DefaultEnvironment()
board = env.BoardConfig()
prefix = board.get("build.prefix")
target_flags = list(board.get("build.target_flags", []))

env.Replace(
    AR=prefix + "ar",
    AS=prefix + "gcc",
    CC=prefix + "gcc",
    CXX=prefix + "g++",
    GDB=prefix + "gdb",
    LINK=prefix + "gcc",
    OBJCOPY=prefix + "objcopy",
    RANLIB=prefix + "ranlib",
    SIZETOOL=prefix + "size",
    PROGNAME="firmware",
    PROGSUFFIX=".elf",
    SIZEPROGREGEXP=r"^(?:\.text|\.rodata|\.data|\.ARM\.exidx|\.srodata|\.sdata)\s+(\d+).*",
    SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.sdata|\.sbss)\s+(\d+).*",
    SIZECHECKCMD="$SIZETOOL -A -d $SOURCES",
    SIZEPRINTCMD="$SIZETOOL -B -d $SOURCES",
)

env.Append(
    ASFLAGS=target_flags,
    ASPPFLAGS=["-x", "assembler-with-cpp"],
    CCFLAGS=target_flags + ["-O2", "-g", "-ffreestanding", "-ffunction-sections", "-fdata-sections",
                            "-Wall", "-Wextra", "-Wvla", "-Walloca", "-fstack-usage"],
    CFLAGS=["-std=c11"],
    LINKFLAGS=target_flags + list(board.get("build.ldflags", []))
    + ["-nostdlib", "-nostartfiles", "-Wl,--gc-sections", "-Wl,--emit-relocs"],
    # the port's linker script INCLUDEs tg_memory.ld, written beside it in src/
    LIBPATH=[join("$PROJECT_DIR", "src")],
    LIBS=["gcc"],
)

target_elf = env.BuildProgram()
AlwaysBuild(env.Alias("size", target_elf, env.VerboseAction("$SIZEPRINTCMD", "Calculating size $SOURCE")))
Default([target_elf])
