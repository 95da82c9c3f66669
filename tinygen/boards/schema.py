"""The board file schema: what tinygen must know about a board to compile, build, run and test.

Board files are TOML (boards/*.toml, or a user's own file). Every table is closed (unknown keys are
errors), so a typo never silently falls back to a default.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Static RAM the firmware application and port need beside the model's arena (protocol state,
# counters: under 100 bytes today), kept free when turning the RAM budget into an arena budget.
RUNTIME_RAM_RESERVE_BYTES = 512

# ISA features kernels may require (kernels/select.py picks the best kernel a board supports).
IsaFeature = Literal["dsp", "fpu", "fpu-dp", "mve", "mve-fp", "rv-m", "rv-a", "rv-c", "rv-f"]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Core(_Closed):
    cpu: str = Field(description="the core, as -mcpu names it: cortex-m4, cortex-m7, ...")
    arch: str = Field(description="architecture: armv7e-m, armv8.1-m.main, rv32imac, ...")
    count: int = Field(1, ge=1, description="cores available to the model")
    clock_hz: int = Field(gt=0)
    isa_features: tuple[IsaFeature, ...] = ()


class MemoryRegion(_Closed):
    origin: int = Field(ge=0)
    size: int = Field(gt=0)

    @property
    def end(self) -> int:
        return self.origin + self.size

    def contains(self, address: int) -> bool:
        return self.origin <= address < self.end


class MemoryBank(_Closed):
    """One RAM bank of a chip with several (an STM32H7's DTCM, AXI SRAM, SRAM1-4): where it is, how
    big, and which cores reach it. The planner places the model in `ram`; the banks say what else
    the chip has, for the fit check's report and for the user."""

    name: str
    origin: int = Field(ge=0)
    size: int = Field(gt=0)
    cores: tuple[int, ...] = Field((0,), description="indices of the cores that reach the bank (0 = the first)")
    note: str | None = None


class Memory(_Closed):
    flash: MemoryRegion
    ram: MemoryRegion
    ram_budget_bytes: int = Field(gt=0, description="static RAM the firmware may use in all; the generator enforces it")
    flash_budget_bytes: int | None = Field(None, gt=0, description="defaults to the flash region's size")
    stack_bytes: int = Field(8192, gt=0, description="the stack reserved by the linker script")
    banks: tuple[MemoryBank, ...] = Field((), description="every RAM bank of the chip, `ram` among them")

    @model_validator(mode="after")
    def _budgets_fit_regions(self) -> Memory:
        if self.ram_budget_bytes > self.ram.size:
            raise ValueError(f"ram_budget_bytes {self.ram_budget_bytes} exceeds the RAM region ({self.ram.size})")
        if self.flash_budget_bytes is not None and self.flash_budget_bytes > self.flash.size:
            raise ValueError(f"flash_budget_bytes {self.flash_budget_bytes} exceeds the flash region ({self.flash.size})")
        if self.stack_bytes + RUNTIME_RAM_RESERVE_BYTES >= self.ram_budget_bytes:
            raise ValueError("stack_bytes leaves no room for a model in ram_budget_bytes")
        if self.banks and not self._banks_cover(self.ram):
            raise ValueError("the ram region is not covered by the banks")
        return self

    def _banks_cover(self, region: MemoryRegion) -> bool:
        """Adjacent banks (SRAM1 then SRAM2) may hold one region together."""
        reached = region.origin
        for bank in sorted(self.banks, key=lambda b: b.origin):
            if bank.origin <= reached < bank.origin + bank.size:
                reached = bank.origin + bank.size
        return reached >= region.end

    @property
    def flash_budget(self) -> int:
        return self.flash_budget_bytes if self.flash_budget_bytes is not None else self.flash.size


class Toolchain(_Closed):
    prefix: str = Field(description="cross tools prefix: arm-none-eabi-")
    cflags: tuple[str, ...] = Field(description="target flags for compiling and linking: -mcpu, -mfpu, ...")
    ldflags: tuple[str, ...] = ()
    host_standin_cflags: tuple[str, ...] | None = Field(
        None, description="where the target's compiler is not installed (Xtensa), the host gcc with these flags "
                          "compiles the sources instead, as a check: -m32 -funsigned-char")

    @property
    def cc(self) -> str:
        return f"{self.prefix}gcc"


class Qemu(_Closed):
    system: str = Field(description="the emulator binary: qemu-system-arm")
    machine: str = Field(description="-M value: mps2-an386")
    extra_args: tuple[str, ...] = ()


class PlatformIO(_Closed):
    platform: str = Field(description="the official dev-platform: espressif32, ststm32, raspberrypi, ...")
    board: str = Field(description="PlatformIO's board id: esp32-s3-devkitc-1, nucleo_h743zi, ...")
    framework: str | None = Field(None, description="the default framework (arduino where the platform has it)")
    frameworks: tuple[str, ...] = Field((), description="every framework the platform offers for the board")
    platform_url: str | None = Field(None, description="where the platform is not in PlatformIO's registry (Pico 2)")
    ram_overhead_bytes: int = Field(0, ge=0, description="static RAM the default framework takes (approximate)")
    flash_overhead_bytes: int = Field(0, ge=0, description="flash the default framework takes (approximate)")

    def choose_framework(self, requested: str | None) -> str:
        offered = self.frameworks or ((self.framework,) if self.framework else ())
        chosen = requested or self.framework or (offered[0] if offered else None)
        if chosen is None:
            raise ValueError(f"no framework known for PlatformIO board '{self.board}'")
        if offered and chosen not in offered:
            raise ValueError(f"framework '{chosen}' is not offered for PlatformIO board '{self.board}' "
                             f"(offered: {', '.join(offered)})")
        return chosen


class Arduino(_Closed):
    fqbn: str


class Hil(_Closed):
    serial_port: str | None = Field(None, description="where the board's serial line appears: /dev/ttyACM0")
    baudrate: int = 115200
    usb_vid_pid: str | None = Field(None, pattern=r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$",
                                    description="the USB id of the board's serial line: 303a:1001")
    flasher: str | None = Field(None, description="the tool that flashes it: esptool, openocd, picotool, pyocd, ...")
    flash_command: tuple[str, ...] = Field((), description="argv to flash an ELF; {elf} is replaced by its path")


class Board(_Closed):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    description: str
    vendor: str | None = None
    port: str = Field(description="the firmware port in runtime_c/ports/: mps2")
    core: Core
    memory: Memory
    toolchain: Toolchain
    qemu: Qemu | None = None
    platformio: PlatformIO | None = None
    arduino: Arduino | None = None
    hil: Hil | None = None

    @model_validator(mode="after")
    def _banks_name_real_cores(self) -> Board:
        for bank in self.memory.banks:
            if any(core >= self.core.count for core in bank.cores):
                raise ValueError(f"memory bank '{bank.name}' names a core beyond core.count ({self.core.count})")
        return self

    @property
    def emulated(self) -> bool:
        return self.qemu is not None

    @property
    def isa_features(self) -> tuple[str, ...]:
        return self.core.isa_features

    @property
    def ram_budget_bytes(self) -> int:
        return self.memory.ram_budget_bytes

    @property
    def arena_budget_bytes(self) -> int:
        """The most activation RAM a model may plan: the RAM budget less stack, runtime and framework."""
        return (self.memory.ram_budget_bytes - self.memory.stack_bytes - RUNTIME_RAM_RESERVE_BYTES
                - self.framework_ram_bytes)

    @property
    def framework_ram_bytes(self) -> int:
        """Static RAM a real board's framework (Arduino core, RTOS) takes; none on a bare-metal port."""
        return self.platformio.ram_overhead_bytes if self.platformio else 0
