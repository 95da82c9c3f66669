"""A static bound on the stack of a built firmware: per-function frames along the call graph.

Frames come from the compiler: the firmware Makefile passes -fstack-usage, which leaves one .su
file per object ("file:line:col:function<TAB>bytes<TAB>static|dynamic[,bounded]"). Functions the
compiler did not report (libgcc, assembly) get their frame from their prologue (Thumb: push,
vpush, stmdb sp!, sub sp; RISC-V: addi sp,sp,-N). Calls come from the linked image's disassembly
(objdump): bl/blx (Thumb) or jal/jalr with a known target (RISC-V) is a call, a branch or jump to
another function's start a tail call (counted as a call: an over-estimate), and blx/bx/jalr/jr
through a register an indirect call, which may reach any function whose address is stored in the
image outside the vector table (literal pools, the model's tg_model_t...).

The bound of a function is its frame plus the largest bound among its callees; a cycle in the
call graph (recursion) or a frame of run-time size (VLA, alloca) has no bound and is an error.
The firmware's bound is the reset handler's plus, for one interrupt level, the deepest handler's
and the exception frame the core pushes. Two ISAs are understood: Cortex-M (Thumb; the roots are the
vector table's entries) and RV32 (the roots are the ELF entry and the riscv port's trap handler,
tg_riscv_trap; the core pushes nothing on a trap). Any other image is refused in one line.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

from tinygen.boards.schema import Board
from tinygen.errors import BuildError

# What the core pushes on exception entry: 8 words, 18 more with a floating-point context, plus up
# to 4 bytes to realign the stack to 8.
EXCEPTION_FRAME_BYTES = 8 * 4 + 4
EXCEPTION_FRAME_FPU_BYTES = (8 + 18) * 4 + 4
DYNAMIC_ALLOCATORS = {"malloc", "calloc", "realloc", "free", "alloca", "__builtin_alloca", "_sbrk", "sbrk"}

_SU_LINE = re.compile(r"^(?P<file>.*?):\d+:\d+:(?P<name>[^\t]+)\t(?P<bytes>\d+)\t(?P<kind>\S+)$")
_INSN = re.compile(r"^\s*(?P<addr>[0-9a-f]+):\s+(?P<mnemonic>[a-z][a-z0-9.]*)\s*(?P<operands>.*)$")
_TARGET = re.compile(r"^(?P<addr>[0-9a-f]+) <(?P<label>[^>]+)>")
_REGISTER_LIST = re.compile(r"\{([^}]*)\}")
_RISCV_COMMENT_TARGET = re.compile(r"#\s*(?P<addr>[0-9a-f]+) <(?P<label>[^>]+)>")
EM_ARM, EM_RISCV = "EM_ARM", "EM_RISCV"
RISCV_TRAP_HANDLER = "tg_riscv_trap"  # runtime_c/ports/riscv: what mtvec points at


@dataclass(frozen=True)
class Function:
    name: str
    file: str             # the source file for a local (static) function, "" for a global one
    address: int
    frame_bytes: int
    frame_from: str       # "su" (the compiler's -fstack-usage) or "prologue" (the disassembly)
    calls: tuple[int, ...]  # addresses of the functions it calls directly
    indirect: bool        # calls through a register


@dataclass(frozen=True)
class StackBound:
    root: str
    bytes: int
    path: tuple[tuple[str, int], ...]  # the deepest chain: (function, its frame bytes)

    def describe(self) -> str:
        return " -> ".join(f"{name} ({frame})" for name, frame in self.path)


@dataclass(frozen=True)
class StackReport:
    invoke: StackBound        # <model>_invoke and everything it calls
    firmware: StackBound      # reset handler + one interrupt: what the reserved stack must hold
    reserved_bytes: int       # the stack the board's linker script reserves

    def to_json(self) -> dict:
        return {"invoke_bound_bytes": self.invoke.bytes, "invoke_path": [n for n, _ in self.invoke.path],
                "firmware_bound_bytes": self.firmware.bytes, "reserved_bytes": self.reserved_bytes}


class StackError(BuildError):
    """The stack has no static bound (recursion, dynamic allocation), or the image cannot be read."""


# ---- frames ---------------------------------------------------------------------------------------

def parse_su(text: str, origin: str = "") -> dict[tuple[str, str], int]:
    """(source file name, function) -> frame bytes, from the text of one .su file."""
    frames: dict[tuple[str, str], int] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        m = _SU_LINE.match(line)
        if m is None:
            raise StackError(f"{origin}: not a -fstack-usage line: {line!r}")
        kinds = set(m["kind"].split(","))
        if "dynamic" in kinds and "bounded" not in kinds:
            raise StackError(f"{m['name']} ({Path(m['file']).name}) allocates stack of a run-time size "
                             f"(a variable-length array or alloca): its stack has no bound")
        frames[(Path(m["file"]).name, m["name"])] = int(m["bytes"])
    return frames


def read_su_files(root: Path) -> dict[tuple[str, str], int]:
    frames: dict[tuple[str, str], int] = {}
    for path in sorted(root.rglob("*.su")):
        frames.update(parse_su(path.read_text(errors="replace"), str(path)))
    return frames


def _registers(operands: str) -> list[str]:
    m = _REGISTER_LIST.search(operands)
    if m is None:
        return []
    names = []
    for part in m.group(1).split(","):
        part = part.strip()
        if "-" in part:  # a range such as d8-d15
            lo, hi = part.split("-")
            names += [f"{lo[0]}{i}" for i in range(int(lo[1:]), int(hi[1:]) + 1)]
        elif part:
            names.append(part)
    return names


def prologue_frame(instructions: list[tuple[str, str]], name: str) -> int:
    """Bytes a function takes from the stack: every push and sp decrement in its body, added up.

    The whole body, not only its first instructions: GCC shrink-wraps, placing the prologue after an
    early exit. Adding them all is exact for one prologue and an over-estimate for several.
    """
    total = 0
    for mnemonic, operands in instructions:
        base = mnemonic.split(".")[0]
        if base == "push" or (base == "stmdb" and operands.startswith("sp!")):
            total += 4 * len(_registers(operands))
        elif base == "vpush":
            total += sum(8 if r.startswith("d") else 4 for r in _registers(operands))
        elif base in {"sub", "subw"} and re.match(r"sp,\s*(sp,\s*)?#", operands):
            total += int(re.search(r"#(\d+)", operands).group(1))
        elif base in {"sub", "subw", "mov"} and operands.startswith("sp,"):
            raise StackError(f"{name} moves its stack pointer by a run-time amount: its stack has no bound")
    return total


def riscv_prologue_frame(instructions: list[tuple[str, str]], name: str) -> int:
    """RISC-V: bytes a function takes from the stack, every `addi sp,sp,-N` in its body added up.

    A function that loads sp (auipc/lui, then its low part: the port's entry) sets a stack rather
    than using one: that load is not a frame."""
    total, loading = 0, False
    for mnemonic, operands in instructions:
        ops = operands.replace(" ", "")
        if mnemonic in {"auipc", "lui"} and ops.startswith("sp,"):
            loading = True
            continue
        m = re.fullmatch(r"sp,sp,(-?\d+)", ops) if mnemonic in {"add", "addi", "c.addi", "c.addi16sp"} else None
        if m and loading:
            loading = False
        elif m:
            total += max(0, -int(m.group(1)))
        elif mnemonic in {"add", "sub", "mv", "c.mv", "c.add"} and ops.startswith("sp,"):
            raise StackError(f"{name} moves its stack pointer by a run-time amount: its stack has no bound")
    return total


# ---- the image ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Symbol:
    name: str
    file: str
    address: int
    size: int


def _function_symbols(elf: ELFFile) -> list[_Symbol]:
    symtab = elf.get_section_by_name(".symtab")
    if symtab is None:
        raise StackError("the firmware image has no symbol table")
    symbols, current_file = [], ""
    for sym in symtab.iter_symbols():
        kind, bind = sym["st_info"]["type"], sym["st_info"]["bind"]
        if kind == "STT_FILE":
            current_file = sym.name
        elif kind == "STT_FUNC" and sym["st_shndx"] != "SHN_UNDEF":
            symbols.append(_Symbol(sym.name, current_file if bind == "STB_LOCAL" else "",
                                   sym["st_value"] & ~1, sym["st_size"]))
    return symbols


def _vector_table(elf: ELFFile) -> list[int]:
    """Cortex-M: the initial vector table at the start of the image (word 0 is the stack's top)."""
    symtab = elf.get_section_by_name(".symtab")
    table = next((s for s in symtab.iter_symbols() if s["st_info"]["type"] == "STT_OBJECT"
                  and s.name.endswith("vector_table")), None)
    if table is None:
        raise StackError("the firmware image has no vector_table symbol")
    for section in elf.iter_sections():
        start = section["sh_addr"]
        if section["sh_type"] == "SHT_PROGBITS" and start <= table["st_value"] < start + section["sh_size"]:
            data = section.data()[table["st_value"] - start:table["st_value"] - start + table["st_size"]]
            return [int.from_bytes(data[i:i + 4], "little") for i in range(0, len(data), 4)]
    raise StackError("the vector table lies in no section of the image")


# The relocation kinds that store or build an address. Arm: R_ARM_ABS32 (2, a stored word), MOVW/MOVT
# (43, 44, 47, 48; ARM and Thumb). RISC-V: R_RISCV_32 (1, a stored word), PCREL_HI20 (23, auipc + addi:
# `la`), HI20 / LO12_I / LO12_S (26-28, lui + addi). Calls (R_RISCV_CALL, JAL, BRANCH) take no address.
_ABS32 = {EM_ARM: 2, EM_RISCV: 1}
_ADDRESS_BUILDING = {EM_ARM: (43, 44, 47, 48), EM_RISCV: (23, 26, 27, 28)}


def _address_taken(elf: ELFFile, machine: str = EM_ARM) -> set[int]:
    """Functions whose address the image stores or builds: possible targets of indirect calls.

    Read from the relocations the linker keeps with -Wl,--emit-relocs: a stored word that is
    merely equal to a function's address (a weight, say) is not taken for one. A stored word is
    read from the image; a built address is the symbol's value (plus the addend: RISC-V's RELA).
    """
    sections = list(elf.iter_sections())
    relocations = [s for s in sections if s["sh_type"] in ("SHT_REL", "SHT_RELA")]
    if not relocations:
        raise StackError("the firmware image keeps no relocations (link with -Wl,--emit-relocs)")
    symtab = elf.get_section_by_name(".symtab")
    taken: set[int] = set()
    for rel_section in relocations:
        target = sections[rel_section["sh_info"]]
        if not target["sh_flags"] & 0x2:  # SHF_ALLOC: debug info does not call anything
            continue
        data = target.data() if target["sh_type"] == "SHT_PROGBITS" else b""
        for rel in rel_section.iter_relocations():
            kind = rel["r_info_type"]
            symbol = symtab.get_symbol(rel["r_info_sym"])
            if kind == _ABS32[machine]:  # the linked word itself is the address
                offset = rel["r_offset"] - target["sh_addr"]
                if 0 <= offset <= len(data) - 4:
                    taken.add(int.from_bytes(data[offset:offset + 4], "little") & ~1)
            elif kind in _ADDRESS_BUILDING[machine] and machine == EM_RISCV:
                taken.add(symbol["st_value"] + rel["r_addend"])
            elif kind in _ADDRESS_BUILDING[machine] and symbol["st_info"]["type"] == "STT_FUNC":
                taken.add(symbol["st_value"] & ~1)
    return taken


def _disassemble(elf_path: Path, objdump: str, machine: str = EM_ARM,
                 starts: set[int] | None = None) -> dict[int, list[tuple[str, str]]]:
    """Function start address -> its instructions (mnemonic, operands). objdump also heads a block
    at every local label the image keeps (RISC-V keeps many for relaxation): given the functions'
    starts, only those begin a new function."""
    try:
        out = subprocess.run([objdump, "-d", "--no-show-raw-insn", str(elf_path)], capture_output=True, text=True,
                             check=True, timeout=120).stdout
    except FileNotFoundError:
        raise StackError(f"'{objdump}' not found; run setup.sh") from None
    except subprocess.CalledProcessError as exc:
        raise StackError(f"{objdump} failed on {elf_path}: {exc.stderr.strip()[:200]}") from None
    functions: dict[int, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in out.splitlines():
        header = re.match(r"^([0-9a-f]+) <([^>]+)>:$", line)
        if header:
            address = int(header.group(1), 16)
            if starts is None or address in starts or current is None:
                current = functions.setdefault(address, [])
            continue
        m = _INSN.match(line)
        if m and current is not None:
            current.append((m["mnemonic"], _operands(m["mnemonic"], m["operands"], machine)))
    return functions


def _operands(mnemonic: str, text: str, machine: str) -> str:
    """The operands without objdump's comment. Arm comments start with @ (# marks immediates);
    RISC-V's with #, where one may name the target of an auipc + jalr call: that target is kept as
    the operand, which is all the call graph needs of the jalr."""
    if machine != EM_RISCV:
        return text.split("@")[0].strip()
    target = _RISCV_COMMENT_TARGET.search(text)
    if target and mnemonic in {"jalr", "jr"}:
        return f"{target['addr']} <{target['label']}>"
    return text.split("#")[0].strip()


def _machine(elf: ELFFile) -> str:
    machine = elf["e_machine"]
    if machine not in (EM_ARM, EM_RISCV) or (machine == EM_RISCV and elf.elfclass != 32):
        raise StackError(f"no static stack bound for this image: the analysis reads Thumb and RV32 code, "
                         f"not {machine} ({elf.elfclass}-bit)")
    return machine


def _calls(sym: _Symbol, instructions: list[tuple[str, str]], starts: set[int], machine: str) -> tuple[set[int], bool]:
    """The function starts a function calls or jumps to, and whether it also calls through a register."""
    calls, indirect = set(), False
    if machine == EM_RISCV:
        direct_call, branch_prefixes, register_calls = {"jal", "jalr"}, ("b", "j", "c.j"), {"jalr", "jr", "c.jalr", "c.jr"}
    else:
        direct_call, branch_prefixes, register_calls = {"bl", "blx"}, ("b", "cb"), {"blx", "bx"}
    for mnemonic, operands in instructions:
        base = mnemonic if machine == EM_RISCV else mnemonic.split(".")[0]
        target = _TARGET.match(operands.split(",")[-1].strip()) if machine == EM_RISCV else _TARGET.match(operands)
        if target and mnemonic.startswith(branch_prefixes):
            address = int(target["addr"], 16)
            # A call, or a (conditional) tail call; a jump to its own start is only a loop.
            if address in starts and (address != sym.address or base in direct_call):
                calls.add(address)
        elif base in register_calls and operands not in {"lr", "ra"}:
            indirect = True
    return calls, indirect


def analyse_image(elf_path: Path, su_root: Path, objdump: str) -> dict[int, Function]:
    """Every function of the image with its frame and direct callees, by address."""
    frames = read_su_files(su_root)
    with elf_path.open("rb") as stream:
        elf = ELFFile(stream)
        machine = _machine(elf)
        symbols = _function_symbols(elf)
        vectors = set() if machine == EM_RISCV else {v & ~1 for v in _vector_table(elf)[1:]}
        taken = _address_taken(elf, machine)
    starts = {s.address for s in symbols}
    disassembly = _disassemble(elf_path, objdump, machine, starts)
    by_name: dict[str, list[int]] = {}
    for (_, name), size in frames.items():
        by_name.setdefault(name, []).append(size)
    global_frames = {name: sizes[0] for name, sizes in by_name.items() if len(sizes) == 1}
    prologue = riscv_prologue_frame if machine == EM_RISCV else prologue_frame
    functions: dict[int, Function] = {}
    for sym in symbols:
        instructions = disassembly.get(sym.address, [])
        calls, indirect = _calls(sym, instructions, starts, machine)
        if sym.file and (sym.file, sym.name) in frames:
            frame, source = frames[(sym.file, sym.name)], "su"
        elif not sym.file and sym.name in global_frames:
            frame, source = global_frames[sym.name], "su"
        else:
            frame, source = prologue(instructions, sym.name), "prologue"
        functions[sym.address] = Function(sym.name, sym.file, sym.address, frame, source, tuple(sorted(calls)),
                                          indirect)
    _resolve_indirect(functions, taken - vectors)
    return functions


# The SMP runtime (runtime_c/firmware/tg_smp.c) calls through a register only the core entry a
# multicore model passes to tg_smp_run, which generated code names <model>_core.
SMP_DISPATCHERS = frozenset({"tg_smp_run", "tg_smp_worker"})
SMP_CORE_ENTRY_SUFFIX = "_core"


def _resolve_indirect(functions: dict[int, Function], address_taken: set[int]) -> None:
    targets = tuple(sorted(a for a in address_taken if a in functions))
    core_entries = tuple(a for a in targets if functions[a].name.endswith(SMP_CORE_ENTRY_SUFFIX))
    for address, f in list(functions.items()):
        if f.indirect:
            reach = core_entries if f.name in SMP_DISPATCHERS else targets
            functions[address] = Function(f.name, f.file, f.address, f.frame_bytes, f.frame_from,
                                          tuple(sorted(set(f.calls) | set(reach))), True)


# ---- bounds ---------------------------------------------------------------------------------------

def stack_bound(functions: dict[int, Function], root: int) -> StackBound:
    """The deepest chain from `root`; StackError names the cycle if the call graph has one."""
    memo: dict[int, tuple[int, tuple[int, ...]]] = {}

    def visit(address: int, active: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
        if address in active:
            cycle = [functions[a].name for a in active[active.index(address):]] + [functions[address].name]
            raise StackError(f"recursion: {' -> '.join(cycle)}: the stack has no static bound")
        if address not in memo:
            f = functions[address]
            best: tuple[int, tuple[int, ...]] = (0, ())
            for callee in f.calls:
                candidate = visit(callee, (*active, address))
                if candidate[0] > best[0]:
                    best = candidate
            memo[address] = (f.frame_bytes + best[0], (address, *best[1]))
        return memo[address]

    total, chain = visit(root, ())
    return StackBound(functions[root].name, total, tuple((functions[a].name, functions[a].frame_bytes) for a in chain))


def _find(functions: dict[int, Function], name: str) -> int:
    matches = [a for a, f in functions.items() if f.name == name]
    if len(matches) != 1:
        raise StackError(f"the firmware image has {len(matches)} functions named {name}")
    return matches[0]


def analyse_firmware(project_dir: Path, board: Board, model_name: str) -> StackReport:
    """Bounds for a firmware project built by tinygen/build/toolchain.py (its .su files and ELF)."""
    project_dir = Path(project_dir)
    elf_path = project_dir / "build" / "firmware.elf"
    functions = analyse_image(elf_path, project_dir / "build", f"{board.toolchain.prefix}objdump")
    used = {f.name for f in functions.values()}
    if used & DYNAMIC_ALLOCATORS:
        raise StackError(f"the firmware links {', '.join(sorted(used & DYNAMIC_ALLOCATORS))}: dynamic allocation")
    invoke = stack_bound(functions, _find(functions, f"{model_name}_invoke"))
    with elf_path.open("rb") as stream:
        elf = ELFFile(stream)
        if _machine(elf) == EM_RISCV:
            # The entry, and the trap handler mtvec points at; a RISC-V core stacks nothing itself.
            reset_address, handler_addresses, exception = elf["e_entry"], [_find(functions, RISCV_TRAP_HANDLER)], 0
        else:
            vectors = _vector_table(elf)
            reset_address = vectors[1] & ~1
            handler_addresses = [v & ~1 for v in sorted(set(vectors[2:])) if v & ~1 in functions]
            # A floating-point context is stacked once FP instructions ran: the M55 has its FPU
            # from -mcpu alone, without an -mfpu flag.
            fpu = "fpu" in board.isa_features and "-mfloat-abi=soft" not in board.toolchain.cflags
            exception = EXCEPTION_FRAME_FPU_BYTES if fpu else EXCEPTION_FRAME_BYTES
    reset = stack_bound(functions, reset_address)
    handlers = [stack_bound(functions, a) for a in handler_addresses]
    deepest = max(handlers, key=lambda b: b.bytes, default=None)
    firmware = reset
    if deepest is not None:
        firmware = StackBound(reset.root, reset.bytes + exception + deepest.bytes,
                              (*reset.path, ("(exception entry)", exception), *deepest.path))
    return StackReport(invoke, firmware, board.memory.stack_bytes)
